// LocalAgent: the Agent operations on one Maildir root on this machine.

import { chown, realpath, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { crashPoint } from '../crash-point.js';
import { MdsyncError, fromErrno, isErrno } from '../errors.js';
import type {
  Checksum, FolderChanges, CopyRequest, Delivery, FileDelivered, FileDelivery, FlagDelta, FlagResult, FolderList, FolderManifest, ListOptions, FolderSummary, Hello, Layout, MtimeChange, Placed, ReadResult, TwinFound, UidlistRequest, Warning,
} from '../model.js';
import { VERSION } from '../version.js';
import { defaultCacheDir, loadCache, saveCache, type ScanCache } from './cache.js';
import { checksumMany, setMtimesOf } from './checksum.js';
import { CONTROL_FILE_MAX, readControlText } from './control-file.js';
import { fsyncDir, makeDirs, replaceFile, type Owner } from './fileio.js';
import { MaildirFolder } from './folder.js';
import { INBOX, detectLayout, folderToDir, isMaildir, listFolderDirs, validateFolderName, type FolderDir } from './layout.js';
import { removeLeftovers, tempTag } from './leftovers.js';
import { Dotlock } from './lock.js';
import { linkable, mtimesOf } from './mtimes.js';
import type { Separator } from './name.js';
import { makeRoot, writeDenied } from './root.js';
import { rootIdentity } from './root-identity.js';
import { formatSubscriptions, parseSubscriptions } from './subscriptions.js';

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
let stagingCounter = 0;
/** Folders listed at once when each may be let go of once summed up. */
const RELEASED_LISTINGS = 8;
/** Errors that make one folder unreadable without saying anything about the rest of the Maildir. */
const UNREADABLE = new Set(['PERMISSION', 'BAD_FOLDER', 'BAD_CONTROL_FILE']);

export class LocalAgent {
  readonly linkedCopies = true;
  private readonly folders = new Map<string, MaildirFolder>();
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
  private realRoot?: string;
  /** Releases under way: close() waits for them. */
  private readonly releases = new Set<Promise<void>>();
  /** Directories of released folders written since the last commit (to fsync). */
  private readonly uncommitted = new Set<string>();
  private readonly opening = new Map<string, Promise<MaildirFolder>>();
  private partialListings = false;
  private readOnly = false;

  private constructor(
    readonly root: string,
    readonly layout: Layout,
    private readonly separator: Separator,
    private readonly cacheDir: string,
    private readonly id: string,
    private readonly owner?: Owner,
  ) {}

  static async open(rootPath: string, options: LocalAgentOptions = {}): Promise<LocalAgent> {
    const root = resolve(rootPath);
    let st;
    try {
      st = await stat(root);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw new MdsyncError('ROOT_UNREADABLE', `cannot read Maildir ${root}: ${(err as Error).message}`);
      if (!options.create) throw new MdsyncError('ROOT_MISSING', `Maildir ${root} does not exist (is it mounted?)`);
      // A new Maildir belongs to whoever owns the directory it is made in (run as root for a user).
      const parent = await stat(dirname(root)).catch(() => undefined);
      const owner = parent && process.getuid?.() === 0 && parent.uid !== 0 ? { uid: parent.uid, gid: parent.gid } : undefined;
      await makeRoot(root, options.mkpath ?? false, owner);
      st = await stat(root);
    }
    if (!st.isDirectory()) throw new MdsyncError('ROOT_UNREADABLE', `${root} is not a directory`);
    let layout: Layout;
    try {
      layout = options.layout ?? (await detectLayout(root)) ?? options.defaultLayout ?? 'maildir++';
      if (options.readOnly && !(await isMaildir(root))) {
        throw new MdsyncError('NOT_A_MAILDIR', `${root} is not a Maildir (no cur/ and no folder in it): is it mounted?`);
      }
    } catch (err) {
      if (err instanceof MdsyncError) throw err;
      throw new MdsyncError('ROOT_UNREADABLE', `cannot read Maildir ${root}: ${(err as Error).message}`);
    }
    const owner = process.getuid?.() === 0 && st.uid !== 0 ? { uid: st.uid, gid: st.gid } : undefined;
    const agent = new LocalAgent(root, layout, options.separator ?? ':', options.cacheDir ?? defaultCacheDir(), await rootIdentity(root).catch((e: unknown) => { throw fromErrno(e, 'reading', root); }), owner);
    agent.partialListings = options.partialListings ?? false;
    agent.readOnly = options.readOnly ?? false;
    return agent;
  }

  async hello(): Promise<Hello> {
    return { id: this.id, version: VERSION, layout: this.layout, root: this.root, capabilities: [] };
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
    for (const folder of this.folders.values()) {
      if (!folder.staged) continue;
      await folder.publish((dir) => this.confine(dir)).catch(async (err) => {
        this.warn(folder.name, `folder ${folder.name} was not published: ${(err as Error).message}; the copies made of its messages were removed`);
        await folder.discard();
        this.folders.delete(folder.name);
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

  private folderFor(name: string, dir: string, staging?: string): MaildirFolder {
    let folder = this.folders.get(name);
    if (!folder) {
      folder = new MaildirFolder(name, join(this.root, dir), this.separator, {
        warn: (message) => this.warn(name, message),
        raced: () => { this.raced = true; },
      }, this.owner, staging);
      folder.partialListings = this.partialListings;
      this.folders.set(name, folder);
    }
    return folder;
  }

  /** The folder by canonical name; it must exist on disk (or have been created in this run). */
  private async folder(name: string): Promise<MaildirFolder> {
    validateFolderName(name);
    const known = this.folders.get(name);
    if (known) return known;
    // Concurrent requests for one folder share one check: none may use it before it is confined.
    let pending = this.opening.get(name);
    if (!pending) {
      pending = this.openFolder(name).finally(() => this.opening.delete(name));
      this.opening.set(name, pending);
    }
    return pending;
  }

  private async openFolder(name: string): Promise<MaildirFolder> {
    const rel = folderToDir(name, this.layout);
    const dir = join(this.root, rel);
    try {
      await stat(join(dir, 'cur'));
      await this.confine(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new MdsyncError('BAD_FOLDER', `no folder ${JSON.stringify(name)} in ${this.root}`);
      throw fromErrno(err, 'opening folder', dir);
    }
    return this.folderFor(name, rel);
  }

  /**
   * Refuses a folder whose directory, or its cur/new/tmp, resolves outside the root through a
   * symbolic link: whatever a peer asks for, nothing outside the served Maildir is opened.
   */
  private async confine(dir: string): Promise<void> {
    this.realRoot ??= await realpath(this.root);
    const inside = (p: string): boolean => p === this.realRoot || p.startsWith(`${this.realRoot}${sep}`);
    for (const path of [dir, join(dir, 'cur'), join(dir, 'new'), join(dir, 'tmp')]) {
      let real: string;
      try {
        real = await realpath(path);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw fromErrno(err, 'opening folder', path);
      }
      if (!inside(real)) throw new MdsyncError('BAD_FOLDER', `${path} leads outside the Maildir ${this.root} (a symbolic link to ${real}): refused`);
    }
  }

  /** The deepest existing directory on the way to `dir` must lie inside the root. */
  private async confineNew(dir: string): Promise<void> {
    let existing = dir;
    for (;;) {
      const found = await stat(existing).then(() => true, () => false);
      if (found || existing === this.root) break;
      existing = dirname(existing);
    }
    await this.confine(existing);
  }

  prefetch(options: ListOptions = {}): Promise<void> {
    // Whatever fails here fails again, and is reported, in listFolders.
    this.prefetching ??= this.folderDirs().then((dirs) => this.summaries(dirs, options.release?.keep)).then(() => undefined, () => undefined);
    return this.prefetching;
  }

  async prepare(folders: string[]): Promise<void> {
    // One after another, in the order they will be written: the first delivery waits for one.
    for (const name of folders) {
      // Whatever fails here fails again, and is reported, where the folder is written.
      await this.folders.get(name)?.prepare().catch(() => undefined);
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
  private async summaries(dirs: FolderDir[], keep?: number): Promise<FolderSummary[]> {
    const hasInbox = await stat(join(this.root, 'cur')).then(() => true, () => false);
    let kept = 0;
    // A folder that exists but cannot be read is listed as such, never left out: left out, it
    // would read as deleted, and the other side's copy would be expunged.
    const summarize = async (d: FolderDir): Promise<FolderSummary> => {
      try {
        // Confined once, as folder() does: a run lists its folders again at every pass.
        if (!this.folders.has(d.name)) await this.confine(join(this.root, d.dir));
        const folder = this.folderFor(d.name, d.dir);
        const summary = { name: d.name, ...await folder.summary(this.cache?.folders[d.name]) };
        if (keep !== undefined && (kept += summary.messages) > keep && folder.spareListing) await this.releaseFolder(folder);
        return summary;
      } catch (err) {
        if (!(err instanceof MdsyncError) || !UNREADABLE.has(err.code)) throw err;
        return { name: d.name, digest: '', messages: 0, uids: '', unreadable: err.message };
      }
    };
    const listed = dirs.filter((d) => d.name !== INBOX || hasInbox);
    const recorded = (d: FolderDir): boolean => this.cache?.folders[d.name] !== undefined;
    if (keep === undefined || listed.every(recorded)) return Promise.all(listed.map(summarize));
    // Folders the scan cache does not know, which may be let go of, are listed a few at a time:
    // all at once, every listing is in memory together, and the heap grows to several times that
    // before it is collected. (Most folders with a record are summed up from it, nothing listed.)
    const { default: PQueue } = await import('p-queue');
    const queue = new PQueue({ concurrency: RELEASED_LISTINGS });
    return Promise.all(listed.map((d) => (recorded(d) ? summarize(d) : queue.add(() => summarize(d)))));
  }

  async manifest(name: string): Promise<FolderManifest> {
    return (await this.folder(name)).manifest();
  }

  async changes(name: string, since: string): Promise<FolderChanges | undefined> {
    return (await this.folder(name)).changes(since);
  }

  async hash(name: string, guids: string[]): Promise<(string | null)[]> {
    const folder = await this.folder(name);
    return (await folder.hashMany(guids)).map((h) => h ?? null);
  }

  async mtimes(name: string, guids: string[]): Promise<(number | null)[]> {
    return mtimesOf(await (await this.folder(name)).locateMany(guids));
  }

  async *read(name: string, guids: string[]): AsyncIterable<ReadResult[]> {
    const folder = await this.folder(name);
    yield* folder.readMany(guids);
  }

  async checksum(name: string, guids: string[]): Promise<(Checksum | null)[]> {
    const folder = await this.folder(name);
    const got = await checksumMany((g) => folder.locateMany(g), guids);
    // A delivery onto one of these names then compares with the bytes there now, not a kept hash.
    folder.learnHashes(got.flatMap((c, i) => (c ? [[guids[i] as string, c.hash] as [string, string]] : [])));
    return got;
  }

  async setMtimes(name: string, items: MtimeChange[]): Promise<boolean[]> {
    const folder = await this.folder(name);
    return setMtimesOf((g) => folder.locateMany(g), items);
  }

  async locate(name: string, guids: string[]): Promise<(string | null)[]> {
    return (await this.folder(name)).locateMany(guids);
  }

  async deliverFiles(name: string, items: FileDelivery[], options: { twins?: boolean } = {}): Promise<(FileDelivered | TwinFound | undefined)[]> {
    return (await this.folder(name)).deliverFiles(items, false, options.twins);
  }

  async deliver(name: string, items: Delivery[]): Promise<Placed[]> {
    return (await this.folder(name)).deliver(items);
  }

  async copyLocal(name: string, items: CopyRequest[]): Promise<Placed[]> {
    const target = await this.folder(name);
    const out: Placed[] = [];
    const bySource = new Map<string, number[]>();
    items.forEach((item, i) => bySource.set(item.fromFolder, [...(bySource.get(item.fromFolder) ?? []), i]));
    const unlinked = (i: number): Placed => ({ wanted: (items[i] as CopyRequest).guid, guid: (items[i] as CopyRequest).guid, hash: '', existed: false, vanished: true });
    for (const [fromFolder, indices] of bySource) {
      let source: MaildirFolder;
      let paths: (string | null)[];
      try {
        source = await this.folder(fromFolder);
        paths = await source.locateMany(indices.map((i) => (items[i] as CopyRequest).fromGuid));
      } catch (err) {
        // Links to another message's bytes (twins.ts) name folders from records that may be out of
        // date (deleted, unreadable since): not linked, the caller sends them. A move's source is not.
        if (!(err instanceof MdsyncError) || indices.some((i) => (items[i] as CopyRequest).hash === undefined)) throw err;
        for (const i of indices) out[i] = unlinked(i);
        continue;
      }
      // A hard link on the I/O threads (else file to file); what that cannot do (moved meanwhile) the usual way.
      const found = indices.flatMap((i, j) => (paths[j] ? [{ i, path: paths[j] as string }] : []));
      // A file with another arrival time than the copy must have is copied: its mtime stays its own.
      const ok = await linkable(found.map((f) => f.path), found.map((f) => (items[f.i] as CopyRequest).mtime));
      const located = found.filter((_, j) => ok[j]);
      const copied = await target.deliverFiles(located.map(({ i, path }) => {
        const { fromFolder: _from, fromGuid: _guid, mtime: _mtime, ...rest } = items[i] as CopyRequest;
        return { ...rest, path };
      }), true);
      copied.forEach((p, j) => {
        const at = located[j]?.i;
        if (p && !('twin' in p) && at !== undefined) out[at] = { wanted: p.wanted, guid: p.guid, hash: p.hash, existed: p.existed, ...(p.dropped ? { dropped: p.dropped } : {}) };
      });
      // A link to another message's bytes is made as asked or not at all: the caller sends it then.
      for (const i of indices) if (out[i] === undefined && (items[i] as CopyRequest).hash !== undefined) out[i] = unlinked(i);
      const rest = indices.filter((i) => out[i] === undefined);
      if (rest.length === 0) continue;
      const placed = await target.copyFrom(source, rest.map((i) => items[i] as CopyRequest));
      placed.forEach((p, j) => { out[rest[j] as number] = p; });
    }
    return out;
  }

  async setFlags(name: string, deltas: FlagDelta[]): Promise<FlagResult[]> {
    return (await this.folder(name)).setFlags(deltas);
  }

  async expunge(name: string, guids: string[]): Promise<number> {
    return (await this.folder(name)).expunge(guids);
  }

  /**
   * Creates a folder; `staged`: one the run is about to fill, built aside in the root's tmp/ and
   * moved into place whole by publishFolder (Maildir++: a folder there is one directory), or,
   * where it cannot be (INBOX, the fs layout, a folder there already), created and its new/ and
   * cur/ built aside (stageFolder).
   */
  async createFolder(name: string, options: { staged?: boolean } = {}): Promise<void> {
    validateFolderName(name);
    const rel = folderToDir(name, this.layout);
    const dir = join(this.root, rel);
    await this.confineNew(dir);
    // confineNew checked the root and its tmp/, where the folder is built, lie inside the root.
    const stage = options.staged === true && rel !== '' && this.layout === 'maildir++' && !(await stat(dir).then(() => true, () => false));
    const staging = stage ? this.stagingDir() : undefined;
    const home = staging ?? dir;
    try {
      crashPoint();
      for (const sub of ['cur', 'new', 'tmp']) await makeDirs(join(home, sub), this.owner);
      if (rel !== '' && this.layout === 'maildir++') {
        await writeFile(join(home, 'maildirfolder'), '', { flag: 'a' });
        if (this.owner) await chown(join(home, 'maildirfolder'), this.owner.uid, this.owner.gid);
      }
    } catch (err) {
      throw fromErrno(err, 'creating folder', home);
    }
    this.folders.delete(name);
    const folder = this.folderFor(name, rel, staging);
    folder.touched = true;
    for (const sub of ['cur', 'new', 'tmp']) folder.touchedDirs.add(join(home, sub));
    folder.touchedDirs.add(home);
    folder.touchedDirs.add(dirname(home));
    folder.touchedDirs.add(this.root);
    // A folder that cannot be built aside whole (INBOX, the fs layout) has its new/ and cur/ built aside.
    if (options.staged === true && !stage) await this.stageContents(folder);
  }

  /**
   * The run is about to fill this folder, which holds no message: its new/ and cur/ are built in
   * the root's tmp/ and put in place of the empty ones by publishFolder (MaildirFolder.stageContents).
   */
  async stageFolder(name: string): Promise<boolean> {
    return this.stageContents(await this.folder(name));
  }

  private async stageContents(folder: MaildirFolder): Promise<boolean> {
    // The root's tmp/, where they are built, must lie inside the root.
    await this.confineNew(join(this.root, 'tmp', 'staging'));
    return folder.stageContents(this.stagingDir());
  }

  /** A new directory in the root's tmp/, named as mdsync's temp files are (a killed run's is removed by the next). */
  private stagingDir(): string {
    return join(this.root, 'tmp', `${Date.now()}.F${++stagingCounter}.${tempTag()}`);
  }

  /** Moves a staged folder into place (createFolder); nothing for a folder that is not staged. */
  async publishFolder(name: string): Promise<void> {
    await (await this.folder(name)).publish((dir) => this.confine(dir));
  }

  async deleteFolder(name: string): Promise<boolean> {
    if (name === INBOX) return false;
    const folder = await this.folder(name);
    if (folder.stagedWhole) {
      await folder.discard();
      this.folders.delete(name);
      return true;
    }
    await folder.discard();
    if (!(await folder.isEmpty())) {
      this.raced = true;
      this.warn(name, `folder ${name} was not deleted: messages arrived in it during the run`);
      return false;
    }
    try {
      crashPoint();
      for (const sub of ['cur', 'new', 'tmp']) await rm(join(folder.dir, sub), { recursive: true, force: true });
      for (const file of ['maildirfolder', 'dovecot-uidlist', 'dovecot-keywords', 'dovecot.index', 'dovecot.index.log', 'dovecot.index.cache', 'dovecot-uidlist.lock']) {
        await rm(join(folder.dir, file), { force: true });
      }
      await rmdir(folder.dir).catch((err) => {
        // fs layout: a parent keeps its child folders.
        if (!isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw err;
      });
    } catch (err) {
      throw fromErrno(err, 'deleting folder', folder.dir);
    }
    this.folders.delete(name);
    if (this.cache) delete this.cache.folders[name];
    this.cacheChanged = true;
    await fsyncDir(join(folder.dir, '..'));
    return true;
  }

  async writeSubscriptions(names: string[]): Promise<void> {
    names.forEach(validateFolderName);
    await replaceFile(join(this.root, 'subscriptions'), formatSubscriptions(names), this.owner);
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
      const folder = this.folders.get(name);
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
    for (const folder of this.folders.values()) {
      for (const d of folder.touchedDirs) dirs.add(d);
      folder.touchedDirs.clear();
    }
    await Promise.all([...dirs].map(fsyncDir));
  }

  async drainWarnings(): Promise<{ warnings: Warning[]; raced: boolean; changed: string[] }> {
    const folders = [...this.folders.values()];
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
        await Promise.all([...this.folders.values()].map(async (folder) => {
          if (folder.touched) {
            await folder.cleanTmp();
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
