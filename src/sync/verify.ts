// Verification: do two sides hold the same mail? Messages are matched by content hash, then compared.

import type { Location } from '../model.js';

export interface VerifyEntry {
  guid: string;
  hash: string;
  mtime: number;
  flags: string;
  keywords: string[];
  location: Location;
  /** From dovecot-uidlist, when the folder has one. */
  uid?: number;
  /** The GUID Dovecot gives the message (its uidlist's `G`, else the base name), where it has a UID. */
  dovecotGuid?: string;
}

export interface VerifySide {
  folders: Map<string, VerifyEntry[]>;
  subscriptions: string[];
  /** UIDVALIDITY per folder that has a dovecot-uidlist. */
  uidValidity?: Map<string, number>;
  /** Folders this side could not read, and why: a difference, never a pass. */
  unreadable?: Map<string, string>;
}

export interface CompareOptions {
  /** Also compare UIDVALIDITY and each message's UID and Dovecot GUID (`verify --uids`). */
  uids?: boolean;
}

const uidText = (n: number | undefined): string => (n === undefined ? 'none' : String(n));

export interface Difference {
  folder?: string;
  what: string;
}

function describe(e: VerifyEntry): string {
  return `flags "${e.flags}" keywords [${e.keywords.join(' ')}] in ${e.location}/ mtime ${new Date(e.mtime).toISOString()}`;
}

function compareFolder(folder: string, a: VerifyEntry[], b: VerifyEntry[], out: Difference[], uids: boolean): void {
  const byHash = new Map<string, VerifyEntry[]>();
  for (const e of b) byHash.set(e.hash, [...(byHash.get(e.hash) ?? []), e]);
  const onlyA: VerifyEntry[] = [];
  for (const ea of a) {
    const candidates = byHash.get(ea.hash);
    if (!candidates || candidates.length === 0) {
      onlyA.push(ea);
      continue;
    }
    const index = Math.max(0, candidates.findIndex((c) => c.guid === ea.guid));
    const [eb] = candidates.splice(index, 1) as [VerifyEntry];
    const diffs: string[] = [];
    if (ea.flags !== eb.flags) diffs.push(`flags "${ea.flags}" ≠ "${eb.flags}"`);
    if (ea.keywords.join(' ') !== eb.keywords.join(' ')) diffs.push(`keywords [${ea.keywords.join(' ')}] ≠ [${eb.keywords.join(' ')}]`);
    if (ea.location !== eb.location) diffs.push(`${ea.location}/ ≠ ${eb.location}/`);
    if (ea.mtime !== eb.mtime) diffs.push(`mtime ${new Date(ea.mtime).toISOString()} ≠ ${new Date(eb.mtime).toISOString()}`);
    if (uids && ea.uid !== eb.uid) diffs.push(`UID ${uidText(ea.uid)} ≠ ${uidText(eb.uid)}`);
    if (uids && ea.dovecotGuid !== undefined && eb.dovecotGuid !== undefined && ea.dovecotGuid !== eb.dovecotGuid) {
      diffs.push(`Dovecot GUID ${ea.dovecotGuid} ≠ ${eb.dovecotGuid}`);
    }
    if (diffs.length > 0) out.push({ folder, what: `${ea.guid}: ${diffs.join(', ')}` });
  }
  // What content did not match: a name both sides hold is one message whose bytes differ.
  const onlyB = [...byHash.values()].flat();
  const byGuid = new Map<string, VerifyEntry[]>();
  for (const eb of onlyB) byGuid.set(eb.guid, [...(byGuid.get(eb.guid) ?? []), eb]);
  const paired = new Set<VerifyEntry>();
  for (const ea of onlyA) {
    const eb = byGuid.get(ea.guid)?.find((e) => !paired.has(e));
    if (eb) paired.add(eb);
    out.push({ folder, what: eb ? `${ea.guid}: content differs` : `only on the first side: ${ea.guid}` });
  }
  for (const eb of onlyB) if (!paired.has(eb)) out.push({ folder, what: `only on the second side: ${eb.guid} (${describe(eb)})` });
}

export function compareSides(a: VerifySide, b: VerifySide, options: CompareOptions = {}): Difference[] {
  const out: Difference[] = [];
  const names = [...new Set([...a.folders.keys(), ...b.folders.keys(), ...a.unreadable?.keys() ?? [], ...b.unreadable?.keys() ?? []])].sort();
  for (const name of names) {
    const fa = a.folders.get(name);
    const fb = b.folders.get(name);
    const why = a.unreadable?.get(name) ?? b.unreadable?.get(name);
    if (why !== undefined) out.push({ folder: name, what: `cannot be compared: ${why}` });
    else if (!fa) out.push({ folder: name, what: 'folder only on the second side' });
    else if (!fb) out.push({ folder: name, what: 'folder only on the first side' });
    else {
      const va = a.uidValidity?.get(name);
      const vb = b.uidValidity?.get(name);
      if (options.uids && va !== vb) out.push({ folder: name, what: `UIDVALIDITY ${uidText(va)} ≠ ${uidText(vb)}` });
      compareFolder(name, fa, fb, out, options.uids ?? false);
    }
  }
  const sa = [...a.subscriptions].sort().join('\n');
  const sb = [...b.subscriptions].sort().join('\n');
  if (sa !== sb) out.push({ what: `subscriptions differ: [${a.subscriptions.join(', ')}] ≠ [${b.subscriptions.join(', ')}]` });
  return out;
}
