// The merge: two manifests and the saved state in, a Plan out. Pure: no I/O, no clock.

import type { FolderManifest, MessageEntry } from '../model.js';
import { applyChange, deltaBetween, mergeThreeWay, sameFlags, union, type FlagState } from './flags.js';
import { emptyPlan, type Copy, type Expunge, type Mode, type Plan, type Transfer } from './plan.js';
import { absentAsSkipped, skippedNames, skippedOpposite } from './skipped.js';
import { hashOf, makeMessage, record, standingRecords } from './diff-records.js';
import { other, type Side, type StateFolder, type StateMessage, type SyncState } from './state.js';

export { hashNeeds } from './hash-needs.js';

export interface SideSnapshot {
  /** Every folder this side has, with its full manifest (unchanged ones rebuilt from the state). */
  folders: Map<string, FolderManifest>;
  subscriptions: string[];
  /** Folders whose manifest holds only what two listings agreed on (FolderSummary.partial). */
  partial?: ReadonlySet<string>;
}

export interface DiffInput {
  mode: Mode;
  a: SideSnapshot;
  b: SideSnapshot;
  /** Undefined when there is none or it cannot be trusted: a first meeting, nothing expunged. */
  state?: SyncState;
}

const INBOX = 'INBOX';

class Planner {
  readonly plan: Plan;
  /** Messages a side expunges that could feed a move: hash → where that side still holds it. */
  private readonly moveSources = new Map<string, { side: Side; folder: string; guid: string }[]>();

  constructor(private readonly input: DiffInput) {
    this.plan = emptyPlan(input.mode);
  }

  private keep(folder: string, m: StateMessage): void {
    (this.plan.keep[folder] ??= []).push(m);
  }

  /** Sends a message as it is to the other side; the receiving side's name is filled in when placed. */
  private transfer(from: Side, folder: string, e: MessageEntry, m?: StateMessage): void {
    const t: Transfer = {
      from, folder, sourceGuid: e.guid, flags: e.flags, keywords: e.keywords, location: e.location,
      record: makeMessage(hashOf(e, m), e.infoRest),
    };
    if (e.infoRest !== undefined) t.infoRest = e.infoRest;
    // One object for both sides until the receiving side's result replaces its half.
    const r = record(e);
    t.record[from] = r;
    t.record[other(from)] = r;
    this.plan.transfers.push(t);
  }

  expunge(side: Side, folder: string, guid: string, hash: string): void {
    const x: Expunge = { side, folder, guid };
    this.plan.expunges.push(x);
    if (hash) {
      const list = this.moveSources.get(hash) ?? [];
      list.push({ side, folder, guid });
      this.moveSources.set(hash, list);
    }
  }

  /**
   * `--checksum` gave both files' mtimes: they end equal, as verify compares them. The replica (b)
   * takes a's arrival date in a backup or one-way run; a sync gives both the earlier (a copy that
   * did not keep dates is the later one).
   */
  private sameMtimes(folder: string, ea: MessageEntry, eb: MessageEntry): void {
    if (ea.mtime === undefined || eb.mtime === undefined || ea.mtime === eb.mtime) return;
    const mtime = this.input.mode === 'sync' ? Math.min(ea.mtime, eb.mtime) : ea.mtime;
    for (const [side, e] of [['a', ea], ['b', eb]] as const) {
      if (e.mtime !== mtime) (this.plan.mtimes ??= []).push({ side, folder, change: { guid: e.guid, mtime } });
    }
  }

  private setFlags(side: Side, folder: string, e: MessageEntry, target: FlagState): void {
    if (!sameFlags(e, target)) this.plan.flagChanges.push({ side, folder, delta: deltaBetween(e.guid, e, target) });
  }

  /** Both sides hold the message and the state knows it: merge flags. */
  private both(folder: string, ea: MessageEntry, eb: MessageEntry, m: StateMessage): void {
    const { mode } = this.input;
    let ta: FlagState = ea;
    let tb: FlagState;
    if (mode === 'backup') tb = ea;
    else if (mode === 'one-way') tb = applyChange(eb, ea, m.a ?? ea);
    else tb = ta = mergeThreeWay(ea, m.a ?? ea, eb, m.b ?? eb);
    this.setFlags('a', folder, ea, ta);
    this.setFlags('b', folder, eb, tb);
    this.sameMtimes(folder, ea, eb);
    this.keep(folder, makeMessage(hashOf(ea, m) || hashOf(eb, m), ea.infoRest ?? m.infoRest, record(ea, ta), record(eb, tb)));
  }

