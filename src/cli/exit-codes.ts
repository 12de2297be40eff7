// The exit codes of DESIGN §10, and the one an error ends a command with.

import { CommanderError } from 'commander';
import { GuardError, MdsyncError } from '../errors.js';
import type { RunResult } from '../sync/run.js';

export const EXIT = { OK: 0, FAILED: 1, CHANGED: 2, GUARD: 3, USAGE: 64, INTERRUPTED: 130 } as const;

/** The exit code an error ends the command with. */
export function exitCodeOf(err: unknown): number {
  // Help or the version asked for ends 0; help shown for a missing command (`mdsync` alone) is a usage error.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (err instanceof GuardError) return EXIT.GUARD;
  if (err instanceof MdsyncError) return err.code === 'USAGE' ? EXIT.USAGE : EXIT.FAILED;
  return EXIT.FAILED;
}


/** The exit code of a run that went ahead (DESIGN §10). */
export function exitOfRun(result: RunResult, dryRun: boolean): number {
  return result.failed.length > 0 ? EXIT.FAILED : result.refused ? EXIT.GUARD : result.raced && !dryRun ? EXIT.CHANGED : EXIT.OK;
}

