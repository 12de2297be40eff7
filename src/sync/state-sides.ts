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
 * The state in this run's order of sides. A state whose first side is this run's second (or whose
 * second is this run's first) was saved by a run that named them the other way round; one side
 * alone may match (the other's identity changed: unmounted, restored), and it sets the order.
 */
export function orientState(state: SyncState, idA: string, idB: string): SyncState {
  if (state.idA === idA || state.idB === idB) return state;
  return state.idA === idB || state.idB === idA ? swapSides(state) : state;
}