  /** One side holds a message the state knows; the other does not. */
  private oneSide(folder: string, side: Side, e: MessageEntry, m: StateMessage): void {
    const { mode } = this.input;
    const otherHadIt = m[other(side)] !== undefined;
    if (mode === 'backup') {
      if (side === 'a') this.transfer('a', folder, e, m);
      else this.expunge('b', folder, e.guid, hashOf(e, m));
      return;
    }
    if (otherHadIt) {
      // Expunged on the other side since the last sync: expunge wins over any flag change.
      if (mode === 'sync' || side === 'b') this.expunge(side, folder, e.guid, hashOf(e, m));
      else this.keep(folder, makeMessage(m.hash, m.infoRest, record(e), undefined));
      return;
    }
    // The other side has not held it since an earlier one-way run dropped it there: in a two-way
    // run it is restored (nothing lost); a one-way run leaves that choice of b's alone.
    if (mode === 'sync') this.transfer(side, folder, e, m);
    else this.keep(folder, side === 'a' ? makeMessage(m.hash, m.infoRest, record(e), undefined) : makeMessage(m.hash, m.infoRest, undefined, record(e)));
  }

  /** Neither the state nor the other side's same name knows this message: it is new here. */
  private fresh(folder: string, side: Side, e: MessageEntry): void {
    const { mode } = this.input;
    if (side === 'a' || mode === 'sync') this.transfer(side, folder, e);
    else if (mode === 'backup') this.expunge('b', folder, e.guid, e.hash ?? '');
    else this.keep(folder, makeMessage(e.hash ?? '', e.infoRest, undefined, record(e)));
  }

  /**
   * Two entries no state links, met by name or by content: the same message if the bytes agree.
   * Returns false for a GUID collision (other bytes under one name): never the same message.
   */
  private firstMeeting(folder: string, ea: MessageEntry, eb: MessageEntry): boolean {
    const differentSize = ea.size !== undefined && eb.size !== undefined && ea.size !== eb.size;
    const same = !differentSize && ea.hash !== undefined && ea.hash === eb.hash;
    if (!same) {
      if (!differentSize && (ea.hash === undefined || eb.hash === undefined)) {
        throw new Error(`internal: no content hash for ${folder}/${ea.guid} at first meeting`);
      }
      return false;
    }
    const { mode } = this.input;
    const tb = mode === 'backup' ? ea : union(ea, eb);
    const ta = mode === 'sync' ? tb : ea;
    this.setFlags('a', folder, ea, ta);
    this.setFlags('b', folder, eb, tb);
    this.sameMtimes(folder, ea, eb);
    this.keep(folder, makeMessage(ea.hash as string, ea.infoRest, record(ea, ta), record(eb, tb)));
    return true;
  }

  diffFolder(folder: string, fa: FolderManifest | undefined, fb: FolderManifest | undefined, sf: StateFolder | undefined): void {
    const mapA = new Map((fa?.messages ?? []).map((e) => [e.guid, e]));
    const mapB = new Map((fb?.messages ?? []).map((e) => [e.guid, e]));
    const skipped = skippedNames(fa, fb);
    for (const m of standingRecords(mapA, mapB, sf?.messages ?? [])) {
      const ea = m.a ? mapA.get(m.a.guid) : undefined;
      const eb = m.b ? mapB.get(m.b.guid) : undefined;
      if (ea) mapA.delete(ea.guid);
      if (eb) mapB.delete(eb.guid);
      if (ea && eb) this.both(folder, ea, eb, m);
      else if (this.unconfirmedAbsence(folder, m, ea, eb) || absentAsSkipped(skipped, m, ea, eb)) this.keep(folder, m);
      else if (ea) this.oneSide(folder, 'a', ea, m);
      else if (eb) this.oneSide(folder, 'b', eb, m);
    }
    const newOnA: MessageEntry[] = [];
    for (const [guid, ea] of mapA) {
      const eb = mapB.get(guid);
      if (eb && this.firstMeeting(folder, ea, eb)) mapB.delete(guid);
      // Unmatched, or a GUID collision: each side's stays new and is sent under a fresh name.
      else newOnA.push(ea);
    }
    const newOnB = this.pairByContent(folder, newOnA, [...mapB.values()]);
    for (const ea of newOnA) if (!this.waitsForListing(folder, 'a', sf) && !skippedOpposite(skipped, 'a', ea)) this.fresh(folder, 'a', ea);
    for (const eb of newOnB) if (!this.waitsForListing(folder, 'b', sf) && !skippedOpposite(skipped, 'b', eb)) this.fresh(folder, 'b', eb);
  }

