// A folder's listing in memory: its files by GUID, the running digest that follows every file
// placed and taken out (and the files that came and went since the listing before), the keyword
// map its letters are read under, its dovecot-uidlist, and the hashes known of its messages.
// No I/O: the folder lists and reads, and hands what it found here.

import { Digest, digestUids } from '../digest.js';
import type { FolderChanges, FolderManifest, Location, MessageEntry } from '../model.js';
import type { KeywordMap } from './keywords.js';
import { carrying, keepsLetters, lettersNamedSince, parseKeywords } from './keyword-letters.js';
import { sortChars, type Separator } from './name.js';
import type { FileTable, ScannedFile } from './file-table.js';
import type { FolderScan } from './scan.js';
import type { CachedFolder } from './scan-cache.js';
import { fieldOf, type Uidlist } from './uidlist.js';
import type { UidlistRead } from './control-files.js';

/** What a listing's control files said: the keyword map read after it, the uidlist read before it. */
export type Control = { keywords: KeywordMap } & UidlistRead;

export class FolderIndex {
  scan?: FolderScan;
  keywords?: KeywordMap;
  uidlist?: Uidlist;
  /** Dovecot committed through every read of the uidlist and index: UIDNEXT is not known this run. */
  nextUidUnknown = false;
  readonly hashes = new Map<string, string>();
  cachedManifest?: FolderManifest;
  /** The digest of the scan's files as they are now, when known; kept up to date as files are placed and removed. */
  scanDigest?: Digest;
  /** What the last listing found against the listing before it: a digest then, files come and gone. */
  sinceBase?: { digest: string; added: ScannedFile[]; removed: ScannedFile[] };
  /** Files placed in or taken out of the scan in memory so far (putFile, dropFile). */
  edits = 0;

  constructor(
    private readonly separator: Separator,
    /** A keyword letter a file carries that dovecot-keywords does not name (the entry keeps the file's name as it is). */
    private readonly unnamedLetter: (file: ScannedFile, letter: string) => void,
  ) {}

  private useControl(control: Control): void {
    this.keywords = control.keywords;
    this.uidlist = control.uidlist;
    this.nextUidUnknown = control.nextUidUnknown === true;
  }

  /** The listing a cache record holds (`files`, unpacked), its digest taken over under the keyword map as it is now. */
  fromRecord(record: CachedFolder, files: FileTable, control: Control): FolderScan {
    this.useControl(control);
    const scan: FolderScan = { files, stamp: record.stamp, settled: true, warnings: [] };
    this.scan = scan;
    // Letters named since the record change the entries of files carrying them.
    const recordKeywords = parseKeywords(record.keywords);
    const digest = recordKeywords && keepsLetters(recordKeywords, control.keywords) ? Digest.parse(record.digest) : undefined;
    if (digest && recordKeywords) {
      for (const file of carrying(files.values(), lettersNamedSince(recordKeywords, control.keywords), this.separator)) {
        digest.remove(this.entryOf(file, recordKeywords)).add(this.entryOf(file));
      }
    }
    this.scanDigest = digest;
    return scan;
  }

