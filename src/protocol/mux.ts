// Many protocol sessions over one byte stream: a batch reaches a host with one `mdsync serve
// --sessions` and runs each user's session in it, instead of a process (and its Node start) per
// user. A frame is a kind, a session id and a length (9 bytes), then the payload; each session's
// bytes are the ordinary protocol's, so a session here is the same as over a stream of its own.

import { PassThrough, Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MdsyncError } from '../errors.js';
import { quoted } from '../printable.js';
import { MAX_FRAME, MAX_TEXT } from './limits.js';

/** Sessions one stream carries at once. */
export const MAX_MUX_SESSIONS = 256;

const HEADER = 9;
const enum Kind {
  /** Client → server: a session opens, the payload names its root (`{"root": …}`). */
  Open = 1,
  /** Either way: a session's bytes. */
  Data = 2,
  /** Either way: no more bytes from this end of the session. */
  End = 3,
  /** Server → client: the session is over, with its exit status and what it logged (`{"code": …, "said": …}`). */
  Exit = 4,
}

function frame(kind: Kind, id: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt8(kind, 0);
  out.writeUInt32BE(id, 1);
  out.writeUInt32BE(payload.length, 5);
  out.set(payload, HEADER);
  return out;
}

/** Reads frames off a stream; a length over the protocol's largest frame is refused from the header. */
async function* frames(input: Readable): AsyncGenerator<{ kind: number; id: number; payload: Buffer }> {
  // Chunks are joined once a whole frame is in: a large frame in many chunks is copied once.
  let chunks: Buffer[] = [];
  let have = 0;
  let need = HEADER;
  for await (const chunk of input) {
    chunks.push(chunk as Buffer);
    have += (chunk as Buffer).length;
    while (have >= need) {
      let pending = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, have);
      chunks = [pending];
      const length = pending.readUInt32BE(5);
      if (length > MAX_FRAME + 1024) throw new MdsyncError('PROTOCOL', `a session frame of ${length} bytes, more than ${MAX_FRAME}`);
      if (have < HEADER + length) {
        need = HEADER + length;
        break;
      }
      yield { kind: pending.readUInt8(0), id: pending.readUInt32BE(1), payload: pending.subarray(HEADER, HEADER + length) };
      pending = pending.subarray(HEADER + length);
      chunks = pending.length > 0 ? [pending] : [];
      have = pending.length;
      need = HEADER;
    }
  }
}

/**
 * Writes frames to the shared stream, every session waiting on the same drain. The frames of one
 * turn of the event loop go out as one write: over SSH each write is a packet (encrypted, sent at
 * once), and a batch's sessions each write small frames at the same moments.
 */
class SharedWriter {
  private drained: Promise<void> | undefined;
  private pending: Buffer[] = [];
  private waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private scheduled = false;
  constructor(private readonly output: Writable) {}

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push(bytes);
      this.waiting.push({ resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    while (this.drained) await this.drained;
    this.scheduled = false;
    const chunk = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const waiting = this.waiting;
    this.pending = [];
    this.waiting = [];
    if (this.output.destroyed || this.output.writableEnded) {
      const err = new MdsyncError('REMOTE', 'the stream carrying the sessions is closed');
      for (const w of waiting) w.reject(err);
      return;
    }
    if (!this.output.write(chunk)) {
      this.drained = new Promise<void>((resolve) => {
        const done = (): void => {
          this.output.off('drain', done);
          this.output.off('close', done);
          this.drained = undefined;
          resolve();
        };
        this.output.on('drain', done);
        this.output.on('close', done);
      });
    }
    for (const w of waiting) w.resolve();
  }
}

/** A session's outgoing bytes as a Writable that frames them onto the shared stream. */
function sessionWriter(shared: SharedWriter, id: number): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      shared.write(frame(Kind.Data, id, chunk)).then(() => callback(), callback);
    },
    final(callback) {
      shared.write(frame(Kind.End, id)).then(() => callback(), callback);
    },
  });
}

function parseJson(payload: Buffer, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Refused below.
  }
  throw new MdsyncError('PROTOCOL', `a session's ${what} is not a JSON object`);
}

/** Serves one session: its root as the client named it, and the session's two streams. */
export type ServeOne = (root: string, input: Readable, output: Writable, log: (line: string) => void) => Promise<number>;

/**
 * The serving end: each session the client opens is served by `serveOne` beside the others; ends
 * when the client's stream ends and every session is over.
 */
