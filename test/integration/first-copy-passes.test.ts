// A first copy into an empty side made a few folders at a time: the passes it reports, an exact
// replica, a saved state the next run trusts, and every operation still listed with --verbose.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;
let src: string;

/** Passes of at least 40 messages, from 50 messages on. */
const PASSES = { MDSYNC_PASSES_FROM: '50', MDSYNC_PASS_MESSAGES: '40' };

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  await makeMaildir(src, [
    { dir: '', keywords: ['$Label1'], messages: [message('1600000001.M1P1.host', 'one', { flags: 'S', letters: 'a' }), message('1600000002.M2P1.host', 'two', { location: 'new' })] },
    bulkFolder('.Archive', 100, 45),
    bulkFolder('.Lists', 200, 30),
    bulkFolder('.Lists.Dev', 300, 20),
    { dir: '.Sent', messages: [] },
  ], ['Archive', 'Lists']);
});
afterEach(async () => removeDir(work));

describe.each([localTransport, serveTransport])('a first copy in passes ($name)', (t: SideTransport) => {
  const run = (args: string[], env: Record<string, string> = PASSES): ReturnType<typeof runCli> =>
    runCli([...args, ...t.args], work, { SSH_AUTH_SOCK: '', ...env });

  it('reports its passes, leaves an exact replica, and the next run finds nothing to do', async () => {
    const dst = join(work, 'dst');
    const first = await run(['backup', '--json', src, t.endpoint(dst)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = jsonOf(first);
    // Archive (45); INBOX, Lists (32); Lists/Dev and Sent (20, the rest).
    expect(summary.passes).toBe(3);
    expect(summary.summary.transfers).toEqual({ a: 0, b: 97 });
    expect(summary.summary.createFolders).toEqual({ a: 0, b: 5 });
    const verify = await run(['verify', src, t.endpoint(dst)]);
    expect(verify.stdout + verify.stderr).toContain('identical: 5 folders, 97 messages');
    expect(verify.code).toBe(0);
    const again = jsonOf(await run(['backup', '--json', src, t.endpoint(dst)]));
    expect(again.exit).toBe(0);
    expect(again.passes).toBeUndefined();
    expect(again.bytes).toBe(0);
    expect(Object.values(again.summary).every((s) => s.a === 0 && s.b === 0)).toBe(true);
  });

  it('lists every copy with --verbose, and the passes', async () => {
    const r = await run(['backup', '-v', src, t.endpoint(join(work, 'dst'))]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('copy '))).toHaveLength(97);
    expect(lines).toContain('first copy into an empty side, in 3 passes of a few folders');
  });

  it('goes in one pass below the threshold', async () => {
    const r = await run(['backup', '--json', src, t.endpoint(join(work, 'dst'))], { ...PASSES, MDSYNC_PASSES_FROM: '98' });
    expect(r.code).toBe(0);
    expect(jsonOf(r).passes).toBeUndefined();
    expect(jsonOf(r).summary.transfers).toEqual({ a: 0, b: 97 });
  });

  it('fills an empty first side in a two-way sync', async () => {
    const empty = join(work, 'laptop');
    await mkdir(empty);
    const r = await run(['sync', '--json', empty, t.endpoint(src)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonOf(r).passes).toBe(3);
    expect(jsonOf(r).summary.transfers).toEqual({ a: 97, b: 0 });
    expect((await run(['verify', empty, t.endpoint(src)])).code).toBe(0);
  });
});
