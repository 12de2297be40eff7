// A large folder changed on a far side behind a real OpenSSH sshd: only its changes travel, through both SSH transports.

import { describe } from 'vitest';
import { changesSuite } from '../integration/changes.suite.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport, ssh2Transport } from '../helpers/ssh-transports.js';

describe('over SSH', () => {
  const server = useSshd();
  changesSuite(opensshTransport(server));
  changesSuite(ssh2Transport(server));
});