  /**
   * A new listing, against `before` (the listing it was taken after, with that listing's digest
   * and keyword map): the digest follows only the files that came and went, as long as the
   * keyword map still says the same. `again`: the files `before` lists that the scan listed
   * again, when it followed `before` unchanged. True when a file came or went.
   */
  replace(
    scan: FolderScan, control: Control,
    before: { files: FileTable; digest: Digest | undefined; keywords: KeywordMap | undefined; followedUnchanged: boolean } | undefined,
  ): boolean {
    // Assigned together: a concurrent caller never sees a scan without its keyword map.
    this.scan = scan;
    this.useControl(control);
    this.cachedManifest = undefined;
    // An empty listing's digest is known: placements into a new folder then follow it, and its
    // digest is not computed whole at the end (a first copy's whole folder, on nothing else).
    this.scanDigest = scan.files.size === 0 ? new Digest() : undefined;
    this.sinceBase = undefined;
    if (!before) return false;
    const added: ScannedFile[] = [];
    const removed: ScannedFile[] = [];
    // The listing the scan followed, unchanged since: which of its files it listed again is known,
    // and no file is looked up in the other listing.
    // (Packed by the scan, it holds only files with a packed index, unless it holds a name no listing makes.)
    const followed = before.followedUnchanged && scan.followed?.previous === before.files && before.files.size === before.files.packedCount ? scan.followed : undefined;
    // Read once, here: kept, it would hold the listing before as long as this one.
    scan.followed = undefined;
    const gone = (file: ScannedFile): void => {
      removed.push(file);
      // A renamed message keeps its hash (its GUID names the same body).
      if (file.hash !== undefined && !this.hashes.has(file.guid)) this.hashes.set(file.guid, file.hash);
    };
    if (followed) {
      added.push(...followed.anew);
      const previous = followed.previous;
      for (let i = 0; i < previous.packedCount; i++) if (!followed.again[i]) gone(previous.fileAt(i));
    } else {
      for (const file of scan.files.values()) if (!before.files.holds(file)) added.push(file);
      for (const file of before.files.values()) if (!scan.files.holds(file)) gone(file);
    }
    const cameOrWent = added.length > 0 || removed.length > 0;
    const { digest: beforeDigest, keywords: beforeKeywords } = before;
    if (!beforeDigest || beforeKeywords === undefined || !keepsLetters(beforeKeywords, control.keywords)) return cameOrWent;
    // Files listed again under their names whose keywords changed all the same (a letter got a name).
    for (const file of carrying(scan.files.values(), lettersNamedSince(beforeKeywords, control.keywords), this.separator)) {
      if (!before.files.holds(file)) continue;
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

  /** The keyword map grown (control-files.ts addKeywordNames): files carrying a letter named since change their entries. */
  renameKeywords(fresh: KeywordMap): void {
    const before = this.keywords as KeywordMap;
    const renamed = this.scan ? carrying(this.scan.files.values(), lettersNamedSince(before, fresh), this.separator) : [];
    this.keywords = fresh;
    for (const file of renamed) this.scanDigest?.remove(this.entryOf(file, before)).add(this.entryOf(file));
  }

  /** The digest of the scan's files (computed whole only when no earlier digest can be followed). */
  digestHex(): string {
    if (!this.scanDigest) {
      const d = new Digest();
      for (const file of (this.scan as FolderScan).files.values()) d.add(this.entryOf(file));
      this.scanDigest = d;
    }
    return this.scanDigest.hex();
  }

  /** A file's manifest entry; keyword letters without a name go to `unknown` (for a digest, nowhere). */
  entryOf(file: ScannedFile, keywords = this.keywords as KeywordMap, unknown: (letter: string) => void = () => undefined): MessageEntry {
    const p = file.parsed;
    const entry: MessageEntry = { guid: p.guid, flags: p.flags, keywords: keywords.namesFor(p.keywordLetters, unknown), location: file.location };
    if (p.size !== undefined) entry.size = p.size;
    if (p.infoRest !== undefined) entry.infoRest = p.infoRest;
    return entry;
  }

  /** A manifest entry with what else is known of the message: its hash, its UID. */
  fullEntry(file: ScannedFile): MessageEntry {
    const entry = this.entryOf(file, this.keywords, (letter) => this.unnamedLetter(file, letter));
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

  /**
   * What changed since the listing whose digest is `since` (the saved state's), or undefined when
   * this listing cannot tell (no such listing before it: the caller asks for the whole manifest).
   */
  changes(since: string): FolderChanges | undefined {
    const base = this.sinceBase;
    if (!base || base.digest !== since) return undefined;
    const changed = base.added.map((f) => this.fullEntry(f));
    const names = new Set(changed.map((e) => e.guid));
    const gone = [...new Set(base.removed.map((f) => f.guid))].filter((g) => !names.has(g));
    const skipped = this.scan?.skipped;
    return skipped ? { changed, gone, skipped } : { changed, gone };
  }

  manifest(name: string): FolderManifest {
    if (this.cachedManifest) return this.cachedManifest;
    const scan = this.scan as FolderScan;
    const messages: MessageEntry[] = [];
    for (const file of scan.files.values()) messages.push(this.fullEntry(file));
    messages.sort((a, b) => (a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0));
    const manifest: FolderManifest = { name, messages, digest: this.digestHex() };
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

  /** The listing as a cache record (`settled`: listed settled, not written since); undefined for one that must be listed afresh next run. */
  record(name: string, settled: boolean): CachedFolder | undefined {
    const scan = this.scan as FolderScan;
    // A damaged folder, or one holding files that cannot be synced, is looked at afresh every run
    // (and reported every run) until it is whole.
    if (scan.damaged || scan.warnings.length > 0 || this.nextUidUnknown) return undefined;
    const uidValidity = this.uidlist?.uidValidity;
    return {
      stamp: scan.stamp,
      settled,
      digest: this.digestHex(),
      count: scan.files.size,
      uids: this.uidlist ? digestUids(this.manifest(name)) : '',
      ...(uidValidity !== undefined ? { uidValidity } : {}),
      keywords: (this.keywords as KeywordMap).format(),
      files: scan.files.toRecord(this.hashes.size > 0 ? (guid) => this.hashes.get(guid) : undefined),
    };
  }

  /** Lets go of the listing (its record kept by the folder). */
  clear(): void {
    this.scan = undefined;
    this.uidlist = undefined;
    this.cachedManifest = undefined;
    this.scanDigest = undefined;
    this.sinceBase = undefined;
    this.hashes.clear();
  }

  /** Records a message this run placed under `name`: in the listing (the digest following), with the hash of what was written. */
  placed(name: string, guid: string, item: { flags: string; location: Location; infoRest?: string }, letters: string, hash: string): void {
    this.putFile({ name, location: item.location, guid, hash, parsed: { guid, flags: sortChars(item.flags), keywordLetters: letters, separator: this.separator, infoRest: item.infoRest } });
    // The file carries its hash; one kept for an earlier file of this GUID is not its hash.
    this.hashes.delete(guid);
  }

  /** Hashes read from the files themselves (`--checksum`): they replace any kept for these names. */
  learnHashes(found: [guid: string, hash: string][]): void {
    for (const [guid, hash] of found) this.hashes.set(guid, hash);
  }

  /** The hash of a message's body when known (learned this run, or listed with its file). */
  knownHash(guid: string): string | undefined {
    return this.hashes.get(guid) ?? this.scan?.files.get(guid)?.hash;
  }

  /** Places a file in the listing, following the digest. */
  putFile(file: ScannedFile): void {
    const files = (this.scan as FolderScan).files;
    this.edits++;
    const before = files.get(file.guid);
    if (before?.hash !== undefined && !this.hashes.has(file.guid)) this.hashes.set(file.guid, before.hash);
    if (this.scanDigest && before) this.scanDigest.remove(this.entryOf(before));
    files.set(file);
    this.scanDigest?.add(this.entryOf(file));
    this.sinceBase = undefined;
  }

  /** Takes a file out of the listing, following the digest. */
  dropFile(guid: string): void {
    const files = (this.scan as FolderScan).files;
    const before = files.get(guid);
    if (!before) return;
    this.edits++;
    this.scanDigest?.remove(this.entryOf(before));
    files.delete(guid);
    this.sinceBase = undefined;
  }
}
