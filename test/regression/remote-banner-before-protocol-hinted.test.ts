// A remote shell that prints a banner before mdsync speaks was reported as "protocol error: frame of
// 1466262639 bytes announced (limit 16777216)": the banner's first four bytes were read as the
// length of a frame, and nothing said that the far side had printed text.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { REMOTE_PATH, serveTransport } from '../helpers/transports.js';

const BANNER_THEN_MDSYNC = `echo 'Welcome to mail.example.org'; ${REMOTE_PATH}`;
const HINT = '(a remote shell that prints at login breaks the protocol: keep it quiet for commands, e.g. nothing printed by ~/.bashrc when not interactive)';

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

describe('a banner before mdsync speaks', () => {
  it('-e: the banner quoted and a quiet shell suggested, exit 1, no local destination', async () => {
    const r = await cli(['backup', `localhost:${src}`, dst, '-e', serveTransport.args[1] as string, '--remote-path', BANNER_THEN_MDSYNC]);
    expect(r.stderr).toBe(`mdsync: localhost:${src}: the far side sent text before mdsync spoke: "Welcome to mail.example.org\\n" ${HINT}\n`);
    expect(r.code).toBe(1);
    expect(existsSync(dst)).toBe(false);
  });

  it('-e: a banner of escape sequences reaches the terminal as \\xNN, bounded', async () => {
    const banner = `printf '\\033]0;owned\\007\\033[2J%0100d\\n' 0; ${REMOTE_PATH}`;
    const r = await cli(['backup', `localhost:${src}`, dst, '-e', serveTransport.args[1] as string, '--remote-path', banner]);
    // 14 characters of escape sequences, then zeros: the first 64 characters are shown.
    const shown = `\\x1b]0;owned\\x07\\x1b[2J${'0'.repeat(64 - 14)}…`;
    expect(r.stderr).toBe(`mdsync: localhost:${src}: the far side sent text before mdsync spoke: "${shown}" ${HINT}\n`);
    expect(r.code).toBe(1);
    expect(existsSync(dst)).toBe(false);
  });

  describe('the built-in client', () => {
    const server = useSshd();

    it('the banner quoted and a quiet shell suggested, exit 1, no local destination', async () => {
      const t = ssh2Transport(server);
      await t.prepare?.(work);
      const { user, host, port, clientKey } = server();
      const r = await cli(['backup', `ssh://${user}@${host}:${port}${src}`, dst, '-i', clientKey, '--remote-path', BANNER_THEN_MDSYNC]);
      expect(r.stderr).toBe(`mdsync: ${user}@${host}:${port}:${src}: the far side sent text before mdsync spoke: "Welcome to mail.example.org\\n" ${HINT}\n`);
      expect(r.code).toBe(1);
      expect(existsSync(dst)).toBe(false);
    });
  });
});
