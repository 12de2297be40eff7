// Random histories on two in-memory Maildirs with two-way syncs in between: the sides converge,
// nothing a user kept is lost or doubled, moves travel as local copies, and a re-run does nothing.
// Each sync runs the engine exactly as src/sync/run.ts does: snapshot (with the state shortcut),
// hashNeeds, diff, the plan applied in the runner's order, then the state built from the plan.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestEntries } from '../../../src/digest.js';
import type { FolderManifest, Location, MessageEntry, Placed } from '../../../src/model.js';
import { diff, hashNeeds, type DiffInput, type SideSnapshot } from '../../../src/sync/diff.js';
import { isEmptyPlan, type Plan } from '../../../src/sync/plan.js';
import { changesFrom, narrow, narrowedState, type NarrowFolder } from '../../../src/sync/narrow.js';
import { emptyState, isConverged, notePlaced, parseState, recordKey, serializeState, sideDigest, sideEntries, type Side, type StateMessage, type SyncState } from '../../../src/sync/state.js';

const FOLDERS = ['INBOX', 'Archive', 'Work'] as const;
const FLAG_LETTERS = ['D', 'F', 'R', 'S', 'T'];
const KEYWORDS = ['$Label1', 'todo'];
const SIDES: Side[] = ['a', 'b'];
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** Every message has its own bytes, named by a number; sizes repeat so hashes are needed. */
const hashOf = (content: number): string => `sha-${content}`;
const sizeOf = (content: number): number => 100 + (content % 3);

interface Msg {
  content: number;
  flags: string;
  keywords: string[];
  location: Location;
}

interface Store {
  folders: Map<string, Map<string, Msg>>;
  subscriptions: Set<string>;
}

type Op =
  | { kind: 'deliver'; side: Side; folder: number; seen: boolean; flags: string; keywords: string[] }
  | { kind: 'collide'; side: Side; pick: number }
  | { kind: 'flag'; side: Side; pick: number; flags: string; keywords: string[]; seen: boolean }
  | { kind: 'move'; side: Side; pick: number; folder: number }
  | { kind: 'expunge'; side: Side; pick: number }
  | { kind: 'createFolder'; side: Side; folder: number }
  | { kind: 'deleteFolder'; side: Side; folder: number }
  | { kind: 'subscribe'; side: Side; folder: number }
  | { kind: 'loseState' }
  | { kind: 'sync' };

/** What a user did to a message: decides what must be true of it after a sync. */
interface Fate {
  /** The folder it was delivered to or last moved to. */
  folder: string;
  /** A user expunged it, or deleted a folder holding it. */
  expunged: boolean;
  /**
   * Its outcome is not one place: moved on both sides between two syncs, its folder deleted (and
   * perhaps restored by the other side), or met again by name only after a lost state.
   */
  conflicted: boolean;
}

/** What happened between two syncs. */
interface Interval {
  /** Moved by a user: content → the folder it was last moved to. */
  moved: Record<Side, Map<number, string>>;
  /** Expunged one by one: content → the folder it was in. */
  expunged: Record<Side, Map<number, string>>;
  deletedFolders: Set<string>;
  /** The saved state was lost: the next sync is a first meeting. */
  stateLost: boolean;
  /** Where each side held each message when the interval began. */
  start: Record<Side, Map<number, string>>;
  /** Held by both sides when the interval began (the last sync agreed on them). */
  synced: Set<number>;
}

const sortChars = (s: string): string => [...new Set(s)].sort().join('');

class World {
  readonly sides: Record<Side, Store> = {
    a: { folders: new Map([['INBOX', new Map()], ['Archive', new Map()]]), subscriptions: new Set(['INBOX']) },
    b: { folders: new Map([['INBOX', new Map()]]), subscriptions: new Set() },
  };
  state?: SyncState;
  /** The same state read as the runner reads it: through a reader, records cut out or decoded on first use. */
  private lazyState?: SyncState;
  private nextContent = 1;
  private nextName = 1;
  /** Names a side has ever held: a Maildir never reuses a base name. */
  private readonly used: Record<Side, Set<string>> = { a: new Set(), b: new Set() };
  readonly fates = new Map<number, Fate>();
  /** Every message ever part of a GUID collision (its two names differ between the sides). */
  private readonly collided = new Set<number>();
  private interval: Interval = this.freshInterval();
  syncs = 0;

  constructor(private readonly agentKnowsHashes: boolean) {}

