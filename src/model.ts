// The plain data that crosses every boundary: manifests, deliveries, flag deltas, results.
// No code here: src/local, src/sync and src/protocol all speak these types.

/** Where a message file lives: `new/` (not yet seen by a client) or `cur/`. */
export type Location = 'new' | 'cur';

export type Layout = 'maildir++' | 'fs';

export interface MessageEntry {
  /** Base filename: everything before the info separator (what Dovecot uses as identity). */
  guid: string;
  /** Sorted non-keyword flag letters (standard D F P R S T and unknown ones, preserved). */
  flags: string;
  /** Sorted keyword names (never the per-folder letters). */
  keywords: string[];
  location: Location;
  /** From `,S=` when the name carries it. */
  size?: number;
  /** Anything after a second comma in the info, preserved as it is. */
  infoRest?: string;
  uid?: number;
  /** Dovecot's GUID for the message where its uidlist record names one (`G`, e.g. after dsync); else the base name is. */
  dovecotGuid?: string;
  /** Hex SHA-256 of the bytes, when this side knows it. */
  hash?: string;
  /** The file's mtime in whole milliseconds: only where a run asked (`--checksum`). */
  mtime?: number;
}

export interface FolderManifest {
  name: string;
  messages: MessageEntry[];
  digest: string;
  uidValidity?: number;
  nextUid?: number;
  /** The mailbox GUID of the uidlist header (`G`), when it has one. */
  mailboxGuid?: string;
  /** GUIDs of names the scan skipped (FolderScan.skipped): neither held nor expunged on this side. */
  skipped?: string[];
}

/** What changed on one side of a folder since a digest it had: entries new or altered, names gone. */
export interface FolderChanges {
  changed: MessageEntry[];
  gone: string[];
  /** As FolderManifest.skipped. */
  skipped?: string[];
}

export interface FolderSummary {
  name: string;
  /** Digest over the folder's sorted entries; equal digests mean equal manifests. */
  digest: string;
  messages: number;
  /** What the folder's dovecot-uidlist says (UIDVALIDITY and UIDs), as one value; "" without one. */
  uids: string;
  /** The folder's UIDVALIDITY, when it has a dovecot-uidlist. */
  uidValidity?: number;
  /** Why the folder cannot tell which messages it lost (its cur/ or new/ is missing), if so. */
  damaged?: string;
  /** Why the folder cannot be read at all (permission denied, a link out of the Maildir), if so: it is left alone. */
  unreadable?: string;
  /**
   * The folder never held still while it was listed: its manifest holds what two listings agreed
   * on, and a message missing from it may still be there (nothing is inferred from its absence).
   */
  partial?: boolean;
}

/** A folder's dovecot-uidlist as a backup makes it: the source's UIDVALIDITY, NEXTUID and UIDs. */
export interface UidlistRequest {
  uidValidity: number;
  nextUid: number;
  mailboxGuid?: string;
  /** [this side's base name, UID, Dovecot GUID when it is not that base name] */
  uids: [string, number, string | null][];
}

/** What a run asks of a side's listFolders. */
export interface ListOptions {
  /**
   * The run may go on a few folders at a time (release): beyond the first `keep` messages, a side
   * may let go of what it holds of each folder once it has summed it up.
   */
  release?: { keep: number };
  /** Only these folders (those that exist): a run made in passes asks for a pass's. */
  folders?: string[];
}

export interface FolderList {
  folders: FolderSummary[];
  subscriptions: string[];
}

export interface Hello {
  /** Stable identity of this Maildir root; a change makes saved state untrusted. */
  id: string;
  version: string;
  layout: Layout;
  root: string;
}

/** A large message's bytes, read once, in order: bodies over a few MiB never sit whole in memory. */
export interface BodyStream {
  size: number;
  chunks: AsyncIterable<Uint8Array>;
}

/** A message's bytes: small ones whole, large ones as a stream. */
export type Body = Uint8Array | BodyStream;

/** One message's bytes as read from a side. `vanished` when another process expunged it. */
export interface ReadResult {
  guid: string;
  vanished?: boolean;
  data?: Body;
  mtime?: number;
  hash?: string;
  /** "device:inode" where the file has other names too (a copy Dovecot made by hard link): `hash` is then set. */
  inode?: string;
}

export interface Delivery {
  /** The base name wished for; a fresh one is generated when it is taken by other bytes. */
  guid: string;
  data: Body;
  /** Arrival time, milliseconds since the epoch. */
  mtime: number;
  flags: string;
  keywords: string[];
  location: Location;
  infoRest?: string;
}

/** A delivery whose bytes are a file on this machine (and its mtime that file's). */
export interface FileDelivery extends Omit<Delivery, 'data' | 'mtime'> {
  path: string;
  /** The bytes the file must hold: one with others is not delivered (left undefined). */
  hash?: string;
}

export interface FileDelivered extends Placed {
  /** Bytes copied. */
  size: number;
}

export interface CopyRequest {
  fromFolder: string;
  fromGuid: string;
  guid: string;
  flags: string;
  keywords: string[];
  location: Location;
  infoRest?: string;
  /**
   * The arrival time the copy must have (the message's on the other side, where a client moved it
   * by writing a new file): where the file copied from has another, its bytes are copied, not linked.
   */
  mtime?: number;
  /**
   * A link to another message's bytes (the same bytes in another folder, twins.ts): the hash they
   * must have. One with others, or that cannot be linked or copied file to file, is not placed
   * (`vanished`): the caller transfers the message instead.
   */
  hash?: string;
}

/** A message file with more than one name (a copy Dovecot made by hard link): its inode, arrival time and hash. */
export interface Twin {
  /** "device:inode", the same for every name of the file on that side. */
  inode: string;
  mtime: number;
  hash: string;
}

/** A file to copy file to file that has other names (asked for with `twins`): not copied. */
export interface TwinFound {
  twin: Twin;
}

export interface Placed {
  /** The name that was asked for. */
  wanted: string;
  /** The name the message now has (equal to `wanted` unless that name held other bytes). */
  guid: string;
  hash: string;
  /** The same bytes were already there under that name: nothing was written. */
  existed: boolean;
  /** For copies: the source had vanished, nothing was placed. */
  vanished?: boolean;
  /** Keywords not set: the folder already holds 26 others (all a Maildir can name). */
  dropped?: string[];
}

export interface FlagDelta {
  guid: string;
  addFlags: string;
  removeFlags: string;
  addKeywords: string[];
  removeKeywords: string[];
  /** Move out of `new/` into `cur/` (or back). */
  location?: Location;
}

export interface FlagResult {
  guid: string;
  vanished: boolean;
  /** Keywords not added: the folder already holds 26 others. */
  dropped?: string[];
}

/** A message's bytes and arrival date as its file holds them now (`--checksum`). */
export interface Checksum {
  hash: string;
  /** Whole milliseconds since the epoch. */
  mtime: number;
}

/** A file's mtime to set (`--checksum` repairing a replica's arrival date). */
export interface MtimeChange {
  guid: string;
  mtime: number;
}

export interface Warning {
  folder?: string;
  message: string;
}
