// The second side of a run reached over a real sshd: through the OpenSSH client, or the built-in ssh2 client.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sshCommand, type TestSshd } from './sshd.js';
import { REMOTE_PATH, type SideTransport } from './transports.js';

/** The OpenSSH client (`-e ssh …`) to a real sshd on 127.0.0.1. */
export function opensshTransport(sshd: TestSshd): SideTransport {
  return {
    name: 'OpenSSH client to sshd',
    endpoint: (p) => `${sshd.user}@${sshd.host}:${p}`,
    args: ['-e', sshCommand(sshd), '--remote-path', REMOTE_PATH],
  };
}

/** The built-in ssh2 client to a real sshd: ~/.ssh/known_hosts and a key in the test's HOME. */
export function ssh2Transport(sshd: TestSshd): SideTransport {
  return {
    name: 'built-in ssh2 client to sshd',
    endpoint: (p) => `ssh://${sshd.user}@${sshd.host}:${sshd.port}${p}`,
    args: ['-i', sshd.clientKey, '--remote-path', REMOTE_PATH],
    async prepare(home) {
      await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      await writeFile(join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine}\n`);
    },
  };
}
