// LocalAgent: the Agent operations on one Maildir root on this machine.

import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError } from '../errors.js';
import type {
  Checksum, FolderChanges, CopyRequest, Delivery, FileDelivered, FileDelivery, FlagDelta, FlagResult, FolderList, FolderManifest, ListOptions, FolderSummary, Hello, Layout, MtimeChange, Placed, ReadResult, TwinFound, UidlistRequest, Warning,
} from '../model.js';
import { VERSION } from '../version.js';
import { checksumMany, setMtimesOf } from './checksum.js';
import { Confinement } from './confine.js';
import { CONTROL_FILE_MAX, readControlText } from './control-file.js';
import { copyLocal } from './copy-local.js';
import { createFolder, deleteFolder, stageContents, type Folders } from './folder-admin.js';
import type { MaildirFolder } from './folder.js';
import { cleanTmp } from './folder-dirs.js';
import { hashMessages, locateMessages, readMessages } from './read.js';
import { expunge, setFlags } from './rename.js';
import { listFolderDirs, validateFolderName, type FolderDir } from './layout.js';
import { removeLeftovers } from './leftovers.js';
import { summarizeFolders, type Listing } from './listing.js';
import { Dotlock } from './lock.js';
import { mtimesOf } from './mtimes.js';
import type { Separator } from './name.js';
import { expectFiles } from './io/lazy-pool.js';
import { FolderRegistry } from './registry.js';
import { openRoot, writeDenied } from './root.js';
import { defaultCacheDir, loadCache, saveCache, type ScanCache } from './scan-cache.js';
import { formatSubscriptions, parseSubscriptions } from './subscriptions.js';
import { fromErrno, fsyncDir, type Owner, replaceFile } from './disk.js';

export interface LocalAgentOptions {
  /** Forces a layout (`--layout`). */
  layout?: Layout;
  /** Layout when the root has no folder to detect it from (a new destination takes the source's). */
  defaultLayout?: Layout;
  separator?: Separator;
  /** Create the root when it does not exist (a backup's destination): its last component only, unless `mkpath`. */
  create?: boolean;
  /** With `create`: its missing parent directories too (`--mkpath`). */
  mkpath?: boolean;
  /**
   * The run only reads this side (a backup's source): it must hold a Maildir already (an empty or
   * foreign directory is an error, never an empty source), and where it cannot be written it is
   * read without its lock, with a warning.
   */
  readOnly?: boolean;
  cacheDir?: string;
  /** A folder that never holds still is listed partially (FolderSummary.partial) rather than failing the run: for a caller that reads the mark. */
  partialListings?: boolean;
}

const LOCK_NAME = 'mdsync.lock';
const LOCK_STALE_MS = 5 * 60_000;
const LOCK_TOUCH_MS = 60_000;

export class LocalAgent {
  readonly linkedCopies = true;
  private readonly registry: FolderRegistry;
  private readonly confinement: Confinement;
  private cache?: ScanCache;
  private lockFile?: Dotlock;
  private lockTimer?: NodeJS.Timeout;
  private warnings: Warning[] = [];
  private readonly warned = new Set<string>();
  private raced = false;
  /** The last run here was killed: its temp files are removed once the folders are listed. */
  private recovering = false;
  /** The listings read ahead (prefetch), settled or failed. */
  private prefetching?: Promise<void>;
  private cacheChanged = false;
  /** Releases under way: close() waits for them. */
  private readonly releases = new Set<Promise<void>>();
  /** Directories of released folders written since the last commit (to fsync). */
  private readonly uncommitted = new Set<string>();

  private constructor(
    readonly root: string,
    readonly layout: Layout,
    private readonly cacheDir: string,
    private readonly id: string,
    private readonly readOnly: boolean,
    registry: { separator: Separator; owner?: Owner; partialListings: boolean },
  ) {
    this.confinement = new Confinement(root);
    this.owner = registry.owner;
    this.registry = new FolderRegistry({
      root, layout, ...registry, confine: this.confinement,
      events: (name) => ({ warn: (message) => this.warn(name, message), raced: () => { this.raced = true; } }),
    });
  }

  private readonly owner?: Owner;

