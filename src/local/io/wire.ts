// Jobs and outcomes of batch.ts as they cross between threads: the strings of a batch joined
// into one with their ends beside it, its numbers in typed arrays. A structured clone copies a
// flat string or array in one step, where a batch of objects costs a walk over each object's
// properties on both threads, a first copy's largest cost after the copying itself.

import type { CopyOutcome, HashOutcome, Job, ReadOutcome, WriteOutcome } from './batch.js';

/** Strings as one text and where each ends: no separator a path or name could hold. */
interface Strings {
  text: string;
  ends: Uint32Array;
}

function packStrings(list: string[]): Strings {
  const ends = new Uint32Array(list.length);
  let at = 0;
  list.forEach((s, i) => { ends[i] = at += s.length; });
  return { text: list.join(''), ends };
}

function unpackStrings({ text, ends }: Strings): string[] {
  const out: string[] = [];
  let at = 0;
  for (const end of ends) {
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

type Owner = { uid: number; gid: number } | undefined;

export type PackedJob =
  | { kind: 'read'; paths: Strings; inlineMax: number }
  | { kind: 'hash'; paths: Strings }
  /** The batch's bodies one after another in one buffer of their own, handed over rather than copied. */
  | { kind: 'write'; tmps: Strings; targets: Strings; bodies: Uint8Array; ends: Float64Array; mtimes: Float64Array; owner: Owner; direct: boolean }
  | { kind: 'copy'; sources: Strings; tmps: Strings; targets: Strings; hashes: Strings; inlineMax: number; owner: Owner; link: boolean; direct: boolean; twins: boolean };

export function packJob(job: Job): PackedJob {
  switch (job.kind) {
    case 'read':
      return { kind: 'read', paths: packStrings(job.paths), inlineMax: job.inlineMax };
    case 'hash':
      return { kind: 'hash', paths: packStrings(job.paths) };
    case 'write': {
      const ends = new Float64Array(job.items.length);
      let at = 0;
      job.items.forEach((item, i) => { ends[i] = at += item.data.byteLength; });
      const bodies = Buffer.allocUnsafeSlow(at);
      job.items.forEach((item, i) => bodies.set(item.data, (ends[i] as number) - item.data.byteLength));
      return {
        kind: 'write', tmps: packStrings(job.items.map((i) => i.tmp)), targets: packStrings(job.items.map((i) => i.target)),
        bodies, ends, mtimes: Float64Array.from(job.items, (i) => i.mtimeMs), owner: job.owner, direct: job.direct === true,
      };
    }
    case 'copy':
      return {
        kind: 'copy', sources: packStrings(job.items.map((i) => i.source)), tmps: packStrings(job.items.map((i) => i.tmp)),
        targets: packStrings(job.items.map((i) => i.target)), hashes: packStrings(job.items.map((i) => i.hash ?? '')), inlineMax: job.inlineMax, owner: job.owner, link: job.link === true, direct: job.direct === true,
        twins: job.twins === true,
      };
  }
}

export function unpackJob(packed: PackedJob): Job {
  const withOwner = (owner: Owner): { owner?: { uid: number; gid: number } } => (owner ? { owner } : {});
  switch (packed.kind) {
    case 'read':
      return { kind: 'read', paths: unpackStrings(packed.paths), inlineMax: packed.inlineMax };
    case 'hash':
      return { kind: 'hash', paths: unpackStrings(packed.paths) };
    case 'write': {
      const targets = unpackStrings(packed.targets);
      const items = unpackStrings(packed.tmps).map((tmp, i) => ({
        tmp, target: targets[i] as string, data: packed.bodies.subarray(i === 0 ? 0 : packed.ends[i - 1], packed.ends[i]), mtimeMs: packed.mtimes[i] as number,
      }));
      return { kind: 'write', items, ...withOwner(packed.owner), direct: packed.direct };
    }
    case 'copy': {
      const tmps = unpackStrings(packed.tmps);
      const targets = unpackStrings(packed.targets);
      const hashes = unpackStrings(packed.hashes);
      const items = unpackStrings(packed.sources).map((source, i) => ({ source, tmp: tmps[i] as string, target: targets[i] as string, ...(hashes[i] ? { hash: hashes[i] } : {}) }));
      return { kind: 'copy', items, inlineMax: packed.inlineMax, ...withOwner(packed.owner), link: packed.link, direct: packed.direct, twins: packed.twins };
    }
  }
}

/**
 * What a packed job hands over instead of copying: a write job's bodies. A structured clone of
 * the bodies themselves copies each twice (into the message, out of it) through a growing
 * buffer, on the main thread of a far side that writes a first copy.
 */
export function transferOf(packed: PackedJob): ArrayBuffer[] {
  return packed.kind === 'write' ? [packed.bodies.buffer as ArrayBuffer] : [];
}

type Outcome = ReadOutcome | WriteOutcome | CopyOutcome | HashOutcome;

/** Outcomes of one job: which were done (1; 2: a copy's twin), and what each carries (hashes, inodes, sizes, mtimes, bodies). */
export interface PackedOutcomes {
  done: Uint8Array;
  hashes: Strings;
  /** A file's "device:inode" where it has other names ('' otherwise). */
  inodes: Strings;
  sizes: Float64Array;
  mtimes: Float64Array;
  /** Bodies read (read jobs), transferred rather than copied. */
  data: (Uint8Array | null)[];
}

export function packOutcomes(outcomes: Outcome[]): PackedOutcomes {
  const n = outcomes.length;
  const done = new Uint8Array(n);
  const sizes = new Float64Array(n);
  const mtimes = new Float64Array(n);
  outcomes.forEach((o, i) => {
    if (o.kind === 'twin') {
      done[i] = 2;
      mtimes[i] = o.mtime;
      return;
    }
    if (o.kind !== 'ok') return;
    done[i] = 1;
    if ('size' in o) sizes[i] = o.size;
    if ('mtime' in o) mtimes[i] = o.mtime;
  });
  const hashes = packStrings(outcomes.map((o) => ((o.kind === 'ok' || o.kind === 'twin') && 'hash' in o ? o.hash ?? '' : '')));
  const inodes = packStrings(outcomes.map((o) => ((o.kind === 'ok' || o.kind === 'twin') && 'inode' in o ? o.inode ?? '' : '')));
  const data = outcomes.map((o) => (o.kind === 'ok' && 'data' in o ? o.data : null));
  return { done, hashes, inodes, sizes, mtimes, data };
}

export function unpackOutcomes(kind: Job['kind'], packed: PackedOutcomes): Outcome[] {
  const hashes = unpackStrings(packed.hashes);
  const inodes = unpackStrings(packed.inodes);
  return Array.from(packed.done, (done, i): Outcome => {
    if (!done) return { kind: 'again' };
    const hash = hashes[i] as string;
    const inode = inodes[i] as string;
    if (done === 2) return { kind: 'twin', inode, hash, mtime: packed.mtimes[i] as number };
    switch (kind) {
      case 'read': {
        // Bodies cross as plain Uint8Arrays: the same bytes, seen as Buffers again.
        const data = packed.data[i] as Uint8Array;
        const out: ReadOutcome = { kind: 'ok', data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), mtime: packed.mtimes[i] as number };
        if (inode) {
          out.inode = inode;
          out.hash = hash;
        }
        return out;
      }
      case 'copy':
        return { kind: 'ok', hash, size: packed.sizes[i] as number, mtime: packed.mtimes[i] as number };
      default:
        return { kind: 'ok', hash };
    }
  });
}
