// The execute phase: a Plan applied in DESIGN §8's order. Folders created (staged where the run
// fills them) → deliveries, links and local copies → commit and a checkpoint → flag changes →
// expunges (a move's source half only once its target half is durable) → folder deletions →
// subscriptions → a backup's UIDs → commit both → the final state saved.

import { MdsyncError } from '../errors.js';
import type { CopyRequest, FlagResult, Placed } from '../model.js';
import type { Agent } from './agent.js';
import { applyMtimes } from './checksum.js';
import { groupBy } from './group.js';
import { placementLog, type PlacementLog } from './journal.js';
import { inTwoLanes } from './lanes.js';
import { withSourceMtimes } from './move-mtimes.js';
import { LandedNames, expungesAfterPlacing, replacedOnReplica, type Mode, type Transfer } from './plan.js';
import { StagedFolders } from './publish.js';
import type { RunContext, RunResult } from './run-types.js';
import { emptyFolders } from './snapshot.js';
import { stateAfterRun, uidValidityAfter, type AfterRun } from './state/after-run.js';
import { notePlaced, other, sealedFolder, SIDE_NAME, withoutKeywords, withUidValidity, type Presence, type Side, type StateMessage, type SyncState } from './state.js';
import { transferBatch } from './transfer.js';
import { BATCH_MESSAGES, CHECKPOINT_MS, JOBS } from './tuning.js';
import { Twins, type Link } from './twins.js';
import { copyUids } from './uids.js';
import { WorkQueue } from './work-queue.js';

/** Applies the run's plan; `uidFolders`: the folders whose dovecot-uidlist a backup gives the replica. */
export async function execute(ctx: RunContext, uidFolders: string[]): Promise<void> {
  const run = new Execution(ctx, uidFolders, await WorkQueue.open(ctx.options.jobs ?? JOBS));
  await run.run();
}

class Execution {
  private readonly agents: Record<Side, Agent>;
  private readonly log: PlacementLog | undefined;
  private readonly staged: StagedFolders;
  private readonly after: AfterRun;
  private readonly result: RunResult;
  /** Per folder, the records of the messages placed so far. */
  private readonly placed: Record<string, StateMessage[]> = {};
  /** Names placed by this run: a move's source half is expunged only once its target half landed. */
  private readonly landed = new LandedNames();
  /** Folders with nothing planned but placements, and how many are still to come (sealed after the last). */
  private readonly unplaced = new Map<string, number>();
  private readonly total: number;
  private done = 0;
  private lastCheckpoint = Date.now();
  private checkpointing = Promise.resolve();

  constructor(private readonly ctx: RunContext, private readonly uidFolders: string[], private readonly queue: WorkQueue) {
    const { agents, hellos, plan, options } = ctx;
    this.agents = agents;
    this.result = ctx.result;
    this.log = placementLog(options.journal, { idA: hellos.a.id, idB: hellos.b.id });
    this.staged = new StagedFolders(agents, this.log);
    this.after = {
      ids: { idA: hellos.a.id, idB: hellos.b.id },
      old: ctx.state,
      plan,
      include: ctx.included,
      quiet: ctx.quiet,
      narrowed: ctx.narrowed,
      placed: this.placed,
      sealed: new Map(),
      unpublished: (folder) => this.staged.isUnpublished(folder),
      validityAfter: uidValidityAfter({ a: ctx.snaps.a.uidValidity, b: ctx.snaps.b.uidValidity }, uidFolders),
    };
    this.total = plan.transfers.length + plan.copies.length;
    // A folder with nothing planned but placements has its final records once they are all placed:
    // it is encoded then, while the main thread would otherwise wait for the copying threads.
    const later = new Set([...plan.flagChanges, ...plan.expunges].map((op) => op.folder));
    for (const { folder } of [...plan.transfers, ...plan.copies]) {
      if (!later.has(folder) && !ctx.narrowed.has(folder) && ctx.included(folder) && !ctx.quiet.has(folder)) this.unplaced.set(folder, (this.unplaced.get(folder) ?? 0) + 1);
    }
  }

  /** The state now: every record in it placed (and, at a checkpoint, made durable by the caller). */
  private buildState(final: boolean): SyncState {
    const state = stateAfterRun(this.after, final);
    this.log?.mark(state, (folder) => this.staged.isUnpublished(folder));
    return state;
  }

