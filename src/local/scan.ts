// Quiescent scan of one folder's new/ and cur/: re-read until the directory mtimes hold still.

import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { Location } from '../model.js';
import { guidOfName, printableName, unsyncableName, type Separator } from './name.js';
import { addGuids, agreedListing, missedBy, withFound, type Listing } from './agree.js';
import { FileTable, FileTableBuilder } from './file-table.js';
import type { Packed, ScannedFile } from './packed-files.js';
import { fromErrno } from './disk.js';

export { ListedFile, type ScannedFile } from './file-table.js';

/**
 * What a folder's scan depends on: nanosecond mtimes of new/, cur/, dovecot-uidlist,
 * dovecot-keywords, then ctimes of new/ and cur/. A directory's mtime can be set back (rsync -a
 * gives it the source's; a copy made in the same clock tick has the same one): its ctime cannot.
 */
export type FolderStamp = [string, string, string, string, string, string];

export interface FolderScan {
  files: FileTable;
  stamp: FolderStamp;
  /** False when a directory changed within the last 2 s: the next run must rescan (two changes in one mtime tick). */
  settled: boolean;
  warnings: string[];
  /**
   * The GUIDs of names skipped with a warning (guidOfName's): a saved record of one is not taken
   * as expunged on this side (an earlier version synced names this one skips).
   */
  skipped?: string[];
  /** Set when new/ or cur/ is missing: the folder cannot say which messages it lost. */
  damaged?: string;
  /**
   * Set when no listing held still (deliveries and flag renames all the while): `files` holds the
   * messages two listings agreed on (agree.ts), and one left out may still be there.
   */
  partial?: boolean;
  /**
   * Set when a previous listing was followed: that listing, which of its files (by packed index)
   * were listed again, and the files listed anew. What came and went is then known without
   * looking every file up in both listings.
   */
  followed?: { previous: FileTable; again: Uint8Array; anew: ScannedFile[] };
}

// Two changes within one mtime tick look like one: a directory changed less than a tick ago may
// change again unseen. Filesystems with whole-second mtimes get the 2 s rule; finer ones a margin
// well above the kernel's coarse clock (jiffies).
const SETTLE_COARSE_NS = 2_000_000_000n;
const SETTLE_FINE_NS = 50_000_000n;
const MAX_ATTEMPTS = 8;
/** Attempts after which a folder that never holds still is listed partially, where the caller takes that. */
const PARTIAL_AFTER = 4;

type Times = { mtimeNs: bigint; ctimeNs: bigint };

/**
 * Synchronous on purpose: four stats per folder are all a no-change run does with most folders,
 * and a promise-based stat costs the event loop over ten times what the system call does.
 */
function timesNs(path: string): Times {
  try {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st ? { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs } : { mtimeNs: 0n, ctimeNs: 0n };
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return { mtimeNs: 0n, ctimeNs: 0n };
    throw fromErrno(err, 'checking', path);
  }
}

/**
 * Where a folder's parts are: its directory (control files) and its new/ and cur/, which are
 * elsewhere while what a run places in an empty folder is built aside (MaildirFolder.stageContents).
 */
export interface FolderPlace {
  dir: string;
  new: string;
  cur: string;
}

const placeOf = (at: string | FolderPlace): FolderPlace => (typeof at === 'string' ? { dir: at, new: join(at, 'new'), cur: join(at, 'cur') } : at);

export async function stampFolder(at: string | FolderPlace): Promise<FolderStamp> {
  const place = placeOf(at);
  const [n, c, u, k] = [place.new, place.cur, join(place.dir, 'dovecot-uidlist'), join(place.dir, 'dovecot-keywords')].map(timesNs) as [Times, Times, Times, Times];
  return [n.mtimeNs, c.mtimeNs, u.mtimeNs, k.mtimeNs, n.ctimeNs, c.ctimeNs].map(String) as FolderStamp;
}

