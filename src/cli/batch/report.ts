// What a batch tells its operator: a progress line on a terminal (users, messages, bytes, rate,
// time left), a line per user with -v, who failed and how to run them again, the verdict of a
// verify, and with --json one object with a row per user.

import type { ProgressEvent } from '../../sync/run.js';
import type { PlanSummary } from '../../sync/plan.js';
import { quoted } from '../../printable.js';
import { EXIT } from '../exit-codes.js';
import { describeSummary } from '../output.js';
import { formatBytes, formatDuration } from '../progress.js';
import { jsonSummary } from '../report.js';
import type { BatchOptions } from './run-batch.js';
import type { RefusedLine } from './users.js';

export interface UserRow {
  user: string;
  line: number;
  source?: string;
  destination?: string;
  /** ISO 8601, UTC. */
  start: string;
  seconds: number;
  exit: number;
  copied: number;
  bytes: number;
  error?: { code: string; message: string };
  warnings?: string[];
  summary?: PlanSummary;
  verify?: { folders: number; messages: number; differences: number };
  /** A verify's differences, as `mdsync verify` prints them. */
  differences?: string[];
}

/** Least time between two progress lines: redrawn in place on a terminal, one under another elsewhere (a log). */
const REDRAW_MS = 200;
const LOG_MS = 5_000;

/** `1 204`: thousands apart, as a verdict reads. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

export class BatchReporter {
  private readonly rows: UserRow[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly t0 = performance.now();
  private lastDraw = 0;
  private drawn = false;
  private doneBytes = 0;
  private doneMessages = 0;
  private failedSoFar = 0;
  private toldLoad = false;
  private readonly terminal = process.stderr.isTTY === true;

  constructor(private readonly options: BatchOptions, private readonly total: number, private readonly skipped: number) {}

  started(user: string): void {
    this.toldLoad = false;
    this.inFlight.set(user, 0);
    this.draw();
  }

  progress(user: string, e: ProgressEvent): void {
    if (e.bytes !== undefined) this.inFlight.set(user, e.bytes);
    this.draw();
  }

  finished(row: UserRow): void {
    this.inFlight.delete(row.user);
    this.rows.push(row);
    this.doneBytes += row.bytes;
    this.doneMessages += row.copied;
    if (row.exit !== EXIT.OK) this.failedSoFar++;
    if (this.options.verbose && !this.options.json) {
      this.clear();
      process.stdout.write(`${userLine(row, this.options)}\n`);
    }
    if (!this.options.quiet) for (const w of row.warnings ?? []) this.stderr(`warning: ${row.user}: ${w}`);
    this.draw(true);
  }

  notice(line: string): void {
    if (!this.options.quiet) this.stderr(line);
  }

  waitingForLoad(load: number): void {
    // Every user waiting hears the same load: said once until one starts.
    if (this.toldLoad) return;
    this.toldLoad = true;
    this.stderr(`waiting: the load average is ${load.toFixed(2)}, above --max-load ${this.options.maxLoad}; no new user starts until it falls`);
  }

  stopping(): void {
    this.stderr('SIGTERM: no new user starts; waiting for the users in flight to finish');
  }

  /** Prints the end of the batch and returns its exit code. */
  end(refused: RefusedLine[], stopped: boolean, joblogError?: string): number {
    this.clear();
    const o = this.options;
    const rows = [...this.rows].sort((a, b) => a.line - b.line);
    const failed = rows.filter((r) => r.exit !== EXIT.OK && r.exit !== EXIT.GUARD && r.exit !== EXIT.CHANGED);
    const guarded = rows.filter((r) => r.exit === EXIT.GUARD);
    const changed = rows.filter((r) => r.exit === EXIT.CHANGED);
    const notStarted = this.total - rows.length;
    const counts = { done: rows.length - failed.length - guarded.length, of: this.total + refused.length, failed: failed.length + refused.length, guarded: guarded.length };
    const exit = joblogError !== undefined ? EXIT.FAILED
      : stopped ? EXIT.INTERRUPTED
      : failed.length > 0 || refused.length > 0 ? EXIT.FAILED
      : guarded.length > 0 ? EXIT.GUARD
      : changed.length > 0 ? EXIT.CHANGED : EXIT.OK;
    for (const r of refused) this.stderr(`${o.users === '-' ? 'standard input' : o.users}, line ${r.line}: user ${quoted(r.user)} refused: ${r.message}`);
    for (const r of [...failed, ...guarded, ...changed]) {
      if (r.differences) continue;
      const how = r.exit === EXIT.GUARD ? 'refused by a guard' : r.exit === EXIT.CHANGED ? 'done, but a side changed during its run' : 'failed';
      this.stderr(`${r.user}: ${how} (exit ${r.exit}): ${r.error?.message ?? 'no reason given'}`);
    }
    if (failed.length + guarded.length + changed.length > 0 && !o.pair.dryRun) {
      this.stderr(o.joblog !== undefined
        ? `to run the users that did not finish again: the same command with --retry-failed (they are in ${o.joblog})`
        : 'to run only the users that did not finish again, give --joblog FILE, then --retry-failed');
    }
    if (joblogError !== undefined) this.stderr(`${joblogError}: no new user was started; the users it did not record are run again by --resume`);
    if (stopped && joblogError === undefined) this.stderr(`stopped: ${notStarted} user${notStarted === 1 ? '' : 's'} not started${o.joblog !== undefined ? '; the same command with --resume takes them up' : ''}`);
    const seconds = (performance.now() - this.t0) / 1000;
    if (o.json) {
      process.stdout.write(JSON.stringify({
        command: o.command, dryRun: o.pair.dryRun, exit, seconds: Math.round(seconds * 1000) / 1000,
        users: { total: counts.of, done: counts.done, failed: counts.failed, refused: counts.guarded, changed: changed.length, skipped: this.skipped, notStarted },
        ...(o.command === 'verify' ? { identical: rows.filter((r) => r.exit === EXIT.OK).length } : { messages: this.doneMessages, bytes: this.doneBytes }),
        rows: rows.map(jsonRow),
        refusedLines: refused,
      }) + '\n');
    } else if (!o.quiet) {
      process.stdout.write(`${o.command === 'verify' ? verdict(rows, refused, this.skipped + notStarted) : summaryLine(o, counts, seconds, this.doneMessages, this.doneBytes)}\n`);
      if (this.skipped > 0) process.stdout.write(`${grouped(this.skipped)} user${this.skipped === 1 ? '' : 's'} skipped (${o.resume ? 'done already' : 'not failed'} in ${o.joblog})\n`);
    }
    return exit;
  }

  private stderr(line: string): void {
    this.clear();
    process.stderr.write(`mdsync: ${line}\n`);
  }

  private clear(): void {
    if (this.drawn && this.terminal) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(force = false): void {
    if (!this.options.progress) return;
    const now = performance.now();
    if ((!force || !this.terminal) && now - this.lastDraw < (this.terminal ? REDRAW_MS : LOG_MS)) return;
    this.lastDraw = now;
    const done = this.rows.length;
    let bytes = this.doneBytes;
    for (const b of this.inFlight.values()) bytes += b;
    const elapsed = (now - this.t0) / 1000;
    const left = done > 0 && done < this.total ? ` · about ${formatDuration((elapsed / done) * (this.total - done))} left` : '';
    const failed = this.failedSoFar > 0 ? ` (${this.failedSoFar} failed)` : '';
    const line = `users ${done}/${this.total}${failed}, ${this.inFlight.size} running · ${this.doneMessages} messages, ${formatBytes(bytes)}, ${formatBytes(elapsed > 0 ? bytes / elapsed : 0)}/s${left}`;
    if (this.terminal) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.drawn = true;
    } else {
      process.stderr.write(`mdsync: ${line}\n`);
    }
  }
}

