// How a far side's end reads: one line, the line of stderr that says what went wrong, quoted.

import { expect, it } from 'vitest';
import { cannotRunText, endedText, lastStderrLine } from '../../../src/remote/transport.js';

it.each([
  ['one line', 'bash: mdsync: command not found\n', 'bash: mdsync: command not found'],
  ['the last of several, blank lines passed over', 'Warning: Permanently added host\r\nmdsync: /srv/mail: no such Maildir\n\n', 'mdsync: /srv/mail: no such Maildir'],
  [
    'an uncaught exception: its message, not its stack or the Node.js version',
    "node:internal/modules/esm/resolve:854\n  throw new ERR_MODULE_NOT_FOUND(packageName, fileURLToPath(base), null);\n        ^\n\nError [ERR_MODULE_NOT_FOUND]: Cannot find package 'ssh2'\n    at packageResolve (node:internal/modules/esm/resolve:854:9)\n    at moduleResolve (node:internal/modules/esm/resolve:927:18)\n\nNode.js v20.11.1\n",
    "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'ssh2'",
  ],
  ['nothing', '\n \n', undefined],
])('the stderr line shown: %s', (_, stderr, line) => {
  expect(lastStderrLine(stderr)).toBe(line);
});

it('a command not found: its exit status, its stderr, what to do', () => {
  expect(endedText('remote command', 'exited with code 127', 'bash: mdsync: command not found\n', 127))
    .toBe('remote command exited with code 127: "bash: mdsync: command not found" (install mdsync there or name it with --remote-path)');
  expect(endedText('remote command', 'exited with code 127', '', 127)).toBe('remote command exited with code 127 (install mdsync there or name it with --remote-path)');
  expect(endedText('remote command', 'exited with code 3', 'disk \x1b[2Jfailed\n', 3)).toBe('remote command exited with code 3: "disk \\x1b[2Jfailed"');
});

it('a program that cannot start', () => {
  expect(cannotRunText('nosuchssh', Object.assign(new Error('spawn nosuchssh ENOENT'), { code: 'ENOENT' }))).toBe('cannot run nosuchssh: not found');
  expect(cannotRunText('/etc/passwd', Object.assign(new Error('spawn /etc/passwd EACCES'), { code: 'EACCES' }))).toBe('cannot run /etc/passwd: permission denied');
});
