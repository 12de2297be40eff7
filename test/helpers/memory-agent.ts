// An Agent over a Maildir held in memory: the real runner (runSync) without a disk. Messages are
// bytes under a base name with flags, keywords and a location; names are never reused, deliveries
// keep the wished name when it is free or holds the same bytes, and a side tells what changed since
// a digest it listed before (the narrowed path a local side takes through its scan cache).

import { createHash } from 'node:crypto';
import { digestEntries } from '../../src/digest.js';
import { MdsyncError } from '../../src/errors.js';
import type {
  CopyRequest, Delivery, FlagDelta, FlagResult, FolderChanges, FolderList, FolderManifest, Hello, Location, MessageEntry, Placed, ReadResult, UidlistRequest, Warning,
} from '../../src/model.js';
import type { Agent } from '../../src/sync/agent.js';

export interface MemoryMessage {
  bytes: Uint8Array;
  flags: string;
  keywords: string[];
  location: Location;
  mtime: number;
}

export interface MemoryFolder {
  messages: Map<string, MemoryMessage>;
  uidlist?: UidlistRequest;
}

/** One side's Maildir: folders by name (INBOX the root), subscriptions. */
export class MemoryMaildir {
  readonly folders = new Map<string, MemoryFolder>();
  subscriptions = new Set<string>();
  /** Every base name the Maildir ever held (a Maildir never reuses one). */
  readonly used = new Set<string>();
  private fresh = 0;

  constructor(readonly host: string) {}

  /** A copy to run on while this one stays as it is. */
  clone(): MemoryMaildir {
    const c = new MemoryMaildir(this.host);
    for (const [name, f] of this.folders) {
      const copy: MemoryFolder = { messages: new Map([...f.messages].map(([g, m]) => [g, { ...m, keywords: [...m.keywords] }])) };
      if (f.uidlist) copy.uidlist = structuredClone(f.uidlist);
      c.folders.set(name, copy);
    }
    c.subscriptions = new Set(this.subscriptions);
    for (const g of this.used) c.used.add(g);
    c.fresh = this.fresh;
    return c;
  }

  /** Every message as a user sees it (folder, bytes, flags, keywords, location, arrival), sorted. */
  contents(): string[] {
    const out: string[] = [];
    for (const [name, f] of this.folders) {
      for (const m of f.messages.values()) out.push(`${name} ${Buffer.from(m.bytes).toString('latin1').trim()} ${m.flags} [${m.keywords.join(' ')}] ${m.location} ${m.mtime}`);
    }
    return out.sort();
  }

  folder(name: string): MemoryFolder {
    const f = this.folders.get(name);
    if (!f) throw new MdsyncError('IO', `${this.host}: no folder ${name}`);
    return f;
  }

  place(folder: string, guid: string, m: MemoryMessage): void {
    this.folder(folder).messages.set(guid, m);
    this.used.add(guid);
  }

  /** A name never held before, with the size the scan reads from it. */
  freshName(size: number): string {
    return `fresh${++this.fresh}.${this.host},S=${size}`;
  }
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const sortChars = (s: string): string => [...new Set(s)].sort().join('');

export interface MemoryAgentOptions {
  /** The manifest carries each message's hash (as a side with a warm hash cache does); else the run asks hash(). */
  knowsHashes?: boolean;
}

/** Calls a run made, for a test to tell which path it took. */
export interface MemoryAgentCalls {
  /** Folders whose whole manifest was read. */
  manifests: string[];
  /** Folders a side told only the changes of. */
  changes: string[];
}

export class MemoryAgent implements Agent {
  readonly calls: MemoryAgentCalls = { manifests: [], changes: [] };
  /** Manifests this side listed, by digest: what `changes` compares against. */
  private readonly listed = new Map<string, Map<string, MessageEntry>>();
  private locked = false;

  constructor(readonly maildir: MemoryMaildir, readonly id: string, private readonly options: MemoryAgentOptions = {}) {}

  async hello(): Promise<Hello> {
    return { id: this.id, version: 'memory', layout: 'maildir++', root: `memory:${this.maildir.host}` };
  }

  async lock(): Promise<void> {
    if (this.locked) throw new MdsyncError('LOCKED', `${this.maildir.host} is locked by another run`);
    this.locked = true;
  }

  async unlock(): Promise<void> {
    this.locked = false;
  }

  private entries(name: string): MessageEntry[] {
    const f = this.maildir.folder(name);
    const uids = new Map((f.uidlist?.uids ?? []).map(([guid, uid]) => [guid, uid]));
    const out = [...f.messages].map(([guid, m]) => {
      // The size comes from the name's `,S=`, as a scan reads it (a colliding name carries the other's).
      const size = /,S=(\d+)$/.exec(guid)?.[1];
      const e: MessageEntry = { guid, flags: m.flags, keywords: [...m.keywords], location: m.location };
      if (size !== undefined) e.size = Number(size);
      if (this.options.knowsHashes) e.hash = sha256(m.bytes);
      const uid = uids.get(guid);
      if (uid !== undefined) e.uid = uid;
      return e;
    });
    return out.sort((x, y) => (x.guid < y.guid ? -1 : 1));
  }

  private remember(messages: MessageEntry[], digest: string): void {
    this.listed.set(digest, new Map(messages.map((e) => [e.guid, e])));
  }

