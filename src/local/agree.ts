// What two listings of a folder that never holds still agree on: the messages both list, each under its later name.

/** One listing of a folder: the entries of its new/ and cur/. */
export interface Listing<E extends { readonly name: string }> {
  new: E[];
  cur: E[];
}

/**
 * The later listing reduced to the messages the earlier one lists too (by GUID, under any name).
 * readdir() of a directory being renamed in may miss a file or list it twice, so a name in one
 * listing only says nothing: a message only the later lists (delivered meanwhile, or missed by
 * the earlier) waits for the next run, as does one only the earlier lists (expunged, or missed by
 * the later); the caller must not read either's absence as an expunge. A message both list under
 * other names was renamed between them (flags changed, new/ to cur/): it is taken under a name
 * only the later lists, the newest state of its flags. `older` are the GUIDs listings before the
 * earlier one saw: a message the earlier missed while it was renamed, that one of them listed, is
 * taken as renamed too. Entries `guidOf` says are no message (undefined) are kept as the later
 * listing has them.
 */
export function agreedListing<E extends { readonly name: string }>(
  earlier: Listing<E>, later: Listing<E>, guidOf: (entry: E) => string | undefined, older: ReadonlySet<string> = new Set(),
): Listing<E> {
  const before = new Map<string, Set<string>>();
  for (const location of ['new', 'cur'] as const) {
    for (const entry of earlier[location]) {
      const guid = guidOf(entry);
      if (guid === undefined) continue;
      const names = before.get(guid) ?? new Set<string>();
      names.add(`${location}/${entry.name}`);
      before.set(guid, names);
    }
  }
  const now = new Map<string, { location: 'new' | 'cur'; entry: E; seenBefore: boolean }[]>();
  const out: Listing<E> = { new: [], cur: [] };
  for (const location of ['new', 'cur'] as const) {
    for (const entry of later[location]) {
      const guid = guidOf(entry);
      if (guid === undefined) {
        out[location].push(entry);
        continue;
      }
      const names = before.get(guid);
      if (!names && !older.has(guid)) continue;
      const list = now.get(guid) ?? [];
      list.push({ location, entry, seenBefore: names?.has(`${location}/${entry.name}`) ?? false });
      now.set(guid, list);
    }
  }
  for (const [guid, list] of now) {
    // The same names in both: one file each (two files of one GUID stay two, for the scan to report).
    if (list.every((c) => c.seenBefore) && list.length === before.get(guid)?.size) {
      for (const c of list) out[c.location].push(c.entry);
      continue;
    }
    const chosen = list.find((c) => !c.seenBefore) ?? (list[0] as (typeof list)[number]);
    out[chosen.location].push(chosen.entry);
  }
  return out;
}

/** The GUIDs a listing names (for `older` of agreedListing). */
export function addGuids<E extends { readonly name: string }>(into: Set<string>, listing: Listing<E>, guidOf: (entry: E) => string | undefined): void {
  for (const entry of [...listing.new, ...listing.cur]) {
    const guid = guidOf(entry);
    if (guid !== undefined) into.add(guid);
  }
}

/** The GUIDs the earlier listing names that the later does not name under any name (missed by it, or expunged). */
export function missedBy<E extends { readonly name: string }>(earlier: Listing<E>, later: Listing<E>, guidOf: (entry: E) => string | undefined): Set<string> {
  const missed = new Set<string>();
  addGuids(missed, earlier, guidOf);
  for (const entry of [...later.new, ...later.cur]) {
    const guid = guidOf(entry);
    if (guid !== undefined) missed.delete(guid);
  }
  return missed;
}

/**
 * The agreed listing with the messages of `missed` a listing taken after it names, each once:
 * a message the later listing missed while it was renamed is found again; an expunged one is not.
 */
export function withFound<E extends { readonly name: string }>(
  agreed: Listing<E>, missed: ReadonlySet<string>, after: Listing<E>, guidOf: (entry: E) => string | undefined,
): Listing<E> {
  const out: Listing<E> = { new: [...agreed.new], cur: [...agreed.cur] };
  const found = new Set<string>();
  for (const location of ['new', 'cur'] as const) {
    for (const entry of after[location]) {
      const guid = guidOf(entry);
      if (guid === undefined || !missed.has(guid) || found.has(guid)) continue;
      found.add(guid);
      out[location].push(entry);
    }
  }
  return out;
}