function userLine(r: UserRow, o: BatchOptions): string {
  const took = `${r.seconds.toFixed(1)} s`;
  if (o.command === 'verify') {
    if (r.exit === EXIT.OK) return `${r.user}: identical: ${r.verify?.folders ?? 0} folders, ${r.verify?.messages ?? 0} messages (${took})`;
    return [`${r.user}: ${r.differences ? `${r.differences.length} differences` : `not compared: ${r.error?.message ?? ''}`} (${took})`, ...(r.differences ?? []).map((d) => `  ${d}`)].join('\n');
  }
  if (r.summary && (r.exit === EXIT.OK || r.exit === EXIT.CHANGED)) return `${r.user}: ${describeSummary(r.summary, o.pair.dryRun ? 'would do' : o.command)} (${took})`;
  return `${r.user}: exit ${r.exit}: ${r.error?.message ?? (r.warnings ?? []).join('; ')} (${took})`;
}

function summaryLine(o: BatchOptions, counts: { done: number; of: number; failed: number; guarded: number }, seconds: number, messages: number, bytes: number): string {
  const what = o.pair.dryRun ? `${o.command} (dry run)` : o.command;
  return `batch ${what}: ${grouped(counts.done)} of ${grouped(counts.of)} users done, ${grouped(counts.failed)} failed, ${grouped(counts.guarded)} refused by a guard; ${grouped(messages)} messages (${formatBytes(bytes)}) ${o.pair.dryRun ? 'to copy' : 'copied'} in ${formatDuration(seconds)}`;
}

/**
 * The line a migration is signed off on: a user whose line was refused, and one this run left out
 * (skipped by --resume or --retry-failed, or not started before a stop), is a mailbox not compared.
 */
function verdict(rows: UserRow[], refused: RefusedLine[], leftOut: number): string {
  const of = rows.length + refused.length + leftOut;
  const differ = rows.filter((r) => r.exit !== EXIT.OK);
  const notCompared = leftOut > 0 ? `; ${grouped(leftOut)} not compared in this run` : '';
  if (differ.length + refused.length === 0) return `${grouped(rows.length)} of ${grouped(of)} mailboxes identical${notCompared}`;
  return [`${grouped(rows.length - differ.length)} of ${grouped(of)} mailboxes identical${notCompared}; these are not:`,
    ...differ.map((r) => `  ${r.user}: ${r.differences ? `${r.differences.length} difference${r.differences.length === 1 ? '' : 's'}` : `not compared: ${r.error?.message ?? ''}`}`),
    ...refused.map((r) => `  ${quoted(r.user)}: not compared: its line (${r.line}) was refused`)].join('\n');
}

function jsonRow(r: UserRow): Record<string, unknown> {
  return {
    user: r.user, source: r.source ?? null, destination: r.destination ?? null, start: r.start, seconds: Math.round(r.seconds * 1000) / 1000, exit: r.exit,
    copied: r.copied, bytes: r.bytes, error: r.error ?? null, warnings: r.warnings ?? [],
    ...(r.summary ? { summary: jsonSummary(r.summary) } : {}),
    ...(r.verify ? { folders: r.verify.folders, messages: r.verify.messages, differences: r.differences ?? [] } : {}),
  };
}
