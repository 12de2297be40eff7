// Which messages need a content hash before the diff can decide: first meetings (the same name on
// both sides: same bytes?) and moves (a message new in one folder, gone from another).

import type { MessageEntry } from '../model.js';
import type { DiffInput } from './diff.js';
import { differ } from './diff-records.js';
import { other, type Side } from './state.js';

/** Names both sides hold, not unknown to both, that no saved record links together (sizes agreeing): both hashes. */
function namesNotLinked(input: DiffInput, folder: string, messages: Record<Side, MessageEntry[]>, need: (side: Side, folder: string, e: MessageEntry) => void): void {
  const together = new Set<string>();
  const known = new Set<string>();
  for (const m of input.state?.folders[folder]?.messages ?? []) {
    if (m.a && m.a.guid === m.b?.guid) together.add(m.a.guid);
    for (const r of [m.a, m.b]) if (r) known.add(r.guid);
  }
  const onB = new Map(messages.b.map((e) => [e.guid, e]));
  for (const ea of messages.a) {
    const eb = onB.get(ea.guid);
    if (!eb || together.has(ea.guid) || !known.has(ea.guid) || differ(ea, eb)) continue;
    need('a', folder, ea);
    need('b', folder, eb);
  }
}

/** Which messages need a content hash before `diff` can decide: first meetings, and moves. */
export function hashNeeds(input: DiffInput): { side: Side; folder: string; guids: string[] }[] {
  const needs = new Map<string, { side: Side; folder: string; guids: Set<string> }>();
  const need = (side: Side, folder: string, e: MessageEntry): void => {
    if (e.hash !== undefined) return;
    const key = `${side}\0${folder}`;
    const n = needs.get(key) ?? { side, folder, guids: new Set<string>() };
    n.guids.add(e.guid);
    needs.set(key, n);
  };
  const disappeared: Record<Side, boolean> = { a: false, b: false };
  const fresh: { side: Side; folder: string; entries: MessageEntry[] }[] = [];
  const names = new Set([...input.a.folders.keys(), ...input.b.folders.keys(), ...Object.keys(input.state?.folders ?? {})]);
  for (const folder of names) {
    const messages = { a: input.a.folders.get(folder)?.messages ?? [], b: input.b.folders.get(folder)?.messages ?? [] };
    const known: Record<Side, Set<string>> = { a: new Set(), b: new Set() };
    let crossed = false;
    for (const m of input.state?.folders[folder]?.messages ?? []) {
      if (m.a) known.a.add(m.a.guid);
      if (m.b) known.b.add(m.b.guid);
      if (m.a?.guid !== m.b?.guid) crossed = true;
    }
    // Records that pair two names (after a collision): a name both sides hold that no record links
    // together is compared by content (standingRecords).
    if (crossed) namesNotLinked(input, folder, messages, need);
    // Only what the state does not know is looked at one by one: usually a handful per folder.
    const unknown: Record<Side, MessageEntry[]> = { a: [], b: [] };
    for (const side of ['a', 'b'] as const) {
      let stillThere = 0;
      for (const e of messages[side]) {
        if (known[side].has(e.guid)) stillThere++;
        else unknown[side].push(e);
      }
      if (stillThere < known[side].size) disappeared[side] = true;
    }
    if (unknown.a.length === 0 || unknown.b.length === 0) {
      // New on one side only (a first copy's every message): no name or size to meet on the other.
      for (const side of ['a', 'b'] as const) if (unknown[side].length > 0) fresh.push({ side, folder, entries: unknown[side] });
      continue;
    }
    const unknownB = new Map(unknown.b.map((e) => [e.guid, e]));
    const metByName = new Set<string>();
    const newHere: { side: Side; folder: string; e: MessageEntry }[] = [];
    for (const ea of unknown.a) {
      const eb = unknownB.get(ea.guid);
      // The same new name on both sides: the bytes decide, unless the sizes already tell a collision.
      if (eb && (ea.size === undefined || eb.size === undefined || ea.size === eb.size)) {
        need('a', folder, ea);
        need('b', folder, eb);
        metByName.add(eb.guid);
      } else {
        newHere.push({ side: 'a', folder, e: ea });
      }
    }
    for (const eb of unknown.b) {
      if (!metByName.has(eb.guid)) newHere.push({ side: 'b', folder, e: eb });
    }
    // New on both sides under two names with one size: perhaps one message (the same move made on
    // both sides, or a delivery renamed after a name collision and not yet recorded when a run died).
    const newSizes: Record<Side, Set<number | undefined>> = { a: new Set(), b: new Set() };
    for (const f of newHere) newSizes[f.side].add(f.e.size);
    for (const f of newHere) if (f.e.size !== undefined && newSizes[other(f.side)].has(f.e.size)) need(f.side, folder, f.e);
    for (const f of newHere) fresh.push({ side: f.side, folder, entries: [f.e] });
  }
  // A move shows as a message gone from one folder and a new one in another, on the same side.
  for (const f of fresh) if (disappeared[f.side]) for (const e of f.entries) need(f.side, f.folder, e);
  return [...needs.values()].map((n) => ({ side: n.side, folder: n.folder, guids: [...n.guids] }));
}
