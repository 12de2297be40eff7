// RemoteAgent: the Agent operations of a far side, asked over a protocol session.

import type { Readable, Writable } from 'node:stream';
import { isStream } from '../body.js';
import { Digest } from '../digest.js';
import { MdsyncError } from '../errors.js';
import { quoted } from '../printable.js';
import type {
  BodyStream, Checksum, CopyRequest, Delivery, FlagDelta, FlagResult, FolderChanges, FolderList, FolderManifest, Hello, ListOptions, MtimeChange, Placed, ReadResult, UidlistRequest, Warning,
} from '../model.js';
import type { Agent } from '../sync/agent.js';
import { changesFromWire } from './changes.js';
import { Connection } from './connection.js';
import { textBeforeFrames } from './frame.js';
import { MAX_BATCH_BYTES, MAX_INLINE_BODY, PROTOCOL_MINOR, PROTOCOL_VERSION, REQUEST_ITEMS, STREAM_WINDOW } from './limits.js';
import { entryFromWire, minorOf, type Args, type Result } from './messages.js';
import { placedFromWire } from './placed.js';
import { PROGRAM, type OpenRequest } from './hello.js';
import { packDeliveries, type WireDelivery } from './deliveries.js';

/** What a RemoteAgent needs of its transport (src/remote/transport.ts): a byte stream to a serving mdsync, and what to say when it broke. */
export interface SessionStreams {
  input: Readable;
  output: Writable;
  /** Why the far side went away (its exit status and stderr), when known. */
  failure(): Promise<string | undefined>;
  close(): Promise<void>;
}

function chunksOf<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length > 0 ? out : [[]];
}

/** Re-cuts any body into pieces no larger than a frame may carry. */
async function* pieces(body: BodyStream | Uint8Array): AsyncGenerator<Uint8Array> {
  const source = isStream(body) ? body.chunks : [body];
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += MAX_INLINE_BODY) yield chunk.subarray(at, at + MAX_INLINE_BODY);
  }
}

export class RemoteAgent implements Agent {
  private constructor(
    private readonly connection: Connection,
    private readonly transport: SessionStreams,
    private readonly label: string,
    private readonly info: Hello,
    /** The far side's minor protocol version: which methods it knows (messages.ts). */
    private readonly farMinor: number,
  ) {}

  readonly linkedCopies = true;

  async checksum(folder: string, guids: string[]): Promise<(Checksum | null)[]> {
    const parts = await Promise.all(chunksOf(guids, REQUEST_ITEMS).map((part) => this.ask('checksum', { folder, guids: part })));
    const out = parts.flat();
    if (out.length !== guids.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${out.length} checksums for ${guids.length} messages`);
    return out;
  }

  async setMtimes(folder: string, items: MtimeChange[]): Promise<boolean[]> {
    const parts = await Promise.all(chunksOf(items, REQUEST_ITEMS).map((part) => this.ask('setMtimes', { folder, items: part })));
    const out = parts.flat();
    if (out.length !== items.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${out.length} answers for ${items.length} mtimes`);
    return out;
  }

  /** Says hello; a far side that never answers is described by its exit status and stderr. */
  static async connect(transport: SessionStreams, label: string, request: OpenRequest, timeoutMs: number, compress = false): Promise<RemoteAgent> {
    // Keep-alives all along, at a third of --timeout: the far side takes silence past it for our end.
    const connection = new Connection(transport.input, transport.output, { label, timeoutMs, heartbeatMs: Math.max(200, Math.floor(timeoutMs / 3)) });
    const { partialListings, ...open } = request;
    let answer: Result<'hello'>;
    try {
      const asked = { protocol: PROTOCOL_VERSION, minor: PROTOCOL_MINOR, program: PROGRAM, timeoutMs, ...open, ...(compress ? { compress } : {}), ...(partialListings ? { partialListings } : {}) };
      answer = await connection.request('hello', asked);
    } catch (err) {
      connection.close();
      const why = await transport.failure();
      await transport.close();
      const banner = err instanceof MdsyncError && err.code === 'PROTOCOL' ? textBeforeFrames(connection.firstBytes) : undefined;
      if (banner !== undefined) {
        throw new MdsyncError('PROTOCOL', `${label}: the far side sent text before mdsync spoke: ${quoted(banner, 64)} (a remote shell that prints at login breaks the protocol: keep it quiet for commands, e.g. nothing printed by ~/.bashrc when not interactive)`);
      }
      // A peer that cannot read this hello at all speaks another protocol (an mdsync before 3).
      if (err instanceof MdsyncError && err.code === 'PROTOCOL' && connection.refused > 0) {
        const said = err.message.slice(label.length + 2).replace(/^protocol error: /, '');
        throw new MdsyncError('PROTOCOL_VERSION', `${label}: the far side refused this mdsync's greeting (${said}): it speaks another protocol version; install the same mdsync version on both sides`);
      }
      if (err instanceof MdsyncError && err.code !== 'REMOTE') throw err;
      throw why ? new MdsyncError('REMOTE', `${label}: ${why}`) : err;
    }
    if (answer.protocol !== PROTOCOL_VERSION) {
      connection.close();
      await transport.close();
      throw new MdsyncError('PROTOCOL_VERSION', `${label}: remote ${answer.program} speaks protocol ${answer.protocol}, this one (${PROGRAM}) speaks ${PROTOCOL_VERSION}: install the same mdsync version on both sides`);
    }
    connection.deflateFrames(compress);
    const hello: Hello = { id: answer.id, version: answer.program, layout: answer.layout, root: answer.root };
    return new RemoteAgent(connection, transport, label, hello, answer.minor ?? 0);
  }

