// A saved state used by a run that names its two sides in the other order: its sides swapped.

import { folderSummary, mappedFolder, type Side, type StateFolder, type StateMessage, type SyncState } from './state.js';

function swapMessage(m: StateMessage): StateMessage {
  const out: StateMessage = { hash: m.hash };
  if (m.infoRest !== undefined) out.infoRest = m.infoRest;
  if (m.b) out.a = m.b;
  if (m.a) out.b = m.a;
  return out;
}

function swapFolder(sf: StateFolder): StateFolder {
  const v = sf.uidValidity;
  const uidValidity: Partial<Record<Side, number>> | undefined = v && {
    ...(v.b !== undefined ? { a: v.b } : {}),
    ...(v.a !== undefined ? { b: v.a } : {}),
  };
  const s = folderSummary(sf);
  const summary = s && { digestA: s.digestB, digestB: s.digestA, countA: s.countB, countB: s.countA, converged: s.converged };
  // Records are swapped when first read: a run that reads none (no change) decodes none.
  return mappedFolder(sf, { onA: sf.onB, onB: sf.onA, uidValidity }, summary, (messages) => messages.map(swapMessage));
}

/** The same state with a and b exchanged: ids, presences, UIDVALIDITY, digests, counts and records. */
export function swapSides(state: SyncState): SyncState {
  const folders: Record<string, StateFolder> = {};
  for (const [name, sf] of Object.entries(state.folders)) folders[name] = swapFolder(sf);
  const out: SyncState = { version: state.version, idA: state.idB, idB: state.idA, folders, subscriptions: state.subscriptions };
  if (state.provisional) out.provisional = true;
  return out;
}

/**
 * Whether a saved side's identity is the older form of this side's (dev:ino, a far side's not
 * qualified by its host), which a state saved before birth times were kept holds.
 */
function olderSide(saved: string, id: string): boolean {
  if (!/^\d+:\d+$/.test(saved)) return false;
  const base = olderForm(id);
  return base === saved || base.endsWith(`:${saved}`);
}

/** A side's identity without its root's birth time (rootIdentity): as a previous version knew it. */
export function olderForm(id: string): string {
  return id.replace(/:b\d+$/, '');
}

type Match = 'kept' | 'swapped' | 'alike' | 'none';

/** Whether the state's sides are this run's in its order, the other, both (cannot tell) or neither. */
function match(state: SyncState, idA: string, idB: string, same: (saved: string, id: string) => boolean): Match {
  const kept = same(state.idA, idA) || same(state.idB, idB);
  const swapped = same(state.idA, idB) || same(state.idB, idA);
  return kept && swapped ? 'alike' : kept ? 'kept' : swapped ? 'swapped' : 'none';
}

/**
 * The state in this run's order of sides, its ids those of this run's sides (an older form is taken
 * once, then saved in the new one). A state whose first side is this run's second (or whose second
 * is this run's first) was saved by a run that named them the other way round; one side alone may
 * match (the other's identity changed: unmounted, restored), and it sets the order. Undefined when
 * the order cannot be told (both sides alike): a guess could expunge one side's mail for the other's.
 */
export function orientState(state: SyncState, idA: string, idB: string): SyncState | undefined {
  const older = (saved: string, id: string): boolean => saved === id || olderSide(saved, id);
  let m = match(state, idA, idB, (saved, id) => saved === id);
  if (m === 'none') m = match(state, idA, idB, older);
  if (m === 'alike') return undefined;
  if (m === 'none') return state;
  const out = m === 'kept' ? state : swapSides(state);
  const upgrade = { idA: older(out.idA, idA) ? idA : out.idA, idB: older(out.idB, idB) ? idB : out.idB };
  return upgrade.idA === out.idA && upgrade.idB === out.idB ? out : { ...out, ...upgrade };
}
