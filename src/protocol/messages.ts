// The message table: every request a client may send, with the checks for its arguments and its answer.

import type { Layout, MessageEntry } from '../model.js';
import {
  bool, bytes, flags, folder, guid, hex32, hex64, infoRest, invalid, keyword, line, list, location, nullable, oneOf, record, skippedGuid, text, tuple, uidlistToken, uint, type Check,
} from './check.js';
import { MANIFEST_PAGE, MAX_FOLDER, MAX_GUID, MAX_INLINE_BODY, MAX_KEYWORDS, MAX_LIST, MAX_MESSAGE, MAX_TEXT, REQUEST_ITEMS } from './limits.js';

const keywords = list(keyword, MAX_KEYWORDS);
const mtime = uint();
const size = uint(MAX_MESSAGE);
const streamId = uint(2 ** 31);
const layout: Check<Layout> = oneOf('maildir++', 'fs');
const nothing: Check<null> = (v, path) => (v === null || v === undefined ? null : invalid(path, 'expected nothing'));
const empty = record({});

/** A manifest entry travels as a list: [guid, flags, keywords, location, size, infoRest, uid, hash]. */
const wireEntry = tuple(guid, flags, keywords, location, nullable(size), nullable(infoRest), nullable(uint(2 ** 32)), nullable(hex64), nullable(uidlistToken));
export type WireEntry = ReturnType<typeof wireEntry>;

export function entryToWire(e: MessageEntry): WireEntry {
  return [e.guid, e.flags, e.keywords, e.location, e.size ?? null, e.infoRest ?? null, e.uid ?? null, e.hash ?? null, e.dovecotGuid ?? null];
}

export function entryFromWire([g, f, k, l, s, r, u, h, d]: WireEntry): MessageEntry {
  const e: MessageEntry = { guid: g, flags: f, keywords: k, location: l };
  if (s !== null) e.size = s;
  if (r !== null) e.infoRest = r;
  if (u !== null) e.uid = u;
  if (h !== null) e.hash = h;
  if (d !== null) e.dovecotGuid = d;
  return e;
}

const deliveryMeta = { guid, mtime, flags, keywords, location };
const deliveryOptional = { infoRest };
const placed = record({ wanted: guid, guid, hash: text(64), existed: bool }, { vanished: bool, dropped: keywords });
/**
 * See deliveries.ts: a batch's GUIDs and flags as lines of one text each, its locations one letter
 * each; each line is checked as a GUID or flags field is when the batch is unpacked.
 */
const deliveries = record({
  folder,
  guids: text(MAX_LIST * (MAX_GUID + 1)),
  flags: text(MAX_LIST * 65),
  locations: text(MAX_LIST),
  mtimes: list(mtime),
  keywords: list(keywords),
  infoRest: list(nullable(infoRest)),
  data: list(bytes(MAX_INLINE_BODY)),
});
/** See placed.ts: SHA-256s of 32 bytes and one byte for "already there", in order; the exceptions named. */
const placedBatch = record({
  hashes: bytes(32 * REQUEST_ITEMS),
  existed: bytes(REQUEST_ITEMS),
  others: list(record({ at: uint(REQUEST_ITEMS - 1) }, { guid, vanished: bool, dropped: keywords }), REQUEST_ITEMS),
});

/**
 * Every method with the minor protocol version that brought it: a client asks a method only of a
 * far side whose hello announced at least that minor (limits.ts). `hello`'s own fields are only
 * ever added, optional, so that two versions can always tell each other theirs.
 */
