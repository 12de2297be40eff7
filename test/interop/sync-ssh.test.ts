// `mdsync sync` with the second side on a real OpenSSH sshd on 127.0.0.1, through both SSH transports.

import { describe } from 'vitest';
import { syncSuite } from '../integration/sync.suite.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport, ssh2Transport } from '../helpers/ssh-transports.js';

describe('over SSH', () => {
  const server = useSshd();
  syncSuite(opensshTransport(server));
  syncSuite(ssh2Transport(server));
});
