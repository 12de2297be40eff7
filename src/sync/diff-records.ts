// How the diff compares one message's two files and its saved record: same bytes or not (sizes,
// hashes), and which saved records still describe the sides.

import type { MessageEntry } from '../model.js';
import type { FlagState } from './flags.js';
import type { SideRecord, StateMessage } from './state.js';

export function record(e: MessageEntry, t: FlagState = e): SideRecord {
  return { guid: e.guid, flags: t.flags, keywords: t.keywords, location: t.location };
}

export function makeMessage(hash: string, infoRest: string | undefined, a?: SideRecord, b?: SideRecord): StateMessage {
  const m: StateMessage = { hash };
  if (infoRest !== undefined) m.infoRest = infoRest;
  if (a) m.a = a;
  if (b) m.b = b;
  return m;
}

/** A hash to compare bytes by: a record's '' (never learnt, passed on by recordEntry) is none. */
export const known = (hash: string | undefined): hash is string => hash !== undefined && hash !== '';

/** Sizes or hashes known on both sides that disagree: other bytes, whatever the names say. */
export function differ(ea: MessageEntry, eb: MessageEntry): boolean {
  return (ea.size !== undefined && eb.size !== undefined && ea.size !== eb.size) ||
    (known(ea.hash) && known(eb.hash) && ea.hash !== eb.hash);
}

export const sameBytes = (ea: MessageEntry, eb: MessageEntry): boolean => known(ea.hash) && ea.hash === eb.hash && !differ(ea, eb);

/**
 * The saved records that still describe the sides. Set aside, their files met as at a first
 * meeting (nothing expunged): a record whose two files now hold other bytes (one replaced behind
 * our back), and those a name contradicts: both sides hold it with the same bytes and no record
 * links the two (an rsync put it back after a collision gave one side's copy a fresh name). Left
 * standing, the first would look converged and the second plan a move onto itself plus an
 * expunge of the only copy.
 */
export function standingRecords(mapA: Map<string, MessageEntry>, mapB: Map<string, MessageEntry>, messages: StateMessage[]): StateMessage[] {
  const byA = new Map<string, StateMessage>();
  const byB = new Map<string, StateMessage>();
  const aside = new Set<StateMessage>();
  for (const m of messages) {
    if (m.a) byA.set(m.a.guid, m);
    if (m.b) byB.set(m.b.guid, m);
    const ea = m.a && mapA.get(m.a.guid);
    const eb = m.b && mapB.get(m.b.guid);
    // Hashes only: a name's `,S=` is the size of whoever first took the name, not of a collided file's bytes.
    if (ea && eb && known(ea.hash) && known(eb.hash) && ea.hash !== eb.hash) aside.add(m);
  }
  for (const [guid, ea] of mapA) {
    const eb = mapB.get(guid);
    const ma = byA.get(guid);
    const mb = byB.get(guid);
    if (!eb || (ma !== undefined && ma === mb) || (ma === undefined && mb === undefined) || !sameBytes(ea, eb)) continue;
    if (ma) aside.add(ma);
    if (mb) aside.add(mb);
  }
  return aside.size === 0 ? messages : messages.filter((m) => !aside.has(m));
}

/** What is known of a message's content: from the entry, else from its state record. */
export function hashOf(e: MessageEntry, m?: StateMessage): string {
  return e.hash ?? m?.hash ?? '';
}
