// Which saved state a pair's run reads and where it saves it: keyed by the two sides' identities.
//
// The state of a pair is <key>.state, the key made of both sides' identities (hello's id; a
// remote side's qualified by its host) in either order: `sync B A`, or a path through a symlink,
// finds the state `sync A B` saved, and the engine turns it round (orientState). Beside it,
// <key>.pair, keyed by the two resolved paths in either order, names the state last saved for
// those paths: a side whose identity changed (a mount point with the filesystem gone, a Maildir
// restored or re-created) finds no state by identity, and is met with that one, whose counts the
// guards weigh (an unmounted side is refused). A state of an older version, keyed by the paths as
// typed in argument order, is read once, then saved under the new key and removed.

import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isErrno } from '../errors.js';
import { describeEndpoint, parseEndpoint } from '../remote/endpoint.js';
import { olderForm } from '../sync/state-sides.js';
import { endpointKey } from './endpoints.js';
import { saveAtomically, stateExists, statePath } from './state-file.js';
import { fromErrno } from '../local/disk.js';

const hash = (parts: string[]): string => createHash('sha256').update([...parts].sort().join('\n')).digest('hex').slice(0, 32);

/** A side's identity as the key and the state know it: a far side's means nothing on another host. */
export function sideIdentity(endpoint: string, id: string): string {
  const ep = parseEndpoint(endpoint);
  return ep.kind === 'local' ? id : `${describeEndpoint({ ...ep, path: '' })}${id}`;
}

/** Where a side is, symlinks resolved where it is local (its parent's, while it does not exist yet). */
async function resolvedPath(endpoint: string): Promise<string> {
  const ep = parseEndpoint(endpoint);
  if (ep.kind === 'remote') return describeEndpoint(ep);
  const path = resolve(ep.path);
  // Synchronous: a single system call each, where a promise would cost the event loop more.
  const real = realOrUndefined(path);
  if (real) return real;
  return join(realOrUndefined(dirname(path)) ?? dirname(path), basename(path));
}

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

async function pointerFile(stateDir: string, first: string, second: string): Promise<string> {
  return join(stateDir, `${hash(await Promise.all([resolvedPath(first), resolvedPath(second)]))}.pair`);
}

/** The state file a pointer names, if it names one that exists. */
async function pointedState(pointer: string): Promise<string | undefined> {
  let name: string;
  try {
    name = readFileSync(pointer, 'utf8').trim();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw fromErrno(err, 'reading state', pointer);
  }
  if (!/^[0-9a-f]{32}\.state$/.test(name)) return undefined;
  const target = join(dirname(pointer), name);
  return (await stateExists(target)) ? target : undefined;
}

/** An older version's state of the pair, keyed by the paths as typed in either order. */
async function legacyState(stateDir: string, first: string, second: string): Promise<string | undefined> {
  for (const [x, y] of [[first, second], [second, first]] as const) {
    const path = statePath(stateDir, endpointKey(x), endpointKey(y));
    if (await stateExists(path)) return path;
  }
  return undefined;
}

/** Whether these paths have met before: a missing side is then not created (it may be unmounted). */
export async function pairKnown(stateDir: string, first: string, second: string): Promise<boolean> {
  return (await pointedState(await pointerFile(stateDir, first, second))) !== undefined || (await legacyState(stateDir, first, second)) !== undefined;
}

export interface PairState {
  /** The state the run reads (absent: none is known). */
  load?: string;
  save: string;
  /** Called after each save: the paths' pointer names the saved state, an older version's state goes. */
  saved(): Promise<void>;
}

/** `idFirst`, `idSecond`: the sides' identities as sideIdentity qualifies them. */
export async function locatePairState(stateDir: string, first: string, second: string, idFirst: string, idSecond: string): Promise<PairState> {
  const save = join(stateDir, `${hash([idFirst, idSecond])}.state`);
  const pointer = await pointerFile(stateDir, first, second);
  let legacy: string | undefined;
  let load: string | undefined;
  if (await stateExists(save)) load = save;
  else load = (await pointedState(pointer)) ?? (legacy = await legacyState(stateDir, first, second));
  // The previous version's key of these very sides (dev:ino alone): its state goes once saved anew.
  // Found only through the paths' pointer: by key it could be a removed Maildir's whose inode came back.
  const older = join(stateDir, `${hash([olderForm(idFirst), olderForm(idSecond)])}.state`);
  if (load === older && older !== save) legacy = older;
  let pointed = load === save && (await pointedState(pointer)) === save;
  return {
    load, save,
    saved: async () => {
      if (!pointed) {
        // As durable as the state it names: a pointer lost in a crash makes the next run a first
        // meeting. The first run after a reversed order finds it unchanged but rewrites every
        // folder's records once (turned round, orientState), then saves them in this order.
        await saveAtomically(pointer, [`${basename(save)}\n`]);
        pointed = true;
      }
      if (legacy) await unlink(legacy).catch(() => undefined);
      legacy = undefined;
    },
  };
}