  private freshInterval(): Interval {
    const start = { a: this.where('a'), b: this.where('b') };
    const synced = new Set([...start.a.keys()].filter((c) => start.b.has(c)));
    return { moved: { a: new Map(), b: new Map() }, expunged: { a: new Map(), b: new Map() }, deletedFolders: new Set(), stateLost: false, start, synced };
  }

  private where(side: Side): Map<number, string> {
    const out = new Map<number, string>();
    for (const [folder, msgs] of this.sides[side].folders) for (const m of msgs.values()) out.set(m.content, folder);
    return out;
  }

  private name(side: Side): string {
    const guid = `${Date.UTC(2024, 0, 1) / 1000 + this.nextName}.M${this.nextName}P1.${side}host,S=`;
    this.nextName++;
    return guid;
  }

  /** Every message of a side, in a stable order, to pick from. */
  private list(side: Side): { folder: string; guid: string; msg: Msg }[] {
    const out: { folder: string; guid: string; msg: Msg }[] = [];
    for (const folder of [...this.sides[side].folders.keys()].sort()) {
      const msgs = this.sides[side].folders.get(folder) as Map<string, Msg>;
      for (const guid of [...msgs.keys()].sort()) out.push({ folder, guid, msg: msgs.get(guid) as Msg });
    }
    return out;
  }

  private place(side: Side, folder: string, guid: string, msg: Msg): void {
    (this.sides[side].folders.get(folder) as Map<string, Msg>).set(guid, msg);
    this.used[side].add(guid);
  }

  apply(op: Op): void {
    if (op.kind === 'sync') {
      this.sync();
      return;
    }
    if (op.kind === 'loseState') {
      this.state = undefined;
      this.lazyState = undefined;
      this.interval.stateLost = true;
      return;
    }
    const store = this.sides[op.side];
    switch (op.kind) {
      case 'deliver': {
        const folder = FOLDERS[op.folder] as string;
        if (!store.folders.has(folder)) return;
        const content = this.nextContent++;
        const guid = this.name(op.side) + sizeOf(content);
        // An MDA delivers into new/ with no flags; a client saving a copy writes cur/ with flags.
        this.place(op.side, folder, guid, op.seen
          ? { content, flags: op.flags, keywords: op.keywords, location: 'cur' }
          : { content, flags: '', keywords: [], location: 'new' });
        this.fates.set(content, { folder, expunged: false, conflicted: false });
        return;
      }
      case 'collide': {
        // Another host made the same base name for other bytes, in the same folder (a GUID collision).
        const candidates = this.list(other(op.side)).filter((x) => store.folders.has(x.folder) && !this.used[op.side].has(x.guid));
        if (candidates.length === 0) return;
        const { folder, guid, msg } = candidates[op.pick % candidates.length] as (typeof candidates)[number];
        const content = this.nextContent++;
        this.collided.add(msg.content).add(content);
        this.place(op.side, folder, guid, { content, flags: '', keywords: [], location: 'new' });
        this.fates.set(content, { folder, expunged: false, conflicted: false });
        return;
      }
      case 'flag': {
        const all = this.list(op.side);
        if (all.length === 0) return;
        const { msg } = all[op.pick % all.length] as (typeof all)[number];
        msg.flags = op.flags;
        msg.keywords = op.keywords;
        if (op.seen) msg.location = 'cur';
        return;
      }
      case 'move': {
        const all = this.list(op.side);
        const target = FOLDERS[op.folder] as string;
        if (all.length === 0 || !store.folders.has(target)) return;
        const { folder, guid, msg } = all[op.pick % all.length] as (typeof all)[number];
        if (folder === target) return;
        // A client moves by writing the bytes under a new name in the target, then expunging.
        (store.folders.get(folder) as Map<string, Msg>).delete(guid);
        this.place(op.side, target, this.name(op.side) + sizeOf(msg.content), { ...msg });
        const fate = this.fates.get(msg.content) as Fate;
        fate.folder = target;
        this.interval.moved[op.side].set(msg.content, target);
        // Moved on both sides between two syncs: to two folders it is rightly kept in both; to the
        // same folder it ends up there once.
        const otherTarget = this.interval.moved[other(op.side)].get(msg.content);
        if (otherTarget !== undefined && otherTarget !== target) fate.conflicted = true;
        return;
      }
      case 'expunge': {
        const all = this.list(op.side);
        if (all.length === 0) return;
        const { folder, guid, msg } = all[op.pick % all.length] as (typeof all)[number];
        (store.folders.get(folder) as Map<string, Msg>).delete(guid);
        (this.fates.get(msg.content) as Fate).expunged = true;
        this.interval.expunged[op.side].set(msg.content, folder);
        return;
      }
      case 'createFolder': {
        const folder = FOLDERS[op.folder] as string;
        if (!store.folders.has(folder)) store.folders.set(folder, new Map());
        return;
      }
      case 'deleteFolder': {
        const folder = FOLDERS[op.folder] as string;
        const msgs = store.folders.get(folder);
        if (folder === 'INBOX' || !msgs) return;
        for (const m of msgs.values()) (this.fates.get(m.content) as Fate).expunged = true;
        // The other side may restore the folder with everything it held at the last sync.
        for (const [content, was] of this.interval.start[op.side]) if (was === folder) (this.fates.get(content) as Fate).conflicted = true;
        store.folders.delete(folder);
        this.interval.deletedFolders.add(folder);
        return;
      }
      case 'subscribe': {
        const folder = FOLDERS[op.folder] as string;
        if (store.subscriptions.has(folder)) store.subscriptions.delete(folder);
        else store.subscriptions.add(folder);
        return;
      }
    }
  }