  private isPartial(side: Side, folder: string): boolean {
    return this.input[side].partial?.has(folder) === true;
  }

  /**
   * A partial listing's left-out message may still be there (a racing readdir): its absence is no
   * expunge. Where the state says that side held it, or a backup's source lacks it, the record
   * stays as it was and nothing is done until a listing confirms it.
   */
  private unconfirmedAbsence(folder: string, m: StateMessage, ea?: MessageEntry, eb?: MessageEntry): boolean {
    if (!ea && this.isPartial('a', folder) && (m.a !== undefined || this.input.mode === 'backup')) return true;
    return !eb && this.isPartial('b', folder) && m.b !== undefined;
  }

  /**
   * A message new on `side` that the other side's partial listing does not show: copied there only
   * when a saved state of the folder tells it is new since (a first meeting could find it there
   * under another name); a backup's replica keeps it until its source's listing confirms the lack.
   */
  private waitsForListing(folder: string, side: Side, sf: StateFolder | undefined): boolean {
    if (!this.isPartial(other(side), folder)) return false;
    return sf === undefined || (this.input.mode === 'backup' && side === 'b');
  }

  /**
   * New messages with the same bytes on both sides of one folder are one message under two names:
   * the same move made on both sides between two syncs (a laptop and webmail both archive it).
   * Each pair is met like a first meeting; `newOnA` keeps a's unpaired ones, b's are returned.
   * Only entries whose hash is known pair: diff asks for hashes where a move is possible.
   */
  private pairByContent(folder: string, newOnA: MessageEntry[], newOnB: MessageEntry[]): MessageEntry[] {
    const byHash = new Map<string, MessageEntry[]>();
    for (const eb of newOnB) {
      if (eb.hash === undefined) continue;
      const list = byHash.get(eb.hash);
      if (list) list.push(eb);
      else byHash.set(eb.hash, [eb]);
    }
    if (byHash.size === 0) return newOnB;
    const paired = new Set<MessageEntry>();
    const unpairedA = newOnA.filter((ea) => {
      const candidates = ea.hash === undefined ? undefined : byHash.get(ea.hash);
      const eb = candidates?.find((c) => !paired.has(c) && (c.size === undefined || ea.size === undefined || c.size === ea.size));
      if (!eb || !this.firstMeeting(folder, ea, eb)) return true;
      paired.add(eb);
      return false;
    });
    newOnA.splice(0, newOnA.length, ...unpairedA);
    return newOnB.filter((eb) => !paired.has(eb));
  }

  /** A folder only one side has and keeps for itself (one-way runs): remembered as that side's alone. */
  keepOnly(folder: string, side: Side, f: FolderManifest, sf: StateFolder | undefined): void {
    const hashes = new Map((sf?.messages ?? []).map((m) => [m[side]?.guid, m.hash]));
    for (const e of f.messages) {
      const m = makeMessage(e.hash ?? hashes.get(e.guid) ?? '', e.infoRest);
      m[side] = record(e);
      this.keep(folder, m);
    }
    this.plan.folderPresence[folder] = { a: side === 'a', b: side === 'b' };
  }

  /** A transfer whose bytes the receiving side is expunging elsewhere becomes a local copy (a move). */
  detectMoves(): void {
    const remaining: Transfer[] = [];
    for (const t of this.plan.transfers) {
      const to = other(t.from);
      const list = t.record.hash ? this.moveSources.get(t.record.hash) : undefined;
      // The receiving side already holds these bytes under the very name sent: never a move onto
      // itself, whose expunge would remove the only copy; delivered, they are found there.
      const itself = list?.findIndex((s) => s.side === to && s.folder === t.folder && s.guid === t.sourceGuid) ?? -1;
      if (list && itself >= 0) {
        const [self] = list.splice(itself, 1);
        this.plan.expunges = this.plan.expunges.filter((x) => !(x.side === self?.side && x.folder === self.folder && x.guid === self.guid));
        remaining.push(t);
        continue;
      }
      const index = list?.findIndex((s) => s.side === to) ?? -1;
      if (!list || index < 0) {
        remaining.push(t);
        continue;
      }
      const [source] = list.splice(index, 1);
      if (!source) continue;
      const copy: Copy = {
        side: to,
        folder: t.folder,
        request: { fromFolder: source.folder, fromGuid: source.guid, guid: t.sourceGuid, flags: t.flags, keywords: t.keywords, location: t.location },
        record: t.record,
      };
      if (t.infoRest !== undefined) copy.request.infoRest = t.infoRest;
      this.plan.copies.push(copy);
    }
    this.plan.transfers = remaining;
  }
}

