// The second side of a run reached over a real sshd: through the OpenSSH client, or the built-in ssh2 client.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sshCommand, type TestSshd } from './sshd.js';
import { REMOTE_PATH, type SideTransport } from './transports.js';

/** The OpenSSH client (`-e ssh …`) to a real sshd on 127.0.0.1; the server is started before the tests run. */
export function opensshTransport(server: () => TestSshd): SideTransport {
  return {
    name: 'OpenSSH client to sshd',
    endpoint: (p) => `${server().user}@${server().host}:${p}`,
    get args() {
      return ['-e', sshCommand(server()), '--remote-path', REMOTE_PATH];
    },
  };
}

/** The built-in ssh2 client to a real sshd: the host key in the test HOME's ~/.ssh/known_hosts, the key by -i. */
export function ssh2Transport(server: () => TestSshd): SideTransport {
  return {
    name: 'built-in ssh2 client to sshd',
    endpoint: (p) => `ssh://${server().user}@${server().host}:${server().port}${p}`,
    get args() {
      return ['-i', server().clientKey, '--remote-path', REMOTE_PATH];
    },
    async prepare(home) {
      await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      await writeFile(join(home, '.ssh', 'known_hosts'), `${server().knownHostsLine}\n`);
    },
  };
}