  // ---- the engine, run as src/sync/run.ts runs it ----

  private manifestOf(side: Side, folder: string): FolderManifest {
    const msgs = this.sides[side].folders.get(folder) as Map<string, Msg>;
    const messages: MessageEntry[] = [...msgs.entries()].map(([guid, m]) => {
      // The size comes from the name's `,S=`, as the scan reads it (a colliding name carries the other's).
      const e: MessageEntry = { guid, flags: m.flags, keywords: [...m.keywords], location: m.location, size: Number(/,S=(\d+)$/.exec(guid)?.[1]) };
      if (this.agentKnowsHashes) e.hash = hashOf(m.content);
      return e;
    }).sort((x, y) => (x.guid < y.guid ? -1 : 1));
    return { name: folder, messages, digest: digestEntries(messages) };
  }

  private snapshot(side: Side, state: SyncState | undefined): { snap: SideSnapshot; fetched: number } {
    const folders = new Map<string, FolderManifest>();
    let fetched = 0;
    for (const name of this.sides[side].folders.keys()) {
      const full = this.manifestOf(side, name);
      const sf = state?.folders[name];
      if (sf && (side === 'a' ? sf.onA : sf.onB) && sideDigest(sf, side) === full.digest) {
        folders.set(name, { name, digest: full.digest, messages: sideEntries(sf, side) });
        continue;
      }
      fetched++;
      folders.set(name, full);
    }
    return { snap: { folders, subscriptions: [...this.sides[side].subscriptions].sort() }, fetched };
  }

  private fillHashes(input: DiffInput): void {
    for (const { side, folder, guids } of hashNeeds(input)) {
      const msgs = this.sides[side].folders.get(folder);
      const byGuid = new Map((input[side].folders.get(folder)?.messages ?? []).map((e) => [e.guid, e]));
      for (const guid of guids) {
        const m = msgs?.get(guid);
        const e = byGuid.get(guid);
        if (m && e) e.hash = hashOf(m.content);
      }
    }
  }

  /** deliver(): the wished name when free, "already there" for the same bytes, else a fresh name. */
  private deliver(side: Side, folder: string, wanted: string, content: number, f: { flags: string; keywords: string[]; location: Location }): Placed {
    const msgs = this.sides[side].folders.get(folder);
    if (!msgs) throw new Error(`the plan delivers into ${side}:${folder}, which does not exist`);
    let guid = wanted;
    const there = msgs.get(guid);
    if (there) {
      if (there.content === content) return { wanted, guid, hash: hashOf(content), existed: true };
      guid = `fresh${this.nextName++}.${side}host,S=${sizeOf(content)}`;
    }
    this.place(side, folder, guid, { content, flags: sortChars(f.flags), keywords: [...f.keywords].sort(), location: f.location });
    return { wanted, guid, hash: hashOf(content), existed: false };
  }

  private source(side: Side, folder: string, guid: string): Msg {
    const m = this.sides[side].folders.get(folder)?.get(guid);
    if (!m) throw new Error(`the plan reads ${side}:${folder}/${guid}, which does not exist`);
    return m;
  }

