// One Maildir folder on disk: its lifetime (listed, loaded from the scan cache, let go of, settled
// after the run's writes) and the façade of its operations, each in a module of its kind.

import { Digest, digestUids } from '../digest.js';
import type {
  Delivery, FileDelivered, FileDelivery, FolderChanges, FolderManifest, FolderSummary, Location, Placed, TwinFound, UidlistRequest,
} from '../model.js';
import { readUidlistIn, replaceUidlist, requestedUidlist, type UidlistRead } from './control-files.js';
import { deliverFileCopies, deliverMessages } from './deliver.js';
import { cleanTmp, subdirsOf, type Subdirs } from './folder-dirs.js';
import { FolderIndex } from './folder-index.js';
import type { KeywordMap } from './keywords.js';
import { parseKeywords, readKeywords } from './keyword-letters.js';
import type { Separator } from './name.js';
import { scanFolder, settleDelayMs, stampFolder, type FolderPlace, type FolderScan, type ScannedFile } from './scan.js';
import { cachedFiles, type CachedFolder } from './scan-cache.js';
import { discard, publishNow, stageContents } from './staging.js';
import { type Owner } from './disk.js';

export interface FolderEvents {
  warn(message: string): void;
  /** Another process changed this folder while we worked on it. */
  raced(): void;
}

/** Longest wait for a folder's directories to settle after a run's writes (whole-second filesystems need 2 s: not waited for). */
const SETTLE_WAIT_MAX_MS = 100;

/**
 * A folder in use. Its state is open to the modules that do its work (read.ts, deliver.ts,
 * rename.ts, staging.ts, folder-keywords.ts); the agent uses the methods.
 */
export class MaildirFolder {
  /** The folder's listing, digest, keyword map, UIDs and hashes. */
  readonly index: FolderIndex;
  /** Directories written since the last commit (to fsync). */
  readonly touchedDirs = new Set<string>();
  touched = false;
  /** A rescan after our own writes found a file neither the listing before nor the run put there or took away. */
  changedByOthers = false;
  /** A folder that never holds still is listed partially (scan.ts) rather than given up on: the caller reads FolderSummary.partial. */
  partialListings = false;
  keywordSaves: Promise<void> = Promise.resolve();

  /** new/, cur/ and tmp/ of this folder: paths are built by the hundred thousand, path.join each time costs. */
  subdirs: Subdirs;

