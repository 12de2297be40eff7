// Runs the real mdsync so that file modes apply to it: as root, without the capabilities that override them.

import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from './cli.js';

export const SETPRIV = '/usr/bin/setpriv';


// Root reads and writes whatever the modes say through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
// Dropped from the bounding set, they are gone from the exec'd program: modes bind it as the owner.
const DROP_DAC = ['--bounding-set=-dac_override,-dac_read_search', '--'];

const isRoot = (): boolean => process.getuid?.() === 0;

/** The command prefix that makes file modes apply; none for a user they already apply to. */
function prefix(): string[] {
  return isRoot() ? [SETPRIV, ...DROP_DAC] : [];
}

/**
 * Fails (never skips) when modes cannot be made to apply: setpriv missing, or not allowed to
 * change the bounding set. Proves it on a mode 000 directory before any test relies on it.
 */
export async function requireModesApply(): Promise<void> {
  if (!isRoot()) return;
  try {
    accessSync(SETPRIV, constants.X_OK);
  } catch {
    throw new Error(`${SETPRIV} is missing or not executable: install util-linux (Debian has it in every install)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'mdsync-modes-'));
  try {
    const closed = join(dir, 'closed');
    await mkdir(closed);
    await chmod(closed, 0o000);
    let listed: string;
    try {
      listed = execFileSync(SETPRIV, [...DROP_DAC, process.execPath, '-e', `require('fs').readdirSync(${JSON.stringify(closed)}); process.stdout.write('listed')`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '');
      if (stderr.includes('EACCES')) return;
      throw new Error(`${SETPRIV} could not drop the DAC capabilities here: ${stderr.trim() || (err as Error).message}`);
    }
    throw new Error(`a mode 000 directory was still readable under ${SETPRIV} (${listed}): file modes cannot be tested on this machine`);
  } finally {
    await chmod(join(dir, 'closed'), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** As runCli, with its own state and cache directories, but file modes apply to the run. */
export function runCliUnprivileged(args: string[], home: string, extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, home, extraEnv, prefix());
}