  /** Protocol bytes sent to and received from the far side so far. */
  traffic(): { sent: number; received: number } {
    return { sent: this.connection.sent, received: this.connection.received };
  }

  get layout(): Hello['layout'] {
    return this.info.layout;
  }

  private ask<M extends Parameters<Connection['request']>[0]>(method: M, args: Args<M>): Promise<Result<M>> {
    if (minorOf(method) > this.farMinor) {
      return Promise.reject(new MdsyncError('PROTOCOL_VERSION', `${this.label}: remote ${this.info.version} does not know ${method} (protocol ${PROTOCOL_VERSION}.${minorOf(method)}, it speaks ${PROTOCOL_VERSION}.${this.farMinor}): install the same mdsync version on both sides`));
    }
    return this.connection.request(method, args).catch(async (err: unknown) => { throw await this.explain(err); });
  }

  private explained?: Promise<MdsyncError>;

  /** A far side that went away mid-run: say how it ended and what it printed on stderr. */
  private async explain(err: unknown): Promise<unknown> {
    if (!(err instanceof MdsyncError) || err.code !== 'REMOTE' || err !== this.connection.error) return err;
    this.explained ??= this.transport.failure().then((why) => (why ? new MdsyncError('REMOTE', `${err.message}; ${why}`) : err));
    return this.explained;
  }

  async hello(): Promise<Hello> {
    return this.info;
  }

  async lock(): Promise<void> {
    await this.ask('lock', {});
  }

  async unlock(): Promise<void> {
    await this.ask('unlock', {});
  }

  async listFolders(options: ListOptions = {}): Promise<FolderList> {
    const list = await this.ask('listFolders', options);
    const partial = new Set(list.partial ?? []);
    return {
      folders: list.folders.map(([name, digest, messages, uids, uidValidity, damaged, unreadable]) => ({
        name, digest, messages, uids, ...(uidValidity === null ? {} : { uidValidity }), ...(damaged === null ? {} : { damaged }),
        ...(unreadable === null ? {} : { unreadable }), ...(partial.has(name) ? { partial: true } : {}),
      })),
      subscriptions: list.subscriptions,
    };
  }

  async manifest(folder: string): Promise<FolderManifest> {
    // Pages of one scan: if the far side rescanned between pages (a neighbour changed the folder), start over.
    for (let attempt = 0; attempt < 3; attempt++) {
      const first = await this.ask('manifest', { folder, start: 0 });
      const entries = first.entries.map(entryFromWire);
      let consistent = true;
      while (entries.length < first.total) {
        const page = await this.ask('manifest', { folder, start: entries.length });
        if (page.digest !== first.digest || page.total !== first.total || page.entries.length === 0) {
          consistent = false;
          break;
        }
        entries.push(...page.entries.map(entryFromWire));
      }
      if (!consistent) continue;
      if (entries.length !== first.total) throw new MdsyncError('PROTOCOL', `${this.label}: manifest of ${folder} has ${entries.length} entries, ${first.total} announced`);
      const m: FolderManifest = { name: folder, digest: first.digest, messages: entries };
      if (first.uidValidity !== undefined) m.uidValidity = first.uidValidity;
      if (first.nextUid !== undefined) m.nextUid = first.nextUid;
      if (first.mailboxGuid !== undefined) m.mailboxGuid = first.mailboxGuid;
      if (first.skipped !== undefined && first.skipped.length > 0) m.skipped = first.skipped;
      return m;
    }
    throw new MdsyncError('CHANGED_DURING_RUN', `${this.label}: folder ${folder} kept changing while its manifest was read; run again`);
  }

