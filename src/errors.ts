// Every error mdsync reports on purpose: a class with a stable `code` and a message a user can act on.

import type { PlanSummary } from './sync/plan.js';

export type ErrorCode =
  | 'USAGE'
  | 'ROOT_MISSING'
  | 'ROOT_UNREADABLE'
  | 'NOT_A_MAILDIR'
  | 'SCAN_UNSTABLE'
  | 'BAD_NAME'
  | 'NOT_A_FILE'
  | 'BAD_FOLDER'
  | 'BAD_UIDLIST'
  | 'BAD_KEYWORDS'
  | 'BAD_CONTROL_FILE'
  | 'LOCKED'
  | 'IO'
  | 'ENOSPACE'
  | 'READ_ONLY'
  | 'PERMISSION'
  | 'GUARD_MAX_DELETE'
  | 'GUARD_FOLDER_DELETE'
  | 'GUARD_UNMOUNTED'
  | 'STATE_CORRUPT'
  | 'CHANGED_DURING_RUN'
  | 'NOT_FOUND'
  | 'PROTOCOL'
  | 'PROTOCOL_VERSION'
  | 'TIMEOUT'
  | 'REMOTE'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'HOST_KEY_REVOKED'
  | 'SSH_CONFIG'
  | 'BAD_USER';

export class MdsyncError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'MdsyncError';
  }
}

/** A guard refused the run before anything changed (exit code 3). */
export class GuardError extends MdsyncError {
  /** What the refused plan would have done, set by the run that made it (`--json` prints it). */
  summary?: PlanSummary;
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' &&
    codes.includes((err as NodeJS.ErrnoException).code as string);
}
