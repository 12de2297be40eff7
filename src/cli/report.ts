// The --json object of sync and backup: one line on stdout, also when a run is refused or fails.

import { GuardError, MdsyncError } from '../errors.js';
import type { Mode, PlanSummary } from '../sync/plan.js';
import type { RunResult } from '../sync/run.js';

type PerSide = { a: number; b: number };

/** The plan's counts in the words of the text summary: on side `a` (the first) and `b` (the second). */
export interface JsonSummary {
  /** Sent, or linked to the same bytes the side held (`linked`). */
  copied: PerSide;
  linked: PerSide;
  moved: PerSide;
  flagged: PerSide;
  expunged: PerSide;
  foldersCreated: PerSide;
  foldersDeleted: PerSide;
  /** mtimes set (`--checksum`), when there are any. */
  mtimes?: PerSide;
}

export function jsonSummary(s: PlanSummary): JsonSummary {
  return {
    copied: s.transfers, linked: s.links, moved: s.copies, flagged: s.flagChanges, expunged: s.expunges,
    foldersCreated: s.createFolders, foldersDeleted: s.deleteFolders,
    ...(s.mtimes ? { mtimes: s.mtimes } : {}),
  };
}

/** What an error is in the object: its stable code (UNEXPECTED for a bug) and its text. */
export function jsonError(err: unknown): { code: string; message: string } {
  if (err instanceof MdsyncError) return { code: err.code, message: err.message };
  return { code: 'UNEXPECTED', message: `unexpected error: ${(err as Error)?.message ?? String(err)}` };
}

export interface RunHeader {
  mode: Mode;
  dryRun: boolean;
  exit: number;
}

/** A run that went ahead; a dry run a guard would refuse names the guard and its error too. */
export function jsonOfRun(header: RunHeader, result: RunResult, wire: Record<string, { sent: number; received: number }>): string {
  const refused = result.refused;
  return JSON.stringify({
    ...header, error: refused ? jsonError(refused) : null, refusedBy: refused?.code ?? null, summary: jsonSummary(result.summary), bytes: result.bytes,
    vanished: result.vanished, stateTrusted: result.stateTrusted, firstMeeting: result.firstMeeting ?? false,
    warnings: result.warnings, failed: result.failed, wire,
    ...(result.passes ? { passes: result.passes } : {}),
  });
}

/** A run that ended in an error: a guard's refusal names the guard and carries the refused plan's counts. */
export function jsonOfFailedRun(header: RunHeader, err: unknown): string {
  const refused = err instanceof GuardError;
  return JSON.stringify({
    ...header, error: jsonError(err), refusedBy: refused ? err.code : null,
    summary: refused && err.summary ? jsonSummary(err.summary) : null,
  });
}

/** A dry run into a side that does not exist yet: no plan is made (everything would be copied), the note says so. */
export function jsonOfMissingSide(header: RunHeader, note: string): string {
  return JSON.stringify({ ...header, error: null, refusedBy: null, summary: null, warnings: [{ message: note }] });
}
