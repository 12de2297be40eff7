// The command-line program's entry: runs a command line and says how it ended (exit codes of DESIGN §10).

import { writeSync } from 'node:fs';
import { CommanderError } from 'commander';
import { GuardError, MdsyncError } from '../errors.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { dropOutputToClosedPipes } from './output.js';
import { buildProgram } from './program.js';

export { EXIT, exitCodeOf };

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.OK;
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  dropOutputToClosedPipes();
  stopOnInterrupt();
  process.on('unhandledRejection', (err) => {
    process.exit(handleError(err, verbose));
  });
  const program = buildProgram((c) => { code = c; });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    return handleError(err, verbose);
  }
}

/**
 * Ctrl-C ends the command at once with exit 130, as a shell reports a program SIGINT killed. Nothing
 * is left half-done that a re-run does not take up: files are placed whole (tmp/, then link), the
 * state is replaced whole, the journal records each placement, and the next run takes over the lock.
 */
function stopOnInterrupt(): void {
  process.once('SIGINT', () => {
    try {
      writeSync(2, `${process.stderr.isTTY ? '\n' : ''}mdsync: interrupted; run again to finish\n`);
    } catch {
      // Standard error is gone: the exit code says it.
    }
    process.exit(EXIT.INTERRUPTED);
  });
}

function handleError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) return exitCodeOf(err);
  if (err instanceof GuardError) {
    process.stderr.write(`mdsync: ${err.message}\n`);
  } else if (err instanceof MdsyncError) {
    process.stderr.write(`mdsync: ${err.message}\n`);
    if (verbose && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`);
  } else {
    process.stderr.write(`mdsync: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
  }
  return exitCodeOf(err);
}

