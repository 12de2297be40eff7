// Flags, keywords and the `new` pseudo-flag as one set, so every merge rule is one set operation.

import type { FlagDelta, Location } from '../model.js';

export interface FlagState {
  flags: string;
  keywords: string[];
  location: Location;
}

const NEW = '\\new';

/** Flag letters as single characters, keywords prefixed with `$k:`, and `\new` for new/. */
export function toSet(s: FlagState): Set<string> {
  const set = new Set<string>();
  for (const c of s.flags) set.add(c);
  for (const k of s.keywords) set.add(`$k:${k}`);
  if (s.location === 'new') set.add(NEW);
  return set;
}

export function fromSet(set: Set<string>): FlagState {
  let flags = '';
  const keywords: string[] = [];
  for (const item of set) {
    if (item === NEW) continue;
    if (item.startsWith('$k:')) keywords.push(item.slice(3));
    else flags += item;
  }
  return { flags: [...flags].sort().join(''), keywords: keywords.sort(), location: set.has(NEW) ? 'new' : 'cur' };
}

export function sameFlags(x: FlagState, y: FlagState): boolean {
  return x.flags === y.flags && x.location === y.location && x.keywords.join('\n') === y.keywords.join('\n');
}

/**
 * Three-way merge per flag: a flag changed on one side since the base takes that side's value.
 * Each side has its own base (one-way runs, or a keyword a full folder could not take, can leave
 * the sides different): a flag neither changed but only one holds is kept (the union), and the
 * message counts as seen (cur/) if either side saw it — the sides converge, nothing is lost.
 */
export function mergeThreeWay(a: FlagState, baseA: FlagState, b: FlagState, baseB: FlagState): FlagState {
  const sa = toSet(a), sb = toSet(b), ba = toSet(baseA), bb = toSet(baseB);
  const out = new Set<string>();
  for (const item of new Set([...sa, ...sb, ...ba, ...bb])) {
    const changedA = sa.has(item) !== ba.has(item);
    const changedB = sb.has(item) !== bb.has(item);
    let value: boolean;
    // Both changed it (possible only when the bases differ): keep the flag rather than lose it.
    if (changedA && changedB) value = sa.has(item) || sb.has(item);
    else if (changedA) value = sa.has(item);
    else if (changedB) value = sb.has(item);
    else value = item === NEW ? sa.has(item) && sb.has(item) : sa.has(item) || sb.has(item);
    if (value) out.add(item);
  }
  return fromSet(out);
}

/** Applies a side's own change since its base onto another state (one-way runs). */
export function applyChange(target: FlagState, now: FlagState, base: FlagState): FlagState {
  const st = toSet(target), sn = toSet(now), sb = toSet(base);
  for (const item of new Set([...sn, ...sb])) {
    if (sn.has(item) && !sb.has(item)) st.add(item);
    if (!sn.has(item) && sb.has(item)) st.delete(item);
  }
  return fromSet(st);
}

/** First meeting of the same message on both sides: the union, and seen (cur/) if either saw it. */
export function union(a: FlagState, b: FlagState): FlagState {
  const set = new Set([...toSet(a), ...toSet(b)]);
  if (a.location === 'cur' || b.location === 'cur') set.delete(NEW);
  return fromSet(set);
}

/** The rename that turns `from` into `to`, as a delta applied to whatever the file has then. */
export function deltaBetween(guid: string, from: FlagState, to: FlagState): FlagDelta {
  const delta: FlagDelta = {
    guid,
    addFlags: [...to.flags].filter((c) => !from.flags.includes(c)).join(''),
    removeFlags: [...from.flags].filter((c) => !to.flags.includes(c)).join(''),
    addKeywords: to.keywords.filter((k) => !from.keywords.includes(k)),
    removeKeywords: from.keywords.filter((k) => !to.keywords.includes(k)),
  };
  if (from.location !== to.location) delta.location = to.location;
  return delta;
}