  private execute(plan: Plan, narrowed: Map<string, NarrowFolder>): SyncState {
    const placedRecords: Record<string, StateMessage[]> = {};
    const record = (folder: string, rec: StateMessage, to: Side, placed: Placed): void => {
      if (notePlaced(rec, to, placed)) (placedRecords[folder] ??= []).push(rec);
    };
    for (const op of plan.createFolders) {
      const folders = this.sides[op.side].folders;
      if (!folders.has(op.folder)) folders.set(op.folder, new Map());
    }
    // Everything is read before anything is placed: the runner reads a side's current files.
    const transfers = plan.transfers.map((t) => ({ t, content: this.source(t.from, t.folder, t.sourceGuid).content }));
    const copies = plan.copies.map((c) => ({ c, content: this.source(c.side, c.request.fromFolder, c.request.fromGuid).content }));
    for (const { t, content } of transfers) {
      const to = other(t.from);
      record(t.folder, t.record, to, this.deliver(to, t.folder, t.sourceGuid, content, t));
    }
    for (const { c, content } of copies) record(c.folder, c.record, c.side, this.deliver(c.side, c.folder, c.request.guid, content, c.request));
    for (const { side, folder, delta } of plan.flagChanges) {
      const m = this.source(side, folder, delta.guid);
      m.flags = sortChars([...m.flags + delta.addFlags].filter((ch) => !delta.removeFlags.includes(ch)).join(''));
      m.keywords = [...new Set([...m.keywords, ...delta.addKeywords])].filter((k) => !delta.removeKeywords.includes(k)).sort();
      m.location = delta.location ?? m.location;
    }
    for (const e of plan.expunges) {
      const msgs = this.sides[e.side].folders.get(e.folder);
      if (!msgs?.delete(e.guid)) throw new Error(`the plan expunges ${e.side}:${e.folder}/${e.guid}, which does not exist`);
    }
    for (const op of plan.deleteFolders) {
      const msgs = this.sides[op.side].folders.get(op.folder);
      if (op.folder === 'INBOX' || !msgs || msgs.size > 0) throw new Error(`the plan deletes ${op.side}:${op.folder}, which is not an empty folder`);
      this.sides[op.side].folders.delete(op.folder);
    }
    for (const side of SIDES) {
      const subs = plan.subscriptions[side];
      if (subs) this.sides[side].subscriptions = new Set(subs);
    }
    const state = emptyState('id-a', 'id-b');
    for (const [name, where] of Object.entries(plan.folderPresence)) {
      const after = [...(plan.keep[name] ?? []), ...(placedRecords[name] ?? [])];
      const n = narrowed.get(name);
      state.folders[name] = n ? narrowedState(n, after, { onA: where.a, onB: where.b }) : { onA: where.a, onB: where.b, messages: after };
    }
    state.subscriptions = plan.subscriptionsAfter;
    return state;
  }

  /** As the runner does: folders the last sync left converged are diffed only where they changed. */
  private narrow(a: SideSnapshot, b: SideSnapshot): Map<string, NarrowFolder> {
    const out = new Map<string, NarrowFolder>();
    for (const [name, sf] of Object.entries(this.state?.folders ?? {})) {
      const fa = a.folders.get(name);
      const fb = b.folders.get(name);
      if (!fa || !fb || !sf.onA || !sf.onB || !isConverged(sf)) continue;
      const changes = { a: changesFrom(fa, sf.messages, 'a'), b: changesFrom(fb, sf.messages, 'b') };
      // Narrowed as the runner narrows: from the folder's lines, not decoded whole.
      const n = narrow(this.lazyState?.folders[name] ?? sf, changes, fa.digest, fb.digest);
      if (!n) throw new Error(`folder ${name} could not be narrowed`);
      const keys = new Set(SIDES.flatMap((side) => [...changes[side].changed.map((e) => e.guid), ...changes[side].gone]));
      expect(n.touched).toEqual(sf.messages.filter((m) => keys.has(recordKey(m))));
      out.set(name, n);
      a.folders.set(name, { ...fa, messages: n.entries.a });
      b.folders.set(name, { ...fb, messages: n.entries.b });
    }
    this.narrowedRuns += out.size > 0 ? 1 : 0;
    return out;
  }

  narrowedRuns = 0;

