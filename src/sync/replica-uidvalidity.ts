// A backup's replica UIDVALIDITY: the source's, unless taking the source's UIDs under it would give a UID the replica handed out to another message.

import { digestUidsUnder } from '../digest.js';
import type { FolderManifest, UidlistRequest } from '../model.js';
import type { Side } from './state.js';

/** What the replica's folder says now: its UIDVALIDITY, NEXTUID and each UID's message (by the replica's name). */
export interface ReplicaUids {
  uidValidity?: number;
  nextUid?: number;
  uids: ReadonlyMap<number, string>;
}

/** The replica's UIDs as its listing tells them. */
export function replicaUids(manifest: FolderManifest): ReplicaUids {
  const uids = new Map<number, string>();
  for (const e of manifest.messages) if (e.uid !== undefined) uids.set(e.uid, e.guid);
  const out: ReplicaUids = { uids };
  if (manifest.uidValidity !== undefined) out.uidValidity = manifest.uidValidity;
  if (manifest.nextUid !== undefined) out.nextUid = manifest.nextUid;
  return out;
}

/**
 * The replica's UIDs, a file this backup replaced (its bytes were not the source's: a name
 * collision, or drift --checksum found) counted as its replacement's: the source's message under
 * a fresh name keeps the GUID and UID the replaced copy had, and is no other message.
 */
export function withReplaced(replica: ReplicaUids, request: UidlistRequest, replaced: ReadonlySet<string>): ReplicaUids {
  if (replaced.size === 0) return replica;
  const uids = new Map(replica.uids);
  for (const [name, uid, guid] of request.uids) if (guid !== null && replaced.has(guid) && !uids.has(uid)) uids.set(uid, name);
  return { ...replica, uids };
}

/**
 * The NEXTUID a backup writes with the UIDs it copied: the source's, but no higher than a UID the
 * source gave a message this run did not copy (delivered while it ran). Past it, the replica would
 * seem to have given that UID itself, and the next run would renew its UIDVALIDITY for nothing.
 */
export function copiedNextUid(sourceUids: Iterable<number>, request: UidlistRequest): number {
  const copied = new Set(request.uids.map(([, uid]) => uid));
  let next = request.nextUid;
  for (const uid of sourceUids) if (!copied.has(uid)) next = Math.min(next, uid);
  return next;
}

export interface UidValidityChoice {
  uidValidity: number;
  /** Chosen anew: under the value it had, the replica's UIDs named other messages than the source's would. */
  renewed?: { from: number; uid: number };
}

/**
 * The UIDVALIDITY the replica's folder gets with the source's UIDs (`request`, in the replica's
 * names). RFC 3501 2.3.1.1: a UID names one message for as long as its UIDVALIDITY holds, and new
 * UIDs only ascend. Where the replica's own Dovecot gave a UID (at cut-over, a delivery on each
 * side got UID 4) that the source gives another message, or gave UIDs past the source's NEXTUID,
 * the folder gets a new value: the time in seconds, as Dovecot picks one, and above the old one.
 *
 * A replica that got its own value keeps it while the source's stays what the last run saw
 * (`saved`), so later runs neither flip back to the source's (whose UIDs its clients saw name
 * other messages) nor warn again; a new value on the source is taken as it is.
 */
export function replicaUidValidity(
  request: UidlistRequest, replica: ReplicaUids, saved: Partial<Record<Side, number>> | undefined, nowSeconds: number,
): UidValidityChoice {
  const current = replica.uidValidity;
  const keepOwn = current !== undefined && current !== request.uidValidity && (saved?.a !== undefined
    ? saved.a === request.uidValidity
    // No record (a state lost or not trusted): a replica above the source's value that gave UIDs got
    // it from a renewal, and under the source's value its clients may hold UIDs naming other messages.
    : current > request.uidValidity && (replica.uids.size > 0 || (replica.nextUid ?? 1) > 1));
  const base = keepOwn ? current : request.uidValidity;
  if (current !== base) return { uidValidity: base };
  const reused = reusedUid(request, replica);
  if (reused === undefined) return { uidValidity: base };
  let fresh = Math.max(nowSeconds, base + 1);
  if (fresh === request.uidValidity) fresh++;
  return { uidValidity: fresh, renewed: { from: base, uid: reused } };
}

/** A UID the request would give to another message than the replica gave it (or will give, past the source's NEXTUID). */
function reusedUid(request: UidlistRequest, replica: ReplicaUids): number | undefined {
  let highest = 0;
  for (const uid of replica.uids.keys()) highest = Math.max(highest, uid);
  const next = Math.max(replica.nextUid ?? 0, highest + 1);
  for (const [name, uid] of request.uids) {
    // Below the replica's NEXTUID and not this message's there: given to another, since expunged or not.
    if (uid < next && replica.uids.get(uid) !== name) return uid;
  }
  if (next > request.nextUid) return request.nextUid;
  return undefined;
}

/**
 * Whether the replica's folder already holds the source's UIDs (`uids`, digestUids of each side) as
 * a backup writes them: under the source's UIDVALIDITY, or under the replica's own one the state
 * records it chose while the source's stayed the same. A no-change run then writes nothing.
 */
export function replicaUidsCurrent(
  uids: Record<Side, string | undefined>, now: Record<Side, number | undefined>, recorded: Partial<Record<Side, number>> | undefined,
): boolean {
  if (!uids.a || uids.a === uids.b) return true;
  const { a, b } = now;
  if (a === undefined || b === undefined || a === b || recorded?.a !== a || recorded.b !== b) return false;
  return digestUidsUnder(uids.a, a, b) === uids.b;
}
