// Where a pair's state lives ($XDG_STATE_HOME/mdsync, or --state-dir) and how it is written: atomically.

import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { crashPoint } from '../crash-point.js';
import { fromErrno, isErrno } from '../errors.js';
import { removeLeftovers, tempTag } from '../local/leftovers.js';
import { parseState, serializeState, type SyncState } from '../sync/state.js';

export function defaultStateDir(): string {
  return join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'mdsync');
}

export function statePath(stateDir: string, a: string, b: string): string {
  const key = createHash('sha256').update(`${a}\n${b}`).digest('hex').slice(0, 32);
  return join(stateDir, `${key}.state`);
}

export async function stateExists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw fromErrno(err, 'reading state', path);
  }
}

export async function loadStateFile(path: string): Promise<{ state?: SyncState; problem?: string }> {
  // A run killed while saving leaves its temp file; the state itself is the old one or the new one.
  await removeLeftovers(dirname(path)).catch(() => undefined);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw fromErrno(err, 'reading state', path);
  }
  const loaded = parseState(text);
  if (loaded.kind === 'ok') return { state: loaded.state };
  return { problem: `saved state ${path} is unusable (${loaded.why})` };
}

/** Temp file, fsync, rename over, fsync the directory: a crash leaves the old state or the new one. */
export async function saveStateFile(path: string, state: SyncState): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${tempTag()}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(serializeState(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    crashPoint();
    await rename(temp, path);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw fromErrno(err, 'saving state', path);
  }
}
