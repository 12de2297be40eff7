import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_MUX_SESSIONS, MuxClient, serveSessions, type ServeOne } from '../../../src/protocol/mux.js';
import { MAX_FRAME } from '../../../src/protocol/limits.js';

/** A server and a client joined by two in-memory pipes. */
function joined(serveOne: ServeOne): { client: MuxClient; served: Promise<void>; toServer: PassThrough; toClient: PassThrough } {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const served = serveSessions(toServer, toClient, serveOne);
  const client = new MuxClient(toClient, toServer, async () => undefined);
  return { client, served, toServer, toClient };
}

async function readAll(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) text += (chunk as Buffer).toString();
  return text;
}

function header(kind: number, id: number, length: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt8(kind, 0);
  b.writeUInt32BE(id, 1);
  b.writeUInt32BE(length, 5);
  return b;
}

// Each session answers its root and what it was sent, in upper case; the root "fail" exits 3 after a line of log.
const echo: ServeOne = async (root, input, output, log) => {
  const got = await readAll(input);
  if (root === 'fail') {
    log('mdsync serve: cannot open fail');
    output.end();
    return 3;
  }
  output.end(`${root}:${got.toUpperCase()}`);
  return 0;
};

describe('sessions over one stream', () => {
  it('keeps each session\'s bytes apart, both ways, and reports how each ended', async () => {
    const { client, served } = joined(echo);
    const sessions = ['alice', 'bob', 'fail'].map((root) => ({ root, s: client.openSession(root) }));
    for (const { root, s } of sessions) {
      // Written in pieces, interleaved with the other sessions' pieces.
      s.output.write(`${root} one `);
    }
    for (const { root, s } of sessions) s.output.end(`${root} two`);
    const answers = await Promise.all(sessions.map(({ s }) => readAll(s.input)));
    expect(answers).toEqual(['alice:ALICE ONE ALICE TWO', 'bob:BOB ONE BOB TWO', '']);
    await Promise.all(sessions.map(({ s }) => s.close()));
    expect(await sessions[2]?.s.failure()).toBe('remote session exited with code 3: "mdsync serve: cannot open fail"');
    expect(client.size).toBe(0);
    client.end();
    await served;
  });

  it('carries a frame larger than a pipe\'s chunk whole', async () => {
    const { client, served } = joined(echo);
    const s = client.openSession('big');
    const body = 'x'.repeat(3 * 1024 * 1024);
    s.output.end(body);
    expect(await readAll(s.input)).toBe(`big:${body.toUpperCase()}`);
    client.end();
    await served;
  });

  it('refuses a frame longer than the protocol allows, from its header', async () => {
    const toServer = new PassThrough();
    const served = serveSessions(toServer, new PassThrough(), echo);
    toServer.end(header(2, 1, MAX_FRAME + 2048));
    await expect(served).rejects.toThrow(/a session frame of \d+ bytes, more than/);
  });

  it('turns a session that names no usable root away alone', async () => {
    const { client, served } = joined(echo);
    const bad = client.openSession('x'.repeat(5000));
    const good = client.openSession('ok');
    good.output.end('y');
    expect(await readAll(good.input)).toBe('ok:Y');
    expect(await bad.failure()).toBe('remote session exited with code 1: "a session must name its Maildir\'s path (at most 4096 characters, no NUL)"');
    client.end();
    await served;
  });

  it('reads frames however the stream cuts them, a header split included', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const served = serveSessions(toServer, toClient, echo);
    // The client's frames reach the server a byte at a time.
    const bytes = new PassThrough();
    const client = new MuxClient(toClient, bytes, async () => undefined);
    bytes.on('data', (chunk: Buffer) => { for (const b of chunk) toServer.write(Buffer.from([b])); });
    bytes.on('end', () => toServer.end());
    const s = client.openSession('split');
    s.output.end('abc');
    expect(await readAll(s.input)).toBe('split:ABC');
    client.end();
    await served;
  });

  it('refuses a session opened twice, an opening that is not an object, or a frame of unknown kind', async () => {
    for (const [frames, message] of [
      [[header(1, 1, 3), Buffer.from('[1]')], 'is not a JSON object'],
      [[header(1, 7, 12), Buffer.from('{"root":"a"}'), header(1, 7, 12), Buffer.from('{"root":"a"}')], 'session 7 opened twice'],
      [[header(9, 1, 0)], 'unknown kind 9'],
    ] as const) {
      const toServer = new PassThrough();
      const served = serveSessions(toServer, new PassThrough(), async (_root, input) => readAll(input).then(() => 0));
      toServer.end(Buffer.concat([...frames]));
      await expect(served, message).rejects.toThrow(message);
    }
  });

  it('turns away sessions beyond its limit with an exit, and serves the others', async () => {
    const { client, served } = joined(echo);
    const sessions = Array.from({ length: MAX_MUX_SESSIONS + 1 }, (_, i) => client.openSession(`r${i}`));
    const last = sessions.at(-1);
    expect(await last?.failure()).toBe('remote session exited with code 1: "more than 256 sessions at once"');
    for (const s of sessions.slice(0, -1)) s.output.end('x');
    expect(await readAll(sessions[0]?.input as Readable)).toBe('r0:X');
    client.end();
    await served;
  });

  it('ends every open session with the reason when the shared stream goes away', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const carried: number[] = [];
    const client = new MuxClient(toClient, toServer, async () => 'remote command was killed by SIGKILL', (n) => carried.push(n));
    const s = client.openSession('alice');
    toClient.end();
    await expect(readAll(s.input)).rejects.toThrow('remote command was killed by SIGKILL');
    expect(client.open).toBe(false);
    expect(() => client.openSession('bob')).toThrow('remote command was killed by SIGKILL');
    expect(await s.failure()).toBe('remote command was killed by SIGKILL');
    expect(carried).toEqual([1]);
  });
});