  static async open(rootPath: string, options: LocalAgentOptions = {}): Promise<LocalAgent> {
    const r = await openRoot(rootPath, options);
    return new LocalAgent(r.root, r.layout, options.cacheDir ?? defaultCacheDir(), r.id, options.readOnly ?? false, {
      separator: options.separator ?? ':', partialListings: options.partialListings ?? false, ...(r.owner ? { owner: r.owner } : {}),
    });
  }

  async hello(): Promise<Hello> {
    return { id: this.id, version: VERSION, layout: this.layout, root: this.root };
  }

  async lock(): Promise<void> {
    const denied = await writeDenied(this.root);
    if (denied && !this.readOnly) {
      throw new MdsyncError(denied.code, `Maildir ${this.root} cannot be written (${denied.why}): it cannot be locked, and only a backup's source is read without its lock`);
    }
    if (denied) {
      // Nothing is written here, the lock included: the scan tolerates a writer as it does Dovecot.
      this.warn(undefined, `Maildir ${this.root} cannot be written (${denied.why}): read without its lock: a program writing to it meanwhile is not kept out (a change it makes during the run is reported: run again)`);
      return;
    }
    this.lockFile = await Dotlock.acquire(join(this.root, LOCK_NAME), { staleMs: LOCK_STALE_MS, waitMs: 0, what: `Maildir ${this.root}`, startTicks: true });
    this.recovering = this.lockFile.tookOver;
    // Keep the lock fresh so a long run is never mistaken for a dead one.
    this.lockTimer = setInterval(() => {
      const now = new Date();
      utimes(join(this.root, LOCK_NAME), now, now).catch(() => undefined);
    }, LOCK_TOUCH_MS);
    this.lockTimer.unref();
  }

  /** Temp files of the killed run: half-written messages in tmp/, control files never renamed into place. */
  private async removeLeftovers(dirs: string[]): Promise<void> {
    let removed = 0;
    for (const dir of dirs) {
      for (const where of [join(this.root, dir), join(this.root, dir, 'tmp')]) removed += await removeLeftovers(where).catch(() => 0);
    }
    if (removed > 0) this.warn(undefined, `removed ${removed} temporary file${removed === 1 ? '' : 's'} left by an interrupted run`);
  }

  async unlock(): Promise<void> {
    await this.publishLeftStaged();
    await this.releaseLock();
  }

  private async releaseLock(): Promise<void> {
    if (this.lockTimer) clearInterval(this.lockTimer);
    const lock = this.lockFile;
    this.lockFile = undefined;
    await lock?.release();
  }

  /**
   * Folders a failed run staged and never published: their files are durable copies no saved
   * state claims, so they are published as they are (the next run finds them there), or removed
   * when even that fails.
   */
  private async publishLeftStaged(): Promise<void> {
    for (const folder of this.registry.live()) {
      if (!folder.staged) continue;
      await folder.publish((dir) => this.confinement.folder(dir)).catch(async (err) => {
        this.warn(folder.name, `folder ${folder.name} was not published: ${(err as Error).message}; the copies made of its messages were removed`);
        await folder.discard();
        this.registry.forget(folder.name);
      });
    }
  }

