// What a client asks in hello when it opens the far Maildir, and the program name each end announces:
// shared by the client and the serving side.

import type { Layout } from '../model.js';
import { VERSION } from '../version.js';

export const PROGRAM = `mdsync ${VERSION}`;
export interface OpenRequest {
  create?: boolean;
  /** With `create`: the root's missing parent directories too. */
  mkpath?: boolean;
  /** The run only reads this side (a backup's source): LocalAgentOptions.readOnly. */
  readOnly?: boolean;
  layout?: Layout;
  defaultLayout?: Layout;
  separator?: ':' | '!' | ';';
  /** The client reads FolderSummary.partial: a folder that never holds still is listed partially for it. */
  partialListings?: boolean;
}
