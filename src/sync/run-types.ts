// What a run is given (RunOptions), what it tells (ProgressEvent, RunResult), and what its phases
// hand on to each other (RunContext, built up phase by phase: run.ts lists them).

import type { GuardError } from '../errors.js';
import type { FolderList, Hello, Warning } from '../model.js';
import type { Agent } from './agent.js';
import type { PlacementJournal } from './journal.js';
import type { NarrowFolder } from './narrow.js';
import type { MaxDelete } from './guards.js';
import type { Mode, Plan, PlanSummary } from './plan.js';
import type { Snapshot } from './snapshot.js';
import type { Side, SyncState } from './state.js';

export interface RunOptions {
  mode: Mode;
  dryRun?: boolean;
  force?: boolean;
  maxDelete?: MaxDelete;
  /** Folders outside it are neither read nor touched, and their state is kept as it was. */
  includeFolder?: (name: string) => boolean;
  jobs?: number;
  /** Least time between two checkpoints (tuning.ts unless set). */
  checkpointMs?: number;
  /** Messages from which a first copy goes in passes (tuning.ts unless set); each side keeps the listings of as many as it sums them up. */
  passesFrom?: number;
  /** Messages a pass gathers (tuning.ts unless set). */
  passMessages?: number;
  /**
   * Sides the caller locked before the run (the CLI locks the first before it opens the second,
   * which it may create): not locked again, and released with the other.
   */
  lockedBefore?: Side[];
  /** Each side's identity as the state keys it (hello's id unless given). */
  sideIds?: Record<Side, string>;
  loadState(): Promise<{ state?: SyncState; problem?: string }>;
  saveState(state: SyncState): Promise<void>;
  /** Where each batch's records are kept while its files are placed, for a run killed before it saves them. */
  journal?: PlacementJournal;
  onProgress?(event: ProgressEvent): void;
  /** Called with the message bytes each batch sent, before the next is read: a batch's `--bwlimit` waits here. */
  pace?(bytes: number): Promise<void>;
  /**
   * Whether the result's plan lists every operation of a first copy made in passes (default
   * true); without it such a run lets go of each pass's plan, and only the summary counts them.
   */
  keepPlan?: boolean;
  /**
   * `--checksum`: every folder both sides hold is compared by content and mtime, not trusted by
   * name and digest (no folder skipped as unchanged), and every difference verify would report repaired.
   */
  checksum?: boolean;
}

/**
 * Where a run is: `scan` the sides' folders (done/total: sides), `compare` them into a plan,
 * `transfer` copies and moves, `flags` and `expunge` (done/total: messages), then `done`.
 */
export interface ProgressEvent {
  phase: 'scan' | 'compare' | 'transfer' | 'flags' | 'expunge' | 'done';
  done: number;
  total: number;
  /** Message bytes copied so far (transfer). */
  bytes?: number;
}

export interface RunResult {
  plan: Plan;
  summary: PlanSummary;
  warnings: Warning[];
  /** Folders left out of this run because a side could not read them (exit 1); both copies left as they are. */
  failed: Warning[];
  /** A side changed during the run (exit 2: run again). */
  raced: boolean;
  bytes: number;
  vanished: number;
  stateTrusted: boolean;
  /** A first copy made a few folders at a time: how many passes. */
  passes?: number;
  /** The copy in passes was of folders new to a side, after those the state knows or both sides hold mail in (resumedCopyPasses). */
  resumedCopy?: boolean;
  /** Both sides held mail and no saved state of the pair was trusted: merged as a first meeting. */
  firstMeeting?: boolean;
  /** A dry run's plan that a guard would refuse (exit 3), with the guard's error. */
  refused?: GuardError;
}


/** A run's start, under the locks: the sides, what it was asked, the state it loaded. */
export interface RunStart {
  agents: Record<Side, Agent>;
  hellos: Record<Side, Hello>;
  include: (name: string) => boolean;
  options: RunOptions;
  /** The folders of a pass (in-passes.ts), the only ones `include` takes. */
  only?: string[];
  /** Both sides' folder lists, taken a moment ago under the lock (not listed again). */
  listed?: Record<Side, FolderList>;
  /** The messages of all the run's folders (a pass's run): what its guards count against. */
  wholeTotals?: Record<Side, number>;
  warnings: Warning[];
  /** Folders left out because a side could not read them (exit 1). */
  failed: Warning[];
  /** The state as loaded, whatever its identities say. */
  loaded: { state?: SyncState; problem?: string };
  /** The loaded state, if it was made with these two Maildirs; cleared when found damaged. */
  state?: SyncState;
}

/** After snapshot.ts: each side's folders now. */
export interface Scanned extends RunStart {
  snaps: Record<Side, Snapshot>;
}

/** After trust.ts: which saved records are evidence, and which folders need no look at all. */
export interface Trusted extends Scanned {
  /** Folders left out this run (unreadable, a backup's damaged source). */
  skipped: Set<string>;
  /** Folders merged as a first meeting (damaged, UIDVALIDITY changed). */
  untrusted: Set<string>;
  /** `include`, less the skipped folders. */
  included: (name: string) => boolean;
  /** The saved state the diff may read, for the folders it may read it for. */
  trusted?: SyncState;
  /** Folders unchanged on both sides since a sync that left them converged. */
  quiet: Set<string>;
  /** Folders the diff sees only the touched messages of. */
  narrowed: Map<string, NarrowFolder>;
}

/** After the plan (run.ts): what to do, and each side's messages as the guards count them. */
export interface Planned extends Trusted {
  plan: Plan;
  totals: Record<Side, number>;
}

/** After the guards: the result the execution fills in. The whole context of a run. */
export interface RunContext extends Planned {
  result: RunResult;
}