  async release(folders: string[]): Promise<void> {
    if (folders.length === 0) return;
    await Promise.all(chunksOf(folders, REQUEST_ITEMS).map((part) => this.ask('release', { folders: part }))).catch(() => undefined);
  }

  async prepare(folders: string[]): Promise<void> {
    if (folders.length === 0) return;
    await this.ask('prepare', { folders: folders.slice(0, REQUEST_ITEMS) }).catch(() => undefined);
  }

  async changes(folder: string, since: string): Promise<FolderChanges | undefined> {
    // A digest not in this version's form matches no listing there.
    if (!Digest.parse(since)) return undefined;
    const answer = await this.ask('changes', { folder, since });
    return answer ? changesFromWire(answer, this.label, folder) : undefined;
  }

  async mtimes(folder: string, guids: string[]): Promise<(number | null)[]> {
    const parts = await Promise.all(chunksOf(guids, REQUEST_ITEMS).map((part) => this.ask('mtimes', { folder, guids: part })));
    const out = parts.flat();
    if (out.length !== guids.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${out.length} mtimes for ${guids.length} messages`);
    return out;
  }

  async hash(folder: string, guids: string[]): Promise<(string | null)[]> {
    const parts = await Promise.all(chunksOf(guids, REQUEST_ITEMS).map((part) => this.ask('hash', { folder, guids: part })));
    const out = parts.flat();
    if (out.length !== guids.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${out.length} hashes for ${guids.length} messages`);
    return out;
  }

