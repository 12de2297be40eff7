// The folders of a Maildir in use, by canonical name: each opened once (confined first), shared
// by every request for it.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MdsyncError, isErrno } from '../errors.js';
import type { Layout } from '../model.js';
import type { Confinement } from './confine.js';
import { MaildirFolder, type FolderEvents } from './folder.js';
import { folderToDir, validateFolderName } from './layout.js';
import type { Separator } from './name.js';
import { fromErrno, type Owner } from './disk.js';

export interface RegistryOptions {
  root: string;
  layout: Layout;
  separator: Separator;
  owner?: Owner;
  /** A folder that never holds still is listed partially rather than failing (FolderSummary.partial). */
  partialListings: boolean;
  confine: Confinement;
  /** Where a folder's warnings and races go. */
  events(name: string): FolderEvents;
}

export class FolderRegistry {
  private readonly folders = new Map<string, MaildirFolder>();
  private readonly opening = new Map<string, Promise<MaildirFolder>>();

  constructor(private readonly o: RegistryOptions) {}

  /** The folder if it is in use. */
  known(name: string): MaildirFolder | undefined {
    return this.folders.get(name);
  }

  all(): MaildirFolder[] {
    return [...this.folders.values()];
  }

  /** The folders in use as they come and go (a folder put in use while the caller awaits is met too). */
  live(): IterableIterator<MaildirFolder> {
    return this.folders.values();
  }

  forget(name: string): void {
    this.folders.delete(name);
  }

  /** The folder at `dir` (relative to the root), in use from now on; `staging`: where a folder new to the Maildir is built. */
  at(name: string, dir: string, staging?: string): MaildirFolder {
    let folder = this.folders.get(name);
    if (!folder) {
      folder = new MaildirFolder(name, join(this.o.root, dir), this.o.separator, this.o.events(name), this.o.owner, staging);
      folder.partialListings = this.o.partialListings;
      this.folders.set(name, folder);
    }
    return folder;
  }

  /** The folder by canonical name; it must exist on disk (or have been created in this run). */
  async open(name: string): Promise<MaildirFolder> {
    validateFolderName(name);
    const known = this.folders.get(name);
    if (known) return known;
    // Concurrent requests for one folder share one check: none may use it before it is confined.
    let pending = this.opening.get(name);
    if (!pending) {
      pending = this.openNow(name).finally(() => this.opening.delete(name));
      this.opening.set(name, pending);
    }
    return pending;
  }

  private async openNow(name: string): Promise<MaildirFolder> {
    const rel = folderToDir(name, this.o.layout);
    const dir = join(this.o.root, rel);
    try {
      await stat(join(dir, 'cur'));
      await this.o.confine.folder(dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new MdsyncError('BAD_FOLDER', `no folder ${JSON.stringify(name)} in ${this.o.root}`);
      throw fromErrno(err, 'opening folder', dir);
    }
    return this.at(name, rel);
  }
}
