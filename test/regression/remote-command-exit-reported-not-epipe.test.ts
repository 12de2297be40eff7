// A remote command that exits at once (mdsync not installed there: "command not found", exit 127)
// was reported as "connection failed: write EPIPE", and an -e program that cannot start as "the
// session ended with 1 request(s) unanswered": the failed write of the first request ended the run
// before the far side's exit status and stderr were read.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { serveTransport } from '../helpers/transports.js';

const NOT_FOUND = `echo 'bash: mdsync: command not found' >&2; exit 127;`;
const HINT = '(install mdsync there or name it with --remote-path)';
const FAKE_SSH = serveTransport.args[1] as string;

let work: string;
let src: string;
let dst: string;

beforeEach(async () => {
  work = await tempDir();
  src = join(work, 'src');
  dst = join(work, 'dst');
  await makeMaildir(src, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
});

afterEach(async () => {
  await removeDir(work);
});

const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, work, { SSH_AUTH_SOCK: '' });

describe('-e: the far side cannot run mdsync', () => {
  it.each([
    ['an ssh that exits before reading a byte', ['-e', `sh -c "${NOT_FOUND}" ssh`]],
    ['a remote shell that does not find mdsync', ['-e', FAKE_SSH, '--remote-path', NOT_FOUND]],
  ])('%s: its exit status and stderr on one line, exit 1, no local destination', async (_, options) => {
    const r = await cli(['backup', `localhost:${src}`, dst, ...options]);
    expect(r.stderr).toBe(`mdsync: localhost:${src}: remote command exited with code 127: "bash: mdsync: command not found" ${HINT}\n`);
    expect(r.code).toBe(1);
    expect(existsSync(dst)).toBe(false);
  });

  it('a sync from a local Maildir: the same line, the local side left as it was', async () => {
    const before = await readTree(src);
    const r = await cli(['sync', src, `localhost:${dst}`, '-e', `sh -c "${NOT_FOUND}" ssh`]);
    expect(r.stderr).toBe(`mdsync: localhost:${dst}: remote command exited with code 127: "bash: mdsync: command not found" ${HINT}\n`);
    expect(r.code).toBe(1);
    expect(await readTree(src)).toEqual(before);
    expect(existsSync(join(src, 'mdsync.lock'))).toBe(false);
  });
});

describe('-e: a program that cannot start', () => {
  it('names the program and why, exit 1, no local destination', async () => {
    const r = await cli(['backup', `localhost:${src}`, dst, '-e', 'mdsync-test-no-such-ssh -p 22']);
    expect(r.stderr).toBe(`mdsync: localhost:${src}: cannot run mdsync-test-no-such-ssh: not found\n`);
    expect(r.code).toBe(1);
    expect(existsSync(dst)).toBe(false);
  });
});

describe('the built-in client: the remote command exits 127', () => {
  const server = useSshd();

  it('its exit status and the last line of its stderr on one line, exit 1, no local destination', async () => {
    const t = ssh2Transport(server);
    await t.prepare?.(work);
    const { user, host, port, clientKey } = server();
    const r = await cli(['backup', `ssh://${user}@${host}:${port}${src}`, dst, '-i', clientKey, '--remote-path', NOT_FOUND]);
    expect(r.stderr).toBe(`mdsync: ${user}@${host}:${port}:${src}: remote command exited with code 127: "bash: mdsync: command not found" ${HINT}\n`);
    expect(r.code).toBe(1);
    expect(existsSync(dst)).toBe(false);
  });
});
