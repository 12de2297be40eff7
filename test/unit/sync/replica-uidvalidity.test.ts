// The replica's UIDVALIDITY in a backup: the source's, unless its UIDs would name another message than the replica's did.

import { describe, expect, it } from 'vitest';
import { digestUids } from '../../../src/digest.js';
import type { MessageEntry, UidlistRequest } from '../../../src/model.js';
import { copiedNextUid, replicaUidValidity, replicaUidsCurrent, type ReplicaUids } from '../../../src/sync/replica-uidvalidity.js';

const V = 1_700_000_000;
const NOW = 1_800_000_000;

/** The source's UIDs 1..n, in the replica's names m1..mn. */
function source(n: number, uidValidity = V): UidlistRequest {
  return { uidValidity, nextUid: n + 1, uids: Array.from({ length: n }, (_, i) => [`m${i + 1}`, i + 1, null]) };
}

function replica(uidValidity: number | undefined, nextUid: number | undefined, uids: [number, string][]): ReplicaUids {
  return { ...(uidValidity !== undefined ? { uidValidity } : {}), ...(nextUid !== undefined ? { nextUid } : {}), uids: new Map(uids) };
}

describe('replicaUidValidity', () => {
  it('takes the source\'s where the replica has none, another, or the same UIDs', () => {
    expect(replicaUidValidity(source(3), replica(undefined, undefined, []), undefined, NOW)).toEqual({ uidValidity: V });
    expect(replicaUidValidity(source(3), replica(V - 5, 9, [[1, 'x']]), undefined, NOW)).toEqual({ uidValidity: V });
    expect(replicaUidValidity(source(3), replica(V, 3, [[1, 'm1'], [2, 'm2']]), { a: V, b: V }, NOW)).toEqual({ uidValidity: V });
  });

  it('renews where a UID the replica gave another message would name the source\'s (cut-over)', () => {
    const got = replicaUidValidity(source(4), replica(V, 5, [[1, 'm1'], [2, 'm2'], [3, 'm3'], [4, 'replica-own']]), { a: V, b: V }, NOW);
    expect(got).toEqual({ uidValidity: NOW, renewed: { from: V, uid: 4 } });
  });

  it('renews where that UID was given and expunged since, or given past the source\'s NEXTUID', () => {
    expect(replicaUidValidity(source(4), replica(V, 5, [[1, 'm1'], [2, 'm2'], [3, 'm3']]), { a: V, b: V }, NOW).renewed).toEqual({ from: V, uid: 4 });
    expect(replicaUidValidity(source(3), replica(V, 6, [[1, 'm1'], [2, 'm2'], [3, 'm3']]), undefined, NOW).renewed).toEqual({ from: V, uid: 4 });
  });

  it('takes no UID the source gave during a backup as the replica\'s own: the NEXTUID written stops below the first one not copied', () => {
    // Delivered on the source while the run copied: UID 4 is listed but not copied, NEXTUID is 6.
    const written = copiedNextUid([1, 2, 3, 4, 5], { ...source(3), nextUid: 6 });
    expect(written).toBe(4);
    const later = replicaUidValidity(source(5), replica(V, written, [[1, 'm1'], [2, 'm2'], [3, 'm3']]), { a: V, b: V }, NOW);
    expect(later).toEqual({ uidValidity: V });
    expect(copiedNextUid([1, 2, 3], source(3))).toBe(4);
  });

  it('picks a value above the old one and unlike the source\'s, whatever the clock says', () => {
    expect(replicaUidValidity(source(2), replica(V, 3, [[1, 'm1'], [2, 'x']]), undefined, V - 100).uidValidity).toBe(V + 1);
  });

  it('keeps the replica\'s own while the source\'s is the one the last run saw: no flip back, no second warning', () => {
    const own = NOW;
    const same = replica(own, 5, [[1, 'm1'], [2, 'm2'], [3, 'm3'], [4, 'm4']]);
    expect(replicaUidValidity(source(4), same, { a: V, b: own }, NOW + 60)).toEqual({ uidValidity: own });
    expect(replicaUidValidity(source(5), same, { a: V, b: own }, NOW + 60)).toEqual({ uidValidity: own });
    // Written before a crash left the state as it was: still not back to the source's.
    expect(replicaUidValidity(source(4), same, { a: V, b: V }, NOW + 60)).toEqual({ uidValidity: own });
    // The source's folder re-created: its new value is taken.
    expect(replicaUidValidity(source(1, V + 7), same, { a: V, b: own }, NOW + 60)).toEqual({ uidValidity: V + 7 });
  });

  it('renews its own again at the next clash', () => {
    const own = NOW;
    const got = replicaUidValidity(source(5), replica(own, 6, [[1, 'm1'], [2, 'm2'], [3, 'm3'], [4, 'm4'], [5, 'again']]), { a: V, b: own }, NOW);
    expect(got).toEqual({ uidValidity: own + 1, renewed: { from: own, uid: 5 } });
  });
});

describe('replicaUidValidity without a saved record', () => {
  it('keeps a value of the replica\'s own above the source\'s where the replica gave UIDs, renewing it at a clash', () => {
    const own = V + 50;
    expect(replicaUidValidity(source(3), replica(own, 4, [[1, 'm1'], [2, 'm2'], [3, 'm3']]), undefined, NOW)).toEqual({ uidValidity: own });
    expect(replicaUidValidity(source(3), replica(own, 4, [[1, 'm1'], [2, 'm2'], [3, 'x']]), undefined, NOW)).toEqual({ uidValidity: NOW, renewed: { from: own, uid: 3 } });
  });

  it('takes the source\'s where the replica gave no UID under its own, or has one below the source\'s', () => {
    expect(replicaUidValidity(source(3), replica(V + 50, 1, []), undefined, NOW)).toEqual({ uidValidity: V });
    expect(replicaUidValidity(source(3), replica(V - 50, 4, [[1, 'x']]), undefined, NOW)).toEqual({ uidValidity: V });
  });
});

describe('replicaUidsCurrent', () => {
  const manifest = (uidValidity: number) => ({ uidValidity, mailboxGuid: 'g', messages: [{ guid: 'm1', uid: 1 }, { guid: 'm2', uid: 2 }] as MessageEntry[] });
  const onA = digestUids(manifest(V));
  const own = V + 50;

  it('holds where the replica has the source\'s UIDs, or those under the value of its own the state records', () => {
    expect(replicaUidsCurrent({ a: onA, b: onA }, { a: V, b: V }, undefined)).toBe(true);
    expect(replicaUidsCurrent({ a: onA, b: digestUids(manifest(own)) }, { a: V, b: own }, { a: V, b: own })).toBe(true);
  });

  it('fails where no record names that value, the source\'s moved, or the UIDs differ', () => {
    expect(replicaUidsCurrent({ a: onA, b: digestUids(manifest(own)) }, { a: V, b: own }, undefined)).toBe(false);
    expect(replicaUidsCurrent({ a: onA, b: digestUids(manifest(own)) }, { a: V, b: own }, { a: V - 1, b: own })).toBe(false);
    const other = digestUids({ ...manifest(own), messages: [{ guid: 'm1', uid: 1 }, { guid: 'm2', uid: 3 }] as MessageEntry[] });
    expect(replicaUidsCurrent({ a: onA, b: other }, { a: V, b: own }, { a: V, b: own })).toBe(false);
  });
});
