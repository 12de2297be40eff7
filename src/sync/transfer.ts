// Sending a batch of one folder's messages to the other side: file to file where both sides are
// on this machine, else read from one side and delivered to the other, small bodies gathered per
// request, large ones streamed one at a time.

import { bodySize, isStream } from '../body.js';
import { MdsyncError } from '../errors.js';
import type { Delivery, FileDelivery, Placed } from '../model.js';
import type { Agent } from './agent.js';
import type { Transfer } from './plan.js';
import type { RunResult } from './run-types.js';
import { other, SIDE_NAME, type Side, type StateMessage } from './state.js';
import { BATCH_BYTES } from './tuning.js';
import type { Twins } from './twins.js';

/** Transfers a batch of one folder's messages; returns how many were left to `twins` to link (not sent). */
export async function transferBatch(
  agents: Record<Side, Agent>, batch: Transfer[], result: RunResult,
  record: (folder: string, rec: StateMessage, to: Side, placed: Placed) => void, twins?: Twins,
): Promise<number> {
  const first = batch[0];
  if (!first) return 0;
  let deferred = 0;
  const from = first.from;
  const to = other(from);
  const source = agents[from];
  const target = agents[to];
  if (source.locate && target.deliverFiles) {
    // Both sides on this machine: file to file, the bytes never pass through here.
    const paths = await source.locate(first.folder, batch.map((t) => t.sourceGuid));
    let located = batch.flatMap((t, i) => (paths[i] ? [{ t, path: paths[i] as string }] : []));
    const done = new Set<Transfer>();
    const deliver = async (options: { twins?: boolean }): Promise<void> => {
      const delivered = await (target.deliverFiles as NonNullable<Agent['deliverFiles']>)(first.folder, located.map(({ t, path }) => {
        const item: FileDelivery = { guid: t.sourceGuid, path, flags: t.flags, keywords: t.keywords, location: t.location };
        if (t.infoRest !== undefined) item.infoRest = t.infoRest;
        return item;
      }), options);
      const again: typeof located = [];
      delivered.forEach((p, i) => {
        const at = located[i];
        if (!p || !at) return;
        if ('twin' in p) {
          // A file with other names: linked later, or (the first of its names) copied now.
          if (twins?.found(at.t, p.twin)) {
            done.add(at.t);
            deferred++;
          } else {
            again.push(at);
          }
          return;
        }
        done.add(at.t);
        result.bytes += p.size;
        record(first.folder, at.t.record, to, p);
      });
      located = again;
    };
    await deliver({ twins: twins !== undefined });
    if (located.length > 0) await deliver({});
    // What could not go file to file (moved meanwhile, large, a name taken) goes the usual way.
    batch = batch.filter((t) => !done.has(t));
    if (batch.length === 0) return deferred;
  }
  const bySource = new Map(batch.map((t) => [t.sourceGuid, t]));
  let pending: { t: Transfer; d: Delivery }[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    pendingBytes = 0;
    const placed = await agents[to].deliver(first.folder, items.map((p) => p.d));
    placed.forEach((p, i) => {
      const item = items[i];
      if (!item) return;
      if (!p.existed) result.bytes += bodySize(item.d.data);
      record(first.folder, item.t.record, to, p);
    });
  };
  for await (const results of agents[from].read(first.folder, batch.map((t) => t.sourceGuid))) for (const got of results) {
    const t = bySource.get(got.guid);
    if (!t) throw new MdsyncError('IO', `the ${SIDE_NAME[from]} side sent a message that was not asked for: ${got.guid}`);
    if (got.vanished || !got.data) {
      result.vanished++;
      continue;
    }
    if (got.inode !== undefined && got.hash !== undefined && !isStream(got.data) && twins?.found(t, { inode: got.inode, hash: got.hash, mtime: got.mtime ?? Date.now() })) {
      deferred++;
      continue;
    }
    const d: Delivery = { guid: t.sourceGuid, data: got.data, mtime: got.mtime ?? Date.now(), flags: t.flags, keywords: t.keywords, location: t.location };
    if (t.infoRest !== undefined) d.infoRest = t.infoRest;
    if (isStream(got.data)) {
      // A streamed body is consumed by its delivery before the source reads on.
      await flush();
      pending.push({ t, d });
      await flush();
      continue;
    }
    pending.push({ t, d });
    pendingBytes += got.data.length;
    if (pendingBytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return deferred;
}
