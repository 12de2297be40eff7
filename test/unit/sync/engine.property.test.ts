// Random histories on two in-memory Maildirs with two-way syncs in between: the sides converge,
// nothing a user kept is lost or doubled, moves travel as local copies, and a re-run does nothing.
// Each sync is the real runner (runSync) over two in-memory agents, its state saved and loaded
// through the state file's format as the CLI does.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Location } from '../../../src/model.js';
import { runSync } from '../../../src/sync/run.js';
import { isEmptyPlan, type Plan } from '../../../src/sync/plan.js';
import type { Side } from '../../../src/sync/state.js';
import { MemoryAgent, MemoryMaildir, type MemoryMessage } from '../../helpers/memory-agent.js';
import { MemoryPair } from '../../helpers/memory-pair.js';

const FOLDERS = ['INBOX', 'Archive', 'Work'] as const;
const FLAG_LETTERS = ['D', 'F', 'R', 'S', 'T'];
const KEYWORDS = ['$Label1', 'todo'];
const SIDES: Side[] = ['a', 'b'];
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** Every message has its own bytes, named by a number; sizes repeat so hashes are needed. */
const sizeOf = (content: number): number => 100 + (content % 3);
const bytesOf = (content: number): Uint8Array => Buffer.from(`${content}\n`.padEnd(sizeOf(content), '.'));
const contentOf = (m: MemoryMessage): number => Number.parseInt(Buffer.from(m.bytes).toString('latin1'), 10);
const ARRIVED = Date.UTC(2024, 0, 1);

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

class World {
  readonly sides: Record<Side, MemoryMaildir> = { a: new MemoryMaildir('ahost'), b: new MemoryMaildir('bhost') };
  private readonly agents: Record<Side, MemoryAgent>;
  /** The saved state and journal, as the runner wrote them. */
  private readonly pair = new MemoryPair();
  private nextContent = 1;
  private nextName = 1;
  readonly fates = new Map<number, Fate>();
  /** Every message ever part of a GUID collision (its two names differ between the sides). */
  private readonly collided = new Set<number>();
  private interval: Interval;
  syncs = 0;
  /** Runs in which a folder was diffed from what its sides told changed (no manifest read). */
  narrowedRuns = 0;

  constructor(agentKnowsHashes: boolean) {
    for (const f of ['INBOX', 'Archive']) this.sides.a.folders.set(f, { messages: new Map() });
    this.sides.b.folders.set('INBOX', { messages: new Map() });
    this.sides.a.subscriptions.add('INBOX');
    this.agents = { a: new MemoryAgent(this.sides.a, 'id-a', { knowsHashes: agentKnowsHashes }), b: new MemoryAgent(this.sides.b, 'id-b', { knowsHashes: agentKnowsHashes }) };
    this.interval = this.freshInterval();
  }

  private freshInterval(): Interval {
    const start = { a: this.where('a'), b: this.where('b') };
    const synced = new Set([...start.a.keys()].filter((c) => start.b.has(c)));
    return { moved: { a: new Map(), b: new Map() }, expunged: { a: new Map(), b: new Map() }, deletedFolders: new Set(), stateLost: false, start, synced };
  }

  private where(side: Side): Map<number, string> {
    const out = new Map<number, string>();
    for (const [folder, f] of this.sides[side].folders) for (const m of f.messages.values()) out.set(contentOf(m), folder);
    return out;
  }

  private name(side: Side): string {
    const guid = `${ARRIVED / 1000 + this.nextName}.M${this.nextName}P1.${side}host,S=`;
    this.nextName++;
    return guid;
  }

  /** Every message of a side, in a stable order, to pick from. */
  private list(side: Side): { folder: string; guid: string; msg: MemoryMessage }[] {
    const out: { folder: string; guid: string; msg: MemoryMessage }[] = [];
    for (const folder of [...this.sides[side].folders.keys()].sort()) {
      const msgs = this.sides[side].folder(folder).messages;
      for (const guid of [...msgs.keys()].sort()) out.push({ folder, guid, msg: msgs.get(guid) as MemoryMessage });
    }
    return out;
  }

