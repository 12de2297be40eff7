// A user name that lands where a template puts the host (`%n:/srv/mail`) and starts with "-"
// reached the -e ssh command as an option: `-oProxyCommand=…` ran a command on this machine.
// A host or login starting with "-" is refused, for a batch's users and a single run alike.

import { spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
beforeEach(async () => { work = await tempDir(); });
afterEach(async () => { await removeDir(work); });

/** mdsync run in the test's directory, where a command slipped to ssh would leave its mark. */
function mdsync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: work, env: { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

it('refuses a user that would be an ssh option, and runs nothing it names', async () => {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(work, 'example.org', sub), { recursive: true });
  const list = join(work, 'users');
  await writeFile(list, '-oProxyCommand=touch ran@example.org\n');
  const r = await mdsync(['batch', 'backup', '--users', list, '--from', join(work, '%d'), '--to', '%n:/srv/mail', '-e', 'ssh -o BatchMode=yes']);
  expect(r.stderr).toContain('a host or user may not start with "-"');
  expect(r.code).toBe(1);
  await expect(access(join(work, 'ran'))).rejects.toThrow();

  const single = await mdsync(['backup', '-e', 'ssh -o BatchMode=yes', '--', join(work, 'example.org'), '-oProxyCommand=touch ran:/srv']);
  expect(single.stderr).toContain('a host or user may not start with "-"');
  expect(single.code).toBe(64);
  await expect(access(join(work, 'ran'))).rejects.toThrow();
});
