// One Maildir folder on disk: its manifest, and reading, delivering, renaming and expunging messages.

import { chmod, chown, link, rename, rm, unlink, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { MdsyncError, fromErrno, isErrno } from '../errors.js';
import { Digest, digestUids } from '../digest.js';
import type {
  TwinFound,
  CopyRequest, Delivery, FileDelivered, FileDelivery, FlagDelta, FlagResult, FolderChanges, FolderManifest, FolderSummary, Location, MessageEntry, Placed, ReadResult, UidlistRequest,
} from '../model.js';
import { CONTROL_FILE_MAX, readControlFile, readControlText } from './control-file.js';
import { KeywordMap } from './keywords.js';
import { checkName, formatName, freshGuid, guidOfName, infoMayHold, sortChars, type Separator } from './name.js';
import { ListedFile, scanFolder, settleDelayMs, stampFolder, type FolderPlace, type FolderScan, type FolderStamp, type ScannedFile } from './scan.js';
import { fieldOf, parseUidlist, withField, type Uidlist } from './uidlist.js';
import { lockUidlist, writeUidlist } from './uidlist-write.js';
import { tempTag } from './leftovers.js';
import { crashPoint } from '../crash-point.js';
import { nextUidBeside } from './dovecot-index.js';
import { fsyncDir, hashFile, laterMtime, makeDirs, readBody, replaceFileBytes, sha256, writeDurable, type Owner } from './fileio.js';
import { BODY_CHUNK, bodySize, isStream } from '../body.js';
import type { IoPool } from './io-pool.js';

/** What the scan cache keeps of a folder between runs. */
export interface CachedFolder {
  stamp: FolderStamp;
  settled: boolean;
  digest: string;
  count: number;
  /** digestUids of the folder's dovecot-uidlist. */
  uids: string;
  uidValidity?: number;
  /** The folder's dovecot-keywords as the digest saw it: the digest follows changes only under the same map. */
  keywords: string;
  /** The folder's files (packFiles), or where to read them: only when the folder's files are needed. */
  files: Uint8Array | (() => Uint8Array);
}

/**
 * A folder's files as the cache keeps them: names joined by NUL (never in a file name), one
 * letter per location, hashes joined by NUL; three UTF-8 byte strings after their three lengths
 * (32-bit, big-endian). No record per message: writing and reading tens of thousands of them is
 * then nearly free.
 */
function packFiles(files: Iterable<ScannedFile>, hashOf: (file: ScannedFile) => string | undefined): Uint8Array {
  const names: string[] = [];
  const hashes: string[] = [];
  let locations = '';
  for (const f of files) {
    names.push(f.name);
    hashes.push(hashOf(f) ?? '');
    locations += f.location === 'new' ? 'n' : 'c';
  }
  const parts = [names.join('\0'), locations, hashes.join('\0')];
  const lengths = parts.map((p) => Buffer.byteLength(p, 'utf8'));
  const out = Buffer.allocUnsafe(12 + lengths.reduce((a, b) => a + b, 0));
  let at = 12;
  parts.forEach((part, i) => {
    out.writeUInt32BE(lengths[i] as number, i * 4);
    at += out.write(part, at, 'utf8');
  });
  return out;
}

/** The three strings of packFiles; undefined when the bytes are not that. */
function unpackFiles(packed: Uint8Array): [string, string, string] | undefined {
  const bytes = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  if (bytes.length < 12) return undefined;
  const lengths = [0, 1, 2].map((i) => bytes.readUInt32BE(i * 4));
  if (12 + lengths.reduce((a, b) => a + b, 0) !== bytes.length) return undefined;
  let at = 12;
  return lengths.map((length) => bytes.toString('utf8', at, (at += length))) as [string, string, string];
}

/** The files of a cache record by GUID; undefined when the record is damaged (the folder is then rescanned). */
function cachedFiles(record: CachedFolder, separator: Separator): Map<string, ScannedFile> | undefined {
  try {
    const unpacked = unpackFiles(typeof record.files === 'function' ? record.files() : record.files);
    if (!unpacked) return undefined;
    const [names, locations, hashes] = unpacked;
    const files = new Map<string, ScannedFile>();
    if (names === '') return files;
    const nameList = names.split('\0');
    const hashList = hashes.split('\0');
    if (locations.length !== nameList.length || hashList.length !== nameList.length) return undefined;
    for (let i = 0; i < nameList.length; i++) {
      const name = nameList[i] as string;
      // The cache is a file like any other: a name in it that no scan could have listed is damage.
      checkName(name);
      const file = new ListedFile(name, locations[i] === 'n' ? 'new' : 'cur', separator);
      const hash = hashList[i];
      if (hash) file.hash = hash;
      files.set(file.guid, file);
    }
    return files.size === nameList.length ? files : undefined;
  } catch {
    return undefined;
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * Whether every keyword letter one dovecot-keywords map names still names the same keyword in
 * another (letters may have been added): entries of files listed again are then the same, but
 * for files carrying a letter named since (lettersNamedSince).
 */
function keepsLetters(before: KeywordMap, after: KeywordMap): boolean {
  return [...LETTERS].every((l) => before.nameOf(l) === undefined || before.nameOf(l) === after.nameOf(l));
}

/** Keyword letters that one map names and another did not. */
function lettersNamedSince(before: KeywordMap, after: KeywordMap): string {
  return [...LETTERS].filter((l) => before.nameOf(l) === undefined && after.nameOf(l) !== undefined).join('');
}

/**
 * Files whose names carry one of `letters`: a file can carry a letter its folder's
 * dovecot-keywords does not name (yet), and when the letter gets a name the file's keywords
 * change without its name changing.
 */
function carrying(files: Iterable<ScannedFile>, letters: string, separator: Separator): ScannedFile[] {
  const out: ScannedFile[] = [];
  if (letters === '') return out;
  for (const file of files) {
    if (!infoMayHold(file.name, letters, separator)) continue;
    if ([...file.parsed.keywordLetters].some((l) => letters.includes(l))) out.push(file);
  }
  return out;
}

/** A cache record's keyword map, or undefined when its text is not one (the digest is then not followed). */
function parseKeywords(text: string): KeywordMap | undefined {
  try {
    return KeywordMap.parse(text, 'scan cache');
  } catch {
    return undefined;
  }
}

export interface FolderEvents {
  warn(message: string): void;
  /** Another process changed this folder while we worked on it. */
  raced(): void;
}

const TMP_MAX_AGE_MS = 36 * 3600 * 1000;
/** Longest wait for a folder's directories to settle after a run's writes (whole-second filesystems need 2 s: not waited for). */
const SETTLE_WAIT_MAX_MS = 100;
/** Reads of dovecot-uidlist and the index while Dovecot commits, before the index is left out (about 0.3 s in all). */
const UIDLIST_READ_ATTEMPTS = 5;
/** Files per hashing job. */
const HASH_BATCH = 256;
let tmpCounter = 0;

let poolCode: Promise<typeof import('./io-pool.js')> | undefined;

/** The copying threads, their code loaded at the first batch: a run that copies nothing never needs it (start-up is most of a no-change run). */
async function ioPool(): Promise<IoPool> {
  poolCode ??= import('./io-pool.js');
  return (await poolCode).ioPool;
}

export class MaildirFolder {
  private scan?: FolderScan;
  private keywords?: KeywordMap;
  private uidlist?: Uidlist;
  /** Dovecot committed through every read of the uidlist and index: UIDNEXT is not known this run. */
  private nextUidUnknown = false;
  private readonly hashes = new Map<string, string>();
  private cachedManifest?: FolderManifest;
  /** The digest of the scan's files as they are now, when known; kept up to date as files are placed and removed. */
  private scanDigest?: Digest;
  /** What the last rescan found against the listing before it: a digest then, files come and gone. */
  private sinceBase?: { digest: string; added: ScannedFile[]; removed: ScannedFile[] };
  /** Files placed in or taken out of the scan in memory so far (putFile, dropFile). */
  private edits = 0;
  /** Directories written since the last commit (to fsync). */
  readonly touchedDirs = new Set<string>();
  touched = false;
  /** A rescan after our own writes found a file neither the listing before nor the run put there or took away. */
  private changedByOthers = false;
  /** A folder that never holds still is listed partially (scan.ts) rather than given up on: the caller reads FolderSummary.partial. */
  partialListings = false;
  private keywordSaves: Promise<void> = Promise.resolve();

  /** new/, cur/ and tmp/ of this folder: paths are built by the hundred thousand, path.join each time costs. */
  private subdirs: Record<Location | 'tmp', string>;

  /**
   * Where a folder new to this Maildir is built until publish() moves it to `dir` (`whole`), or
   * the new/ and cur/ of an empty one (stageContents) until publish() puts them in place of its
   * empty ones: no reader sees them before, so their files are written under their names at once
   * (no tmp/ and link() per message).
   */
  private staging?: { dir: string; whole: boolean };
  private publishing?: Promise<void>;
  /** Deliveries under way (writing). */
  private readonly deliveries = new Set<Promise<unknown>>();

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly separator: Separator,
    private readonly events: FolderEvents,
    private readonly owner?: Owner,
    staging?: string,
  ) {
    if (staging !== undefined) this.staging = { dir: staging, whole: true };
    this.subdirs = subdirsOf(staging ?? dir);
  }

  /** The directory the folder's control files are in now: its staging directory until a whole staged folder is published. */
  private get home(): string {
    return this.staging?.whole ? this.staging.dir : this.dir;
  }

  /** Where the scan looks: new/ and cur/ where they are now (staged or not). */
  private get where(): FolderPlace {
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
  private pathOf(location: Location | 'tmp', name: string): string {
    return `${this.subdirs[location]}/${name}`;
  }

  /** Returns the cached summary when nothing changed on disk since it was settled, else scans. */
  async summary(cached: CachedFolder | undefined): Promise<Omit<FolderSummary, 'name'>> {
    if (!this.scan && cached?.settled) {
      const stamp = await stampFolder(this.where);
      if (stamp.every((v, i) => v === cached.stamp[i])) {
        this.fromCache = cached;
        return withUidValidity({ digest: cached.digest, messages: cached.count, uids: cached.uids }, cached.uidValidity);
      }
    }
    if (!(await this.scanStands())) await this.rescan(cached);
    const scan = this.scan as FolderScan;
    const uids = this.uidlist ? digestUids(await this.manifest()) : '';
    const summary = withUidValidity({ digest: this.digest(), messages: scan.files.size, uids }, this.uidlist?.uidValidity);
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
    const scan = this.scan;
    if (!scan?.settled || this.touched || scan.damaged !== undefined) return false;
    const stamp = await stampFolder(this.where);
    return this.scan === scan && stamp.every((v, i) => v === scan.stamp[i]);
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
  private ensureScan(): Promise<FolderScan> {
    if (this.scan) return Promise.resolve(this.scan);
    this.loading ??= (async () => {
      const cached = this.fromCache;
      const files = cached && cachedFiles(cached, this.separator);
      if (!cached || !files) {
        this.fromCache = undefined;
        await this.rescan();
        return this.scan as unknown as FolderScan;
      }
      const control = await this.readControlFiles();
      this.keywords = control.keywords;
      this.uidlist = control.uidlist;
      this.nextUidUnknown = control.nextUidUnknown === true;
      this.scan = { files, stamp: cached.stamp, settled: true, warnings: [] };
      this.loadedFrom = { scan: this.scan, edits: this.edits, hashes: this.hashes.size, record: cached };
      // The cache's digest, under the keyword map as it is now (letters named since change files' entries).
      const cachedKeywords = parseKeywords(cached.keywords);
      const digest = cachedKeywords && keepsLetters(cachedKeywords, this.keywords) ? Digest.parse(cached.digest) : undefined;
      if (digest && cachedKeywords) {
        for (const file of carrying(files.values(), lettersNamedSince(cachedKeywords, this.keywords), this.separator)) {
          digest.remove(this.entryOf(file, cachedKeywords)).add(this.entryOf(file));
        }
      }
      this.scanDigest = digest;
      return this.scan;
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
    const followed = cached ?? this.scan?.files;
    const editsBefore = this.edits;
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
    const before = cached ?? this.scan?.files;
    const beforeDigest = cached ? Digest.parse((previous as CachedFolder).digest) : this.scanDigest;
    const beforeKeywords = cached ? parseKeywords((previous as CachedFolder).keywords) : this.keywords;
    for (const w of scan.warnings) this.events.warn(w);
    // Assigned together: a concurrent caller never sees a scan without its keyword map.
    this.scan = scan;
    this.keywords = control.keywords;
    this.uidlist = control.uidlist;
    this.nextUidUnknown = control.nextUidUnknown === true;
    this.cachedManifest = undefined;
    // An empty listing's digest is known: placements into a new folder then follow it, and its
    // digest is not computed whole at the end (100 000 entries of a first copy, on nothing else).
    this.scanDigest = scan.files.size === 0 ? new Digest() : undefined;
    this.sinceBase = undefined;
    if (!before) return false;
    const added: ScannedFile[] = [];
    const removed: ScannedFile[] = [];
    // The listing the scan followed, unchanged since: the files it listed again carry its mark,
    // and only the others are looked up (a scan running beside it may have marked one as its own).
    const again = before === followed && this.edits === editsBefore ? scan.followed : undefined;
    if (again) added.push(...again.anew);
    else for (const file of scan.files.values()) if (before.get(file.guid) !== file) added.push(file);
    for (const file of before.values()) {
      if ((again && file.listing === again.mark) || scan.files.get(file.guid) === file) continue;
      removed.push(file);
      // A renamed message keeps its hash (its GUID names the same body).
      if (file.hash !== undefined && !this.hashes.has(file.guid)) this.hashes.set(file.guid, file.hash);
    }
    const cameOrWent = added.length > 0 || removed.length > 0;
    if (!beforeDigest || beforeKeywords === undefined || !keepsLetters(beforeKeywords, control.keywords)) return cameOrWent;
    // Files listed again under their names whose keywords changed all the same (a letter got a name).
    for (const file of carrying(scan.files.values(), lettersNamedSince(beforeKeywords, control.keywords), this.separator)) {
      if (before.get(file.guid) !== file) continue;
      removed.push(file);
      added.push(file);
    }
    const digest = beforeDigest.clone();
    for (const file of removed) digest.remove(this.entryOf(file, beforeKeywords));
    for (const file of added) digest.add(this.entryOf(file));
    this.sinceBase = { digest: beforeDigest.hex(), added, removed };
    this.scanDigest = digest;
    return cameOrWent;
  }

  /**
   * Whether another program changed new/ or cur/ since the run listed them. Where the run has not
   * written since its last listing, their mtimes against that listing's tell; where it has, the
   * mtimes are its own and say nothing, and a listing taken now against the one in memory (the
   * last listing plus the run's own placements, renames and expunges) tells: a file came or went.
   */
  async changedSinceListed(): Promise<boolean> {
    if (this.touched && this.scan && !this.staged) {
      await this.cleanTmp();
      if (await this.rescan()) this.changedByOthers = true;
      // Listed settled, as close() would list it again: spared there.
      if ((this.scan as FolderScan).settled) this.touched = false;
    }
    if (this.changedByOthers) return true;
    const stamp = this.scan?.stamp ?? this.fromCache?.stamp;
    if (stamp === undefined || this.touched || this.staged) return false;
    const now = await stampFolder(this.where);
    return [0, 1, 4, 5].some((i) => now[i] !== stamp[i]);
  }

  /** The digest of the scan's files (computed whole only when no earlier digest can be followed). */
  private digest(): string {
    if (!this.scanDigest) {
      const d = new Digest();
      for (const file of (this.scan as FolderScan).files.values()) d.add(this.entryOf(file));
      this.scanDigest = d;
    }
    return this.scanDigest.hex();
  }

  /** A file's manifest entry; keyword letters without a name go to `unknown` (for a digest, nowhere). */
  private entryOf(file: ScannedFile, keywords = this.keywords as KeywordMap, unknown: (letter: string) => void = () => undefined): MessageEntry {
    const p = file.parsed;
    const entry: MessageEntry = { guid: p.guid, flags: p.flags, keywords: keywords.namesFor(p.keywordLetters, unknown), location: file.location };
    if (p.size !== undefined) entry.size = p.size;
    if (p.infoRest !== undefined) entry.infoRest = p.infoRest;
    return entry;
  }

  /**
   * Whether the folder holds a listing a budget may let go of: one in memory (not summed up from
   * its record), that cannot tell what changed since the listing before it (changes(), which a
   * run with a state asks).
   */
  get spareListing(): boolean {
    return this.scan !== undefined && this.sinceBase === undefined;
  }

  /**
   * What changed since the listing whose digest is `since` (the saved state's), or undefined when
   * this folder cannot tell (no such listing: the caller asks for the whole manifest).
   */
  async changes(since: string): Promise<FolderChanges | undefined> {
    await this.ensureScan();
    const base = this.sinceBase;
    if (!base || base.digest !== since) return undefined;
    const changed = base.added.map((f) => this.fullEntry(f));
    const names = new Set(changed.map((e) => e.guid));
    const gone = [...new Set(base.removed.map((f) => f.guid))].filter((g) => !names.has(g));
    const skipped = this.scan?.skipped;
    return skipped ? { changed, gone, skipped } : { changed, gone };
  }

  /** A manifest entry with what else is known of the message: its hash, its UID. */
  private fullEntry(file: ScannedFile): MessageEntry {
    const entry = this.entryOf(file, this.keywords, (letter) =>
      this.events.warn(`${this.pathOf(file.location, file.name)}: keyword letter "${letter}" has no name in dovecot-keywords; kept as it is on this side`));
    const guid = file.guid;
    const rec = this.uidlist?.records.get(guid);
    if (rec !== undefined) {
      entry.uid = rec.uid;
      const dovecotGuid = fieldOf(rec.fields, 'G');
      if (dovecotGuid !== undefined && dovecotGuid !== guid) entry.dovecotGuid = dovecotGuid;
    }
    const hash = this.hashes.get(guid) ?? file.hash;
    if (hash !== undefined) entry.hash = hash;
    return entry;
  }

  /** Records a message this run placed under `name`: in the scan (the digest following), its hash, its directory to fsync. */
  private placed(name: string, guid: string, item: { flags: string; location: Location; infoRest?: string }, letters: string, hash: string): void {
    this.putFile({ name, location: item.location, guid, hash, parsed: { guid, flags: sortChars(item.flags), keywordLetters: letters, separator: this.separator, infoRest: item.infoRest } });
    // The file carries its hash; one kept for an earlier file of this GUID is not its hash.
    this.hashes.delete(guid);
    this.touchedDirs.add(this.subdirs[item.location]);
  }

  /** Hashes read from the files themselves (`--checksum`): they replace any kept for these names. */
  learnHashes(found: [guid: string, hash: string][]): void {
    for (const [guid, hash] of found) this.hashes.set(guid, hash);
  }

  /** The hash of a message's body when known (learned this run, or listed with its file). */
  private knownHash(guid: string): string | undefined {
    return this.hashes.get(guid) ?? this.scan?.files.get(guid)?.hash;
  }

  /** Places a file in the scan, following the digest. */
  private putFile(file: ScannedFile): void {
    const files = (this.scan as FolderScan).files;
    this.edits++;
    const before = files.get(file.guid);
    if (before?.hash !== undefined && !this.hashes.has(file.guid)) this.hashes.set(file.guid, before.hash);
    if (this.scanDigest && before) this.scanDigest.remove(this.entryOf(before));
    files.set(file.guid, file);
    this.scanDigest?.add(this.entryOf(file));
    this.sinceBase = undefined;
  }

  /** Takes a file out of the scan, following the digest. */
  private dropFile(guid: string): void {
    const files = (this.scan as FolderScan).files;
    const before = files.get(guid);
    if (!before) return;
    this.edits++;
    this.scanDigest?.remove(this.entryOf(before));
    files.delete(guid);
    this.sinceBase = undefined;
  }

  private async readControlFiles(): Promise<{ keywords: KeywordMap; uidlist?: Uidlist; nextUidUnknown?: boolean }> {
    const keywords = await readKeywords(this.home);
    return { keywords, ...await this.readUidlist() };
  }

  /** dovecot-uidlist with the UIDNEXT Dovecot's index adds, read where no Dovecot commit overlapped. */
  private async readUidlist(): Promise<{ uidlist?: Uidlist; nextUidUnknown?: boolean }> {
    const ulPath = join(this.home, 'dovecot-uidlist');
    try {
      for (let attempt = 1; ; attempt++) {
        // Unusable as a damaged one is: warned about, and the folder synced without its UIDs.
        const file = await readControlFile(ulPath, CONTROL_FILE_MAX.uidlist);
        if (file === undefined) return {};
        const uidlist = parseUidlist(file.data.toString('utf8'), ulPath);
        // Dovecot writes records before it moves the header's NEXTUID on, and after an expunge of
        // the highest UID only its index remembers it: the real UIDNEXT is the highest of the three.
        const indexNext = await nextUidBeside(this.home, file);
        if (indexNext === undefined && attempt < UIDLIST_READ_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
          continue;
        }
        let highest = 0;
        for (const r of uidlist.records.values()) highest = Math.max(highest, r.uid);
        uidlist.nextUid = Math.max(uidlist.nextUid, highest + 1, indexNext ?? 0);
        if (indexNext !== undefined) return { uidlist };
        // Still mid-commit after every attempt (or a lock a dead Dovecot left): without the index,
        // NEXTUID may be below what a replica was given, so none is told (a backup copies this
        // folder's UIDs in a later run).
        this.events.warn(`${ulPath}: Dovecot kept dovecot-uidlist.lock through the scan: the folder's UIDNEXT is read again next run`);
        return { uidlist, nextUidUnknown: true };
      }
    } catch (err) {
      if (!(err instanceof MdsyncError) || !['BAD_UIDLIST', 'BAD_CONTROL_FILE'].includes(err.code)) throw err;
      this.events.warn(err.message);
      return {};
    }
  }

  async manifest(): Promise<FolderManifest> {
    if (this.cachedManifest) return this.cachedManifest;
    const scan = await this.ensureScan();
    const messages: MessageEntry[] = [];
    for (const file of scan.files.values()) messages.push(this.fullEntry(file));
    messages.sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0));
    const manifest: FolderManifest = { name: this.name, messages, digest: this.digest() };
    if (scan.skipped) manifest.skipped = scan.skipped;
    if (this.uidlist) {
      manifest.uidValidity = this.uidlist.uidValidity;
      if (!this.nextUidUnknown) manifest.nextUid = this.uidlist.nextUid;
      const mailboxGuid = fieldOf(this.uidlist.headerExtra, 'G');
      if (mailboxGuid !== undefined) manifest.mailboxGuid = mailboxGuid;
    }
    this.cachedManifest = manifest;
    return manifest;
  }

  /** The cache record of the current scan, or undefined when it must not be reused. */
  async toCache(): Promise<CachedFolder | undefined> {
    if (!this.scan && this.fromCache) return this.fromCache;
    const loaded = this.loadedFrom;
    // Loaded from a record and unchanged since (a first copy's source folder, in its pass): not packed again.
    if (loaded && loaded.scan === this.scan && loaded.edits === this.edits && loaded.hashes === this.hashes.size && !this.touched &&
      this.keywords?.format() === loaded.record.keywords) return loaded.record;
    const scan = await this.ensureScan();
    // A damaged folder, or one holding files that cannot be synced, is looked at afresh every run
    // (and reported every run) until it is whole.
    if (scan.damaged || scan.warnings.length > 0 || this.nextUidUnknown) return undefined;
    const uidValidity = this.uidlist?.uidValidity;
    return {
      stamp: scan.stamp,
      settled: scan.settled && !this.touched,
      digest: this.digest(),
      count: scan.files.size,
      uids: this.uidlist ? digestUids(await this.manifest()) : '',
      ...(uidValidity !== undefined ? { uidValidity } : {}),
      keywords: (this.keywords as KeywordMap).format(),
      files: packFiles(scan.files.values(), (f) => f.hash ?? this.hashes.get(f.guid)),
    };
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
    if (!this.scan || this.staged || this.deliveries.size > 0 || this.loading) return undefined;
    if (this.touched) {
      if (settleDelayMs(await stampFolder(this.where)) > 0) return undefined;
      await this.cleanTmp();
      if (await this.rescan()) this.changedByOthers = true;
      this.touched = false;
    }
    const scan = this.scan;
    const edits = this.edits;
    const record = await this.toCache().catch(() => undefined);
    // Anything placed or listed meanwhile is not in the record: the folder stays as it is.
    if (!record?.settled || this.scan !== scan || this.edits !== edits || this.touched || this.deliveries.size > 0) return undefined;
    this.fromCache = record;
    this.scan = undefined;
    this.uidlist = undefined;
    this.cachedManifest = undefined;
    this.scanDigest = undefined;
    this.sinceBase = undefined;
    this.hashes.clear();
    return record;
  }

  private path(file: ScannedFile): string {
    return this.pathOf(file.location, file.name);
  }

  /** Finds a message's file now, rescanning once if it moved under us. */
  private async locate(guid: string, afterMiss: boolean): Promise<ScannedFile | undefined> {
    const scan = await this.ensureScan();
    if (afterMiss) {
      this.events.raced();
      this.changedByOthers = true;
      await this.rescan();
      return this.scan?.files.get(guid);
    }
    return scan.files.get(guid);
  }

  /** A message file something else replaced (a FIFO…): warned about and taken as vanished (null); any other error thrown. */
  private notAFile(err: unknown): null {
    if (!(err instanceof MdsyncError) || err.code !== 'NOT_A_FILE') throw err;
    this.events.raced();
    this.events.warn(err.message);
    return null;
  }

  async read(guid: string): Promise<ReadResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const file = await this.locate(guid, attempt > 0);
      if (!file) return { guid, vanished: true };
      const got = await readBody(this.path(file), BODY_CHUNK).catch((err) => this.notAFile(err));
      if (got === null) return { guid, vanished: true };
      if (!got) continue;
      return { guid, data: got.data, mtime: got.mtime };
    }
    return { guid, vanished: true };
  }

  /**
   * Reads messages in order, many files per batch (batch-io.ts), yielded as batches; a file the
   * batch could not read whole (vanished, renamed, large) is read by `read`, which follows it or
   * streams it, and comes alone: only when the reader gets to it (a stream holds a file open).
   */
  async *readMany(guids: string[]): AsyncIterable<ReadResult[]> {
    const scan = await this.ensureScan();
    for (const part of readBatches(guids, (g) => scan.files.get(g)?.parsed.size)) {
      const files = part.map((g) => scan.files.get(g));
      const paths = files.flatMap((f) => (f ? [this.path(f)] : []));
      const outcomes = await (await ioPool()).run({ kind: 'read', paths, inlineMax: BODY_CHUNK });
      let next = 0;
      let whole: ReadResult[] = [];
      for (const [i, guid] of part.entries()) {
        const got = files[i] ? outcomes[next++] : undefined;
        if (got?.kind === 'ok') {
          whole.push(got.inode === undefined ? { guid, data: got.data, mtime: got.mtime } : { guid, data: got.data, mtime: got.mtime, inode: got.inode, hash: got.hash as string });
          continue;
        }
        if (whole.length > 0) yield whole;
        whole = [];
        yield [await this.read(guid)];
      }
      if (whole.length > 0) yield whole;
    }
  }

  async hash(guid: string): Promise<string | undefined> {
    const known = this.knownHash(guid);
    if (known) return known;
    for (let attempt = 0; attempt < 3; attempt++) {
      const file = await this.locate(guid, attempt > 0);
      if (!file) return undefined;
      const hash = await hashFile(this.path(file)).catch((err) => this.notAFile(err));
      if (hash === null) return undefined;
      if (hash === undefined) continue;
      this.hashes.set(guid, hash);
      return hash;
    }
    return undefined;
  }

  /** Hashes of many messages, files read in batches on the I/O threads; undefined for one that vanished. */
  async hashMany(guids: string[]): Promise<(string | undefined)[]> {
    const scan = await this.ensureScan();
    const out = guids.map((g) => this.knownHash(g));
    const todo = guids.flatMap((g, i) => {
      const file = out[i] === undefined ? scan.files.get(g) : undefined;
      return file ? [{ i, path: this.path(file) }] : [];
    });
    const parts: (typeof todo)[] = [];
    for (let k = 0; k < todo.length; k += HASH_BATCH) parts.push(todo.slice(k, k + HASH_BATCH));
    await Promise.all(parts.map(async (part) => {
      const outcomes = await (await ioPool()).run({ kind: 'hash', paths: part.map((t) => t.path) });
      outcomes.forEach((o, j) => {
        const t = part[j];
        if (!t || o.kind !== 'ok') return;
        out[t.i] = o.hash;
        this.hashes.set(guids[t.i] as string, o.hash);
      });
    }));
    // Renamed or gone meanwhile: followed one by one.
    for (const [i, g] of guids.entries()) if (out[i] === undefined) out[i] = await this.hash(g);
    return out;
  }

  private tmpName(): string {
    tmpCounter += 1;
    return this.pathOf('tmp', `${Date.now()}.Q${tmpCounter}.${tempTag()}`);
  }

  /**
   * Letters for keywords (after learnKeywords gave new names theirs); those past the folder's 26th
   * are reported and returned as dropped.
   */
  private letters(keywords: string[], what: string): { letters: string; dropped: string[] } {
    const got = (this.keywords as KeywordMap).lettersFor(keywords);
    for (const name of got.dropped) {
      this.events.warn(`keyword "${name}" of ${what} not set here: the folder's dovecot-keywords already names 26 keywords, all a Maildir folder can hold`);
    }
    return got;
  }

  /**
   * Gives letters to keyword names this folder has none for, before any file uses them. Dovecot
   * may have added names since the scan (maildir-keywords.c does, under dovecot-uidlist.lock), so
   * the file is re-read under that lock, new names take free letters in what it says now, and it
   * is written back before the lock goes. In-process callers take turns.
   */
  private async learnKeywords(names: string[]): Promise<void> {
    await this.ensureScan();
    if (names.every((n) => (this.keywords as KeywordMap).has(n))) return;
    const step = this.keywordSaves.then(() => this.addKeywords(names));
    this.keywordSaves = step.catch(() => undefined);
    await step;
  }

  private async addKeywords(names: string[]): Promise<void> {
    const path = join(this.home, 'dovecot-keywords');
    const lock = await lockUidlist(this.home, `folder ${this.name}`);
    try {
      const old = await readControlFile(path, CONTROL_FILE_MAX.keywords);
      const fresh = old ? KeywordMap.parse(old.data.toString('utf8'), path) : new KeywordMap();
      fresh.lettersFor(names.filter((n) => !fresh.has(n)));
      // Dovecot re-reads the file only when its mtime moves on by a whole second.
      if (fresh.changed) await replaceFileBytes(path, Buffer.from(fresh.takeChanges()), true, laterMtime(old?.mtimeMs), this.owner);
      const before = this.keywords as KeywordMap;
      const renamed = this.scan ? carrying(this.scan.files.values(), lettersNamedSince(before, fresh), this.separator) : [];
      this.keywords = fresh;
      for (const file of renamed) this.scanDigest?.remove(this.entryOf(file, before)).add(this.entryOf(file));
    } finally {
      await lock.release();
    }
  }

  /**
   * Places messages: tmp/ + fsync + mtime, then link() into new/ or cur/. link(), not rename():
   * link fails if the name exists where rename would overwrite (Maildir spec). A name already
   * holding other bytes gets a fresh name; the same bytes are simply "already there".
   */
  deliver(items: Delivery[]): Promise<Placed[]> {
    return this.writing(() => this.deliverNow(items));
  }

  private async deliverNow(items: Delivery[]): Promise<Placed[]> {
    const scan = await this.ensureScan();
    if (scan.damaged) {
      // Its messages come back into a whole folder again.
      for (const sub of ['cur', 'new', 'tmp'] as const) {
        await makeDirs(this.subdirs[sub], this.owner).catch((err) => { throw fromErrno(err, 'creating', this.subdirs[sub]); });
        this.touchedDirs.add(this.subdirs[sub]);
      }
      this.touchedDirs.add(this.home);
      scan.damaged = undefined;
    }
    await this.learnKeywords([...new Set(items.flatMap((item) => item.keywords))]);
    const letters = items.map((item) => this.letters(item.keywords, item.guid));
    const quick = await this.placeMany(items, letters.map((l) => l.letters));
    const placed = await Promise.all(items.map(async (item, i) => {
      const got = letters[i] as { letters: string; dropped: string[] };
      const p = quick[i] ?? await this.place(item, got.letters);
      return got.dropped.length > 0 && !p.existed ? { ...p, dropped: got.dropped } : p;
    }));
    this.markTouched();
    return placed;
  }

  /** Where the messages' files are now, by the scan (null for one it does not know). */
  async locateMany(guids: string[]): Promise<(string | null)[]> {
    const scan = await this.ensureScan();
    return guids.map((g) => {
      const file = scan.files.get(g);
      return file ? this.path(file) : null;
    });
  }

  /**
   * Copies messages from files of another local Maildir, file to file in a worker thread (the
   * bytes never reach this thread), under names this folder does not have yet; from another
   * folder of this Maildir (`sameMaildir`) as hard links where the filesystem allows. Anything
   * else is left undefined, for the caller to read and deliver the usual way.
   */
  deliverFiles(items: FileDelivery[], sameMaildir = false, twins = false): Promise<(FileDelivered | TwinFound | undefined)[]> {
    return this.writing(() => this.deliverFilesNow(items, sameMaildir, twins));
  }

  private async deliverFilesNow(items: FileDelivery[], sameMaildir: boolean, twins: boolean): Promise<(FileDelivered | TwinFound | undefined)[]> {
    const scan = await this.ensureScan();
    const out: (FileDelivered | TwinFound | undefined)[] = items.map(() => undefined);
    if (scan.damaged) return out;
    await this.learnKeywords([...new Set(items.flatMap((item) => item.keywords))]);
    const direct = this.staged;
    const batch: { index: number; name: string; letters: string; dropped: string[]; tmp: string; target: string; source: string; hash?: string }[] = [];
    items.forEach((item, i) => {
      if (scan.files.has(item.guid)) return;
      const got = this.letters(item.keywords, item.guid);
      const name = formatName({ guid: item.guid, flags: item.flags, keywordLetters: got.letters, infoRest: item.infoRest }, this.separator, item.location);
      batch.push({ index: i, name, letters: got.letters, dropped: got.dropped, tmp: direct ? '' : this.tmpName(), target: this.pathOf(item.location, name), source: item.path, ...(item.hash ? { hash: item.hash } : {}) });
    });
    if (batch.length === 0) return out;
    this.touchedDirs.add(this.subdirs.tmp);
    const outcomes = await (await ioPool()).run({
      kind: 'copy',
      items: batch.map((b) => ({ source: b.source, tmp: b.tmp, target: b.target, ...(b.hash ? { hash: b.hash } : {}) })),
      inlineMax: BODY_CHUNK,
      ...(this.owner ? { owner: this.owner } : {}),
      link: sameMaildir,
      direct,
      twins,
    }, this.dir);
    batch.forEach((b, j) => {
      const got = outcomes[j];
      const item = items[b.index] as FileDelivery;
      if (got?.kind === 'twin') out[b.index] = { twin: { inode: got.inode, hash: got.hash, mtime: got.mtime } };
      if (got?.kind !== 'ok') return;
      this.placed(b.name, item.guid, item, b.letters, got.hash);
      const placed: FileDelivered = { wanted: item.guid, guid: item.guid, hash: got.hash, existed: false, size: got.size };
      if (b.dropped.length > 0) placed.dropped = b.dropped;
      out[b.index] = placed;
    });
    this.markTouched();
    return out;
  }

  /**
   * The common case in one batch (batch-io.ts): whole bodies under names this folder does not
   * have. What the batch hands back (a name taken meanwhile, an error) is left undefined here
   * for `place`, which handles every case one by one.
   */
  private async placeMany(items: Delivery[], letters: string[]): Promise<(Placed | undefined)[]> {
    const scan = this.scan as FolderScan;
    const out: (Placed | undefined)[] = items.map(() => undefined);
    const batch: { index: number; name: string; tmp: string; target: string; data: Uint8Array }[] = [];
    const direct = this.staged;
    items.forEach((item, i) => {
      if (isStream(item.data) || scan.files.has(item.guid)) return;
      const name = formatName({ guid: item.guid, flags: item.flags, keywordLetters: letters[i] as string, infoRest: item.infoRest }, this.separator, item.location);
      batch.push({ index: i, name, tmp: direct ? '' : this.tmpName(), target: this.pathOf(item.location, name), data: item.data });
    });
    if (batch.length === 0) return out;
    this.touchedDirs.add(this.subdirs.tmp);
    const outcomes = await (await ioPool()).run({
      kind: 'write',
      items: batch.map((b) => ({ tmp: b.tmp, target: b.target, data: b.data, mtimeMs: (items[b.index] as Delivery).mtime })),
      ...(this.owner ? { owner: this.owner } : {}),
      direct,
    }, this.dir);
    batch.forEach((b, j) => {
      const got = outcomes[j];
      const item = items[b.index] as Delivery;
      if (got?.kind !== 'ok') return;
      this.placed(b.name, item.guid, item, letters[b.index] as string, got.hash);
      out[b.index] = { wanted: item.guid, guid: item.guid, hash: got.hash, existed: false };
    });
    return out;
  }

  private async place(item: Delivery, letters: string): Promise<Placed> {
    const scan = this.scan as FolderScan;
    let guid = item.guid;
    // A whole body is hashed first: when its name already holds these bytes nothing is written.
    const early = isStream(item.data) ? undefined : sha256(item.data);
    if (early !== undefined && scan.files.has(guid) && (await this.hash(guid)) === early) {
      return { wanted: item.guid, guid, hash: early, existed: true };
    }
    const tmp = this.tmpName();
    this.touchedDirs.add(this.subdirs.tmp);
    try {
      const hash = await writeDurable(tmp, item.data, item.mtime, this.owner);
      if (early === undefined && scan.files.has(guid)) {
        if ((await this.hash(guid)) === hash) return { wanted: item.guid, guid, hash, existed: true };
      }
      if (scan.files.has(guid)) guid = freshGuid(bodySize(item.data), hostname());
      for (;;) {
        const name = formatName({ guid, flags: item.flags, keywordLetters: letters, infoRest: item.infoRest }, this.separator, item.location);
        try {
          crashPoint();
          await link(tmp, this.pathOf(item.location, name));
          this.placed(name, guid, item, letters, hash);
          return { wanted: item.guid, guid, hash, existed: false };
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw fromErrno(err, 'delivering to', this.pathOf(item.location, name));
          // Another process delivered this exact name since our scan.
          this.events.raced();
          if ((await hashFile(this.pathOf(item.location, name))) === hash) return { wanted: item.guid, guid, hash, existed: true };
          guid = freshGuid(bodySize(item.data), hostname());
        }
      }
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** The target half of a move: this folder gets a copy of a message another folder of this Maildir holds. */
  async copyFrom(source: MaildirFolder, items: CopyRequest[]): Promise<Placed[]> {
    const out: Placed[] = [];
    const deliveries: Delivery[] = [];
    const order: number[] = [];
    for (const [i, item] of items.entries()) {
      const got = await source.read(item.fromGuid);
      if (got.vanished || !got.data) {
        out[i] = { wanted: item.guid, guid: item.guid, hash: '', existed: false, vanished: true };
        continue;
      }
      order.push(i);
      deliveries.push({ guid: item.guid, data: got.data, mtime: item.mtime ?? got.mtime ?? Date.now(), flags: item.flags, keywords: item.keywords, location: item.location, infoRest: item.infoRest });
    }
    const placed = await this.deliver(deliveries);
    placed.forEach((p, j) => { out[order[j] as number] = p; });
    return out;
  }

  /** Applies flag deltas to the flags each file has now, so a concurrent client's change is kept. */
  async setFlags(deltas: FlagDelta[]): Promise<FlagResult[]> {
    await this.ensureScan();
    await this.learnKeywords([...new Set(deltas.flatMap((d) => d.addKeywords))]);
    const letterSets = deltas.map((d) => {
      const add = this.letters(d.addKeywords, d.guid);
      return { add: add.letters, dropped: add.dropped, remove: (this.keywords as KeywordMap).knownLetters(d.removeKeywords) };
    });
    const results: FlagResult[] = [];
    for (const [i, delta] of deltas.entries()) {
      const set = letterSets[i] as { add: string; dropped: string[]; remove: string };
      const result = await this.renameOne(delta, set);
      results.push(set.dropped.length > 0 && !result.vanished ? { ...result, dropped: set.dropped } : result);
    }
    this.markTouched();
    return results;
  }

  private async renameOne(delta: FlagDelta, letters: { add: string; remove: string }): Promise<FlagResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const file = await this.locate(delta.guid, attempt > 0);
      if (!file) return { guid: delta.guid, vanished: true };
      const p = file.parsed;
      const flags = sortChars([...p.flags + delta.addFlags].filter((c) => !delta.removeFlags.includes(c)).join(''));
      const keywordLetters = sortChars([...p.keywordLetters + letters.add].filter((c) => !letters.remove.includes(c)).join(''));
      const location = delta.location ?? file.location;
      const name = formatName({ guid: p.guid, flags, keywordLetters, infoRest: p.infoRest, opaqueInfo: p.opaqueInfo }, p.separator ?? this.separator, location);
      if (name === file.name && location === file.location) return { guid: delta.guid, vanished: false };
      const to = this.pathOf(location, name);
      try {
        // rename(), never link+unlink: a flag change must not be able to leave two copies.
        crashPoint();
        await rename(this.path(file), to);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw fromErrno(err, 'renaming', this.path(file));
      }
      this.putFile({ name, location, guid: p.guid, parsed: { ...p, flags, keywordLetters } });
      this.touchedDirs.add(this.subdirs[location]);
      this.touchedDirs.add(this.subdirs[file.location]);
      return { guid: delta.guid, vanished: false };
    }
    return { guid: delta.guid, vanished: true };
  }

  async expunge(guids: string[]): Promise<number> {
    await this.ensureScan();
    let removed = 0;
    for (const guid of guids) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const file = await this.locate(guid, attempt > 0);
        if (!file) break;
        try {
          crashPoint();
          await unlink(this.path(file));
          this.dropFile(guid);
          this.touchedDirs.add(this.subdirs[file.location]);
          removed++;
          break;
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'expunging', this.path(file));
        }
      }
    }
    this.markTouched();
    return removed;
  }

  /** True when new/ and cur/ hold no message (what a folder deletion requires). */
  async isEmpty(): Promise<boolean> {
    for (const sub of ['new', 'cur'] as const) {
      const names = await readdir(this.subdirs[sub]).catch((err) => {
        if (isErrno(err, 'ENOENT')) return [] as string[];
        throw fromErrno(err, 'listing', this.subdirs[sub]);
      });
      if (names.some((n) => !n.startsWith('.'))) return false;
    }
    return true;
  }

  /** Removes tmp/ files older than 36 hours (Maildir spec). */
  async cleanTmp(): Promise<void> {
    const tmp = this.subdirs.tmp;
    const names = await readdir(tmp).catch(() => [] as string[]);
    const now = Date.now();
    for (const name of names) {
      const st = await stat(join(tmp, name)).catch(() => undefined);
      if (st?.isFile() && now - st.mtimeMs > TMP_MAX_AGE_MS) await unlink(join(tmp, name)).catch(() => undefined);
    }
  }

  private markTouched(): void {
    this.touched = true;
    this.cachedManifest = undefined;
  }

  /**
   * Makes dovecot-uidlist give these UIDs (a backup's, from its source). Dovecot's index files
   * for the folder are removed when it changes: Dovecot rebuilds them from the uidlist, where
   * stale ones would contradict it.
   */
  async writeUidlist(request: UidlistRequest): Promise<boolean> {
    const scan = await this.ensureScan();
    const current = this.uidlist;
    const records = new Map<string, { uid: number; fields: string[] }>();
    for (const [guid, uid, dovecotGuid] of request.uids) {
      if (scan.files.has(guid)) records.set(guid, { uid, fields: withField(current?.records.get(guid)?.fields ?? [], 'G', dovecotGuid ?? undefined) });
    }
    const headerExtra = request.mailboxGuid === undefined ? current?.headerExtra ?? [] : withField(current?.headerExtra ?? [], 'G', request.mailboxGuid);
    const same = current !== undefined && current.uidValidity === request.uidValidity && current.nextUid === request.nextUid &&
      current.headerExtra.join(' ') === headerExtra.join(' ') && current.records.size === records.size &&
      [...records].every(([g, r]) => current.records.get(g)?.uid === r.uid && current.records.get(g)?.fields.join(' ') === r.fields.join(' '));
    if (same) return false;
    const list: Uidlist = { version: 3, uidValidity: request.uidValidity, nextUid: request.nextUid, headerExtra, records };
    await writeUidlist(this.home, list, `folder ${this.name}`, this.owner);
    for (const file of ['dovecot.index', 'dovecot.index.log', 'dovecot.index.log.2', 'dovecot.index.cache']) {
      await unlink(join(this.home, file)).catch((err) => {
        if (!isErrno(err, 'ENOENT')) throw fromErrno(err, 'removing', join(this.home, file));
      });
    }
    this.uidlist = list;
    this.nextUidUnknown = false;
    this.cachedManifest = undefined;
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
      if ((this.scan as FolderScan).settled || wait > SETTLE_WAIT_MAX_MS) break;
    }
    this.touched = false;
  }

  /**
   * Moves a staged folder to its place in one rename(): a reader (Dovecot, a MUA) finds it whole
   * or not at all. Where the name was taken meanwhile (Dovecot creates a folder when a client
   * asks for it), the staged files are linked into that folder instead, no name overwritten.
   * Everything written to it is durable before it can be seen.
   */
  publish(confine: (dir: string) => Promise<void>): Promise<void> {
    this.publishing ??= this.publishNow(confine).finally(() => { this.publishing = undefined; });
    return this.publishing;
  }

  /**
   * Runs a delivery into the folder: never while it is being published, and a publication waits
   * for those under way (a far side's client may go while one is: a file still being written
   * must not be moved into sight).
   */
  private async writing<T>(work: () => Promise<T>): Promise<T> {
    while (this.publishing) await this.publishing.catch(() => undefined);
    const done = work();
    this.deliveries.add(done);
    try {
      return await done;
    } finally {
      this.deliveries.delete(done);
    }
  }

  /** `confine` refuses a directory leading out of the Maildir: the folder that took the name is written only if it passes. */
  private async publishNow(confine: (dir: string) => Promise<void>): Promise<void> {
    if (this.staging === undefined) return;
    const { dir: staging, whole } = this.staging;
    await Promise.allSettled([...this.deliveries]);
    await this.keywordSaves;
    await Promise.all([this.subdirs.cur, this.subdirs.new, staging].map(fsyncDir));
    if (whole) {
      try {
        crashPoint();
        await rename(staging, this.dir);
      } catch (err) {
        if (!isErrno(err, 'EEXIST', 'ENOTEMPTY')) throw fromErrno(err, 'publishing folder', this.dir);
        this.events.raced();
        await confine(this.dir);
        await this.mergeInto(staging, ['new', 'cur'], true);
      }
    } else {
      // rename() replaces a directory only while it is empty (else ENOTEMPTY): a message
      // delivered there meanwhile is never lost, and ours are then linked in beside it.
      const target = subdirsOf(this.dir);
      const left: Location[] = [];
      for (const location of ['new', 'cur'] as const) {
        try {
          crashPoint();
          await rename(this.subdirs[location], target[location]);
          // In place now: a publication tried again after a failure (at unlock) finds it there.
          this.subdirs[location] = target[location];
        } catch (err) {
          if (!isErrno(err, 'EEXIST', 'ENOTEMPTY')) throw fromErrno(err, 'publishing folder', target[location]);
          left.push(location);
        }
      }
      if (left.length > 0) {
        this.events.raced();
        await confine(this.dir);
        await this.mergeInto(staging, left, false);
      } else {
        await rm(staging, { recursive: true, force: true }).catch((err) => { throw fromErrno(err, 'removing', staging); });
      }
    }
    this.staging = undefined;
    this.subdirs = subdirsOf(this.dir);
    for (const d of this.touchedDirs) if (d === staging || d.startsWith(`${staging}/`)) this.touchedDirs.delete(d);
    for (const d of [dirname(staging), whole ? dirname(this.dir) : this.dir, this.subdirs.cur, this.subdirs.new]) this.touchedDirs.add(d);
    this.markTouched();
  }

  /**
   * Builds what the run places in this folder aside (in `staging`, in the root's tmp/) until
   * publish() puts its new/ and cur/ in place of the folder's: only while the folder holds no
   * message (its INBOX when the Maildir was just made, the Sent or Trash Dovecot created on a
   * client's login before a migration). False when it cannot: a message is there, or the folder
   * is damaged, staged or being written.
   */
  async stageContents(staging: string): Promise<boolean> {
    if (this.staging !== undefined || this.deliveries.size > 0) return false;
    const scan = await this.ensureScan();
    if (scan.damaged !== undefined || scan.files.size > 0 || !(await this.isEmpty())) return false;
    if (this.staging !== undefined || this.deliveries.size > 0) return false;
    const theirs = await Promise.all([this.subdirs.new, this.subdirs.cur].map((d) => stat(d).catch((err) => { throw fromErrno(err, 'checking', d); })));
    try {
      for (const sub of ['new', 'cur', 'tmp']) await makeDirs(join(staging, sub), this.owner);
      // What replaces new/ and cur/ keeps their owner and mode (a shared folder's group, say).
      for (const [i, sub] of ['new', 'cur'].entries()) {
        const st = theirs[i] as Stats;
        const ours = await stat(join(staging, sub));
        if (ours.uid !== st.uid || ours.gid !== st.gid) await chown(join(staging, sub), st.uid, st.gid);
        await chmod(join(staging, sub), st.mode & 0o7777);
      }
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      if (isErrno(err, 'EPERM')) return false;
      throw fromErrno(err, 'creating', staging);
    }
    this.staging = { dir: staging, whole: false };
    this.subdirs = subdirsOf(staging);
    for (const sub of ['new', 'cur', 'tmp'] as const) this.touchedDirs.add(this.subdirs[sub]);
    this.touchedDirs.add(staging);
    this.touchedDirs.add(dirname(staging));
    this.markTouched();
    return true;
  }

  /**
   * A staged folder into the folder that took its name (or staged new/ or cur/ into those that
   * were written meanwhile: `locations`): each file linked under its own name (a name holding
   * other bytes stops it: nothing is overwritten); with `keywords` (staged whole) its
   * dovecot-keywords only where the folder's gives their letters the same names or has none.
   */
  private async mergeInto(staging: string, locations: Location[], keywords: boolean): Promise<void> {
    const scan = this.scan as FolderScan;
    const taken = (why: string): MdsyncError =>
      new MdsyncError('CHANGED_DURING_RUN', `${this.dir}: folder ${this.name} was created by another program while it was being copied, ${why}; nothing was overwritten: run again`);
    const target = subdirsOf(this.dir);
    for (const sub of Object.values(target)) await makeDirs(sub, this.owner).catch((err) => { throw fromErrno(err, 'creating', sub); });
    const ours = this.keywords as KeywordMap;
    if (keywords && ours.format() !== '') {
      const lock = await lockUidlist(this.dir, `folder ${this.name}`);
      try {
        const theirs = await readKeywords(this.dir);
        if (theirs.format() === '') await replaceFileBytes(join(this.dir, 'dovecot-keywords'), Buffer.from(ours.format()), true, undefined, this.owner);
        else if (![...LETTERS].every((l) => ours.nameOf(l) === undefined || ours.nameOf(l) === theirs.nameOf(l))) throw taken('its dovecot-keywords naming other keywords');
      } finally {
        await lock.release();
      }
    }
    // A message already there under any name (other flags) is not linked in a second time.
    const there = new Map<string, string>();
    for (const location of ['cur', 'new'] as const) {
      const names = await readdir(target[location]).catch((err) => { throw fromErrno(err, 'listing', target[location]); });
      for (const name of names) there.set(guidOfName(name, this.separator), `${target[location]}/${name}`);
    }
    for (const file of scan.files.values()) {
      if (!locations.includes(file.location)) continue;
      const from = this.pathOf(file.location, file.name);
      const same = there.get(file.guid);
      if (same !== undefined) {
        if ((await hashFile(same)) !== (file.hash ?? (await hashFile(from)))) throw taken(`${same} holding another message`);
        continue;
      }
      const to = `${target[file.location]}/${file.name}`;
      try {
        crashPoint();
        await link(from, to);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw fromErrno(err, 'delivering to', to);
        if ((await hashFile(to)) !== (file.hash ?? (await hashFile(from)))) throw taken(`${to} holding another message`);
      }
    }
    await Promise.all([target.cur, target.new].map(fsyncDir));
    await rm(staging, { recursive: true, force: true }).catch((err) => { throw fromErrno(err, 'removing', staging); });
  }

  /** Removes a staged folder that will not be published (the run failed): none of its files were recorded. */
  async discard(): Promise<void> {
    const staging = this.staging?.dir;
    if (staging === undefined) return;
    this.staging = undefined;
    this.subdirs = subdirsOf(this.dir);
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A folder's dovecot-keywords; an empty map where there is none. */
async function readKeywords(dir: string): Promise<KeywordMap> {
  const path = join(dir, 'dovecot-keywords');
  return KeywordMap.parse(await readControlText(path, CONTROL_FILE_MAX.keywords) ?? '', path);
}

function subdirsOf(dir: string): Record<Location | 'tmp', string> {
  return { new: join(dir, 'new'), cur: join(dir, 'cur'), tmp: join(dir, 'tmp') };
}

/** Batches for readMany: at most 64 files and about 4 MB each (by the sizes names give). */
function readBatches(guids: string[], sizeOf: (guid: string) => number | undefined): string[][] {
  const out: string[][] = [];
  let part: string[] = [];
  let bytes = 0;
  for (const g of guids) {
    const size = sizeOf(g) ?? 64 * 1024;
    if (part.length > 0 && (part.length >= 64 || bytes + size > 4 * 1024 * 1024)) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(g);
    bytes += size;
  }
  if (part.length > 0) out.push(part);
  return out;
}

function withUidValidity(summary: Omit<FolderSummary, 'name'>, uidValidity: number | undefined): Omit<FolderSummary, 'name'> {
  return uidValidity === undefined ? summary : { ...summary, uidValidity };
}
