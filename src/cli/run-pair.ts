// One sync or backup of two endpoints, the same whether `mdsync sync` asks for it or `mdsync
// batch` for one of its users: opens both sides, finds the pair's state, runs, closes. It prints
// nothing: what the run did comes back in its result.

import { MdsyncError } from '../errors.js';
import { runSync, type ProgressEvent, type RunResult } from '../sync/run.js';
import type { Mode } from '../sync/plan.js';
import type { MaxDelete } from '../sync/guards.js';
import { PASSES_FROM } from '../sync/tuning.js';
import { journalMark } from '../sync/journal.js';
import type { SyncState } from '../sync/state.js';
import type { Layout } from '../model.js';
import type { Separator } from '../local/name.js';
import type { RemoteOptions } from '../remote/open.js';
import { loadEndpointCode, openAgent, type OpenedAgent } from './endpoints.js';
import { folderSelection, unmatchedGlobs } from './options.js';
import { loadStateFile, saveStateFile } from './state-file.js';
import { locatePairState, pairKnown, sideIdentity } from './state-key.js';
import { journalFile } from './journal-file.js';

/** Knobs the tests turn through the environment (read by the CLI, never by the engine). */
export interface RunKnobs {
  /** MDSYNC_CHECKPOINT_MS: the least time between two checkpoints (tests save at every one). */
  checkpointMs?: number;
  /** MDSYNC_PASSES_FROM and MDSYNC_PASS_MESSAGES: when a first copy goes in passes, and how big each is. */
  passesFrom?: number;
  passMessages?: number;
}

function knobFromEnv(name: string, least: number): number | undefined {
  const value = process.env[name] ?? '';
  return /^\d+$/.test(value) && Number(value) >= least ? Number(value) : undefined;
}

export function knobsFromEnv(): RunKnobs {
  return {
    checkpointMs: knobFromEnv('MDSYNC_CHECKPOINT_MS', 0),
    passesFrom: knobFromEnv('MDSYNC_PASSES_FROM', 1),
    passMessages: knobFromEnv('MDSYNC_PASS_MESSAGES', 1),
  };
}

/** Everything a run of one pair is told, parsed from the command line. */
export interface PairSettings {
  mode: Mode;
  dryRun: boolean;
  force: boolean;
  checksum: boolean;
  maxDelete?: MaxDelete;
  include: string[];
  exclude: string[];
  jobs: number;
  stateDir: string;
  layout?: Layout;
  separator?: Separator;
  mkpath: boolean;
  remote: RemoteOptions;
  knobs: RunKnobs;
  /** Whether the result's plan lists every operation (only -v prints them). */
  keepPlan: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** `--bwlimit`: waits after each batch of message bytes sent. */
  pace?: (bytes: number) => Promise<void>;
}

export type WireCounts = Record<string, { sent: number; received: number }>;

/** A run that went ahead, or a dry run into a side that does not exist yet (`missing`: no plan is made). */
export type PairOutcome = { result: RunResult; wire: WireCounts; missing?: undefined } | { missing: string; result?: undefined };

export async function runPair(first: string, second: string, s: PairSettings): Promise<PairOutcome> {
  const { mode } = s;
  const passesFrom = s.knobs.passesFrom;
  const hasState = await pairKnown(s.stateDir, first, second);
  // A run reads partial listings (a folder that never holds still): verify does not. A backup
  // only reads its source, which may be read-only (a snapshot).
  const a = await openAgent(first, { create: false, readOnly: mode === 'backup', separator: s.separator, partialListings: true }, s.remote);
  let b: OpenedAgent | undefined;
  let releaseState: (() => void) | undefined;
  try {
    // A destination is created only by a backup, or by a first sync (no state yet for the pair).
    const helloA = await a.agent.hello();
    // Locked (or found read-only, for a backup) before the second side is opened: a first side
    // that cannot be used leaves nothing created on the other.
    if (!s.dryRun) await a.agent.lock();
    // Reaching the second side can take a while (SSH): the first reads its folders meanwhile. Its
    // code is loaded before: the reading would hold up the loading and with it the connection.
    await loadEndpointCode(second);
    // The run may be a first copy (or one run again), made a few folders at a time (runSync):
    // listings beyond a budget are let go of as they are summed up.
    void a.agent.prefetch?.({ release: { keep: passesFrom ?? PASSES_FROM } });
    try {
      b = await openAgent(second, { create: (mode === 'backup' || !hasState) && !s.dryRun, mkpath: s.mkpath, layout: s.layout, defaultLayout: helloA.layout, separator: s.separator, partialListings: true }, s.remote);
    } catch (err) {
      if (s.dryRun && err instanceof MdsyncError && err.code === 'ROOT_MISSING') return { missing: `${second} does not exist yet: everything would be copied` };
      throw err;
    }
    const sideIds = { a: sideIdentity(first, helloA.id), b: sideIdentity(second, (await b.agent.hello()).id) };
    const pair = await locatePairState(s.stateDir, first, second, sideIds.a, sideIds.b);
    const loadState = async (): Promise<{ state?: SyncState; problem?: string }> => {
      const loaded = await loadStateFile(pair.load ?? pair.save);
      releaseState = loaded.release;
      return loaded;
    };
    const journal = journalFile(pair.save);
    const folders = folderSelection(s.include, s.exclude);
    const result = await runSync(a.agent, b.agent, {
      mode,
      dryRun: s.dryRun,
      force: s.force,
      checksum: s.checksum,
      maxDelete: s.maxDelete,
      includeFolder: (name) => folders.includes(name),
      jobs: s.jobs,
      sideIds,
      lockedBefore: s.dryRun ? [] : ['a'],
      checkpointMs: s.knobs.checkpointMs,
      passesFrom,
      passMessages: s.knobs.passMessages,
      loadState,
      saveState: async (state) => {
        await saveStateFile(pair.save, state);
        await pair.saved();
        const mark = journalMark(state);
        if (mark !== undefined) await journal.covered(mark);
      },
      journal,
      onProgress: s.onProgress,
      pace: s.pace,
      keepPlan: s.keepPlan,
    });
    // The run was asked about every folder of both sides: a glob none matched is likely a typo.
    const unmatched = folders.unmatched();
    if (unmatched.length > 0) result.warnings.unshift({ message: unmatchedGlobs(unmatched) });
    const wire: WireCounts = {};
    if (a.agent.traffic) wire.a = a.agent.traffic();
    if (b.agent.traffic) wire.b = b.agent.traffic();
    return { result, wire };
  } finally {
    releaseState?.();
    // Each side leaves its scan cache and lock on its own: neither waits for the other.
    await Promise.all([b?.agent.close().catch(() => undefined), a.agent.close().catch(() => undefined)]);
  }
}
