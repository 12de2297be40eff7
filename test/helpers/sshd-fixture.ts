// One real sshd per test file: started before its tests (after checking the tools), stopped after them.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { SSH, SSHD, SSH_KEYGEN, requireTool, startSshd, type TestSshd } from './sshd.js';

/** Registers the hooks; the returned getter gives the running server inside tests. */
export function useSshd(): () => TestSshd {
  let sshd: TestSshd | undefined;
  let remoteCache: string | undefined;
  beforeAll(async () => {
    for (const tool of [SSHD, SSH, SSH_KEYGEN]) requireTool(tool);
    // The remote sessions keep their scan cache here, not in the real home.
    remoteCache = await mkdtemp(join(tmpdir(), 'mdsync-remote-cache-'));
    sshd = await startSshd({ env: { XDG_CACHE_HOME: remoteCache } });
  });
  afterAll(async () => {
    await sshd?.stop();
    if (remoteCache) await rm(remoteCache, { recursive: true, force: true });
  });
  return () => {
    if (!sshd) throw new Error('the test sshd is not running');
    return sshd;
  };
}
