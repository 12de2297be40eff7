// `mdsync backup` with the second side on a real OpenSSH sshd on 127.0.0.1, through both SSH transports.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { backupSuite } from '../integration/backup.suite.js';
import { opensshTransport, ssh2Transport } from '../helpers/ssh-transports.js';
import { SSH, SSHD, SSH_KEYGEN, requireTool, startSshd, type TestSshd } from '../helpers/sshd.js';

const available = [SSHD, SSH, SSH_KEYGEN].every(requireTool);
let sshd: TestSshd | undefined;
let remoteCache: string;

describe.skipIf(!available)('over SSH', () => {
  beforeAll(async () => {
    // The remote sessions keep their scan cache here, not in the real home.
    remoteCache = await mkdtemp(join(tmpdir(), 'mdsync-remote-cache-'));
    sshd = await startSshd({ env: { XDG_CACHE_HOME: remoteCache } });
  });

  afterAll(async () => {
    await sshd?.stop();
    await rm(remoteCache, { recursive: true, force: true });
  });

  const server = (): TestSshd => sshd as TestSshd;
  backupSuite(opensshTransport(server));
  backupSuite(ssh2Transport(server));
});
