// A backup's UIDs: which folders' dovecot-uidlist the replica must be given, and giving it (the
// source's UIDVALIDITY, NEXTUID and UIDs, or a UIDVALIDITY of its own where that would reuse a UID).

import type { UidlistRequest, Warning } from '../model.js';
import type { Agent } from './agent.js';
import { replicaFolders, type Mode, type Plan } from './plan.js';
import { copiedNextUid, replicaUidValidity, replicaUids, replicaUidsCurrent, withReplaced } from './replica-uidvalidity.js';
import type { Snapshot } from './snapshot.js';
import type { Side, SyncState } from './state.js';

/**
 * Folders whose dovecot-uidlist a backup must give the replica: the source has one, and the
 * replica says otherwise, or the plan places or expunges there (a collision's fresh name must get
 * its UID in this run, not the next).
 */
export function uidsToCopy(mode: Mode, sa: Snapshot, sb: Snapshot, state: SyncState | undefined, plan: Plan): string[] {
  if (mode !== 'backup') return [];
  const written = replicaFolders(plan);
  return [...sa.uids].filter(([name, uids]) => Boolean(uids) && (written.has(name) || !replicaUidsCurrent(
    { a: uids, b: sb.uids.get(name) }, { a: sa.uidValidity.get(name), b: sb.uidValidity.get(name) }, state?.folders[name]?.uidValidity,
  ))).map(([name]) => name);
}

/**
 * A backup's replica gets the source's UIDVALIDITY, NEXTUID and UIDs, so IMAP clients see the
 * same mailbox (DESIGN §4). Messages are paired through the state: names may differ on b. Where
 * that would give a UID the replica handed out to another message, the folder gets a UIDVALIDITY
 * of its own (replica-uidvalidity.ts), returned with a warning to record in the state.
 */
export async function copyUids(
  agents: Record<Side, Agent>, folders: string[], state: SyncState, saved: SyncState | undefined, listedB: Map<string, number>, warnings: Warning[],
  replaced: Map<string, Set<string>> = new Map(),
): Promise<Map<string, number>> {
  const own = new Map<string, number>();
  for (const name of folders) {
    const sf = state.folders[name];
    if (!sf?.onA || !sf.onB) continue;
    const manifest = await agents.a.manifest(name);
    if (manifest.uidValidity === undefined || manifest.nextUid === undefined) continue;
    const toB = new Map<string, string>();
    for (const m of sf.messages) if (m.a && m.b) toB.set(m.a.guid, m.b.guid);
    const uids: [string, number, string | null][] = [];
    for (const e of manifest.messages) {
      const onB = toB.get(e.guid);
      // Dovecot's GUID of a message is its base name unless the uidlist says otherwise: the replica
      // says otherwise wherever its name is not the source's GUID.
      const dovecotGuid = e.dovecotGuid ?? e.guid;
      if (e.uid !== undefined && onB !== undefined) uids.push([onB, e.uid, dovecotGuid === onB ? null : dovecotGuid]);
    }
    const request: UidlistRequest = { uidValidity: manifest.uidValidity, nextUid: manifest.nextUid, uids };
    request.nextUid = copiedNextUid(manifest.messages.flatMap((e) => e.uid !== undefined ? [e.uid] : []), request);
    if (manifest.mailboxGuid !== undefined) request.mailboxGuid = manifest.mailboxGuid;
    // A replica without a uidlist (a first copy) gave no UID: its listing need not cross again.
    const listed = listedB.has(name) ? replicaUids(await agents.b.manifest(name)) : { uids: new Map<number, string>() };
    const replica = withReplaced(listed, request, replaced.get(name) ?? new Set());
    const choice = replicaUidValidity(request, replica, saved?.folders[name]?.uidValidity, Math.floor(Date.now() / 1000));
    if (choice.renewed) {
      const { from, uid } = choice.renewed;
      warnings.push({ folder: name, message: `the replica gave UID ${uid} under UIDVALIDITY ${from} to another message than the source's: the replica's UIDVALIDITY is now ${choice.uidValidity} (its IMAP clients fetch the folder anew)` });
    }
    if (choice.uidValidity !== request.uidValidity) own.set(name, choice.uidValidity);
    request.uidValidity = choice.uidValidity;
    await agents.b.writeUidlist(name, request);
  }
  return own;
}