/** A directory entry: the Dirent itself where every name is UTF-8 (no object per entry made). */
interface DirEntry {
  readonly name: string;
  isFile(): boolean;
  /** The name's bytes are not UTF-8: no string names the file, so it cannot be opened by name. */
  readonly notUtf8?: boolean;
}

/** A directory's entries; undefined when it does not exist. */
async function listDir(path: string): Promise<DirEntry[] | undefined> {
  try {
    // Names as strings cost a third of names as buffers; only a listing with an invalid byte
    // (decoded as U+FFFD) is read again as bytes.
    const listed = await readdir(path, { withFileTypes: true });
    if (!listed.some((e) => e.name.includes('\ufffd'))) return listed;
    const entries = await readdir(path, { withFileTypes: true, encoding: 'buffer' });
    return entries.map((e) => {
      const raw = e.name as unknown as Buffer;
      const name = raw.toString('utf8');
      // Invalid bytes decode to U+FFFD; only then is the round trip worth checking.
      const notUtf8 = name.includes('\ufffd') && !Buffer.from(name, 'utf8').equals(raw);
      const regular = e.isFile();
      return { name: notUtf8 ? escapeBytes(raw) : name, isFile: () => regular, notUtf8 };
    });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw fromErrno(err, 'listing', path);
  }
}

/** Names looked for past each expected one before the GUID map is asked (files gone since). */
const LOOK_AHEAD = 4;
/** Names in a row not found where expected before the order is no longer tried. */
const MAX_MISSES = 64;

/**
 * A previous listing's files of one directory, followed in the order they were listed: a
 * directory read again lists nearly all its names in the same order (a hash order or a creation
 * order), so the next name is nearly always the one expected, found without a lookup; a name
 * that is not is looked up by its GUID. Two places in the order are followed at once: where two
 * threads wrote one directory, their files come back interleaved (a first copy's folder listed
 * again after it: half its names missed the one expected).
 */
class Follower {
  /** The previous listing's files of this directory (packed indices), in the order listed. */
  private readonly order: number[] = [];
  /** The two places followed, and when each last found a name. */
  private readonly at = [0, 0];
  private readonly lastFound = [0, 0];
  private finds = 0;
  private misses = 0;
  /** Each file's place in the order, built at the first file found elsewhere than expected. */
  private places?: Map<number, number>;

  /** `previous` must be packed (FileTable.pack): every file has an index. */
  constructor(private readonly previous: FileTable, private readonly location: Location, private readonly separator: Separator) {
    for (let i = 0; i < previous.packedCount; i++) if (previous.isLive(i) && previous.locationAt(i) === location) this.order.push(i);
  }

  /** The packed index of the previous file of this name in this directory, or -1. */
  find(name: string): number {
    this.finds++;
    const previous = this.previous;
    if (this.misses < MAX_MISSES) {
      for (let c = 0; c < 2; c++) {
        const from = this.at[c] as number;
        const end = Math.min(from + LOOK_AHEAD, this.order.length);
        for (let k = from; k < end; k++) {
          const index = this.order[k] as number;
          if (!previous.nameIs(index, name)) continue;
          this.at[c] = k + 1;
          this.lastFound[c] = this.finds;
          this.misses = 0;
          return index;
        }
      }
      this.misses++;
    }
    const known = previous.indexOf(guidOfName(name, this.separator));
    if (known < 0 || !previous.nameIs(known, name) || previous.locationAt(known) !== this.location) return -1;
    if (this.misses < MAX_MISSES) {
      // Found elsewhere: the place followed that found nothing for longer goes on from here.
      this.places ??= new Map(this.order.map((index, k) => [index, k]));
      const c = (this.lastFound[0] as number) <= (this.lastFound[1] as number) ? 0 : 1;
      this.at[c] = (this.places.get(known) ?? -1) + 1;
      this.lastFound[c] = this.finds;
    }
    return known;
  }
}

