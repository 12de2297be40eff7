// The serving side of a session: answers requests with one Agent, opened by `hello`.

import type { Readable, Writable } from 'node:stream';
import { isStream } from '../body.js';
import { MdsyncError } from '../errors.js';
import type { ReadResult } from '../model.js';
import type { Agent } from '../sync/agent.js';
import { PROGRAM, type OpenRequest } from './hello.js';
import { ChunkQueue } from './chunk-queue.js';
import { Connection } from './connection.js';
import { MANIFEST_PAGE, MAX_BATCH_BYTES, MAX_LIST, MAX_STREAMS, PROTOCOL_MINOR, PROTOCOL_VERSION } from './limits.js';
import { entryToWire, type Args, type Method, type Result } from './messages.js';
import { packPlaced } from './placed.js';
import { deliveriesFromWire } from './deliveries.js';

/** How long a session whose client is gone waits for work under way before the process ends. */
const ABANDON_AFTER_MS = 10_000;

/** A folder's skipped names, all of them or none: one left out would look expunged to the client. */
function skippedOnWire(skipped: string[], folder: string): string[] {
  if (skipped.length > MAX_LIST) {
    throw new MdsyncError('BAD_NAME', `folder ${folder} holds ${skipped.length} files that cannot be synced, more than one answer may name (${MAX_LIST}); rename or move them out`);
  }
  return skipped;
}

export interface ServeOptions {
  /** Opens the served Maildir with what the client asked for (create, layout, separator). */
  open(request: OpenRequest): Promise<Agent>;
  /** Diagnostics (stderr): never the protocol stream. */
  log(line: string): void;
  /**
   * Ends the process at once, its lock left in place: work stuck after the client left must not
   * go on writing unlocked, and a lock whose owner is gone is stale, so the next run takes it over
   * and recovers (a lock removed instead looks like a clean end, and nothing is recovered).
   */
  exitNow?(code: number): void;
}

interface ReadStream {
  kind: 'read';
  chunks: AsyncIterator<Uint8Array>;
  nextSeq: number;
  chain: Promise<unknown>;
}

interface Upload {
  kind: 'upload';
  queue: ChunkQueue;
  nextSeq: number;
  placed: Promise<Result<'uploadEnd'>>;
}

type Handlers = { [M in Method]: (args: Args<M>) => Promise<Result<M>> };