export async function serveSessions(input: Readable, output: Writable, serveOne: ServeOne): Promise<void> {
  const shared = new SharedWriter(output);
  const sessions = new Map<number, PassThrough>();
  const running: Promise<void>[] = [];
  const exit = (id: number, code: number, said: string): Promise<void> =>
    shared.write(frame(Kind.Exit, id, Buffer.from(JSON.stringify({ code, said: said.slice(-MAX_TEXT) })))).catch(() => undefined);
  try {
    for await (const f of frames(input)) {
      if (f.kind === Kind.Open) {
        if (sessions.has(f.id)) throw new MdsyncError('PROTOCOL', `session ${f.id} opened twice`);
        // A session that cannot be served is turned away alone: the others go on.
        const root = parseJson(f.payload, 'opening').root;
        if (typeof root !== 'string' || root === '' || root.length > MAX_TEXT || root.includes('\0')) {
          await exit(f.id, 1, `a session must name its Maildir's path (at most ${MAX_TEXT} characters, no NUL)`);
          continue;
        }
        if (sessions.size >= MAX_MUX_SESSIONS) {
          await exit(f.id, 1, `more than ${MAX_MUX_SESSIONS} sessions at once`);
          continue;
        }
        const sessionInput = new PassThrough();
        sessions.set(f.id, sessionInput);
        let said = '';
        const log = (line: string): void => { said = `${said}${line}\n`.slice(-MAX_TEXT); };
        const writer = sessionWriter(shared, f.id);
        running.push(serveOne(root, sessionInput, writer, log)
          .catch((err: unknown) => { log(`mdsync serve: ${(err as Error).message}`); return 1; })
          .then(async (code) => {
            sessions.delete(f.id);
            // Its last bytes (the answer to bye) go before its exit, which ends it on the client.
            if (!writer.writableEnded) writer.end();
            await finished(writer).catch(() => undefined);
            return exit(f.id, code, said);
          }));
      } else if (f.kind === Kind.Data || f.kind === Kind.End) {
        // A session that ended meanwhile: its last bytes have nowhere to go.
        const s = sessions.get(f.id);
        if (!s) continue;
        if (f.kind === Kind.Data) s.write(f.payload);
        else s.end();
      } else {
        throw new MdsyncError('PROTOCOL', `a session frame of unknown kind ${f.kind}`);
      }
    }
  } finally {
    // The client is gone: every session's input ends, as a closed stdin ends a single serve.
    for (const s of sessions.values()) s.end();
    await Promise.all(running);
  }
}

/** A session opened on the client's end: the streams a RemoteAgent speaks over. */
export interface MuxSession {
  input: Readable;
  output: Writable;
  failure(): Promise<string | undefined>;
  close(): Promise<void>;
}

interface ClientSession {
  input: PassThrough;
  exited: Promise<{ code: number; said: string } | undefined>;
  exit(value: { code: number; said: string } | undefined): void;
}

/** The client's end of a stream carrying sessions; `gone` says why the stream itself ended, when it did. */
export class MuxClient {
  private readonly shared: SharedWriter;
  private readonly sessions = new Map<number, ClientSession>();
  private nextId = 1;
  private ended: string | undefined;

  /** `onEnded`: the stream ended while it carried this many sessions (cut short). */
  constructor(input: Readable, private readonly output: Writable, private readonly gone: () => Promise<string | undefined>, private readonly onEnded: (carried: number) => void = () => undefined) {
    this.shared = new SharedWriter(output);
    void this.read(input);
  }

  /** Whether new sessions can still be opened on it. */
  get open(): boolean {
    return this.ended === undefined;
  }

  get size(): number {
    return this.sessions.size;
  }

  private async read(input: Readable): Promise<void> {
    try {
      for await (const f of frames(input)) {
        const s = this.sessions.get(f.id);
        if (!s) continue;
        if (f.kind === Kind.Data) s.input.write(f.payload);
        else if (f.kind === Kind.End) s.input.end();
        else if (f.kind === Kind.Exit) {
          const got = parseJson(f.payload, 'exit');
          const code = typeof got.code === 'number' && Number.isInteger(got.code) ? got.code : 1;
          s.exit({ code, said: typeof got.said === 'string' ? got.said.slice(-MAX_TEXT) : '' });
          s.input.end();
          this.sessions.delete(f.id);
        } else {
          throw new MdsyncError('PROTOCOL', `a session frame of unknown kind ${f.kind}`);
        }
      }
      this.ended = 'the remote mdsync serving the sessions ended';
    } catch (err) {
      this.ended = (err as Error).message;
    }
    if (this.sessions.size > 0) this.onEnded(this.sessions.size);
    const why = (await this.gone().catch(() => undefined)) ?? this.ended;
    this.ended = why;
    for (const s of this.sessions.values()) {
      s.exit(undefined);
      s.input.destroy(new MdsyncError('REMOTE', why));
    }
    this.sessions.clear();
  }

  /** Opens a session served from `root` on the far side. */
  openSession(root: string): MuxSession {
    if (this.ended !== undefined) throw new MdsyncError('REMOTE', this.ended);
    const id = this.nextId++;
    let exit: (value: { code: number; said: string } | undefined) => void = () => undefined;
    const exited = new Promise<{ code: number; said: string } | undefined>((resolve) => { exit = resolve; });
    const session: ClientSession = { input: new PassThrough(), exited, exit };
    this.sessions.set(id, session);
    void this.shared.write(frame(Kind.Open, id, Buffer.from(JSON.stringify({ root })))).catch(() => undefined);
    const output = sessionWriter(this.shared, id);
    const settled = (ms: number): Promise<{ code: number; said: string } | undefined> =>
      Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);
    return {
      input: session.input,
      output,
      failure: async () => {
        const got = await settled(3000);
        if (!got) return this.ended ?? 'the remote session ended without saying why';
        const line = got.said.trim().split('\n').pop();
        return `remote session exited with code ${got.code}${line ? `: ${quoted(line)}` : ''}`;
      },
      close: async () => {
        if (!output.writableEnded) output.end();
        await settled(5000);
      },
    };
  }

  /** Ends the stream: the far side finishes its sessions and exits. */
  end(): void {
    if (!this.output.writableEnded) this.output.end();
  }
}
