// What a session's frames are (request, answer, error, bye, keep-alive), which carry message
// bodies, and how a peer's error travels: its code checked, its text made safe to show.

import { MdsyncError } from '../errors.js';
import type { Method } from './messages.js';

export const REQUEST = 0;
export const ANSWER = 1;
export const ERROR = 2;
export const BYE = 3;
export const KEEPALIVE = 4;
/** The session's first bytes kept, to quote them when they were not a frame. */
export const HEAD_KEEP = 96;


export const ERROR_CODE = /^[A-Z][A-Z_]{0,39}$/;
/** Requests that carry message bodies, and requests whose answers do. */
export const BODIES_ASKED: ReadonlySet<string> = new Set<Method>(['deliver', 'uploadChunk']);
/**
 * Answers sent as they are: bodies (as requests with bodies), and `deliver` answers, which are
 * SHA-256 hashes as bytes: deflate cannot shrink those, and trying costs CPU for nothing.
 */
export const UNDEFLATED_ANSWERS: ReadonlySet<string> = new Set<Method>(['read', 'readChunk', 'deliver']);

/** The peer's error text as the user's terminal may show it: control characters but line ends as `\xNN`, never an escape sequence. */
export function shown(text: string): string {
  return text.replace(/[\x00-\x09\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function errorCode(err: unknown): string {
  return err instanceof MdsyncError ? err.code : 'IO';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