  async run(): Promise<void> {
    const { plan, options } = this.ctx;
    const transferGroups = [...groupBy(plan.transfers, (t) => `${t.from}\0${t.folder}`).values()];
    await this.staged.create(plan, transferGroups, { a: emptyFolders(this.ctx.snaps.a), b: emptyFolders(this.ctx.snaps.b) }, this.ctx.included);
    this.prepare(transferGroups);
    await this.place(transferGroups);
    if (this.total > 0) {
      // Deliveries must be durable before anything is expunged (a move's source half) or recorded.
      await Promise.all([this.agents.a.commit(), this.agents.b.commit(), this.log?.sync()]);
      // Recorded before the flag changes and expunges; with none to come (a first copy) the final
      // state follows at once (a whole state written twice is a first copy's largest cost after its copying).
      if (plan.flagChanges.length + plan.expunges.length + plan.deleteFolders.length > 0) await options.saveState(this.buildState(false));
    }
    await this.setFlags();
    this.result.vanished += await applyMtimes(this.agents, plan);
    await this.expunge();
    for (const op of plan.deleteFolders) await this.agents[op.side].deleteFolder(op.folder);
    for (const side of ['a', 'b'] as const) {
      const subs = plan.subscriptions[side];
      if (subs) await this.agents[side].writeSubscriptions(subs);
    }
    const final = this.buildState(true);
    for (const [name, uidValidity] of await copyUids(this.agents, this.uidFolders, final, this.ctx.state, this.ctx.snaps.b.uidValidity, this.result.warnings, replacedOnReplica(plan))) {
      const sf = final.folders[name];
      if (sf) final.folders[name] = withUidValidity(sf, { ...sf.uidValidity, b: uidValidity });
    }
    await Promise.all([this.agents.a.commit(), this.agents.b.commit()]);
    await options.saveState(final);
    await collectWarnings(this.agents, this.result, options.mode);
    if (this.result.vanished > 0) this.result.raced = true;
    options.onProgress?.({ phase: 'done', done: this.total, total: this.total, bytes: this.result.bytes });
  }

  /**
   * Each side loads the folders it will write while what goes there is being read (a far side
   * would otherwise load each at its first write, the run waiting).
   */
  private prepare(transferGroups: Transfer[][]): void {
    const { plan } = this.ctx;
    for (const side of ['a', 'b'] as const) {
      const into = transferGroups.filter((g) => g[0]?.from !== side);
      const written = new Set([
        ...inTwoLanes(into.map((g) => ({ size: g.length, tasks: [g[0]?.folder ?? ''] }))),
        ...[...plan.copies, ...plan.flagChanges, ...plan.expunges].filter((op) => op.side === side).map((op) => op.folder),
      ]);
      const files = into.reduce((n, g) => n + g.length, 0) + plan.copies.filter((c) => c.side === side).length;
      if (written.size > 0) void this.agents[side].prepare?.([...written], files).catch(() => undefined);
    }
  }

  private progress(): void {
    this.ctx.options.onProgress?.({ phase: 'transfer', done: this.done, total: this.total, bytes: this.result.bytes });
  }

  /** Notes a placed message; false when its record does not name that side. */
  private record(folder: string, rec: StateMessage, to: Side, placed: Placed): boolean {
    this.landed.add(to, folder, placed.guid);
    if (!notePlaced(rec, to, placed)) return false;
    (this.placed[folder] ??= []).push(rec);
    return true;
  }

  /** `count` more placements made into a folder: sealed after its last, published if staged. */
  private async placedInto(side: Side, folder: string, count: number): Promise<void> {
    this.done += count;
    this.progress();
    this.seal(folder, count);
    await this.staged.placed(side, folder, count);
  }

  private seal(folder: string, count: number): void {
    const before = this.unplaced.get(folder);
    if (before === undefined) return;
    if (before > count) {
      this.unplaced.set(folder, before - count);
      return;
    }
    this.unplaced.delete(folder);
    const where = this.ctx.plan.folderPresence[folder];
    if (!where) return;
    const uidValidity = this.after.validityAfter(folder);
    const presence: Presence = { onA: where.a, onB: where.b };
    if (Object.keys(uidValidity).length > 0) presence.uidValidity = uidValidity;
    this.after.sealed.set(folder, sealedFolder(presence, [...(this.ctx.plan.keep[folder] ?? []), ...(this.placed[folder] ?? [])]));
  }

  /**
   * Checkpoints: when a folder's deliveries are all placed, make them durable and record them, so
   * a crash in a long first run loses little (at most one every few seconds, to bound the cost).
   */
  private checkpoint(): Promise<void> {
    if (Date.now() - this.lastCheckpoint < (this.ctx.options.checkpointMs ?? CHECKPOINT_MS)) return this.checkpointing;
    this.lastCheckpoint = Date.now();
    this.checkpointing = this.checkpointing.then(async () => {
      // Built first: every record in it was placed before the commit below starts.
      const state = this.buildState(false);
      await Promise.all([this.agents.a.commit(), this.agents.b.commit(), this.log?.sync()]);
      await this.ctx.options.saveState(state);
    });
    return this.checkpointing;
  }

