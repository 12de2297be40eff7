// A sync between two Agents: lock both, load the state (recovering what a killed run placed), then
// one run or a first copy in passes. A run is the phase list of DESIGN §8, each phase its own
// module handing on one RunContext: snapshot → trust → plan → guard → execute (which saves).

import { GuardError } from '../errors.js';
import type { FolderList } from '../model.js';
import type { Agent } from './agent.js';
import { execute, collectWarnings } from './execute.js';
import { guard } from './guards.js';
import { runInPasses } from './in-passes.js';
import { firstCopyPasses, resumedCopyPasses, type FirstCopy, type SavedCounts } from './passes.js';
import { isEmptyPlan } from './plan.js';
import { plan } from './planning.js';
import { recoverPlacements } from './recover-placements.js';
import type { RunOptions, RunResult, RunStart } from './run-types.js';
import { scan } from './snapshot.js';
import { orientState } from './state-sides.js';
import { sideCount, type Side, type SyncState } from './state.js';
import { trust, uidValidityMoved } from './trust.js';
import { PASS_MESSAGES, PASSES_FROM } from './tuning.js';
import { uidsToCopy } from './uids.js';

export async function runSync(a: Agent, b: Agent, options: RunOptions): Promise<RunResult> {
  const agents: Record<Side, Agent> = { a, b };
  const include = options.includeFolder ?? (() => true);
  const said = await Promise.all([a.hello(), b.hello()]);
  // The ids the state holds and compares are the caller's (a far side's qualified by its host).
  const ids = options.sideIds ?? { a: said[0].id, b: said[1].id };
  const hellos = { a: { ...said[0], id: ids.a }, b: { ...said[1], id: ids.b } };
  const locked: Agent[] = [];
  try {
    if (!options.dryRun) {
      for (const side of ['a', 'b'] as const) {
        if (!options.lockedBefore?.includes(side)) await agents[side].lock();
        locked.push(agents[side]);
      }
    }
    // A state saved by a run that named the sides the other way round is used turned round.
    const saved = await options.loadState();
    const orientedState = saved.state && orientState(saved.state, ids.a, ids.b);
    const oriented = !saved.state || orientedState ? { ...saved, state: orientedState }
      : { ...saved, state: undefined, problem: 'the saved state cannot tell the two sides apart (both have one identity)' };
    const loaded = await recoverPlacements(agents, hellos.a, hellos.b, oriented, options.journal, include, options.dryRun ?? false);
    const once: RunOptions = { ...options, loadState: async () => loaded };
    const { listed, firstCopy } = await inPassesOrOnce(agents, ids, loaded, include, options);
    if (firstCopy) {
      return await runInPasses(agents, once, firstCopy, (pass, inPass, passOptions) =>
        runOnce({ agents, hellos, include: (n) => inPass(n) && include(n), options: passOptions, only: pass, wholeTotals: firstCopy.totals }));
    }
    return await runOnce({ agents, hellos, include, options: once, ...(listed ? { listed } : {}) });
  } finally {
    for (const agent of locked.reverse()) await agent.unlock().catch(() => undefined);
  }
}

/**
 * Whether this is a first copy (into an empty side, or of folders new to a side), which goes in
 * passes: each side lets go of its folders' listings as it sums them up beyond a budget, and loads
 * each again in its pass. A state made with other Maildirs is not used. The lists, taken under
 * the lock, serve a run in one pass too.
 */
async function inPassesOrOnce(
  agents: Record<Side, Agent>, ids: Record<Side, string>, loaded: { state?: SyncState; problem?: string }, include: (n: string) => boolean, options: RunOptions,
): Promise<{ listed?: Record<Side, FolderList>; firstCopy?: FirstCopy }> {
  const { state } = loaded;
  if (options.dryRun || loaded.problem || (state && (state.idA !== ids.a || state.idB !== ids.b))) return {};
  const size = options.passMessages ?? PASS_MESSAGES;
  const from = options.passesFrom ?? PASSES_FROM;
  const [a, b] = await Promise.all([agents.a.listFolders({ release: { keep: from } }), agents.b.listFolders({ release: { keep: from } })]);
  const listed = { a, b };
  // With no state: into an empty side, or (a first copy stopped before it saved one) the
  // folders only one side holds mail in, after those both do.
  const firstCopy = state
    ? resumedCopyPasses(options.mode, listed, savedCounts(state), include, size, from)
    : firstCopyPasses(options.mode, listed, include, size, from) ?? resumedCopyPasses(options.mode, listed, new Map(), include, size, from);
  return firstCopy ? { listed, firstCopy } : { listed };
}

/** One run over the folders `include` takes, under the locks: the phases of DESIGN §8. */
async function runOnce(start: Omit<RunStart, 'warnings' | 'failed' | 'loaded' | 'state'>): Promise<RunResult> {
  const started = await loadState(start);
  const scanned = await scan(started);
  const trusted = await trust(scanned);
  const planned = await plan(trusted);
  const ctx = guard(planned);
  const { options, result } = ctx;
  if (options.dryRun) {
    await collectWarnings(ctx.agents, result, options.mode);
    return result;
  }
  // Nothing to do and nothing new learnt: the saved state is already exact, leave it be.
  const { snaps } = ctx;
  const learnt = snaps.a.fetched + snaps.b.fetched > 0 || ctx.trusted === undefined || ctx.untrusted.size > 0 ||
    uidValidityMoved(ctx.trusted, { a: snaps.a.uidValidity, b: snaps.b.uidValidity });
  const uidFolders = uidsToCopy(options.mode, snaps.a, snaps.b, ctx.trusted, ctx.plan).filter(ctx.included);
  if (isEmptyPlan(ctx.plan) && !learnt && uidFolders.length === 0) {
    await collectWarnings(ctx.agents, result, options.mode);
    return result;
  }
  await execute(ctx, uidFolders);
  return result;
}

/** The saved state, unless it was made with other Maildirs (then merged as a first meeting). */
async function loadState(start: Omit<RunStart, 'warnings' | 'failed' | 'loaded' | 'state'>): Promise<RunStart> {
  const warnings: RunStart['warnings'] = [];
  const loaded = await start.options.loadState();
  let state = loaded.state;
  if (loaded.problem) warnings.push({ message: `${loaded.problem}: merging as a first meeting (nothing expunged)` });
  if (state && (state.idA !== start.hellos.a.id || state.idB !== start.hellos.b.id)) {
    warnings.push({ message: 'a side is not the Maildir the saved state was made with (moved, restored or re-created): merging as a first meeting (nothing expunged)' });
    state = undefined;
  }
  return { ...start, warnings, failed: [], loaded, ...(state ? { state } : {}) };
}

/** Each side's messages per folder, as the state says (its folder summaries: no record read). */
function savedCounts(state: SyncState): SavedCounts {
  return new Map(Object.entries(state.folders).map(([name, sf]) => [name, {
    ...(sf.onA ? { a: sideCount(sf, 'a') } : {}),
    ...(sf.onB ? { b: sideCount(sf, 'b') } : {}),
  }]));
}


export { GuardError };
export type { ProgressEvent, RunOptions, RunResult } from './run-types.js';
