// `mdsync backup` with the second side on a real OpenSSH sshd on 127.0.0.1 through the OpenSSH client
// (the built-in client runs the two-way suite, which sends bodies both ways: sync-ssh.test.ts).

import { describe } from 'vitest';
import { backupSuite } from '../integration/backup.suite.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport } from '../helpers/ssh-transports.js';

describe('over SSH', () => {
  const server = useSshd();
  backupSuite(opensshTransport(server));
});
