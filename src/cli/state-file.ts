// Where a pair's state lives ($XDG_STATE_HOME/mdsync, or --state-dir) and how it is written: atomically.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isErrno } from '../errors.js';
import { readAtSync } from '../local/fileio.js';
import { removeLeftoversOnce } from '../local/leftovers.js';
import { parseState, stateParts, type SyncState } from '../sync/state.js';
import { fromErrno, replaceFile } from '../local/disk.js';

export function defaultStateDir(): string {
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'mdsync');
}

export function statePath(stateDir: string, a: string, b: string): string {
  const key = createHash('sha256').update(`${a}\n${b}`).digest('hex').slice(0, 32);
  return join(stateDir, `${key}.state`);
}

/** Whether the pair has a saved state; one that cannot be opened is an error, not a missing state. */
export async function stateExists(path: string): Promise<boolean> {
  try {
    // Opened, never read: a state of a million messages is over a hundred megabytes. Synchronous,
    // as the other look-ups of the state directory (state-key.ts): a batch shares one event loop.
    closeSync(openSync(path, 'r'));
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw fromErrno(err, 'reading state', path);
  }
}

export interface LoadedState {
  state?: SyncState;
  problem?: string;
  /** Closes the file the state's records are read from (on first use, during the run). */
  release?: () => void;
}

const HEADER_CHUNK = 64 * 1024;

/**
 * Opens the state and reads its header; each folder's records are read from the open file when
 * the run first needs them (a run that saves a new state meanwhile renames over the path, and
 * this descriptor still reads the old file).
 */
export async function loadStateFile(path: string): Promise<LoadedState> {
  // A run killed while saving leaves its temp file; the state itself is the old one or the new one.
  await removeLeftoversOnce(dirname(path));
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw fromErrno(err, 'reading state', path);
  }
  let keep = false;
  try {
    const size = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => readAtSync(fd, offset, length);
    let head = read(0, Math.min(size, HEADER_CHUNK));
    while (head.indexOf(0x0a) < 0 && head.length < size) head = Buffer.concat([head, read(head.length, Math.min(size - head.length, head.length))]);
    const loaded = parseState(head, { size, read });
    if (loaded.kind !== 'ok') return { problem: `saved state ${path} is unusable (${loaded.why})` };
    keep = true;
    return { state: loaded.state, release: () => closeSync(fd) };
  } catch (err) {
    throw fromErrno(err, 'reading state', path);
  } finally {
    if (!keep) closeSync(fd);
  }
}

/** Temp file, fsync, rename over, fsync the directory (disk.ts): a crash leaves the old state or the new one. */
export async function saveStateFile(path: string, state: SyncState): Promise<void> {
  await saveAtomically(path, stateParts(state));
}

/** Writes a file of the state directory as a state is written: the old file or the new one, whole. */
export function saveAtomically(path: string, parts: Iterable<string | Uint8Array>): Promise<void> {
  return replaceFile(path, parts, { makeDir: true, doing: 'saving state' });
}
