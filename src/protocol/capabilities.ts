// What each end of a session announces in hello (the request and answer carry these names), and
// what a client asks when it opens the far Maildir: shared by the client and the serving side.

import type { Layout } from '../model.js';
import { VERSION } from '../version.js';

export const PROGRAM = `mdsync ${VERSION}`;
/** Announced by a server that answers `changes`; a client asks an older one for whole manifests. */
export const FOLDER_CHANGES = 'folder-changes';
/** Announced by a side that reads deflated frames (frame.ts); each side deflates only towards one that said so. */
export const DEFLATE = 'deflate';
/** Asked by a client run with --compress: message bodies go deflated both ways. */
export const DEFLATE_BODIES = 'deflate-bodies';
/** Announced by a server that answers `prepare`; a client sends an older one none. */
export const PREPARE = 'prepare';
/** Announced by a server that answers `place` (placed.ts); a client asks an older one to `deliver`. */
export const PACKED_PLACED = 'packed-placed';
/** Announced by a server that takes `placePacked` (deliveries.ts); a client asks an older one to `place`. */
export const PACKED_DELIVERIES = 'packed-deliveries';
/** createFolder may stage a folder; publishFolder moves it into place. */
export const STAGED_FOLDERS = 'staged-folders';
/** Announced by a server that answers `stageFolder` (an empty folder's new messages built aside). */
export const STAGED_CONTENTS = 'staged-contents';
/** Announced by a server that answers `release` (a first copy in passes lets go of folders done). */
export const RELEASE_FOLDERS = 'release-folders';
/** Announced by a server that answers `mtimes` and gives a copyLocal item the `mtime` it asks for. */
export const MOVE_MTIMES = 'move-mtimes';
/**
 * Asked by a client that reads `partial` in listFolders: a folder that never holds still is listed
 * partially for it. An older client is not told (it would read the left-out messages as expunged):
 * such a folder fails its run as before.
 */
export const PARTIAL_LISTINGS = 'partial-listings';
/** Announced by a client that sends keep-alives all along: a server may take its silence past --timeout for its end. */
export const CLIENT_HEARTBEAT = 'client-heartbeat';
/** Announced by a server that answers `checksum` and `setMtimes` (a run with --checksum). */
export const CHECKSUM = 'checksum';
/** Announced by a server that tells a read message's `inode` where it has other names, and links a copyLocal item that names a `hash` only to those bytes. */
export const LINKED_COPIES = 'linked-copies';
export const CAPABILITIES: string[] = ['stream-bodies', 'manifest-pages', FOLDER_CHANGES, DEFLATE, PREPARE, PACKED_PLACED, PACKED_DELIVERIES, STAGED_FOLDERS, STAGED_CONTENTS, RELEASE_FOLDERS, MOVE_MTIMES, CLIENT_HEARTBEAT, CHECKSUM, LINKED_COPIES];

export interface OpenRequest {
  create?: boolean;
  /** With `create`: the root's missing parent directories too. */
  mkpath?: boolean;
  /** The run only reads this side (a backup's source): LocalAgentOptions.readOnly. */
  readOnly?: boolean;
  layout?: Layout;
  defaultLayout?: Layout;
  separator?: ':' | '!' | ';';
  /** The client reads FolderSummary.partial (PARTIAL_LISTINGS). */
  partialListings?: boolean;
}
