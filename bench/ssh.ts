// The throw-away sshd on 127.0.0.1 the SSH runs go through, and the bytes OpenSSH says it moved.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSH, SSHD, requireTool, startSshd } from '../test/helpers/sshd.js';
import type { RemoteSide } from './tools.js';

export interface SshLink {
  remote: RemoteSide;
  /** The client's log, where it writes "Transferred: …" as the session ends. */
  log: string;
  stop(): Promise<void>;
}

/** Why the SSH runs cannot happen here, or undefined. */
export function sshMissing(): string | undefined {
  try {
    requireTool(SSHD);
    requireTool(SSH);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function openSshLink(work: string): Promise<SshLink> {
  const remoteCache = join(work, 'ssh-remote-cache');
  mkdirSync(remoteCache, { recursive: true });
  const sshd = await startSshd({ env: { XDG_CACHE_HOME: remoteCache } });
  const log = join(work, 'ssh.log');
  return {
    remote: {
      ssh: [SSH, ...sshd.sshArgs, '-o', 'LogLevel=DEBUG1', '-E', log],
      target: `${sshd.user}@127.0.0.1`,
      rssFile: join(work, 'remote-rss'),
    },
    log,
    stop: () => sshd.stop(),
  };
}

/** Empties the client log and the remote RSS file before a run. */
export function resetLink(link: SshLink): void {
  writeFileSync(link.log, '');
  rmSync(link.remote.rssFile, { force: true });
}

/** TCP payload both ways of the sessions logged since the last reset (SSH framing and handshake included). */
export function transferred(log: string): number {
  let total = 0;
  let sessions = 0;
  for (const m of readFileSync(log, 'utf8').matchAll(/Transferred: sent (\d+), received (\d+) bytes/g)) {
    total += Number(m[1]) + Number(m[2]);
    sessions++;
  }
  return sessions > 0 ? total : Number.NaN;
}
