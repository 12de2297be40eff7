// `mdsync backup` with the second side on a real OpenSSH sshd on 127.0.0.1, through both SSH transports.

import { describe } from 'vitest';
import { backupSuite } from '../integration/backup.suite.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport, ssh2Transport } from '../helpers/ssh-transports.js';

describe('over SSH', () => {
  const server = useSshd();
  backupSuite(opensshTransport(server));
  backupSuite(ssh2Transport(server));
});
