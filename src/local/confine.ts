// No path leaves the root: a folder whose directory, or its cur/new/tmp, resolves outside the
// Maildir through a symbolic link is refused, whatever a peer asks for.

import { realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import { fromErrno } from './disk.js';

export class Confinement {
  private realRoot?: string;

  constructor(private readonly root: string) {}

  /** Refuses a folder directory (or its cur/, new/, tmp/) that resolves outside the root. */
  async folder(dir: string): Promise<void> {
    this.realRoot ??= realpathSync.native(this.root);
    const root = this.realRoot;
    const inside = (p: string): boolean => p === root || p.startsWith(`${root}${sep}`);
    // Synchronous, as a folder's stamp is (scan.ts): four resolutions per folder a run opens, where
    // a promise each would cost the event loop more than the system calls.
    for (const path of [dir, join(dir, 'cur'), join(dir, 'new'), join(dir, 'tmp')]) {
      let real: string;
      try {
        real = realpathSync.native(path);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw fromErrno(err, 'opening folder', path);
      }
      if (!inside(real)) throw new MdsyncError('BAD_FOLDER', `${path} leads outside the Maildir ${this.root} (a symbolic link to ${real}): refused`);
    }
  }

  /** A directory about to be made: the deepest existing one on the way to it must lie inside the root. */
  async newFolder(dir: string): Promise<void> {
    let existing = dir;
    for (;;) {
      const found = await stat(existing).then(() => true, () => false);
      if (found || existing === this.root) break;
      existing = dirname(existing);
    }
    await this.folder(existing);
  }
}