  /** One `mdsync sync a b`; returns its plan. */
  runOnce(): Plan {
    const sa = this.snapshot('a', this.state);
    const sb = this.snapshot('b', this.state);
    const narrowed = this.narrow(sa.snap, sb.snap);
    const input: DiffInput = { mode: 'sync', a: sa.snap, b: sb.snap, state: this.state && narrowedView(this.state, narrowed) };
    this.fillHashes(input);
    const plan = diff(input);
    this.checkMovesAreLocal(plan);
    const learnt = sa.fetched + sb.fetched > 0 || this.state === undefined;
    if (isEmptyPlan(plan) && !learnt) return plan;
    const next = this.execute(plan, narrowed);
    // Through the file format, as the runner saves it and the next run loads it.
    const file = serializeState(next);
    const loaded = parseState(file);
    if (loaded.kind !== 'ok') throw new Error(`state did not survive its own format: ${loaded.why}`);
    this.state = loaded.state;
    const lazy = parseState(file.subarray(0, file.indexOf(0x0a)), { size: file.length, read: (at, length) => file.subarray(at, at + length) });
    if (lazy.kind !== 'ok') throw new Error(`state did not survive its own format: ${lazy.why}`);
    this.lazyState = lazy.state;
    return plan;
  }

  sync(): void {
    if (this.interval.stateLost) {
      // A first meeting pairs messages by name only: a message moved since the last sync, or known
      // under two names since a collision, is kept in both places (nothing is lost, nothing expunged).
      for (const side of SIDES) for (const content of this.interval.moved[side].keys()) (this.fates.get(content) as Fate).conflicted = true;
      for (const content of this.collided) (this.fates.get(content) as Fate).conflicted = true;
    }
    this.runOnce();
    this.syncs++;
    this.checkConverged();
    const again = this.runOnce();
    expect(again, 'a sync right after a sync plans nothing').toSatisfy(isEmptyPlan);
    this.interval = this.freshInterval();
  }

  // ---- what a user would check ----

  /** Invariant 6: a message moved on one side only, both sides having it before, travels as a local copy. */
  private checkMovesAreLocal(plan: Plan): void {
    const iv = this.interval;
    if (iv.stateLost) return;
    for (const t of plan.transfers) {
      const content = this.source(t.from, t.folder, t.sourceGuid).content;
      const fate = this.fates.get(content) as Fate;
      const movedHere = iv.moved[t.from].has(content);
      const clean = iv.synced.has(content) && !fate.conflicted && !iv.moved[other(t.from)].has(content) &&
        !iv.expunged.a.has(content) && !iv.expunged.b.has(content) && !iv.deletedFolders.has(iv.start[other(t.from)].get(content) ?? '');
      expect(movedHere && clean, `content ${content}, moved on ${t.from} to ${t.folder}, must be copied locally, not transferred`).toBe(false);
    }
  }

  private contents(side: Side): string[] {
    const out: string[] = [];
    for (const [folder, msgs] of this.sides[side].folders) {
      for (const m of msgs.values()) out.push(`${folder} ${m.content} ${m.flags} [${m.keywords.join(' ')}] ${m.location}`);
    }
    return out.sort();
  }

  private checkConverged(): void {
    const { a, b } = this.sides;
    expect([...b.folders.keys()].sort(), 'the same folders').toEqual([...a.folders.keys()].sort());
    expect(this.contents('b'), 'the same messages, flags and keywords in the same folders').toEqual(this.contents('a'));
    expect([...b.subscriptions].sort(), 'the same subscriptions').toEqual([...a.subscriptions].sort());
    const places: Record<Side, Map<number, string[]>> = { a: new Map(), b: new Map() };
    for (const side of SIDES) {
      for (const [folder, msgs] of this.sides[side].folders) {
        for (const m of msgs.values()) places[side].set(m.content, [...(places[side].get(m.content) ?? []), folder]);
      }
    }
    // Invariant 1 and 2: kept by the user → exactly once per side, where the user last put it.
    for (const [content, fate] of this.fates) {
      if (fate.expunged || fate.conflicted) continue;
      for (const side of SIDES) expect(places[side].get(content), `content ${content} on ${side}`).toEqual([fate.folder]);
    }
    // Expunged on one side, left alone (not moved) on the other → gone from both (given a state).
    for (const side of this.interval.stateLost ? [] : SIDES) {
      for (const [content, folder] of this.interval.expunged[side]) {
        // (Not when the other side moved it, its folder was deleted, or it was held twice since a conflict.)
        if (this.interval.moved[other(side)].has(content) || this.interval.deletedFolders.has(folder) || this.fates.get(content)?.conflicted) continue;
        for (const s of SIDES) expect(places[s].get(content), `content ${content}, expunged on ${side}, on ${s}`).toBeUndefined();
      }
    }
  }
}

