// A first copy into a side holding no message, or of folders new to a side, made a few folders at
// a time (passes.ts chooses the passes): each pass a whole run over its folders.

import type { Agent } from './agent.js';
import { emptyPlan, summarize, type PlanSummary } from './plan.js';
import type { FirstCopy } from './passes.js';
import type { RunOptions, RunResult } from './run-types.js';
import { compactFolder, type Side, type StateFolder, type SyncState } from './state.js';
import { CHECKPOINT_MS } from './tuning.js';

/** One pass: a run over these folders (`inPass` takes them), with these options; its guards count the whole run's messages. */
export type RunPass = (pass: string[], inPass: (name: string) => boolean, options: RunOptions) => Promise<RunResult>;

/**
 * A first copy into a side holding no message, or of folders new to a side (a first copy run again
 * after a stop: its first pass all the folders the state knows or both sides hold mail in), a few
 * folders at a time: each pass is a whole run over its folders (plan, copy, records), after
 * which both sides let go of them. A first copy then holds a pass's messages at once, not all of
 * them (docs/performance.md). Between passes the state is saved as checkpoints
 * are (every few seconds): what a killed run copied and no saved state names is met by content in
 * the next run, never copied twice.
 */
export async function runInPasses(agents: Record<Side, Agent>, options: RunOptions, firstCopy: FirstCopy, runPass: RunPass): Promise<RunResult> {
  const { passes, messages, resumed } = firstCopy;
  const keepPlan = options.keepPlan ?? true;
  const merged: RunResult = {
    plan: emptyPlan(options.mode), summary: summarize(emptyPlan(options.mode)), warnings: [], failed: [], raced: false, bytes: 0, vanished: 0, stateTrusted: false,
    passes: passes.length,
    ...(resumed ? { resumedCopy: true } : {}),
  };
  let current = await options.loadState();
  let unsaved: SyncState | undefined;
  let lastSave = Date.now();
  let copied = 0;
  // A resumed copy's first pass copies what it finds to copy (a folder cut off halfway) besides.
  let total = messages;
  const done: string[] = [];
  try {
    for (const [i, pass] of passes.entries()) {
      const inPass = new Set(pass);
      const last = i === passes.length - 1;
      const result = await runPass(pass, (n) => inPass.has(n), {
        ...options,
        loadState: async () => current,
        saveState: async (state) => {
          current = { state };
          unsaved = state;
          if (!last && Date.now() - lastSave < (options.checkpointMs ?? CHECKPOINT_MS)) return;
          await options.saveState(state);
          unsaved = undefined;
          lastSave = Date.now();
        },
        onProgress: (e) => {
          if (e.phase === 'transfer') {
            options.onProgress?.({ phase: 'transfer', done: copied + e.done, total: resumed && i === 0 ? total + e.total : total, bytes: merged.bytes + (e.bytes ?? 0) });
          } else if (e.phase === 'flags' || e.phase === 'expunge' || (i === 0 && e.phase !== 'done')) options.onProgress?.(e);
        },
      });
      const state = current.state;
      if (state) for (const name of pass) if (state.folders[name]) state.folders[name] = compactFolder(state.folders[name] as StateFolder, name);
      const copiedNow = result.summary.transfers.a + result.summary.transfers.b;
      copied += copiedNow;
      if (resumed && i === 0) total += copiedNow;
      // Whether the saved state was trusted is the first pass's to say: the others' is the passes'.
      if (i === 0) {
        merged.stateTrusted = result.stateTrusted;
        merged.firstMeeting = result.firstMeeting;
      }
      addPass(merged, result, keepPlan);
      // Each time all passes so far: a folder written a moment ago is let go of once it has settled.
      done.push(...pass);
      await Promise.all([agents.a.release?.(done), agents.b.release?.(done)]);
    }
  } catch (err) {
    // A pass that failed: the passes before it copied what their state, kept in memory, records.
    if (unsaved) await options.saveState(unsaved).catch(() => undefined);
    throw err;
  }
  // A last pass with nothing to write saves nothing: the state of the passes before it, kept in
  // memory between checkpoints, is saved now.
  if (unsaved) await options.saveState(unsaved);
  options.onProgress?.({ phase: 'done', done: copied, total, bytes: merged.bytes });
  return merged;
}

/** A pass's result into the whole run's. */
function addPass(into: RunResult, pass: RunResult, keepPlan: boolean): void {
  for (const key of Object.keys(pass.summary) as (keyof PlanSummary)[]) {
    const from = pass.summary[key];
    if (!from) continue;
    const to = (into.summary[key] ??= { a: 0, b: 0 });
    to.a += from.a;
    to.b += from.b;
  }
  into.warnings.push(...pass.warnings);
  into.failed.push(...pass.failed);
  into.raced ||= pass.raced;
  into.bytes += pass.bytes;
  into.vanished += pass.vanished;
  const plan = into.plan;
  const p = pass.plan;
  plan.subscriptions = { ...plan.subscriptions, ...p.subscriptions };
  plan.subscriptionsAfter = p.subscriptionsAfter;
  plan.warnings.push(...p.warnings);
  if (!keepPlan) return;
  // concat, not push(...): a pass may hold more operations than a call takes arguments.
  plan.createFolders = plan.createFolders.concat(p.createFolders);
  plan.transfers = plan.transfers.concat(p.transfers);
  plan.copies = plan.copies.concat(p.copies);
  plan.flagChanges = plan.flagChanges.concat(p.flagChanges);
  if (p.mtimes) plan.mtimes = (plan.mtimes ?? []).concat(p.mtimes);
  plan.expunges = plan.expunges.concat(p.expunges);
  plan.deleteFolders = plan.deleteFolders.concat(p.deleteFolders);
  Object.assign(plan.keep, p.keep);
  Object.assign(plan.folderPresence, p.folderPresence);
}