/** Serves one session; resolves with the exit status once it is over (0 after an orderly bye). */
export async function serveSession(input: Readable, output: Writable, options: ServeOptions): Promise<number> {
  let agent: Agent | undefined;
  const streams = new Map<number, ReadStream | Upload>();
  let nextStream = 1;
  let closing: Promise<void> | undefined;
  let orderly = false;

  let greeting: Promise<unknown> | undefined;
  // Requests pipelined behind hello wait for it; a request with no hello before it ends the session.
  const opened = async (): Promise<Agent> => {
    if (!greeting) throw new MdsyncError('PROTOCOL', 'a request arrived before hello');
    await greeting.catch(() => undefined);
    if (!agent) throw new MdsyncError('PROTOCOL', 'a request arrived after a failed hello');
    return agent;
  };
  const newStream = (s: ReadStream | Upload): number => {
    if (streams.size >= MAX_STREAMS) throw new MdsyncError('PROTOCOL', `more than ${MAX_STREAMS} message streams open at once`);
    const id = nextStream++;
    streams.set(id, s);
    return id;
  };
  const stream = <K extends 'read' | 'upload'>(id: number, kind: K): Extract<ReadStream | Upload, { kind: K }> => {
    const s = streams.get(id);
    if (!s || s.kind !== kind) throw new MdsyncError('PROTOCOL', `no open ${kind} stream ${id}`);
    return s as Extract<ReadStream | Upload, { kind: K }>;
  };
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      for (const s of streams.values()) {
        if (s.kind === 'read') await s.chunks.return?.().catch(() => undefined);
        else s.queue.abort(new MdsyncError('REMOTE', 'the session ended before the message was complete'));
      }
      streams.clear();
      await agent?.close();
    })();
    return closing;
  };

  const greet = async (args: Args<'hello'>): Promise<Result<'hello'>> => {
    if (args.protocol !== PROTOCOL_VERSION) {
      throw new MdsyncError('PROTOCOL_VERSION', `remote ${PROGRAM} speaks protocol ${PROTOCOL_VERSION}, this one (${args.program}) speaks ${args.protocol}: install the same mdsync version on both sides`);
    }
    connection.setKeepalive(Math.max(200, Math.floor(args.timeoutMs / 3)));
    // The client sends keep-alives all along: its silence past its --timeout is a dead client.
    connection.setIdleTimeout(args.timeoutMs);
    connection.deflateFrames(args.compress === true);
    const opening = await options.open({
      create: args.create, mkpath: args.mkpath, readOnly: args.readOnly, layout: args.layout, defaultLayout: args.defaultLayout, separator: args.separator, partialListings: args.partialListings === true,
    });
    agent = opening;
    const hello = await opening.hello();
    return { protocol: PROTOCOL_VERSION, minor: PROTOCOL_MINOR, program: PROGRAM, id: hello.id, layout: hello.layout, root: hello.root };
  };

  const handlers: Handlers = {
    hello(args) {
      if (greeting) throw new MdsyncError('PROTOCOL', 'hello sent twice');
      const answer = greet(args);
      greeting = answer;
      return answer;
    },
    lock: async () => { await (await opened()).lock(); return null; },
    unlock: async () => { await (await opened()).unlock(); return null; },
    async listFolders(options) {
      const list = await (await opened()).listFolders(options);
      return {
        folders: list.folders.map((f) => [f.name, f.digest, f.messages, f.uids, f.uidValidity ?? null, f.damaged ?? null, f.unreadable ?? null] as [string, string, number, string, number | null, string | null, string | null]),
        subscriptions: list.subscriptions,
        ...(list.folders.some((f) => f.partial) ? { partial: list.folders.filter((f) => f.partial).map((f) => f.name) } : {}),
      };
    },
    async manifest({ folder, start }) {
      const m = await (await opened()).manifest(folder);
      const page = { digest: m.digest, total: m.messages.length, entries: m.messages.slice(start, start + MANIFEST_PAGE).map(entryToWire) };
      return {
        ...page,
        ...(m.uidValidity !== undefined ? { uidValidity: m.uidValidity } : {}),
        ...(m.nextUid !== undefined ? { nextUid: m.nextUid } : {}),
        ...(m.mailboxGuid !== undefined ? { mailboxGuid: m.mailboxGuid } : {}),
        ...(m.skipped && start === 0 ? { skipped: skippedOnWire(m.skipped, folder) } : {}),
      };
    },
    async changes({ folder, since }) {
      const target = await opened();
      const got = target.changes ? await target.changes(folder, since) : undefined;
      // More than one page: the client pages through the manifest instead.
      if (!got || got.changed.length + got.gone.length > MANIFEST_PAGE || (got.skipped?.length ?? 0) > MANIFEST_PAGE) return null;
      return { changed: got.changed.map(entryToWire), gone: got.gone, ...(got.skipped ? { skipped: got.skipped } : {}) };
    },
    async prepare({ folders }) {
      // Answered at once: the loading goes on beside the requests that follow, which wait for a
      // folder's listing only when they write it.
      const target = await opened();
      void target.prepare?.(folders).catch(() => undefined);
      return null;
    },
    async release({ folders }) {
      await (await opened()).release?.(folders);
      return null;
    },
    hash: async ({ folder, guids }) => (await opened()).hash(folder, guids),
    async mtimes({ folder, guids }) {
      const target = await opened();
      return target.mtimes ? target.mtimes(folder, guids) : guids.map(() => null);
    },
    async checksum({ folder, guids }) {
      const target = await opened();
      if (!target.checksum) throw new MdsyncError('USAGE', 'this side cannot compare files for --checksum');
      return target.checksum(folder, guids);
    },
    async setMtimes({ folder, items }) {
      const target = await opened();
      if (!target.setMtimes) throw new MdsyncError('USAGE', 'this side cannot set mtimes for --checksum');
      return target.setMtimes(folder, items);
    },
    async read({ folder, guids }) {
      const out: Result<'read'> = [];
      let bytes = 0;
      // Whole bodies up to a batch's worth; a large body ends the batch as a stream to pull.
      reading: for await (const batch of (await opened()).read(folder, guids)) {
        for (const got of batch) {
          const item: Result<'read'>[number] = readItem(got);
          if (got.data && isStream(got.data)) {
            item.size = got.data.size;
            item.stream = newStream({ kind: 'read', chunks: got.data.chunks[Symbol.asyncIterator](), nextSeq: 0, chain: Promise.resolve() });
            out.push(item);
            break reading;
          }
          out.push(item);
          bytes += item.data?.length ?? 0;
          if (bytes >= MAX_BATCH_BYTES) break reading;
        }
      }
      return out;
    },
    readChunk({ stream: id, seq }) {
      const s = stream(id, 'read');
      if (seq !== s.nextSeq) throw new MdsyncError('PROTOCOL', `chunk ${seq} of stream ${id} asked for out of order (expected ${s.nextSeq})`);
      s.nextSeq++;
      const next = s.chain.then(() => s.chunks.next()).then((r) => (r.done ? new Uint8Array(0) : r.value));
      s.chain = next.catch(() => undefined);
      return next;
    },
    async closeStream({ stream: id }) {
      const s = streams.get(id);
      streams.delete(id);
      if (s?.kind === 'read') await s.chunks.return?.();
      else s?.queue.abort(new MdsyncError('REMOTE', 'the message upload was abandoned'));
      return null;
    },
    deliver: async (packed) => {
      // Unpacked (and every field checked) before the folder is opened or anything written.
      const items = deliveriesFromWire(packed);
      return packPlaced(await (await opened()).deliver(packed.folder, items));
    },
    async upload({ folder, item }) {
      const target = await opened();
      const queue = new ChunkQueue();
      const { size, ...meta } = item;
      const placed = target.deliver(folder, [{ ...meta, data: { size, chunks: queue } }]).then((p) => p[0] as Result<'uploadEnd'>);
      placed.catch((err: Error) => queue.abort(err));
      return newStream({ kind: 'upload', queue, nextSeq: 0, placed });
    },
    uploadChunk({ stream: id, seq, data }) {
      const s = stream(id, 'upload');
      if (seq !== s.nextSeq) throw new MdsyncError('PROTOCOL', `chunk ${seq} of upload ${id} out of order (expected ${s.nextSeq})`);
      s.nextSeq++;
      return s.queue.push(data).then(() => null, async (err: Error) => {
        // The write failed: its own error says why (disk full, …), not the queue's.
        throw await s.placed.then(() => err, (real: Error) => real);
      });
    },
    async uploadEnd({ stream: id }) {
      const s = stream(id, 'upload');
      streams.delete(id);
      s.queue.end();
      return s.placed;
    },
    copyLocal: async ({ folder, items }) => (await opened()).copyLocal(folder, items),
    setFlags: async ({ folder, deltas }) => (await opened()).setFlags(folder, deltas),
    expunge: async ({ folder, guids }) => (await opened()).expunge(folder, guids),
    createFolder: async ({ folder, staged }) => { await (await opened()).createFolder(folder, { staged: staged === true }); return null; },
    stageFolder: async ({ folder }) => (await (await opened()).stageFolder?.(folder)) === true,
    publishFolder: async ({ folder }) => { await (await opened()).publishFolder?.(folder); return null; },
    deleteFolder: async ({ folder }) => (await opened()).deleteFolder(folder),
    writeSubscriptions: async ({ names }) => { await (await opened()).writeSubscriptions(names); return null; },
    writeUidlist: async ({ folder, ...request }) => (await opened()).writeUidlist(folder, request),
    commit: async () => { await (await opened()).commit(); return null; },
    drainWarnings: async () => (await opened()).drainWarnings(),
  };

  const connection = new Connection(input, output, {
    label: 'client',
    handle: (method, args) => (handlers[method] as (a: unknown) => Promise<unknown>)(args),
    onBye: async () => {
      orderly = true;
      await shutdown();
    },
    keepaliveMs: 5_000,
  });
  await connection.done;
  const closed = shutdown().then(() => true, (err: Error) => { options.log(`mdsync serve: ${err.message}`); return true; });
  // Work stuck (a hung filesystem) must not keep going a session nobody is on any more.
  const settled = await Promise.race([closed, new Promise<false>((resolve) => setTimeout(() => resolve(false), ABANDON_AFTER_MS).unref())]);
  // Known only now: a bye that came with requests still being answered is handled after the stream's end.
  if (orderly) {
    await closed;
    return 0;
  }
  const why = connection.error?.message ?? 'the connection ended without bye';
  options.log(`mdsync serve: ${why}`);
  if (!settled) {
    options.log('mdsync serve: work still under way after the client left; serve exits, and the next run takes its lock over');
    options.exitNow?.(1);
  }
  return 1;
}

function readItem(got: ReadResult): Result<'read'>[number] {
  const item: Result<'read'>[number] = { guid: got.guid };
  if (got.vanished) item.vanished = true;
  if (got.mtime !== undefined) item.mtime = got.mtime;
  if (got.hash !== undefined) item.hash = got.hash;
  if (got.inode !== undefined && got.hash !== undefined) item.inode = got.inode;
  if (got.data && !isStream(got.data)) item.data = got.data;
  return item;
}
