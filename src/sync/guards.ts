// The guards (DESIGN §8): a plan that would remove too much, or empty a side that looks unmounted,
// is refused before anything is changed (exit 3), unless --force. Moves are not deletions.

import { GuardError } from '../errors.js';
import { isMoveSource, movedAway, summarize, type Plan } from './plan.js';
import type { Planned, RunContext, RunResult } from './run-types.js';
import { sideCount, type Side } from './state.js';
import { filterState } from './trust.js';

/** The guard phase: a plan that would remove too much, or empty a side that looks unmounted, is refused (exit 3). */
export function guard(ctx: Planned): RunContext {
  const { options, loaded, hellos, plan, warnings, failed, trusted } = ctx;
  // Counted from any readable saved state, trusted or not: an unmounted mount point is a different
  // directory (another identity) and must still be recognised as a side that used to hold mail.
  const counted = loaded.state ? filterState(loaded.state, ctx.included) : undefined;
  let stateTotals: Record<Side, number> | undefined;
  if (counted) {
    stateTotals = { a: 0, b: 0 };
    for (const sf of Object.values(counted.folders)) {
      stateTotals.a += sideCount(sf, 'a');
      stateTotals.b += sideCount(sf, 'b');
    }
  }
  // A side that is another directory now and holds a small part of what it held is unmounted too.
  const identityChanged = loaded.state && { a: loaded.state.idA !== hellos.a.id, b: loaded.state.idB !== hellos.b.id };
  const roots = { a: hellos.a.root, b: hellos.b.root };
  const whole = ctx.wholeTotals ?? ctx.totals;
  let refused: GuardError | undefined;
  try {
    checkGuards(plan, { force: options.force ?? false, maxDelete: options.maxDelete, totals: whole, stateTotals, identityChanged, roots });
  } catch (err) {
    if (!(err instanceof GuardError)) throw err;
    // A refusal says what the plan would have done (--json prints its counts); a dry run shows
    // the plan a guard would refuse, and which guard: that is what it is for.
    err.summary = summarize(plan);
    if (!options.dryRun) throw err;
    refused = err;
  }
  // Said every time: a state lost or never found makes moves since the last run copies, and undoes
  // expunges (a backup makes its replica exact whatever it finds).
  const firstMeeting = options.mode !== 'backup' && trusted === undefined && whole.a > 0 && whole.b > 0;
  if (firstMeeting && !loaded.state && !loaded.problem) {
    warnings.push({ message: 'first meeting of these two Maildirs (no saved state for the pair): merging both, nothing expunged; a message moved or expunged on one side since they last met comes back' });
  }
  const result: RunResult = { plan, summary: summarize(plan), warnings, failed, raced: false, bytes: 0, vanished: 0, stateTrusted: trusted !== undefined, firstMeeting };
  if (refused) result.refused = refused;
  return { ...ctx, result };
}

/** `--max-delete`: a count, or a percentage of a side's messages. */
export type MaxDelete = { count: number } | { percent: number };

export interface GuardOptions {
  force: boolean;
  maxDelete?: MaxDelete;
  /** Messages per side now, and per side in the state (undefined when there is no trusted state). */
  totals: Record<Side, number>;
  stateTotals?: Record<Side, number>;
  /** Whether each side is another directory than the saved state was made with (its identity changed). */
  identityChanged?: Record<Side, boolean>;
  /** Each side's Maildir, for what a refusal names. */
  roots?: Record<Side, string>;
}

const DEFAULT_PERCENT = 25;
const SMALL_SIDE = 100;
const BIG_FOLDER = 100;
/** A side now another directory holding less than this part of what it held is taken as unmounted. */
const UNMOUNTED_PART = 10;

export function limitFor(total: number, maxDelete: MaxDelete | undefined): number {
  if (maxDelete && 'count' in maxDelete) return maxDelete.count;
  if (maxDelete && 'percent' in maxDelete) return Math.floor((total * maxDelete.percent) / 100);
  return total <= SMALL_SIDE ? Infinity : Math.floor((total * DEFAULT_PERCENT) / 100);
}

/** Throws a GuardError (nothing has changed yet) when the plan looks like a disaster rather than a wish. */
export function checkGuards(plan: Plan, options: GuardOptions): void {
  const names: Record<Side, string> = { a: 'the first side', b: 'the second side' };
  if (options.stateTotals && !options.force) {
    for (const side of ['a', 'b'] as const) {
      if (options.totals[side] === 0 && options.stateTotals[side] > 0) {
        throw new GuardError('GUARD_UNMOUNTED', `${names[side]} is empty but held ${options.stateTotals[side]} messages at the last sync: is it unmounted? Nothing was changed. If it was really emptied, run with --force`);
      }
      // A skeleton an MTA made under the mount point, with a delivery or two in it.
      if (options.identityChanged?.[side] && options.totals[side] * UNMOUNTED_PART < options.stateTotals[side]) {
        const root = options.roots ? ` (${options.roots[side]})` : '';
        throw new GuardError('GUARD_UNMOUNTED', `${names[side]}${root} is not the directory the saved state was made with and holds ${options.totals[side]} messages where it held ${options.stateTotals[side]} at the last sync: is it unmounted? Nothing was changed. If it really is another Maildir now, run with --force`);
      }
    }
  }
  if (options.force) return;
  if (plan.mode === 'backup' && options.totals.a === 0 && options.totals.b > 0) {
    throw new GuardError('GUARD_UNMOUNTED', `the source is empty but the replica holds ${options.totals.b} messages: is the source unmounted? Nothing was changed. If the source was really emptied, run with --force`);
  }
  // Moves are not counted: their content stays on the side (summarize).
  const s = summarize(plan);
  for (const side of ['a', 'b'] as const) {
    const limit = limitFor(options.totals[side], options.maxDelete);
    if (s.expunges[side] > limit) {
      throw new GuardError('GUARD_MAX_DELETE', `refusing to expunge ${s.expunges[side]} of ${options.totals[side]} messages on ${names[side]} (limit ${limit}, see --max-delete); nothing was changed. Check the plan with --dry-run, then use --force if it is right`);
    }
  }
  // A folder whose messages all moved to other folders of that side was renamed, not lost.
  const moved = movedAway(plan);
  const movedOut = new Map<string, number>();
  for (const e of plan.expunges) {
    if (isMoveSource(moved, e)) movedOut.set(`${e.side}\0${e.folder}`, (movedOut.get(`${e.side}\0${e.folder}`) ?? 0) + 1);
  }
  for (const op of plan.deleteFolders) {
    const held = op.messages ?? 0;
    const leaving = held - (movedOut.get(`${op.side}\0${op.folder}`) ?? 0);
    if (leaving > BIG_FOLDER) {
      const moves = held > leaving ? `, ${leaving} of them to be expunged (the others move to other folders)` : '';
      throw new GuardError('GUARD_FOLDER_DELETE', `refusing to delete folder ${JSON.stringify(op.folder)} holding ${held} messages on ${names[op.side]}${moves}; nothing was changed. Check the plan with --dry-run, then use --force if it is right`);
    }
  }
}