/** new/ and cur/ listed at once; undefined for one that does not exist. */
async function listBoth(place: FolderPlace): Promise<[DirEntry[] | undefined, DirEntry[] | undefined]> {
  return Promise.all([listDir(place.new), listDir(place.cur)]);
}

function sameNames(x: (DirEntry[] | undefined)[], y: (DirEntry[] | undefined)[]): boolean {
  return x.every((entries, i) => {
    const other = y[i];
    if (!entries || !other) return entries === other;
    if (entries.length !== other.length) return false;
    const names = new Set(other.map((e) => e.name));
    return entries.every((e) => names.has(e.name));
  });
}

/**
 * Reads new/ and cur/ of a folder. readdir() may miss a file renamed during the listing or see it
 * twice (once per name): so the directory mtimes are checked before and after, and a GUID seen
 * twice also forces another pass. A file of `previous` listed again under the same name and
 * location is the same object in the new scan. With `allowPartial`, a folder that never holds
 * still is not given up on: it is listed partially (FolderScan.partial).
 */
export async function scanFolder(
  at: string | FolderPlace, separator: Separator, previous?: FileTable, nowNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
  allowPartial = false,
): Promise<FolderScan> {
  const place = placeOf(at);
  const dir = place.dir;
  let lastProblem = '';
  let earlier: Listing<DirEntry> | undefined;
  /** GUIDs the listings before `earlier` named: a partial listing takes what any of them saw. */
  const older = new Set<string>();
  const guidOf = (e: DirEntry): string | undefined => (e.name.startsWith('.') || e.notUtf8 || !e.isFile() ? undefined : guidOfName(e.name, separator));
  const keep = (listing: Listing<DirEntry>): void => {
    if (earlier && allowPartial) addGuids(older, earlier, guidOf);
    earlier = listing;
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 500)));
    const before = await stampFolder(place);
    const startedNs = nowNs();
    const listed = await listBoth(place);
    const [newListed, curListed] = listed;
    let newEntries = newListed ?? [];
    let curEntries = curListed ?? [];
    const after = await stampFolder(place);
    let held = before[0] === after[0] && before[1] === after[1];
    if (held && !isSettled(before, startedNs)) {
      // Two changes within one mtime tick look like one: a rename during the listing, in the tick
      // of the change before it, left the mtime as it was. A listing taken again lists the same names.
      const again = await listBoth(place);
      const last = await stampFolder(place);
      held = last[0] === after[0] && last[1] === after[1] && sameNames(listed, again);
    }
    let partial = false;
    if (!held) {
      lastProblem = 'the directory kept changing';
      if (!allowPartial || !earlier || attempt < PARTIAL_AFTER - 1) {
        keep({ new: newEntries, cur: curEntries });
        continue;
      }
      const later = { new: newEntries, cur: curEntries };
      let agreed = agreedListing(earlier, later, guidOf, older);
      const missed = missedBy(earlier, later, guidOf);
      if (missed.size > 0) {
        // The later listing missed these (renamed during it) or they were expunged: a listing
        // more finds the first under their names now.
        const [newAgain, curAgain] = await listBoth(place);
        agreed = withFound(agreed, missed, { new: newAgain ?? [], cur: curAgain ?? [] }, guidOf);
      }
      ({ new: newEntries, cur: curEntries } = agreed);
      partial = true;
    }
    const files = new FileTableBuilder(separator, newEntries.length + curEntries.length);
    const warnings: string[] = [];
    const skipped: string[] = [];
    const duplicates: string[] = [];
    previous?.pack();
    const packed = previous?.packed;
    const follow = previous && { new: new Follower(previous, 'new', separator), cur: new Follower(previous, 'cur', separator) };
    const again = previous && new Uint8Array(previous.packedCount);
    const anew: number[] = [];
    for (const [location, entries] of [['new', newEntries], ['cur', curEntries]] as const) {
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue;
        if (entry.notUtf8) {
          warnings.push(`skipping ${location}/${entry.name} in ${dir}: the file name is not UTF-8; rename it to have it synced`);
          skipped.push(guidOfName(entry.name, separator));
          continue;
        }
        if (!entry.isFile()) {
          warnings.push(`skipping ${location}/${printableName(entry.name)} in ${dir}: not a regular file`);
          skipped.push(guidOfName(entry.name, separator));
          continue;
        }
        const before = follow?.[location].find(entry.name) ?? -1;
        let guidLength: number;
        if (before >= 0) {
          guidLength = (packed as Packed).guidLengths[before] as number;
        } else {
          const guid = guidOfName(entry.name, separator);
          const problem = unsyncableName(entry.name, guid, separator);
          if (problem) {
            warnings.push(`skipping ${location}/${printableName(entry.name)} in ${dir}: ${problem}`);
            skipped.push(guid);
            continue;
          }
          guidLength = guid.length;
        }
        const seen = before >= 0 ? files.addFrom(packed as Packed, before, entry.name, location) : files.add(entry.name, location, guidLength);
        if (seen >= 0) {
          const first = files.fileAt(seen);
          duplicates.push(`${first.location}/${first.name} and ${location}/${entry.name}`);
          continue;
        }
        if (before >= 0) (again as Uint8Array)[before] = 1;
        else anew.push(files.size - 1);
      }
    }
    if (duplicates.length > 0 && !partial && attempt < MAX_ATTEMPTS - 1) {
      lastProblem = `the same message under two names (${duplicates[0]})`;
      keep({ new: newEntries, cur: curEntries });
      continue;
    }
    for (const pair of duplicates) warnings.push(`two files share one GUID in ${dir}: ${pair}; only the first is synced`);
    // A partial listing is never settled: the scan cache does not stand by it.
    const settled = !partial && isSettled(after, nowNs());
    const missing = [newListed ? '' : 'new/', curListed ? '' : 'cur/'].filter(Boolean);
    const table = FileTable.built(separator, files);
    const scan: FolderScan = { files: table, stamp: after, settled, warnings };
    if (missing.length > 0) scan.damaged = `${missing.join(' and ')} missing`;
    if (partial) scan.partial = true;
    if (skipped.length > 0) scan.skipped = skipped;
    if (previous) scan.followed = { previous, again: again as Uint8Array, anew: anew.map((i) => table.fileAt(i)) };
    return scan;
  }
  throw new MdsyncError('SCAN_UNSTABLE', `folder ${dir} kept changing while it was scanned (${lastProblem}); run again`);
}

