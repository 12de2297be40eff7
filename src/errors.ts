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
  | 'SSH_CONFIG';

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

/** Maps an errno from the filesystem to an MdsyncError naming what was being done and where. */
export function fromErrno(err: unknown, doing: string, path: string): MdsyncError {
  if (err instanceof MdsyncError) return err;
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new MdsyncError('ENOSPACE', `disk full while ${doing} ${path}: free some space and run again`, { cause: err });
    case 'EROFS':
      return new MdsyncError('READ_ONLY', `read-only filesystem while ${doing} ${path}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new MdsyncError('PERMISSION', `permission denied while ${doing} ${path}`, { cause: err });
    case 'ENOENT':
      return new MdsyncError('NOT_FOUND', `no such file while ${doing} ${path}`, { cause: err });
    default:
      return new MdsyncError('IO', `${e?.code ?? 'error'} while ${doing} ${path}: ${e?.message ?? String(err)}`, { cause: err });
  }
}
