// The command-line program: sync, backup, verify; options and exit codes of DESIGN §10.

import { writeSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { GuardError, MdsyncError } from '../errors.js';
import type { Agent } from '../sync/agent.js';
import { runSync, type RunResult } from '../sync/run.js';
import type { Mode } from '../sync/plan.js';
import { PASSES_FROM } from '../sync/tuning.js';
import { journalMark } from '../sync/journal.js';
import type { SyncState } from '../sync/state.js';
import { VERSION } from '../version.js';
import { DEFAULT_TIMEOUT_S } from '../protocol/limits.js';
import type { RemoteOptions } from '../remote/open.js';
import { loadEndpointCode, openAgent } from './endpoints.js';
import { folderSelection, parseLayout, parseMaxDelete, parsePositiveInt, parseSeparator, unmatchedGlobs } from './options.js';
import { describePlan, describeSummary, dropOutputToClosedPipes } from './output.js';
import { progressPrinter } from './progress.js';
import { jsonOfFailedRun, jsonOfMissingSide, jsonOfRun } from './report.js';
import { defaultStateDir, loadStateFile, saveStateFile } from './state-file.js';
import { locatePairState, pairKnown, sideIdentity } from './state-key.js';
import { journalFile } from './journal-file.js';

export const EXIT = { OK: 0, FAILED: 1, CHANGED: 2, GUARD: 3, USAGE: 64, INTERRUPTED: 130 } as const;

interface CommonOptions {
  dryRun?: boolean;
  checksum?: boolean;
  folder: string[];
  exclude: string[];
  maxDelete?: string;
  force?: boolean;
  stateDir?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  progress?: boolean;
  layout?: string;
  separator?: string;
  jobs?: string;
  oneWay?: boolean;
  mkpath?: boolean;
}

interface RemoteFlags {
  sshCommand?: string;
  remotePath?: string;
  identity: string[];
  acceptNewHostKey?: boolean;
  timeout?: string;
  compress?: boolean;
}

function addRemote(cmd: Command): Command {
  return cmd
    .option('-e, --ssh-command <command>', 'reach remote sides with this command (e.g. "ssh -J bastion") instead of the built-in SSH client')
    .option('--remote-path <command>', 'how to start mdsync on the remote side (default "mdsync")')
    .option('-i, --identity <file>', 'private key to log in with, tried before ~/.ssh/config and the defaults (repeatable)', collect, [])
    .option('--accept-new-host-key', 'record the host key of a host not yet in ~/.ssh/known_hosts (a changed key is always refused)')
    .option('--timeout <seconds>', 'give up on a remote side that sends nothing for this long', String(DEFAULT_TIMEOUT_S))
    .option('-z, --compress', 'deflate message bodies on the wire too, for slow links (lists of names and flags always are)');
}

function remoteOptions(flags: RemoteFlags): RemoteOptions {
  return {
    sshCommand: flags.sshCommand,
    remotePath: flags.remotePath,
    identities: flags.identity,
    acceptNewHostKey: flags.acceptNewHostKey,
    timeoutMs: parsePositiveInt('--timeout', flags.timeout ?? String(DEFAULT_TIMEOUT_S)) * 1000,
    compress: flags.compress ?? false,
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function addCommon(cmd: Command): Command {
  return cmd
    .option('-n, --dry-run', 'print the plan, change nothing')
    .option('-f, --folder <glob>', 'only folders matching (repeatable; * one level, ** any)', collect, [])
    .option('-x, --exclude <glob>', 'skip folders matching (repeatable)', collect, [])
    .option('--max-delete <n|n%>', 'refuse to expunge more than this many messages per side (default 25% of a side over 100)')
    .option('--force', 'run even when a safety guard would refuse')
    .option('--checksum', 'compare every message by content and mtime, not by name, and repair what differs (reads every file)')
    .option('--mkpath', 'create the missing parent directories of a side that is created (only its last component otherwise)')
    .option('--state-dir <dir>', 'where the state of each pair is kept (default $XDG_STATE_HOME/mdsync)')
    .option('--json', 'print one JSON summary object on stdout, also when refused or failed')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'print every operation and warning')
    .option('--progress', 'show a progress line on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'no progress line')
    .addOption(new Option('--layout <layout>', 'folder layout for a new destination').choices(['maildir++', 'fs']))
    .option('--separator <char>', 'info separator in file names for new files (":", "!" or ";")')
    .option('--jobs <n>', 'operations in flight at once', '4');
}

class Output {
  constructor(private readonly opts: CommonOptions) {}
  info(line: string): void {
    if (!this.opts.quiet && !this.opts.json) process.stdout.write(line + '\n');
  }
  warn(line: string): void {
    if (!this.opts.quiet) process.stderr.write(`mdsync: warning: ${line}\n`);
  }
  /** An error that did not stop the run (the rest was done); printed even with --quiet. */
  error(line: string): void {
    process.stderr.write(`mdsync: ${line}\n`);
  }
}

/**
 * Knobs the tests turn through the environment: MDSYNC_CHECKPOINT_MS, the least time between two
 * checkpoints (tests save at every one); MDSYNC_PASSES_FROM and MDSYNC_PASS_MESSAGES, when a
 * first copy goes in passes and how big each is (tests make passes of a message or two).
 */
function knobFromEnv(name: string, least: number): number | undefined {
  const value = process.env[name] ?? '';
  return /^\d+$/.test(value) && Number(value) >= least ? Number(value) : undefined;
}

async function doSync(mode: Mode, first: string, second: string, opts: CommonOptions & RemoteFlags): Promise<number> {
  const out = new Output(opts);
  const layout = parseLayout(opts.layout);
  const separator = parseSeparator(opts.separator);
  const maxDelete = opts.maxDelete !== undefined ? parseMaxDelete(opts.maxDelete) : undefined;
  const jobs = parsePositiveInt('--jobs', opts.jobs ?? '4');
  const stateDir = opts.stateDir ?? defaultStateDir();
  const passesFrom = knobFromEnv('MDSYNC_PASSES_FROM', 1);
  const hasState = await pairKnown(stateDir, first, second);
  const remote = remoteOptions(opts);
  // A run reads partial listings (a folder that never holds still): verify does not. A backup
  // only reads its source, which may be read-only (a snapshot).
  const a = await openAgent(first, { create: false, readOnly: mode === 'backup', separator, partialListings: true }, remote);
  let b: Awaited<ReturnType<typeof openAgent>> | undefined;
  let releaseState: (() => void) | undefined;
  try {
    // A destination is created only by a backup, or by a first sync (no state yet for the pair).
    const helloA = await a.agent.hello();
    // Locked (or found read-only, for a backup) before the second side is opened: a first side
    // that cannot be used leaves nothing created on the other.
    if (!opts.dryRun) await a.agent.lock();
    // Reaching the second side can take a while (SSH): the first reads its folders meanwhile. Its
    // code is loaded before: the reading would hold up the loading and with it the connection.
    await loadEndpointCode(second);
    // The run may be a first copy (or one run again), made a few folders at a time (runSync):
    // listings beyond a budget are let go of as they are summed up.
    void a.agent.prefetch?.({ release: { keep: passesFrom ?? PASSES_FROM } });
    b = await openAgent(second, { create: (mode === 'backup' || !hasState) && !opts.dryRun, mkpath: opts.mkpath, layout, defaultLayout: helloA.layout, separator, partialListings: true }, remote)
      .catch(async (err: unknown) => {
        if (opts.dryRun && err instanceof MdsyncError && err.code === 'ROOT_MISSING') {
          const note = `${second} does not exist yet: everything would be copied`;
          out.info(note);
          if (opts.json) process.stdout.write(jsonOfMissingSide({ mode, dryRun: true, exit: EXIT.OK }, note) + '\n');
          return undefined;
        }
        throw err;
      });
    if (!b) return EXIT.OK;
    const sideIds = { a: sideIdentity(first, helloA.id), b: sideIdentity(second, (await b.agent.hello()).id) };
    const pair = await locatePairState(stateDir, first, second, sideIds.a, sideIds.b);
    const showProgress = opts.progress ?? (process.stderr.isTTY && !opts.quiet && !opts.json);
    const loadState = async (): Promise<{ state?: SyncState; problem?: string }> => {
      const loaded = await loadStateFile(pair.load ?? pair.save);
      releaseState = loaded.release;
      return loaded;
    };
    const journal = journalFile(pair.save);
    const folders = folderSelection(opts.folder, opts.exclude);
    const result = await runSync(a.agent, b.agent, {
      mode,
      dryRun: opts.dryRun,
      force: opts.force,
      checksum: opts.checksum === true,
      maxDelete,
      includeFolder: (name) => folders.includes(name),
      jobs,
      sideIds,
      lockedBefore: opts.dryRun ? [] : ['a'],
      checkpointMs: knobFromEnv('MDSYNC_CHECKPOINT_MS', 0),
      passesFrom,
      passMessages: knobFromEnv('MDSYNC_PASS_MESSAGES', 1),
      loadState,
      saveState: async (state) => {
        await saveStateFile(pair.save, state);
        await pair.saved();
        const mark = journalMark(state);
        if (mark !== undefined) await journal.covered(mark);
      },
      journal,
      onProgress: showProgress ? progressPrinter(process.stderr) : undefined,
      // Only --verbose prints every operation: a long first copy need not hold them all for it.
      keepPlan: opts.verbose === true,
    });
    // The run was asked about every folder of both sides: a glob none matched is likely a typo.
    const unmatched = folders.unmatched();
    if (unmatched.length > 0) result.warnings.unshift({ message: unmatchedGlobs(unmatched) });
    const wire: Record<string, { sent: number; received: number }> = {};
    if (a.agent.traffic) wire.a = a.agent.traffic();
    if (b.agent.traffic) wire.b = b.agent.traffic();
    return report(result, opts, out, mode, wire);
  } finally {
    releaseState?.();
    // Each side leaves its scan cache and lock on its own: neither waits for the other.
    await Promise.all([b?.agent.close().catch(() => undefined), a.agent.close().catch(() => undefined)]);
  }
}

function report(result: RunResult, opts: CommonOptions, out: Output, mode: Mode, wire: Record<string, { sent: number; received: number }>): number {
  for (const w of result.warnings) out.warn(w.folder ? `${w.folder}: ${w.message}` : w.message);
  if (opts.dryRun || opts.verbose) for (const line of describePlan(result.plan)) out.info(line);
  if (opts.verbose && result.passes) {
    out.info(result.resumedCopy
      ? `folders new to a side copied in passes of a few folders: ${result.passes} passes, the first over the folders the saved state knows or both sides hold mail in`
      : `first copy into an empty side, in ${result.passes} passes of a few folders`);
  }
  const verb = opts.dryRun ? 'would do' : mode;
  out.info(describeSummary(result.summary, verb));
  for (const f of result.failed) out.error(f.folder ? `${f.folder}: ${f.message}` : f.message);
  if (result.refused) out.error(`a run would be refused by a guard: ${result.refused.message}`);
  const code = result.failed.length > 0 ? EXIT.FAILED : result.refused ? EXIT.GUARD : result.raced && !opts.dryRun ? EXIT.CHANGED : EXIT.OK;
  if (result.raced && !opts.dryRun) out.warn('a side changed during the run; run again to include those changes');
  if (opts.json) process.stdout.write(jsonOfRun({ mode, dryRun: opts.dryRun ?? false, exit: code }, result, wire) + '\n');
  return code;
}

/** A sync or backup; with --json, one that fails or is refused prints its object too (the error goes on to stderr). */
async function runCommand(mode: Mode, first: string, second: string, opts: CommonOptions & RemoteFlags): Promise<number> {
  try {
    return await doSync(mode, first, second, opts);
  } catch (err) {
    if (opts.json) process.stdout.write(jsonOfFailedRun({ mode, dryRun: opts.dryRun ?? false, exit: exitCodeOf(err) }, err) + '\n');
    throw err;
  }
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('mdsync')
    .description('keep Maildir trees in step: two-way sync, one-way backup, verify')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  addRemote(addCommon(program.command('sync <a> <b>').description('two-way sync (a → b only with --one-way)')))
    .option('--one-way', "a's changes reach b; b's own changes stay on b")
    .action(async (a: string, b: string, opts: CommonOptions & RemoteFlags) => setExit(await runCommand(opts.oneWay ? 'one-way' : 'sync', a, b, opts)));

  addRemote(addCommon(program.command('backup <src> <dst>').description('make dst an exact replica of src (created if missing)')))
    .action(async (a: string, b: string, opts: CommonOptions & RemoteFlags) => setExit(await runCommand('backup', a, b, opts)));

  program.command('serve')
    .description('serve one Maildir on stdin/stdout to a remote mdsync (started by it over SSH)')
    .requiredOption('--root <dir>', 'the Maildir served; nothing outside it is ever opened')
    .action(async (opts: { root: string }) => setExit(await (await import('./serve.js')).runServe(opts.root)));

  addRemote(program.command('verify <a> <b>'))
    .description('compare content, flags, keywords, folders, mtimes; exit 1 listing differences')
    .option('--json', 'print the differences as JSON')
    .option('-q, --quiet', 'print nothing, only set the exit code')
    .option('--uids', 'also compare UIDVALIDITY and every message\'s UID (from dovecot-uidlist)')
    .option('-f, --folder <glob>', 'only folders matching (repeatable)', collect, [])
    .option('-x, --exclude <glob>', 'skip folders matching (repeatable)', collect, [])
    .action(async (a: string, b: string, opts: { json?: boolean; quiet?: boolean; uids?: boolean; folder: string[]; exclude: string[] } & RemoteFlags) => {
      const { runVerify } = await import('./verify.js');
      setExit(await runVerify(a, b, opts, remoteOptions(opts), exitCodeOf));
    });
  return program;
}

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

/** The exit code an error ends the command with (DESIGN §10). */
export function exitCodeOf(err: unknown): number {
  // Help or the version asked for ends 0; help shown for a missing command (`mdsync` alone) is a usage error.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (err instanceof GuardError) return EXIT.GUARD;
  if (err instanceof MdsyncError) return err.code === 'USAGE' ? EXIT.USAGE : EXIT.FAILED;
  return EXIT.FAILED;
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

export type { Agent };