  async listFolders(options?: { folders?: string[] }): Promise<FolderList> {
    const names = [...this.maildir.folders.keys()].filter((n) => !options?.folders || options.folders.includes(n)).sort();
    return {
      folders: names.map((name) => {
        const messages = this.entries(name);
        const digest = digestEntries(messages);
        this.remember(messages, digest);
        const uidlist = this.maildir.folder(name).uidlist;
        return {
          name, digest, messages: messages.length,
          uids: uidlist ? JSON.stringify(uidlist) : '',
          ...(uidlist ? { uidValidity: uidlist.uidValidity } : {}),
        };
      }),
      subscriptions: [...this.maildir.subscriptions].sort(),
    };
  }

  async manifest(folder: string): Promise<FolderManifest> {
    this.calls.manifests.push(folder);
    const messages = this.entries(folder);
    const digest = digestEntries(messages);
    this.remember(messages, digest);
    const uidlist = this.maildir.folder(folder).uidlist;
    return { name: folder, messages, digest, ...(uidlist ? { uidValidity: uidlist.uidValidity, nextUid: uidlist.nextUid } : {}) };
  }

  async changes(folder: string, since: string): Promise<FolderChanges | undefined> {
    const then = this.listed.get(since);
    if (!then) return undefined;
    this.calls.changes.push(folder);
    const now = this.entries(folder);
    const changed = now.filter((e) => {
      const was = then.get(e.guid);
      return !was || was.flags !== e.flags || was.location !== e.location || was.keywords.join(' ') !== e.keywords.join(' ');
    });
    const held = new Set(now.map((e) => e.guid));
    return { changed, gone: [...then.keys()].filter((g) => !held.has(g)) };
  }

  async hash(folder: string, guids: string[]): Promise<(string | null)[]> {
    const msgs = this.maildir.folder(folder).messages;
    return guids.map((g) => {
      const m = msgs.get(g);
      return m ? sha256(m.bytes) : null;
    });
  }

  async *read(folder: string, guids: string[]): AsyncIterable<ReadResult[]> {
    const msgs = this.maildir.folders.get(folder)?.messages;
    yield guids.map((guid) => {
      const m = msgs?.get(guid);
      return m ? { guid, data: m.bytes, mtime: m.mtime, hash: sha256(m.bytes) } : { guid, vanished: true };
    });
  }

  /** The wished name when free, "already there" for the same bytes, else a fresh name. */
  private put(folder: string, wanted: string, bytes: Uint8Array, f: { flags: string; keywords: string[]; location: Location; mtime: number }): Placed {
    const msgs = this.maildir.folder(folder).messages;
    const hash = sha256(bytes);
    let guid = wanted;
    const there = msgs.get(guid);
    if (there) {
      if (sha256(there.bytes) === hash) return { wanted, guid, hash, existed: true };
      guid = this.maildir.freshName(bytes.length);
    }
    this.maildir.place(folder, guid, { bytes, flags: sortChars(f.flags), keywords: [...f.keywords].sort(), location: f.location, mtime: f.mtime });
    return { wanted, guid, hash, existed: false };
  }

  async deliver(folder: string, items: Delivery[]): Promise<Placed[]> {
    return items.map((d) => {
      if (!(d.data instanceof Uint8Array)) throw new MdsyncError('IO', 'the memory agent takes whole bodies only');
      return this.put(folder, d.guid, d.data, d);
    });
  }

  async copyLocal(folder: string, items: CopyRequest[]): Promise<Placed[]> {
    return items.map((c) => {
      const from = this.maildir.folders.get(c.fromFolder)?.messages.get(c.fromGuid);
      if (!from || (c.hash !== undefined && sha256(from.bytes) !== c.hash)) return { wanted: c.guid, guid: c.guid, hash: '', existed: false, vanished: true };
      return this.put(folder, c.guid, from.bytes, { ...c, mtime: c.mtime ?? from.mtime });
    });
  }

  async setFlags(folder: string, deltas: FlagDelta[]): Promise<FlagResult[]> {
    const msgs = this.maildir.folder(folder).messages;
    return deltas.map((d) => {
      const m = msgs.get(d.guid);
      if (!m) return { guid: d.guid, vanished: true };
      m.flags = sortChars([...m.flags + d.addFlags].filter((ch) => !d.removeFlags.includes(ch)).join(''));
      m.keywords = [...new Set([...m.keywords, ...d.addKeywords])].filter((k) => !d.removeKeywords.includes(k)).sort();
      m.location = d.location ?? m.location;
      return { guid: d.guid, vanished: false };
    });
  }

  async expunge(folder: string, guids: string[]): Promise<number> {
    const msgs = this.maildir.folder(folder).messages;
    return guids.filter((g) => msgs.delete(g)).length;
  }

  async createFolder(name: string): Promise<void> {
    if (!this.maildir.folders.has(name)) this.maildir.folders.set(name, { messages: new Map() });
  }

  async deleteFolder(name: string): Promise<boolean> {
    const f = this.maildir.folders.get(name);
    if (!f) return true;
    if (name === 'INBOX' || f.messages.size > 0) return false;
    this.maildir.folders.delete(name);
    return true;
  }

  async writeSubscriptions(names: string[]): Promise<void> {
    this.maildir.subscriptions = new Set(names);
  }

  async writeUidlist(folder: string, request: UidlistRequest): Promise<boolean> {
    const f = this.maildir.folder(folder);
    if (JSON.stringify(f.uidlist) === JSON.stringify(request)) return false;
    f.uidlist = request;
    return true;
  }

  async commit(): Promise<void> {}

  async drainWarnings(): Promise<{ warnings: Warning[]; raced: boolean }> {
    return { warnings: [], raced: false };
  }

  async close(): Promise<void> {}
}