export const METHODS = {
  hello: {
    minor: 0,
    args: record(
      { protocol: uint(), program: line(64), timeoutMs: uint() },
      {
        minor: uint(), create: bool, mkpath: bool, readOnly: bool, layout, defaultLayout: layout, separator: oneOf(':', '!', ';'),
        // --compress: message bodies deflated both ways (frames are deflated always); the client reads FolderSummary.partial.
        compress: bool, partialListings: bool,
      },
    ),
    result: record({ protocol: uint(), program: line(64), id: line(256), layout, root: line(MAX_TEXT) }, { minor: uint() }),
  },
  lock: { minor: 0, args: empty, result: nothing },
  unlock: { minor: 0, args: empty, result: nothing },
  listFolders: {
    minor: 0,
    args: record({}, { release: record({ keep: uint() }), folders: list(folder) }),
    // `partial`: folders listed partially (FolderSummary.partial), sent only to a client that asked for them in hello.
    result: record(
      { folders: list(tuple(folder, text(64), uint(), text(64), nullable(uint(2 ** 32)), nullable(text(MAX_TEXT)), nullable(text(MAX_TEXT)))), subscriptions: list(folder) },
      { partial: list(folder) },
    ),
  },
  // `skipped` (FolderManifest.skipped), on the first page.
  manifest: {
    minor: 0,
    args: record({ folder, start: uint() }),
    result: record(
      { digest: text(64), total: uint(), entries: list(wireEntry) },
      { uidValidity: uint(2 ** 32), nextUid: uint(2 ** 32), mailboxGuid: uidlistToken, skipped: list(skippedGuid) },
    ),
  },
  // Nothing when the far side cannot tell what changed since `since`, or has more than a manifest page of it.
  changes: {
    minor: 0,
    args: record({ folder, since: hex32 }),
    result: nullable(record({ changed: list(wireEntry, MANIFEST_PAGE), gone: list(guid, MANIFEST_PAGE) }, { skipped: list(skippedGuid, MANIFEST_PAGE) })),
  },
  prepare: { minor: 0, args: record({ folders: list(folder) }), result: nothing },
  release: { minor: 0, args: record({ folders: list(folder) }), result: nothing },
  hash: { minor: 0, args: record({ folder, guids: list(guid) }), result: list(nullable(hex64)) },
  mtimes: { minor: 0, args: record({ folder, guids: list(guid) }), result: list(nullable(mtime)) },
  // --checksum: hashes and mtimes read from the far side's files.
  checksum: { minor: 0, args: record({ folder, guids: list(guid) }), result: list(nullable(record({ hash: hex64, mtime }))) },
  setMtimes: { minor: 0, args: record({ folder, items: list(record({ guid, mtime })) }), result: list(bool) },
  read: {
    minor: 0,
    args: record({ folder, guids: list(guid) }),
    // Each item: vanished, or whole `data`, or a `stream` to pull with readChunk.
    // `inode` (with `hash`): the file has other names there.
    result: list(record({ guid }, { vanished: bool, data: bytes(MAX_INLINE_BODY), mtime, hash: hex64, size, stream: streamId, inode: line(64) })),
  },
  readChunk: { minor: 0, args: record({ stream: streamId, seq: uint() }), result: bytes(MAX_INLINE_BODY) },
  closeStream: { minor: 0, args: record({ stream: streamId }), result: nothing },
  deliver: { minor: 0, args: deliveries, result: placedBatch },
  upload: { minor: 0, args: record({ folder, item: record({ ...deliveryMeta, size }, deliveryOptional) }), result: streamId },
  uploadChunk: { minor: 0, args: record({ stream: streamId, seq: uint(), data: bytes(MAX_INLINE_BODY) }), result: nothing },
  uploadEnd: { minor: 0, args: record({ stream: streamId }), result: placed },
  copyLocal: {
    minor: 0,
    args: record({ folder, items: list(record({ fromFolder: folder, fromGuid: guid, guid, flags, keywords, location }, { infoRest, mtime, hash: hex64 })) }),
    result: list(placed),
  },
  setFlags: {
    minor: 0,
    args: record({
      folder,
      deltas: list(record({ guid, addFlags: flags, removeFlags: flags, addKeywords: keywords, removeKeywords: keywords }, { location })),
    }),
    result: list(record({ guid, vanished: bool }, { dropped: keywords })),
  },
  expunge: { minor: 0, args: record({ folder, guids: list(guid) }), result: uint() },
  createFolder: { minor: 0, args: record({ folder }, { staged: bool }), result: nothing },
  stageFolder: { minor: 0, args: record({ folder }), result: bool },
  publishFolder: { minor: 0, args: record({ folder }), result: nothing },
  deleteFolder: { minor: 0, args: record({ folder }), result: bool },
  writeSubscriptions: { minor: 0, args: record({ names: list(folder) }), result: nothing },
  writeUidlist: {
    minor: 0,
    args: record(
      { folder, uidValidity: uint(2 ** 32), nextUid: uint(2 ** 32), uids: list(tuple(guid, uint(2 ** 32), nullable(uidlistToken))) },
      { mailboxGuid: uidlistToken },
    ),
    result: bool,
  },
  commit: { minor: 0, args: empty, result: nothing },
  drainWarnings: {
    minor: 0,
    args: empty,
    // `changed`: folders another program changed since they were listed.
    result: record({ warnings: list(record({ message: line(MAX_TEXT) }, { folder: line(MAX_FOLDER) })), raced: bool }, { changed: list(folder) }),
  },
} as const;

export type Method = keyof typeof METHODS;
/** The minor version that brought a method (what a far side must announce for it to be asked). */
export const minorOf = (method: Method): number => METHODS[method].minor;
export type Args<M extends Method> = ReturnType<(typeof METHODS)[M]['args']>;
export type Result<M extends Method> = ReturnType<(typeof METHODS)[M]['result']>;

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.hasOwn(METHODS, name);
}
