// The Agent: the operations one side of a sync offers. The engine and runner need only this;
// src/local implements it on disk, src/protocol over a byte stream.

import type {
  Checksum, CopyRequest, Delivery, FileDelivered, FolderChanges, FileDelivery, FlagDelta, FlagResult, FolderList, FolderManifest, ListOptions, Hello, MtimeChange, Placed, ReadResult, TwinFound, UidlistRequest, Warning,
} from '../model.js';

export interface Agent {
  hello(): Promise<Hello>;
  /** One mdsync per Maildir: fails with code LOCKED when another run holds it. */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  listFolders(options?: ListOptions): Promise<FolderList>;
  /**
   * Starts reading the folders' listings ahead of listFolders, without the lock (nothing is
   * written): while the far side is being reached. listFolders uses a listing only if its
   * directories have not changed since. Never fails; nothing needs to wait for it. `release` as
   * for listFolders.
   */
  prefetch?(options?: Pick<ListOptions, 'release'>): Promise<void>;
  /**
   * Starts loading the listings of folders the run is about to write, in this order, while it
   * reads what it will deliver: a far side does this meanwhile instead of at its first write into
   * each folder. `files`: the message files the run is about to place there (a side may choose how
   * to do its I/O by it). Never fails; nothing needs to wait for it.
   */
  prepare?(folders: string[], files?: number): Promise<void>;
  /**
   * The run is done with these folders for now (a first copy goes a few folders at a time): a
   * side may let go of what it holds of them, and load them again if asked. Never fails.
   */
  release?(folders: string[]): Promise<void>;
  /** Bytes sent to and received from a side across a connection (a remote side only). */
  traffic?(): { sent: number; received: number };
  manifest(folder: string): Promise<FolderManifest>;
  /**
   * What changed in a folder since it had the digest `since` (the saved state's): entries new or
   * altered, names gone. Undefined when this side cannot tell: ask for the manifest.
   */
  changes?(folder: string, since: string): Promise<FolderChanges | undefined>;
  /** Content hashes of messages; null for one that vanished. */
  hash(folder: string, guids: string[]): Promise<(string | null)[]>;
  /** Arrival times (mtimes, milliseconds) of messages; null for one that vanished. */
  mtimes?(folder: string, guids: string[]): Promise<(number | null)[]>;
  /**
   * `--checksum`: each message's hash and mtime, read from its file where it is (a far side
   * hashes there: no body crosses), never a hash kept from before; null for one that vanished.
   */
  checksum?(folder: string, guids: string[]): Promise<(Checksum | null)[]>;
  /**
   * Whether this side tells which messages it reads have other names (ReadResult.inode), and links
   * a copyLocal item that names a `hash` only to those bytes (twins.ts); where either side does
   * not, copies are sent like the others.
   */
  readonly linkedCopies?: boolean;
  /** `--checksum`: sets messages' mtimes (a replica's arrival dates); false for one that vanished. */
  setMtimes?(folder: string, items: MtimeChange[]): Promise<boolean[]>;
  /**
   * Reads messages, in the order asked, a batch at a time: one await per batch rather than per
   * message (a first copy reads 100 000). A large body (a stream) comes alone in its batch.
   */
  read(folder: string, guids: string[]): AsyncIterable<ReadResult[]>;
  /**
   * Only where both sides are on this machine: where the messages' files are now (null where
   * unknown), so the other side can copy them file to file.
   */
  locate?(folder: string, guids: string[]): Promise<(string | null)[]>;
  /**
   * Only on this machine: delivers messages by copying files another local side located. An
   * undefined result means not delivered (the file moved, a name was taken): read and deliver it.
   */
  deliverFiles?(folder: string, items: FileDelivery[], options?: { twins?: boolean }): Promise<(FileDelivered | TwinFound | undefined)[]>;
  deliver(folder: string, items: Delivery[]): Promise<Placed[]>;
  /** A move's target half, from bytes this side already holds in another folder. */
  copyLocal(folder: string, items: CopyRequest[]): Promise<Placed[]>;
  setFlags(folder: string, deltas: FlagDelta[]): Promise<FlagResult[]>;
  expunge(folder: string, guids: string[]): Promise<number>;
  /**
   * `staged`: the run is about to fill the folder and will publish it (publishFolder) before any
   * saved state names it; a side may build it aside meanwhile, where no reader sees it half full.
   */
  createFolder(name: string, options?: { staged?: boolean }): Promise<void>;
  /**
   * The run is about to fill this existing folder, which holds no message: a side may build what
   * is placed in it aside until publishFolder. False (nothing staged) when it cannot or did not.
   */
  stageFolder?(name: string): Promise<boolean>;
  /** Makes a folder created staged (or stageFolder'd) visible whole, its files durable; nothing for any other folder. */
  publishFolder?(name: string): Promise<void>;
  /** Removes a folder that holds no message; false (kept) when something arrived in it meanwhile. */
  deleteFolder(name: string): Promise<boolean>;
  writeSubscriptions(names: string[]): Promise<void>;
  /** Makes the folder's dovecot-uidlist say this (a backup's UIDs); false when it already did. */
  writeUidlist(folder: string, request: UidlistRequest): Promise<boolean>;
  /** Returns when everything done before it is durable on disk. */
  commit(): Promise<void>;
  /**
   * Warnings since the last call, and whether another process changed this side during the run:
   * met on the way (`raced`), or found in new/ and cur/ of folders since they were listed
   * (`changed`; none from a side that cannot tell).
   */
  drainWarnings(): Promise<{ warnings: Warning[]; raced: boolean; changed?: string[] }>;
  close(): Promise<void>;
}