const side = fc.constantFrom<Side>('a', 'b');
const folder = fc.nat({ max: FOLDERS.length - 1 });
const pick = fc.nat({ max: 1000 });
const flags = fc.subarray(FLAG_LETTERS).map((f) => f.join(''));
const keywords = fc.subarray(KEYWORDS);

const userOps = [
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), side, folder, seen: fc.boolean(), flags, keywords }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('collide' as const), side, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flag' as const), side, pick, flags, keywords, seen: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), side, pick, folder }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('expunge' as const), side, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('createFolder' as const), side, folder }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteFolder' as const), side, folder }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), side, folder }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'sync' as const }) },
];
const op: fc.Arbitrary<Op> = fc.oneof(...userOps);
const opOrLostState: fc.Arbitrary<Op> = fc.oneof(...userOps, { weight: 1, arbitrary: fc.constant({ kind: 'loseState' as const }) });

/** The state as the diff sees it: narrowed folders hold only their touched records. */
function narrowedView(state: SyncState, narrowed: Map<string, NarrowFolder>): SyncState {
  const folders = { ...state.folders };
  for (const [name, n] of narrowed) folders[name] = { onA: n.base.onA, onB: n.base.onB, messages: n.touched };
  return { ...state, folders };
}

describe('two-way sync of random histories', () => {
  it('converges, loses and doubles nothing kept, moves locally, and a re-run does nothing', () => {
    let narrowed = 0;
    fc.assert(fc.property(fc.boolean(), fc.array(op, { minLength: 10, maxLength: 50, size: 'max' }), (agentKnowsHashes, ops) => {
      const world = new World(agentKnowsHashes);
      for (const o of ops) world.apply(o);
      world.sync();
      narrowed += world.narrowedRuns;
    }), { numRuns: 200 });
    // Most histories sync more than once: later syncs see converged folders and narrow them.
    expect(narrowed).toBeGreaterThan(100);
  });

  it('also when the saved state is lost now and then: a first meeting loses nothing and expunges nothing', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(opOrLostState, { minLength: 10, maxLength: 50, size: 'max' }), (agentKnowsHashes, ops) => {
      const world = new World(agentKnowsHashes);
      for (const o of ops) world.apply(o);
      world.sync();
    }), { numRuns: 100 });
  });

  it('a fixed history: a move against a flag change, an expunge, a GUID collision', () => {
    // Both sides deliver, sync; a moves what b flags, b expunges, sync; a GUID collision, sync.
    const world = new World(false);
    const ops: Op[] = [
      { kind: 'deliver', side: 'a', folder: 0, seen: true, flags: 'S', keywords: ['todo'] },
      { kind: 'deliver', side: 'a', folder: 0, seen: false, flags: '', keywords: [] },
      { kind: 'deliver', side: 'b', folder: 0, seen: false, flags: '', keywords: [] },
      { kind: 'sync' },
      { kind: 'move', side: 'a', pick: 0, folder: 1 },
      { kind: 'expunge', side: 'b', pick: 2 },
      { kind: 'flag', side: 'b', pick: 0, flags: 'FS', keywords: [], seen: true },
      { kind: 'sync' },
      { kind: 'deliver', side: 'a', folder: 0, seen: false, flags: '', keywords: [] },
      { kind: 'collide', side: 'b', pick: 0 },
      { kind: 'sync' },
    ];
    for (const o of ops) world.apply(o);
    expect(world.syncs).toBe(3);
    expect(world.narrowedRuns).toBeGreaterThan(2);
    const summary = (s: Side): string[] => [...world.sides[s].folders].flatMap(([f, msgs]) => [...msgs.values()].map((m) => `${f}:${m.content}:${m.flags}:${m.location}`)).sort();
    expect(summary('a')).toEqual(summary('b'));
    // 1 moved to Archive with a's flags (the move wins over b's flag change), 2 untouched,
    // 3 expunged everywhere, 4 and 5 shared a name and are both kept.
    expect(summary('a')).toEqual(['Archive:1:S:cur', 'INBOX:2::new', 'INBOX:4::new', 'INBOX:5::new']);
    expect(world.fates.get(3)?.expunged).toBe(true);
  });
});