  async *read(folder: string, guids: string[]): AsyncIterable<ReadResult[]> {
    let at = 0;
    while (at < guids.length) {
      const asked = guids.slice(at, at + REQUEST_ITEMS);
      const items = await this.ask('read', { folder, guids: asked });
      if (items.length === 0 || items.length > asked.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${items.length} messages read for ${asked.length} asked`);
      // Every item checked before any is handed on: a bad one fails the whole answer.
      const batch = items.map((item, i): ReadResult => {
        if (item.guid !== asked[i]) throw new MdsyncError('PROTOCOL', `${this.label}: sent message ${item.guid} where ${asked[i]} was asked for`);
        if (item.vanished) return { guid: item.guid, vanished: true };
        const got: ReadResult = { guid: item.guid, mtime: item.mtime ?? Date.now() };
        if (item.hash !== undefined) got.hash = item.hash;
        if (item.inode !== undefined && item.hash !== undefined && item.data) got.inode = item.inode;
        if (item.data) got.data = item.data;
        else if (item.stream !== undefined && item.size !== undefined) got.data = { size: item.size, chunks: this.pull(item.stream, item.size, item.guid) };
        else throw new MdsyncError('PROTOCOL', `${this.label}: message ${item.guid} came without its bytes`);
        return got;
      });
      yield batch;
      at += items.length;
    }
  }

  /** Pulls a large body chunk by chunk, a few requests ahead, never more than the window in memory. */
  private async *pull(stream: number, size: number, guid: string): AsyncGenerator<Uint8Array> {
    const ahead: Promise<Uint8Array>[] = [];
    let seq = 0;
    let received = 0;
    let requested = 0;
    try {
      for (;;) {
        while (ahead.length < STREAM_WINDOW && requested < size) {
          ahead.push(this.ask('readChunk', { stream, seq: seq++ }));
          requested += MAX_INLINE_BODY;
        }
        const next = ahead.shift();
        if (!next) break;
        const chunk = await next;
        if (chunk.length === 0) break;
        received += chunk.length;
        if (received > size) throw new MdsyncError('PROTOCOL', `${this.label}: message ${guid} is longer than the ${size} bytes announced`);
        // Chunks may be shorter than the most a frame holds: ask for more until the size is reached.
        if (chunk.length < MAX_INLINE_BODY) requested -= MAX_INLINE_BODY - chunk.length;
        yield chunk;
        if (received === size) break;
      }
      if (received !== size) throw new MdsyncError('PROTOCOL', `${this.label}: message ${guid} ended after ${received} of ${size} bytes`);
    } finally {
      await Promise.allSettled(ahead);
      void this.ask('closeStream', { stream }).catch(() => undefined);
    }
  }

  async deliver(folder: string, items: Delivery[]): Promise<Placed[]> {
    const out: Placed[] = new Array<Placed>(items.length);
    const work: Promise<void>[] = [];
    let batch: number[] = [];
    let batchBytes = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      const indices = batch;
      batch = [];
      batchBytes = 0;
      const wire = indices.map((i) => wireDelivery(items[i] as Delivery));
      const wanted = wire.map((w) => w.guid);
      const answered = this.ask('deliver', packDeliveries(folder, wire)).then((packed) => placedFromWire(packed, wanted, this.label, folder));
      work.push(answered.then((placed) => {
        if (placed.length !== indices.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${placed.length} results for ${indices.length} deliveries`);
        placed.forEach((p, j) => { out[indices[j] as number] = p; });
      }));
    };
    for (const [i, item] of items.entries()) {
      if (isStream(item.data) || item.data.length > MAX_INLINE_BODY) {
        work.push(this.upload(folder, item).then((p) => { out[i] = p; }));
        continue;
      }
      batch.push(i);
      batchBytes += item.data.length;
      if (batchBytes >= MAX_BATCH_BYTES || batch.length >= REQUEST_ITEMS) flush();
    }
    flush();
    const settled = await Promise.allSettled(work);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  /** Sends one large body in chunks; each chunk is acknowledged once the far side has taken it. */
  private async upload(folder: string, item: Delivery): Promise<Placed> {
    const { data, ...meta } = item;
    const size = isStream(data) ? data.size : data.length;
    const stream = await this.ask('upload', { folder, item: { ...wireMeta(meta), size } });
    const inFlight: Promise<unknown>[] = [];
    let seq = 0;
    try {
      for await (const piece of pieces(data)) {
        if (inFlight.length >= STREAM_WINDOW) await inFlight.shift();
        inFlight.push(this.ask('uploadChunk', { stream, seq: seq++, data: piece }));
      }
      await Promise.all(inFlight);
    } catch (err) {
      await Promise.allSettled(inFlight);
      void this.ask('closeStream', { stream }).catch(() => undefined);
      throw err;
    }
    return this.ask('uploadEnd', { stream });
  }

  async copyLocal(folder: string, items: CopyRequest[]): Promise<Placed[]> {
    const parts = await Promise.all(chunksOf(items, REQUEST_ITEMS).map((part) => this.ask('copyLocal', { folder, items: part })));
    const out = parts.flat();
    if (out.length !== items.length) throw new MdsyncError('PROTOCOL', `${this.label}: ${out.length} answers for ${items.length} copies`);
    return out;
  }

  async setFlags(folder: string, deltas: FlagDelta[]): Promise<FlagResult[]> {
    const parts = await Promise.all(chunksOf(deltas, REQUEST_ITEMS).map((part) => this.ask('setFlags', { folder, deltas: part })));
    return parts.flat();
  }

  async expunge(folder: string, guids: string[]): Promise<number> {
    const parts = await Promise.all(chunksOf(guids, REQUEST_ITEMS).map((part) => this.ask('expunge', { folder, guids: part })));
    return parts.reduce((a, b) => a + b, 0);
  }

  async createFolder(name: string, options: { staged?: boolean } = {}): Promise<void> {
    await this.ask('createFolder', options.staged === true ? { folder: name, staged: true } : { folder: name });
  }

  async stageFolder(name: string): Promise<boolean> {
    return this.ask('stageFolder', { folder: name });
  }

  async publishFolder(name: string): Promise<void> {
    await this.ask('publishFolder', { folder: name });
  }

  deleteFolder(name: string): Promise<boolean> {
    return this.ask('deleteFolder', { folder: name });
  }

  async writeSubscriptions(names: string[]): Promise<void> {
    await this.ask('writeSubscriptions', { names });
  }

  writeUidlist(folder: string, request: UidlistRequest): Promise<boolean> {
    return this.ask('writeUidlist', { folder, ...request });
  }

  async commit(): Promise<void> {
    await this.ask('commit', {});
  }

  async drainWarnings(): Promise<{ warnings: Warning[]; raced: boolean; changed?: string[] }> {
    return this.ask('drainWarnings', {});
  }

  async close(): Promise<void> {
    try {
      await this.connection.bye();
    } finally {
      await this.transport.close();
    }
  }
}

function wireMeta(d: Omit<Delivery, 'data'>): Omit<Args<'upload'>['item'], 'size'> {
  const meta: Omit<Args<'upload'>['item'], 'size'> = { guid: d.guid, mtime: Math.max(0, Math.round(d.mtime)), flags: d.flags, keywords: d.keywords, location: d.location };
  if (d.infoRest !== undefined) meta.infoRest = d.infoRest;
  return meta;
}

function wireDelivery(d: Delivery): WireDelivery {
  // The body set on the meta's own object, not spread into a second: made for every message a first copy sends.
  const item = wireMeta(d) as WireDelivery;
  item.data = d.data as Uint8Array;
  return item;
}