  /** Deliveries, links and local copies; on a failure, what was placed is recorded before the error goes on. */
  private async place(transferGroups: Transfer[][]): Promise<void> {
    const { plan, state: oldState } = this.ctx;
    if (this.total > 0) this.progress();
    // Messages whose file has other names on the sending side, linked where the other side holds the bytes.
    const present = (folder: string, side: Side): boolean => {
      const planned = plan.folderPresence[folder];
      if (planned) return planned[side];
      const saved = oldState?.folders[folder];
      return saved !== undefined && (side === 'a' ? saved.onA : saved.onB);
    };
    const twins = new Twins(this.agents, plan.keep, savedRecords(oldState), present);
    const transferTasks = transferGroups.map((group) => {
      let remaining = group.length;
      const tasks: (() => Promise<void>)[] = [];
      for (let i = 0; i < group.length; i += BATCH_MESSAGES) {
        const batch = group.slice(i, i + BATCH_MESSAGES);
        tasks.push(async () => {
          await this.send(batch, twins);
          remaining -= batch.length;
          if (remaining === 0) await this.checkpoint();
        });
      }
      return { size: group.length, tasks };
    });
    for (const task of inTwoLanes(transferTasks)) this.queue.add(task);
    for (const group of groupBy(plan.copies, (c) => `${c.side}\0${c.folder}`).values()) this.queue.add(() => this.copy(group));
    try {
      await this.queue.drain();
      if (twins.links.length > 0) await this.placeLinks(twins);
      await this.checkpointing;
      await this.staged.publishAll();
    } catch (err) {
      // A run that ends here (exit 1) records what it placed, or a re-run takes it for new mail and
      // undoes the origin's expunges and moves since. The drain above let every task settle.
      // Saved only where both sides committed (a far side that died cannot say its placements are
      // durable): otherwise the journal, checked against the disk by the next run, records them.
      await this.checkpointing.catch(() => undefined);
      const [a, b] = await Promise.allSettled([this.agents.a.commit(), this.agents.b.commit(), this.log?.sync()]);
      if (a.status === 'fulfilled' && b.status === 'fulfilled') await this.ctx.options.saveState(this.buildState(false)).catch(() => undefined);
      throw err;
    }
  }

  /** Sends a batch of one folder's transfers, each recorded as placed; `linking`: linked later where it can. */
  private async send(batch: Transfer[], linking: Twins | undefined): Promise<void> {
    const first = batch[0] as Transfer;
    const to = other(first.from);
    const intent = await this.log?.before(first.folder, to, batch.map((t) => t.record), this.staged.isStaged(to, first.folder));
    const placed: StateMessage[] = [];
    const bytesBefore = this.result.bytes;
    const deferred = await transferBatch(this.agents, batch, this.result, (folder, rec, side, p) => {
      if (this.record(folder, rec, side, p)) placed.push(rec);
    }, linking?.from(first.from) ? linking : undefined);
    if (intent) await this.log?.after(intent, placed);
    await this.placedInto(to, first.folder, batch.length - deferred);
    await this.ctx.options.pace?.(this.result.bytes - bytesBefore);
  }

  /** A move's target half, from bytes the side holds in another folder. */
  private async copy(group: RunContext['plan']['copies']): Promise<void> {
    const first = group[0];
    if (!first) return;
    const requests = await withSourceMtimes(this.agents[other(first.side)], group);
    const intent = await this.log?.before(first.folder, first.side, group.map((c) => c.record), this.staged.isStaged(first.side, first.folder));
    const placed = await this.agents[first.side].copyLocal(first.folder, requests);
    const recorded: StateMessage[] = [];
    placed.forEach((p, i) => {
      const c = group[i];
      if (!c) return;
      if (p.vanished) this.result.vanished++;
      else if (this.record(c.folder, c.record, c.side, p)) recorded.push(c.record);
    });
    if (intent) await this.log?.after(intent, recorded);
    await this.placedInto(first.side, first.folder, group.length);
  }

