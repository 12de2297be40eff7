// `mdsync sync` and `mdsync backup`: one pair run (run-pair.ts) and what it prints, in text or
// --json, and the exit code it ends with.

import type { RunResult } from '../sync/run.js';
import type { Mode } from '../sync/plan.js';
import { EXIT, exitCodeOf, exitOfRun } from './exit-codes.js';
import { parseLayout, parseMaxDelete, parsePositiveInt, parseSeparator } from './options.js';
import { describePlan, describeSummary } from './output.js';
import { progressPrinter } from './progress.js';
import { jsonOfFailedRun, jsonOfMissingSide, jsonOfRun } from './report.js';
import { defaultStateDir } from './state-file.js';
import { knobsFromEnv, runPair, type PairSettings, type WireCounts } from './run-pair.js';
import { remoteOptions, type CommonOptions, type RemoteFlags } from './flags.js';

export class Output {
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

/** The settings of one pair's run from the command line's flags. */
export function pairSettings(mode: Mode, opts: CommonOptions & RemoteFlags): PairSettings {
  return {
    mode,
    dryRun: opts.dryRun ?? false,
    force: opts.force ?? false,
    checksum: opts.checksum === true,
    maxDelete: opts.maxDelete !== undefined ? parseMaxDelete(opts.maxDelete) : undefined,
    include: opts.folder,
    exclude: opts.exclude,
    jobs: parsePositiveInt('--jobs', opts.jobs ?? '4'),
    stateDir: opts.stateDir ?? defaultStateDir(),
    layout: parseLayout(opts.layout),
    separator: parseSeparator(opts.separator),
    mkpath: opts.mkpath ?? false,
    remote: remoteOptions(opts),
    knobs: knobsFromEnv(),
    // Only --verbose prints every operation: a long first copy need not hold them all for it.
    keepPlan: opts.verbose === true,
  };
}

async function doSync(mode: Mode, first: string, second: string, opts: CommonOptions & RemoteFlags): Promise<number> {
  const out = new Output(opts);
  const settings = pairSettings(mode, opts);
  const showProgress = opts.progress ?? (process.stderr.isTTY && !opts.quiet && !opts.json);
  if (showProgress) settings.onProgress = progressPrinter(process.stderr);
  const outcome = await runPair(first, second, settings);
  if (outcome.missing !== undefined) {
    out.info(outcome.missing);
    if (opts.json) process.stdout.write(jsonOfMissingSide({ mode, dryRun: true, exit: EXIT.OK }, outcome.missing) + '\n');
    return EXIT.OK;
  }
  return report(outcome.result, opts, out, mode, outcome.wire);
}

function report(result: RunResult, opts: CommonOptions, out: Output, mode: Mode, wire: WireCounts): number {
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
  const code = exitOfRun(result, opts.dryRun ?? false);
  if (result.raced && !opts.dryRun) out.warn('a side changed during the run; run again to include those changes');
  if (opts.json) process.stdout.write(jsonOfRun({ mode, dryRun: opts.dryRun ?? false, exit: code }, result, wire) + '\n');
  return code;
}

/** A sync or backup; with --json, one that fails or is refused prints its object too (the error goes on to stderr). */
export async function runCommand(mode: Mode, first: string, second: string, opts: CommonOptions & RemoteFlags): Promise<number> {
  try {
    return await doSync(mode, first, second, opts);
  } catch (err) {
    if (opts.json) process.stdout.write(jsonOfFailedRun({ mode, dryRun: opts.dryRun ?? false, exit: exitCodeOf(err) }, err) + '\n');
    throw err;
  }
}