  private warn(folder: string | undefined, message: string): void {
    // A rescan after a race finds the same odd file again: reported once per run.
    const key = `${folder ?? ''}\0${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push(folder === undefined ? { message } : { folder, message });
  }

  /** The folder by canonical name; it must exist on disk (or have been created in this run). */
  private folder(name: string): Promise<MaildirFolder> {
    return this.registry.open(name);
  }

  prefetch(options: ListOptions = {}): Promise<void> {
    // Whatever fails here fails again, and is reported, in listFolders.
    this.prefetching ??= this.folderDirs().then((dirs) => this.summaries(dirs, options.release?.keep)).then(() => undefined, () => undefined);
    return this.prefetching;
  }

  async prepare(folders: string[], files?: number): Promise<void> {
    if (files !== undefined) expectFiles(files);
    // One after another, in the order they will be written: the first delivery waits for one.
    for (const name of folders) {
      // Whatever fails here fails again, and is reported, where the folder is written.
      await this.registry.known(name)?.prepare().catch(() => undefined);
    }
  }

  /** See Agent.listFolders. */
  async listFolders(options: ListOptions = {}): Promise<FolderList> {
    // Never two listings of a folder at once: the real one follows what the prefetch found.
    await this.prefetching;
    const dirs = await this.folderDirs();
    if (this.recovering) {
      this.recovering = false;
      await this.removeLeftovers(dirs.map((d) => d.dir));
    }
    const only = options.folders && new Set(options.folders);
    const summaries = await this.summaries(only ? dirs.filter((d) => only.has(d.name)) : dirs, options.release?.keep);
    const subsPath = join(this.root, 'subscriptions');
    // Unusable (a link, a FIFO…), it fails the run: read as empty, a sync would unsubscribe the other side.
    const subs = await readControlText(subsPath, CONTROL_FILE_MAX.subscriptions);
    return { folders: summaries, subscriptions: parseSubscriptions(subs ?? '') };
  }

  private async folderDirs(): Promise<FolderDir[]> {
    this.cache ??= await loadCache(this.cacheDir, this.root);
    try {
      return await listFolderDirs(this.root, this.layout, (message) => this.warn(undefined, message));
    } catch (err) {
      throw new MdsyncError('ROOT_UNREADABLE', `cannot read Maildir ${this.root}: ${(err as Error).message}`);
    }
  }

  /** `keep`: folders summed up beyond this many messages are let go of (release). */
  private summaries(dirs: FolderDir[], keep?: number): Promise<FolderSummary[]> {
    const listing: Listing = { root: this.root, registry: this.registry, confine: this.confinement, release: (folder) => this.releaseFolder(folder) };
    if (this.cache) listing.cache = this.cache;
    return summarizeFolders(listing, dirs, keep);
  }

  async manifest(name: string): Promise<FolderManifest> {
    return (await this.folder(name)).manifest();
  }

  async changes(name: string, since: string): Promise<FolderChanges | undefined> {
    return (await this.folder(name)).changes(since);
  }

  async hash(name: string, guids: string[]): Promise<(string | null)[]> {
    const folder = await this.folder(name);
    return (await hashMessages(folder, guids)).map((h) => h ?? null);
  }

  async mtimes(name: string, guids: string[]): Promise<(number | null)[]> {
    return mtimesOf(await locateMessages(await this.folder(name), guids));
  }

  async *read(name: string, guids: string[]): AsyncIterable<ReadResult[]> {
    const folder = await this.folder(name);
    yield* readMessages(folder, guids);
  }

  async checksum(name: string, guids: string[]): Promise<(Checksum | null)[]> {
    const folder = await this.folder(name);
    const got = await checksumMany((g) => locateMessages(folder, g), guids);
    // A delivery onto one of these names then compares with the bytes there now, not a kept hash.
    folder.index.learnHashes(got.flatMap((c, i) => (c ? [[guids[i] as string, c.hash] as [string, string]] : [])));
    return got;
  }

  async setMtimes(name: string, items: MtimeChange[]): Promise<boolean[]> {
    const folder = await this.folder(name);
    return setMtimesOf((g) => locateMessages(folder, g), items);
  }

  async locate(name: string, guids: string[]): Promise<(string | null)[]> {
    return locateMessages(await this.folder(name), guids);
  }

  async deliverFiles(name: string, items: FileDelivery[], options: { twins?: boolean } = {}): Promise<(FileDelivered | TwinFound | undefined)[]> {
    return (await this.folder(name)).deliverFiles(items, false, options.twins);
  }

  async deliver(name: string, items: Delivery[]): Promise<Placed[]> {
    return (await this.folder(name)).deliver(items);
  }

  async copyLocal(name: string, items: CopyRequest[]): Promise<Placed[]> {
    return copyLocal(await this.folder(name), items, (from) => this.folder(from));
  }

  async setFlags(name: string, deltas: FlagDelta[]): Promise<FlagResult[]> {
    return setFlags(await this.folder(name), deltas);
  }

  async expunge(name: string, guids: string[]): Promise<number> {
    return expunge(await this.folder(name), guids);
  }

  /** Creates a folder; `staged`: one the run is about to fill, built aside and published whole (folder-admin.ts). */
  async createFolder(name: string, options: { staged?: boolean } = {}): Promise<void> {
    await createFolder(this.admin(), name, options);
  }

  /** The run is about to fill this folder, which holds no message: its new/ and cur/ are built aside until publishFolder. */
  async stageFolder(name: string): Promise<boolean> {
    return stageContents(this.admin(), await this.folder(name));
  }

  /** Moves a staged folder into place (createFolder); nothing for a folder that is not staged. */
  async publishFolder(name: string): Promise<void> {
    await (await this.folder(name)).publish((dir) => this.confinement.folder(dir));
  }

  async deleteFolder(name: string): Promise<boolean> {
    const done = await deleteFolder(this.admin(), name, () => {
      if (this.cache) delete this.cache.folders[name];
      this.cacheChanged = true;
    });
    if (done === 'not-empty') {
      this.raced = true;
      this.warn(name, `folder ${name} was not deleted: messages arrived in it during the run`);
    }
    return done === 'deleted';
  }

  private admin(): Folders {
    return { root: this.root, layout: this.layout, registry: this.registry, confine: this.confinement, ...(this.owner ? { owner: this.owner } : {}) };
  }

  async writeSubscriptions(names: string[]): Promise<void> {
    names.forEach(validateFolderName);
    await replaceFile(join(this.root, 'subscriptions'), formatSubscriptions(names), this.owner ? { owner: this.owner } : {});
  }

  async writeUidlist(name: string, request: UidlistRequest): Promise<boolean> {
    const written = await (await this.folder(name)).writeUidlist(request);
    if (written) {
      // Dovecot's mailbox list index caches UIDVALIDITY and UIDNEXT: rebuilt from the uidlists.
      for (const file of ['dovecot.list.index', 'dovecot.list.index.log', 'dovecot.list.index.log.2']) {
        await rm(join(this.root, file), { force: true }).catch((err) => { throw fromErrno(err, 'removing', join(this.root, file)); });
      }
    }
    return written;
  }

  /**
   * The run is done with these folders for now: each lets go of its listing, kept as its cache
   * record (MaildirFolder.release), so a long run holds only the folders it is working on.
   */
  release(names: string[]): Promise<void> {
    const done = Promise.all(names.map(async (name) => {
      const folder = this.registry.known(name);
      if (folder) await this.releaseFolder(folder);
    })).then(() => undefined);
    this.releases.add(done);
    return done.finally(() => this.releases.delete(done));
  }

  private async releaseFolder(folder: MaildirFolder): Promise<void> {
    for (const d of folder.touchedDirs) this.uncommitted.add(d);
    folder.touchedDirs.clear();
    const record = await folder.release().catch(() => undefined);
    if (record && this.cache && record !== this.cache.folders[folder.name]) {
      this.cache.folders[folder.name] = record;
      this.cacheChanged = true;
    }
  }

  async commit(): Promise<void> {
    const dirs = new Set<string>(this.uncommitted);
    this.uncommitted.clear();
    for (const folder of this.registry.all()) {
      for (const d of folder.touchedDirs) dirs.add(d);
      folder.touchedDirs.clear();
    }
    await Promise.all([...dirs].map(fsyncDir));
  }

  async drainWarnings(): Promise<{ warnings: Warning[]; raced: boolean; changed: string[] }> {
    const folders = this.registry.all();
    const changed = await Promise.all(folders.map((f) => f.changedSinceListed().catch(() => false)));
    const out = { warnings: this.warnings, raced: this.raced, changed: folders.filter((_, i) => changed[i]).map((f) => f.name) };
    this.warnings = [];
    return out;
  }

  /** Leaves the scan cache describing the disk as it now is, then releases the lock. */
  async close(): Promise<void> {
    try {
      await this.prefetching;
      await Promise.all(this.releases);
      // Where they will stay, before their listings are cached.
      await this.publishLeftStaged();
      if (this.cache) {
        let changed = this.cacheChanged;
        await Promise.all(this.registry.all().map(async (folder) => {
          if (folder.touched) {
            await cleanTmp(folder.subdirs.tmp);
            await folder.settle().catch(() => undefined);
          }
          const record = await folder.toCache().catch(() => undefined);
          if (record && this.cache && record !== this.cache.folders[folder.name]) {
            this.cache.folders[folder.name] = record;
            changed = true;
          }
        }));
        // A no-change run leaves the cache file alone: nothing to write.
        if (changed) await saveCache(this.cacheDir, this.cache).catch((err) => this.warn(undefined, `could not save the scan cache: ${(err as Error).message}`));
      }
    } finally {
      this.cache?.release?.();
      if (this.cache) this.cache.release = undefined;
      await this.unlock();
    }
  }
}
