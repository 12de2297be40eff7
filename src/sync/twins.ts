// Transfers made as hard links where the receiving side holds the bytes already. A copy Dovecot
// makes between folders (IMAP COPY, a Sieve fileinto :copy) is one file under two names
// (maildir_copy_with_hardlinks): sent like the others, it would cross the wire and take the disk
// space a second time on the other side. The sending side says which files it reads have other
// names (a field of the fstat it makes anyway: nothing is asked of a file with one name).

import type { CopyRequest, Twin } from '../model.js';
import type { Agent } from './agent.js';
import type { Transfer } from './plan.js';
import { other, StateDamagedError, type Side, type StateMessage } from './state.js';

/**
 * A transfer made as a hard link on the receiving side, to the bytes it holds already
 * (`request.fromFolder`/`fromGuid`) or gets from another transfer of this run (`after`).
 */
export interface Link {
  /** The side that links (the transfer's receiving side). */
  side: Side;
  folder: string;
  request: CopyRequest;
  transfer: Transfer;
  /** The transfer of this run whose placement is the link's source. */
  after?: Transfer;
}

/** Where a side holds a message's bytes: its folder and name there. */
interface Held {
  folder: string;
  guid: string;
}

/**
 * The links a run finds while it transfers. A message whose file has other names is linked on the
 * receiving side to a message there with its bytes: one the plan keeps there, or one of the saved
 * state (read folder by folder, only while a hash is still looked for), or the first name of that
 * file this run sent (the others wait for it: `after`). Records may be out of date: the receiving
 * side links only to the bytes the hash names, and a link it cannot make is sent after all.
 */
export class Twins {
  readonly links: Link[] = [];
  private readonly firstOfFile = new Map<string, Transfer>();
  /** Per "side\0hash", a message there with those bytes; built on the first twin met. */
  private held?: Map<string, Held>;
  private saved?: Iterator<[string, () => StateMessage[]]>;

  constructor(
    private readonly agents: Record<Side, Agent>,
    private readonly keep: Record<string, StateMessage[]>,
    private readonly savedRecords: Iterable<[string, () => StateMessage[]]>,
    /** Whether a side holds a folder after this run's plan (a record of one it deleted gives no source). */
    private readonly present: (folder: string, side: Side) => boolean = () => true,
  ) {}

  /** Whether transfers from this side are looked at: both sides must know linked copies. */
  from(side: Side): boolean {
    return this.agents[side].linkedCopies === true && this.agents[other(side)].linkedCopies === true;
  }

  /** A transfer whose source file has other names: true when it is linked after the transfers, not sent. */
  found(t: Transfer, twin: Twin): boolean {
    const to = other(t.from);
    const request: CopyRequest = {
      fromFolder: '', fromGuid: '', guid: t.sourceGuid, flags: t.flags, keywords: t.keywords, location: t.location, mtime: twin.mtime, hash: twin.hash,
    };
    if (t.infoRest !== undefined) request.infoRest = t.infoRest;
    const there = this.holder(to, twin.hash);
    if (there) {
      this.links.push({ side: to, folder: t.folder, request: { ...request, fromFolder: there.folder, fromGuid: there.guid }, transfer: t });
      return true;
    }
    const key = `${t.from}\0${twin.inode}`;
    const first = this.firstOfFile.get(key);
    // The first name met again (its file-to-file copy fell back to reading it): it is sent.
    if (first === t) return false;
    if (!first) {
      this.firstOfFile.set(key, t);
      return false;
    }
    this.links.push({ side: to, folder: t.folder, request: { ...request, fromFolder: first.folder, fromGuid: first.sourceGuid }, transfer: t, after: first });
    return true;
  }

  private holder(side: Side, hash: string): Held | undefined {
    if (!this.held) {
      this.held = new Map();
      for (const [folder, records] of Object.entries(this.keep)) this.learn(folder, records);
      this.saved = this.savedRecords[Symbol.iterator]();
    }
    const key = `${side}\0${hash}`;
    for (;;) {
      const known = this.held.get(key);
      if (known) return known;
      const next = this.saved?.next();
      if (!next || next.done) return undefined;
      const [folder, load] = next.value;
      try {
        this.learn(folder, load());
      } catch (err) {
        // A damaged folder of the state gives no source: its twins are sent.
        if (!(err instanceof StateDamagedError)) throw err;
      }
    }
  }

  private learn(folder: string, records: StateMessage[]): void {
    const held = this.held as Map<string, Held>;
    const sides = (['a', 'b'] as const).filter((side) => this.present(folder, side));
    for (const rec of records) {
      if (!rec.hash) continue;
      for (const side of sides) {
        const own = rec[side];
        const key = `${side}\0${rec.hash}`;
        if (own && !held.has(key)) held.set(key, { folder, guid: own.guid });
      }
    }
  }
}
