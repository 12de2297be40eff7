// `mdsync sync` with the second side on a real OpenSSH sshd on 127.0.0.1 through the built-in ssh2
// client (the OpenSSH client runs the backup suite, backup-ssh.test.ts, and the crash sweep).

import { describe } from 'vitest';
import { syncSuite } from '../integration/sync.suite.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { ssh2Transport } from '../helpers/ssh-transports.js';

describe('over SSH', () => {
  const server = useSshd();
  syncSuite(ssh2Transport(server));
});