  private message(content: number, flags: string, keywords: string[], location: Location): MemoryMessage {
    return { bytes: bytesOf(content), flags, keywords, location, mtime: ARRIVED + content * 1000 };
  }

  async apply(op: Op): Promise<void> {
    if (op.kind === 'sync') {
      await this.sync();
      return;
    }
    if (op.kind === 'loseState') {
      this.pair.lose();
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
        store.place(folder, guid, op.seen ? this.message(content, op.flags, op.keywords, 'cur') : this.message(content, '', [], 'new'));
        this.fates.set(content, { folder, expunged: false, conflicted: false });
        return;
      }
      case 'collide': {
        // Another host made the same base name for other bytes, in the same folder (a GUID collision).
        const candidates = this.list(other(op.side)).filter((x) => store.folders.has(x.folder) && !store.used.has(x.guid));
        if (candidates.length === 0) return;
        const { folder, guid, msg } = candidates[op.pick % candidates.length] as (typeof candidates)[number];
        const content = this.nextContent++;
        this.collided.add(contentOf(msg)).add(content);
        store.place(folder, guid, this.message(content, '', [], 'new'));
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
        const content = contentOf(msg);
        store.folder(folder).messages.delete(guid);
        store.place(target, this.name(op.side) + sizeOf(content), { ...msg });
        const fate = this.fates.get(content) as Fate;
        fate.folder = target;
        this.interval.moved[op.side].set(content, target);
        // Moved on both sides between two syncs: to two folders it is rightly kept in both; to the
        // same folder it ends up there once.
        const otherTarget = this.interval.moved[other(op.side)].get(content);
        if (otherTarget !== undefined && otherTarget !== target) fate.conflicted = true;
        return;
      }
      case 'expunge': {
        const all = this.list(op.side);
        if (all.length === 0) return;
        const { folder, guid, msg } = all[op.pick % all.length] as (typeof all)[number];
        store.folder(folder).messages.delete(guid);
        (this.fates.get(contentOf(msg)) as Fate).expunged = true;
        this.interval.expunged[op.side].set(contentOf(msg), folder);
        return;
      }
      case 'createFolder': {
        const folder = FOLDERS[op.folder] as string;
        if (!store.folders.has(folder)) store.folders.set(folder, { messages: new Map() });
        return;
      }
      case 'deleteFolder': {
        const folder = FOLDERS[op.folder] as string;
        const f = store.folders.get(folder);
        if (folder === 'INBOX' || !f) return;
        for (const m of f.messages.values()) (this.fates.get(contentOf(m)) as Fate).expunged = true;
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

  /** One `mdsync sync a b` through the real runner; returns its plan. */
  async runOnce(): Promise<Plan> {
    // What each name held before the run: the plan's transfers are checked against it afterwards.
    const before = new Map<string, number>();
    for (const side of SIDES) for (const x of this.list(side)) before.set(`${side}\0${x.folder}\0${x.guid}`, contentOf(x.msg));
    for (const side of SIDES) this.agents[side].calls.manifests.length = this.agents[side].calls.changes.length = 0;
    const result = await runSync(this.agents.a, this.agents.b, {
      mode: 'sync',
      // A history may empty a side or expunge most of it: the guards have tests of their own.
      force: true,
      ...this.pair.options(),
    });
    expect(result.failed).toEqual([]);
    this.checkMovesAreLocal(result.plan, before);
    const narrowed = SIDES.some((side) => this.agents[side].calls.changes.some((f) => !this.agents[side].calls.manifests.includes(f)));
    if (narrowed) this.narrowedRuns++;
    return result.plan;
  }

  async sync(): Promise<void> {
    if (this.interval.stateLost) {
      // A first meeting pairs messages by name only: a message moved since the last sync, or known
      // under two names since a collision, is kept in both places (nothing is lost, nothing expunged).
      for (const side of SIDES) for (const content of this.interval.moved[side].keys()) (this.fates.get(content) as Fate).conflicted = true;
      for (const content of this.collided) (this.fates.get(content) as Fate).conflicted = true;
    }
    await this.runOnce();
    this.syncs++;
    this.checkConverged();
    const again = await this.runOnce();
    expect(again, 'a sync right after a sync plans nothing').toSatisfy(isEmptyPlan);
    this.interval = this.freshInterval();
  }

  // ---- what a user would check ----

  /** Invariant 6: a message moved on one side only, both sides having it before, travels as a local copy. */
  private checkMovesAreLocal(plan: Plan, before: Map<string, number>): void {
    const iv = this.interval;
    if (iv.stateLost) return;
    for (const t of plan.transfers) {
      const content = before.get(`${t.from}\0${t.folder}\0${t.sourceGuid}`);
      if (content === undefined) throw new Error(`the plan sends ${t.from}:${t.folder}/${t.sourceGuid}, which did not exist`);
      const fate = this.fates.get(content) as Fate;
      const movedHere = iv.moved[t.from].has(content);
      const clean = iv.synced.has(content) && !fate.conflicted && !iv.moved[other(t.from)].has(content) &&
        !iv.expunged.a.has(content) && !iv.expunged.b.has(content) && !iv.deletedFolders.has(iv.start[other(t.from)].get(content) ?? '');
      expect(movedHere && clean, `content ${content}, moved on ${t.from} to ${t.folder}, must be copied locally, not transferred`).toBe(false);
    }
  }

  private contents(side: Side): string[] {
    const out: string[] = [];
    for (const [folder, f] of this.sides[side].folders) {
      for (const m of f.messages.values()) out.push(`${folder} ${contentOf(m)} ${m.flags} [${m.keywords.join(' ')}] ${m.location} ${new Date(m.mtime).toISOString()}`);
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
      for (const [folder, f] of this.sides[side].folders) {
        for (const m of f.messages.values()) places[side].set(contentOf(m), [...(places[side].get(contentOf(m)) ?? []), folder]);
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

describe('two-way sync of random histories', () => {
  it('converges, loses and doubles nothing kept, moves locally, and a re-run does nothing', async () => {
    let narrowed = 0;
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(op, { minLength: 10, maxLength: 50, size: 'max' }), async (agentKnowsHashes, ops) => {
      const world = new World(agentKnowsHashes);
      for (const o of ops) await world.apply(o);
      await world.sync();
      narrowed += world.narrowedRuns;
    }), { numRuns: 200 });
    // Most histories sync more than once: later syncs see converged folders and narrow them.
    expect(narrowed).toBeGreaterThan(100);
  });

  it('also when the saved state is lost now and then: a first meeting loses nothing and expunges nothing', async () => {
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(opOrLostState, { minLength: 10, maxLength: 50, size: 'max' }), async (agentKnowsHashes, ops) => {
      const world = new World(agentKnowsHashes);
      for (const o of ops) await world.apply(o);
      await world.sync();
    }), { numRuns: 100 });
  });

  it('a fixed history: a move against a flag change, an expunge, a GUID collision', async () => {
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
    for (const o of ops) await world.apply(o);
    expect(world.syncs).toBe(3);
    // The second and third syncs diff INBOX from what the sides told changed (the first has no state).
    expect(world.narrowedRuns).toBe(2);
    const summary = (s: Side): string[] => [...world.sides[s].folders].flatMap(([f, folder]) => [...folder.messages.values()].map((m) => `${f}:${contentOf(m)}:${m.flags}:${m.location}`)).sort();
    expect(summary('a')).toEqual(summary('b'));
    // 1 moved to Archive with a's flags (the move wins over b's flag change), 2 untouched,
    // 3 expunged everywhere, 4 and 5 shared a name and are both kept.
    expect(summary('a')).toEqual(['Archive:1:S:cur', 'INBOX:2::new', 'INBOX:4::new', 'INBOX:5::new']);
    expect(world.fates.get(3)?.expunged).toBe(true);
  });
});