function hasNewSince(f: FolderManifest, sf: StateFolder, side: Side): boolean {
  const known = new Set(sf.messages.map((m) => m[side]?.guid).filter((g): g is string => g !== undefined));
  return f.messages.some((e) => !known.has(e.guid));
}

function mergeSubscriptions(input: DiffInput, plan: Plan): void {
  const a = new Set(input.a.subscriptions);
  const b = new Set(input.b.subscriptions);
  const s = new Set(input.state?.subscriptions ?? []);
  let resultA = a;
  let resultB: Set<string>;
  if (input.mode === 'backup') {
    resultB = a;
  } else if (input.mode === 'one-way') {
    resultB = new Set(b);
    for (const n of a) if (!s.has(n)) resultB.add(n);
    for (const n of s) if (!a.has(n)) resultB.delete(n);
  } else {
    resultB = new Set<string>();
    for (const n of new Set([...a, ...b, ...s])) {
      if (s.has(n) ? a.has(n) && b.has(n) : a.has(n) || b.has(n)) resultB.add(n);
    }
    resultA = resultB;
  }
  const same = (x: Set<string>, y: Set<string>): boolean => x.size === y.size && [...x].every((n) => y.has(n));
  if (!same(resultA, a)) plan.subscriptions.a = [...resultA].sort();
  if (!same(resultB, b)) plan.subscriptions.b = [...resultB].sort();
  plan.subscriptionsAfter = [...resultA].sort();
}

export function diff(input: DiffInput): Plan {
  const planner = new Planner(input);
  const { plan } = planner;
  const { mode, a, b, state } = input;
  const names = new Set([...a.folders.keys(), ...b.folders.keys(), ...Object.keys(state?.folders ?? {})]);
  for (const folder of [...names].sort()) {
    const fa = a.folders.get(folder);
    const fb = b.folders.get(folder);
    const sf = state?.folders[folder];
    if (!fa && !fb) continue;
    if (fa && fb) {
      planner.diffFolder(folder, fa, fb, sf);
      plan.folderPresence[folder] = { a: true, b: true };
      continue;
    }
    const present: Side = fa ? 'a' : 'b';
    const absent = other(present);
    const pf = (fa ?? fb) as FolderManifest;
    const hadIt = folder !== INBOX && sf !== undefined && (absent === 'a' ? sf.onA : sf.onB);
    /** Creates the folder where it is missing; `base` keeps the gaps an earlier one-way run left. */
    const create = (base?: StateFolder): void => {
      plan.createFolders.push({ side: absent, folder });
      plan.folderPresence[folder] = { a: true, b: true };
      planner.diffFolder(folder, fa, fb, base);
    };
    const remove = (): void => {
      const hashes = new Map((sf?.messages ?? []).map((m) => [m[present]?.guid, m.hash]));
      for (const e of pf.messages) planner.expunge(present, folder, e.guid, e.hash ?? hashes.get(e.guid) ?? '');
      plan.deleteFolders.push({ side: present, folder, messages: pf.messages.length });
    };
    if (mode === 'backup') {
      if (present === 'a') create();
      else remove();
    } else if (mode === 'one-way' && present === 'a' && folder !== INBOX && sf !== undefined) {
      // b deleted a folder a still has, since the last sync or before an earlier one-way run that
      // kept it so: b's change stays on b until a gets new mail in it, and then only that mail goes
      // over (the messages b dropped stay dropped).
      if (hasNewSince(pf, sf, 'a')) create(sf);
      else planner.keepOnly(folder, 'a', pf, sf);
    } else if (!hadIt) {
      // New on one side. In a one-way run, b's own folders stay b's.
      if (mode === 'one-way' && present === 'b') planner.keepOnly(folder, 'b', pf, sf);
      else create();
    } else {
      // Deleted on the other side since the last sync (two-way, or a deleted it in a one-way run):
      // follow, unless this side got new mail in it.
      if (!hasNewSince(pf, sf as StateFolder, present)) remove();
      else if (mode === 'sync') create();
      else planner.keepOnly(folder, 'b', pf, sf);
    }
  }
  planner.detectMoves();
  mergeSubscriptions(input, plan);
  return plan;
}