  /**
   * Where a folder new to this Maildir is built until publish() moves it to `dir` (`whole`), or
   * the new/ and cur/ of an empty one (stageContents) until publish() puts them in place of its
   * empty ones: no reader sees them before, so their files are written under their names at once
   * (no tmp/ and link() per message).
   */
  staging?: { dir: string; whole: boolean };
  publishing?: Promise<void>;
  /** Deliveries under way (writing). */
  readonly deliveries = new Set<Promise<unknown>>();

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly separator: Separator,
    readonly events: FolderEvents,
    readonly owner?: Owner,
    staging?: string,
  ) {
    if (staging !== undefined) this.staging = { dir: staging, whole: true };
    this.subdirs = subdirsOf(staging ?? dir);
    this.index = new FolderIndex(separator, (file, letter) =>
      this.events.warn(`${this.pathOf(file.location, file.name)}: keyword letter "${letter}" has no name in dovecot-keywords; kept as it is on this side`));
  }

  /** The directory the folder's control files are in now: its staging directory until a whole staged folder is published. */
  get home(): string {
    return this.staging?.whole ? this.staging.dir : this.dir;
  }

  /** Where the scan looks: new/ and cur/ where they are now (staged or not). */
  get where(): FolderPlace {
    return { dir: this.home, new: this.subdirs.new, cur: this.subdirs.cur };
  }

  get staged(): boolean {
    return this.staging !== undefined;
  }

  /** Staged whole (a folder new to this Maildir), not only its new/ and cur/. */
  get stagedWhole(): boolean {
    return this.staging?.whole === true;
  }

  /** The path of a file in new/, cur/ or tmp/ (names never hold "/": checkName). */
  pathOf(location: Location | 'tmp', name: string): string {
    return `${this.subdirs[location]}/${name}`;
  }

  /** Returns the cached summary when nothing changed on disk since it was settled, else scans. */
  async summary(cached: CachedFolder | undefined): Promise<Omit<FolderSummary, 'name'>> {
    if (!this.index.scan && cached?.settled) {
      const stamp = await stampFolder(this.where);
      if (stamp.every((v, i) => v === cached.stamp[i])) {
        this.fromCache = cached;
        return withUidValidity({ digest: cached.digest, messages: cached.count, uids: cached.uids }, cached.uidValidity);
      }
    }
    if (!(await this.scanStands())) await this.rescan(cached);
    const scan = this.index.scan as FolderScan;
    const uids = this.index.uidlist ? digestUids(await this.manifest()) : '';
    const summary = withUidValidity({ digest: this.index.digestHex(), messages: scan.files.size, uids }, this.index.uidlist?.uidValidity);
    const damaged = scan.damaged;
    const described = damaged ? { ...summary, damaged } : summary;
    return scan.partial ? { ...described, partial: true } : described;
  }

  /**
   * Whether the scan in memory (one read ahead, while the far side was being reached) is still
   * the folder: settled when made, none of our writes since, and new/, cur/ and the control files
   * at the same mtimes, the rule a cache record stands by.
   */
  private async scanStands(): Promise<boolean> {
    const scan = this.index.scan;
    if (!scan?.settled || this.touched || scan.damaged !== undefined) return false;
    const stamp = await stampFolder(this.where);
    return this.index.scan === scan && stamp.every((v, i) => v === scan.stamp[i]);
  }

  /** Loads the folder's files (from its cache record, else the disk) ahead of writing it. */
  async prepare(): Promise<void> {
    await this.ensureScan();
  }

  /** A cache record whose stamp matched: the scan is rebuilt from it only if a manifest is asked for. */
  private fromCache?: CachedFolder;
  /** The record the scan was rebuilt from, the edits and hashes learnt then: while all hold, the record is still the scan's. */
  private loadedFrom?: { scan: FolderScan; edits: number; hashes: number; record: CachedFolder };
  private loading?: Promise<FolderScan>;

  /** The folder's scan, from the cache record or the disk; concurrent callers share one load. */
  ensureScan(): Promise<FolderScan> {
    if (this.index.scan) return Promise.resolve(this.index.scan);
    this.loading ??= (async () => {
      const cached = this.fromCache;
      const files = cached && cachedFiles(cached, this.separator);
      if (!cached || !files) {
        this.fromCache = undefined;
        await this.rescan();
        return this.index.scan as unknown as FolderScan;
      }
      const scan = this.index.fromRecord(cached, files, await this.readControlFiles());
      this.loadedFrom = { scan, edits: this.index.edits, hashes: this.index.hashes.size, record: cached };
      return scan;
    })().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  /**
   * Reads the directories again (after a race, when the cache is stale, after our own writes).
   * Against the listing before it (the cache record's, or the scan in memory) the digest follows
   * only the files that came and went, as long as dovecot-keywords still says the same. True when
   * a file came or went since that listing (after our own writes: another program's doing).
   */
  async rescan(previous?: CachedFolder): Promise<boolean> {
    const cached = previous && cachedFiles(previous, this.separator);
    const followed = cached ?? this.index.scan?.files;
    const editsBefore = this.index.edits;
    // The uidlist before the listing: a UID it names for a file the listing lacks is then an
    // expunged message's. Read after, it could name a message delivered since, uncopied, whose
    // UID a backup would pass with the NEXTUID it gives the replica.
    const uids = await this.readUidlist();
    const scan = await scanFolder(this.where, this.separator, followed, undefined, this.partialListings);
    // The keywords after it: a letter a listed name carries is then in the map.
    const control = { keywords: await readKeywords(this.home), ...uids };
    if (scan.partial) {
      this.events.raced();
      this.events.warn('kept changing while it was listed (deliveries or flag changes all the while): what two listings agreed on is synced now, the rest by the next run');
    }
    // The listing before, its digest and keyword map, taken after the awaits: a placement or a
    // keyword learnt meanwhile (putFile, addKeywords) changed the three together.
    const files = cached ?? this.index.scan?.files;
    const before = files && {
      files,
      digest: cached ? Digest.parse((previous as CachedFolder).digest) : this.index.scanDigest,
      keywords: cached ? parseKeywords((previous as CachedFolder).keywords) : this.index.keywords,
      followedUnchanged: files === followed && this.index.edits === editsBefore,
    };
    for (const w of scan.warnings) this.events.warn(w);
    return this.index.replace(scan, control, before);
  }

  /**
   * Whether another program changed new/ or cur/ since the run listed them. Where the run has not
   * written since its last listing, their mtimes against that listing's tell; where it has, the
   * mtimes are its own and say nothing, and a listing taken now against the one in memory (the
   * last listing plus the run's own placements, renames and expunges) tells: a file came or went.
   */
  async changedSinceListed(): Promise<boolean> {
    if (this.touched && this.index.scan && !this.staged) {
      await cleanTmp(this.subdirs.tmp);
      if (await this.rescan()) this.changedByOthers = true;
      // Listed settled, as close() would list it again: spared there.
      if ((this.index.scan as FolderScan).settled) this.touched = false;
    }
    if (this.changedByOthers) return true;
    const stamp = this.index.scan?.stamp ?? this.fromCache?.stamp;
    if (stamp === undefined || this.touched || this.staged) return false;
    const now = await stampFolder(this.where);
    return [0, 1, 4, 5].some((i) => now[i] !== stamp[i]);
  }

  /**
   * Whether the folder holds a listing a budget may let go of: one in memory (not summed up from
   * its record), that cannot tell what changed since the listing before it (changes(), which a
   * run with a state asks).
   */
  get spareListing(): boolean {
    return this.index.scan !== undefined && this.index.sinceBase === undefined;
  }

  private async readControlFiles(): Promise<{ keywords: KeywordMap } & UidlistRead> {
    const keywords = await readKeywords(this.home);
    return { keywords, ...await this.readUidlist() };
  }

  private readUidlist(): Promise<UidlistRead> {
    return readUidlistIn(this.home, (m) => this.events.warn(m));
  }

  async manifest(): Promise<FolderManifest> {
    await this.ensureScan();
    return this.index.manifest(this.name);
  }

  /**
   * What changed since the listing whose digest is `since` (the saved state's), or undefined when
   * this folder cannot tell (no such listing: the caller asks for the whole manifest).
   */
  async changes(since: string): Promise<FolderChanges | undefined> {
    await this.ensureScan();
    return this.index.changes(since);
  }

  /** Records a message this run placed under `name`, and its directory to fsync. */
  placed(name: string, guid: string, item: { flags: string; location: Location; infoRest?: string }, letters: string, hash: string): void {
    this.index.placed(name, guid, item, letters, hash);
    this.touchedDirs.add(this.subdirs[item.location]);
  }

  /** The cache record of the current scan, or undefined when it must not be reused. */
  async toCache(): Promise<CachedFolder | undefined> {
    if (!this.index.scan && this.fromCache) return this.fromCache;
    const loaded = this.loadedFrom;
    // Loaded from a record and unchanged since (a first copy's source folder, in its pass): not packed again.
    if (loaded && loaded.scan === this.index.scan && loaded.edits === this.index.edits && loaded.hashes === this.index.hashes.size && !this.touched &&
      this.index.keywords?.format() === loaded.record.keywords) return loaded.record;
    const scan = await this.ensureScan();
    return this.index.record(this.name, scan.settled && !this.touched);
  }

  /**
   * Lets go of the folder's listing, keeping only its cache record (packed: no object per file),
   * from which it is loaded again if asked for. Returns the record, or undefined when the folder
   * stays loaded: staged, being written, damaged, or written less than an mtime tick ago (listed
   * now it could only come out unsettled, and waiting would stall the run; close() settles it).
   */
  release(): Promise<CachedFolder | undefined> {
    this.releasing ??= this.releaseNow().finally(() => { this.releasing = undefined; });
    return this.releasing;
  }

  private releasing?: Promise<CachedFolder | undefined>;

  private async releaseNow(): Promise<CachedFolder | undefined> {
    if (!this.index.scan || this.staged || this.deliveries.size > 0 || this.loading) return undefined;
    if (this.touched) {
      if (settleDelayMs(await stampFolder(this.where)) > 0) return undefined;
      await cleanTmp(this.subdirs.tmp);
      if (await this.rescan()) this.changedByOthers = true;
      this.touched = false;
    }
    const scan = this.index.scan;
    const edits = this.index.edits;
    const record = await this.toCache().catch(() => undefined);
    // Anything placed or listed meanwhile is not in the record: the folder stays as it is.
    if (!record?.settled || this.index.scan !== scan || this.index.edits !== edits || this.touched || this.deliveries.size > 0) return undefined;
    this.fromCache = record;
    this.index.clear();
    this.loadedFrom = undefined;
    return record;
  }

  path(file: ScannedFile): string {
    return this.pathOf(file.location, file.name);
  }

  /** Finds a message's file now, rescanning once if it moved under us. */
  async locate(guid: string, afterMiss: boolean): Promise<ScannedFile | undefined> {
    const scan = await this.ensureScan();
    if (afterMiss) {
      this.events.raced();
      this.changedByOthers = true;
      await this.rescan();
      return this.index.scan?.files.get(guid);
    }
    return scan.files.get(guid);
  }

  markTouched(): void {
    this.touched = true;
    this.index.cachedManifest = undefined;
  }

  /**
   * Makes dovecot-uidlist give these UIDs (a backup's, from its source). Dovecot's index files
   * for the folder are removed when it changes: Dovecot rebuilds them from the uidlist, where
   * stale ones would contradict it.
   */
  async writeUidlist(request: UidlistRequest): Promise<boolean> {
    const scan = await this.ensureScan();
    const list = requestedUidlist(request, this.index.uidlist, (guid) => scan.files.has(guid));
    if (!list) return false;
    await replaceUidlist(this.home, list, `folder ${this.name}`, this.owner);
    this.index.uidlist = list;
    this.index.nextUidUnknown = false;
    this.index.cachedManifest = undefined;
    this.markTouched();
    return true;
  }

  /**
   * After our own writes: read the directories once more so the cache holds what is really on
   * disk (a neighbour's change included), waiting briefly until the mtimes are settled.
   */
  async settle(): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      // Waiting out our own last write first spares a listing that could only come out unsettled.
      const wait = settleDelayMs(await stampFolder(this.where));
      if (wait > 0 && wait <= SETTLE_WAIT_MAX_MS) await new Promise((resolve) => setTimeout(resolve, wait));
      if (await this.rescan()) this.changedByOthers = true;
      // Too far off (whole-second mtimes): cached as unsettled, the next run lists it again.
      if ((this.index.scan as FolderScan).settled || wait > SETTLE_WAIT_MAX_MS) break;
    }
    this.touched = false;
  }

  /**
   * Runs a delivery into the folder: never while it is being published, and a publication waits
   * for those under way (a far side's client may go while one is: a file still being written
   * must not be moved into sight).
   */
  async writing<T>(work: () => Promise<T>): Promise<T> {
    while (this.publishing) await this.publishing.catch(() => undefined);
    const done = work();
    this.deliveries.add(done);
    try {
      return await done;
    } finally {
      this.deliveries.delete(done);
    }
  }

  // The folder's operations, each in the module of its kind (read.ts, deliver.ts, rename.ts, staging.ts).

  /**
   * Places messages: tmp/ + fsync + mtime, then link() into new/ or cur/. A name already holding
   * other bytes gets a fresh name; the same bytes are simply "already there".
   */
  deliver(items: Delivery[]): Promise<Placed[]> {
    return this.writing(() => deliverMessages(this, items));
  }

  /** Copies files of another local Maildir file to file (deliver.ts); undefined for one to read and deliver the usual way. */
  deliverFiles(items: FileDelivery[], sameMaildir = false, twins = false): Promise<(FileDelivered | TwinFound | undefined)[]> {
    return this.writing(() => deliverFileCopies(this, items, sameMaildir, twins));
  }

  /**
   * Moves a staged folder to its place in one rename(): a reader (Dovecot, a MUA) finds it whole
   * or not at all. Where the name was taken meanwhile (Dovecot creates a folder when a client
   * asks for it), the staged files are linked into that folder instead, no name overwritten.
   * Everything written to it is durable before it can be seen.
   */
  publish(confine: (dir: string) => Promise<void>): Promise<void> {
    this.publishing ??= publishNow(this, confine).finally(() => { this.publishing = undefined; });
    return this.publishing;
  }

  /** Builds what the run places in this empty folder aside (staging.ts); false when it cannot. */
  stageContents(staging: string): Promise<boolean> {
    return stageContents(this, staging);
  }

  /** Removes a staged folder that will not be published (the run failed): none of its files were recorded. */
  discard(): Promise<void> {
    return discard(this);
  }
}

function withUidValidity(summary: Omit<FolderSummary, 'name'>, uidValidity: number | undefined): Omit<FolderSummary, 'name'> {
  return uidValidity === undefined ? summary : { ...summary, uidValidity };
}
