// The built-in SSH client left Nagle's algorithm on: a small request written right after another
// (a session's hello after its opening) waited for the far end's delayed acknowledgement, 40 ms a
// time on Linux. Its socket now has TCP_NODELAY, as the kernel's trace of the run shows.

import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';

let work: string;
beforeEach(async () => { work = await tempDir(); });
afterEach(async () => { await removeDir(work); });

describe('the built-in SSH client', () => {
  const server = useSshd();
  const transport = ssh2Transport(server);

  it('sends small writes at once (TCP_NODELAY on its socket)', async () => {
    if (spawnSync('strace', ['-V']).status !== 0) throw new Error('strace is missing: install it (.ci/run does)');
    const home = join(work, 'home');
    await transport.prepare?.(home);
    const a = join(work, 'a');
    await makeMaildir(a, [{ dir: '', messages: [message('1700000001.M1P1.host', 'm1')] }]);
    const trace = join(work, 'trace');
    const r = await runCli(['backup', a, transport.endpoint(join(work, 'b')), ...transport.args], home, { SSH_AUTH_SOCK: '' }, ['strace', '-f', '-qq', '-o', trace, '-e', 'trace=setsockopt']);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(trace, 'utf8')).toMatch(/setsockopt\(\d+, SOL_TCP, TCP_NODELAY, \[1\], 4\) = 0/);
  });
});