  /** Links (twins.ts), once the transfers they may link to are placed; what was not linked is sent. */
  private async placeLinks(twins: Twins): Promise<void> {
    const unlinked: Transfer[] = [];
    for (const group of groupBy(twins.links, (l) => `${l.side}\0${l.folder}`).values()) {
      this.queue.add(async () => {
        const { side, folder } = group[0] as Link;
        const ready: { l: Link; request: CopyRequest }[] = [];
        for (const l of group) {
          // After a transfer of this run: to the name its message got there, if it landed.
          const got = l.after ? l.after.record[side]?.guid : l.request.fromGuid;
          if (got !== undefined && (!l.after || this.landed.has(side, l.after.folder, got))) ready.push({ l, request: { ...l.request, fromGuid: got } });
          else unlinked.push(l.transfer);
        }
        const intent = ready.length > 0 ? await this.log?.before(folder, side, ready.map(({ l }) => l.transfer.record), this.staged.isStaged(side, folder)) : undefined;
        const placed = ready.length > 0 ? await this.agents[side].copyLocal(folder, ready.map((r) => r.request)) : [];
        if (placed.length !== ready.length) throw new MdsyncError('PROTOCOL', `the ${SIDE_NAME[side]} side answered ${placed.length} of ${ready.length} links in ${folder}`);
        const recorded: StateMessage[] = [];
        placed.forEach((p, i) => {
          const l = (ready[i] as { l: Link }).l;
          if (p.vanished) unlinked.push(l.transfer);
          else if (this.record(folder, l.transfer.record, side, p)) recorded.push(l.transfer.record);
        });
        if (intent) await this.log?.after(intent, recorded);
        const linked = placed.filter((p) => !p.vanished).length;
        this.result.summary.links[side] += linked;
        await this.placedInto(side, folder, linked);
      });
    }
    await this.queue.drain();
    if (unlinked.length === 0) return;
    for (const group of groupBy(unlinked, (t) => `${t.from}\0${t.folder}`).values()) {
      for (let i = 0; i < group.length; i += BATCH_MESSAGES) {
        const batch = group.slice(i, i + BATCH_MESSAGES);
        this.queue.add(() => this.send(batch, undefined));
      }
    }
    await this.queue.drain();
  }

  private async setFlags(): Promise<void> {
    const { plan, options } = this.ctx;
    const flagged = { done: 0, total: plan.flagChanges.length };
    if (flagged.total > 0) options.onProgress?.({ phase: 'flags', ...flagged });
    for (const group of groupBy(plan.flagChanges, (f) => `${f.side}\0${f.folder}`).values()) {
      const first = group[0] as (typeof group)[number];
      this.queue.add(async () => {
        const results = await this.agents[first.side].setFlags(first.folder, group.map((f) => f.delta));
        this.result.vanished += results.filter((r) => r.vanished).length;
        const dropped = results.filter((r) => r.dropped?.length);
        if (dropped.length > 0) forgetDropped(plan.keep[first.folder] ?? [], first.side, dropped);
        flagged.done += group.length;
        options.onProgress?.({ phase: 'flags', ...flagged });
      });
    }
    await this.queue.drain();
  }

  private async expunge(): Promise<void> {
    const { plan, options } = this.ctx;
    const expunges = expungesAfterPlacing(plan.expunges, this.landed);
    const expunged = { done: 0, total: expunges.length };
    if (expunged.total > 0) options.onProgress?.({ phase: 'expunge', ...expunged });
    for (const group of groupBy(expunges, (e) => `${e.side}\0${e.folder}`).values()) {
      const first = group[0] as (typeof group)[number];
      this.queue.add(async () => {
        await this.agents[first.side].expunge(first.folder, group.map((e) => e.guid));
        expunged.done += group.length;
        options.onProgress?.({ phase: 'expunge', ...expunged });
      });
    }
    await this.queue.drain();
  }
}

/**
 * A saved state's records folder by folder, each read when asked for (twins.ts looks hashes up in
 * them): all its folders, those of other passes and left out by -f too (a link is to bytes only).
 */
function* savedRecords(state: SyncState | undefined): Iterable<[string, () => StateMessage[]]> {
  for (const [name, sf] of Object.entries(state?.folders ?? {})) yield [name, () => sf.messages];
}

/** The kept records of a side lose the keywords its folder could not take. */
function forgetDropped(records: StateMessage[], side: Side, results: FlagResult[]): void {
  const byGuid = new Map(results.map((r) => [r.guid, r.dropped]));
  for (const rec of records) {
    const own = rec[side];
    const dropped = own && byGuid.get(own.guid);
    if (own && dropped) rec[side] = withoutKeywords(own, dropped);
  }
}

/** The sides' warnings since the last call, and whether another program changed a side the run reads from. */
export async function collectWarnings(agents: Record<Side, Agent>, result: RunResult, mode: Mode): Promise<void> {
  for (const side of ['a', 'b'] as const) {
    const { warnings, raced, changed } = await agents[side].drainWarnings();
    for (const w of warnings) result.warnings.push({ ...w, message: `${SIDE_NAME[side]} side: ${w.message}` });
    if (raced) result.raced = true;
    // Only a side the run reads from counts (a backup or one-way run does not take the second's changes).
    if (!changed || changed.length === 0 || (mode !== 'sync' && side === 'b')) continue;
    result.raced = true;
    const message = `changed on the ${SIDE_NAME[side]} side during the run (mail delivered, moved or flagged by another program): run again to include it`;
    for (const folder of changed) if (!result.warnings.some((w) => w.folder === folder && w.message === message)) result.warnings.push({ folder, message });
  }
}