/** Whether new/ and cur/ of this stamp were last changed more than an mtime tick before `nowNs`. */
function isSettled(stamp: FolderStamp, nowNs: bigint): boolean {
  // By mtimes: a change after an mtime was set back sets it to now, and the stamp's ctimes tell too.
  const mtimes = [stamp[0], stamp[1]].map(BigInt);
  const newest = mtimes.reduce((a, b) => (a > b ? a : b));
  const coarse = mtimes.every((m) => m % 1_000_000_000n === 0n);
  return nowNs - newest > (coarse ? SETTLE_COARSE_NS : SETTLE_FINE_NS);
}

/** Milliseconds until new/ and cur/ of this stamp count as settled (0: already). */
export function settleDelayMs(stamp: FolderStamp, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): number {
  const mtimes = [stamp[0], stamp[1]].map(BigInt);
  const newest = mtimes.reduce((a, b) => (a > b ? a : b));
  const coarse = mtimes.every((m) => m % 1_000_000_000n === 0n);
  const left = (coarse ? SETTLE_COARSE_NS : SETTLE_FINE_NS) - (nowNs - newest);
  return left < 0n ? 0 : Number(left / 1_000_000n) + 1;
}

/** A file name for a message: printable ASCII as it is, every other byte as \xNN. */
function escapeBytes(raw: Buffer): string {
  let out = '';
  for (const byte of raw) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}
