// Over the wire, lists of names and flags always go deflated; with -z message bodies do too.

import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir, type MessageSpec } from '../helpers/maildir.js';
import { cliVia, serveTransport } from '../helpers/transports.js';
import { files } from './changes.suite.js';

const COUNT = 300;
const PARAGRAPH = 'Dear list, the meeting moves to Thursday at ten; bring the minutes of the last one and your questions.\r\n';
const mail = (n: number): MessageSpec => {
  const m = message(`16${String(n).padStart(8, '0')}.M${n}P1.mail.example.org`, `plain text ${n}`, { flags: 'S' });
  return { ...m, body: m.body + PARAGRAPH.repeat(20) };
};

let work: string;
let bodies: number;
beforeAll(async () => {
  work = await tempDir();
  const messages = Array.from({ length: COUNT }, (_, i) => mail(i + 1));
  bodies = messages.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0);
  await makeMaildir(join(work, 'src'), [{ dir: '', messages }]);
});
afterAll(async () => removeDir(work));

describe('deflated frames', () => {
  it('with -z: the bodies cross in well under their size, and arrive exact', async () => {
    const src = join(work, 'src');
    const dst = join(work, 'z');
    const r = await cliVia(serveTransport, work)(['backup', src, serveTransport.endpoint(dst), '--json', '-z']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonOf(r).bytes).toBe(bodies);
    expect(jsonOf(r).wire.b?.sent).toBeLessThan(bodies / 3);
    expect(await files(dst)).toEqual(await files(src));
  });

  it('without -z: the bodies cross as they are; an expunge of every message sends its names deflated', async () => {
    const src = join(work, 'emptied');
    await makeMaildir(src, [{ dir: '', messages: Array.from({ length: COUNT }, (_, i) => mail(i + 1)) }]);
    const dst = join(work, 'plain');
    const first = await cliVia(serveTransport, work)(['backup', src, serveTransport.endpoint(dst), '--json']);
    expect(first.code).toBe(0);
    expect(jsonOf(first).wire.b?.sent).toBeGreaterThan(bodies);
    const names = await readdir(join(src, 'cur'));
    for (const name of names) await unlink(join(src, 'cur', name));
    const second = await cliVia(serveTransport, work)(['backup', src, serveTransport.endpoint(dst), '--json', '--force']);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(jsonOf(second).summary.expunged).toEqual({ a: 0, b: COUNT });
    const nameBytes = names.reduce((sum, n) => sum + n.length, 0);
    expect(jsonOf(second).wire.b?.sent).toBeLessThan(nameBytes / 2);
    expect(await readdir(join(dst, 'cur'))).toEqual([]);
  });
});
