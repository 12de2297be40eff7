// Deterministic hostile input for the wire: a seeded generator, valid frames for every method, and mutators.

import { encode } from '@msgpack/msgpack';
import type { Method } from '../../src/protocol/messages.js';
import { MAX_INLINE_BODY, PROTOCOL_VERSION } from '../../src/protocol/limits.js';

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
export function randomSource(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Fuzzer {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = randomSource(seed);
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A value from `valid` with one node replaced, removed, duplicated or retyped. */
  mutateValue(valid: unknown): unknown {
    const copy = structuredClone(valid);
    const rounds = 1 + this.int(3);
    let value = copy;
    for (let i = 0; i < rounds; i++) value = this.mutateOnce(value);
    return value;
  }

  /** The encoded frame with bytes flipped, inserted, removed, cut short or its length header changed. */
  mutateBytes(frame: Buffer): Buffer {
    const b = Buffer.from(frame);
    switch (this.int(6)) {
      case 0: {
        for (let i = 0, n = 1 + this.int(4); i < n; i++) {
          const at = this.int(b.length);
          b[at] = (b[at] as number) ^ (1 << this.int(8));
        }
        return b;
      }
      case 1: {
        const at = this.int(b.length + 1);
        return Buffer.concat([b.subarray(0, at), this.bytes(1 + this.int(8)), b.subarray(at)]);
      }
      case 2: {
        const at = this.int(b.length);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + this.int(8))]);
      }
      case 3:
        return b.subarray(0, this.int(b.length));
      case 4: {
        // A header announcing a different length than the body holds.
        const lengths = [0, 1, b.length - 5, b.length - 3, b.length + 100, 0x7fffffff, 0xffffffff, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1];
        b.writeUInt32BE(Math.max(0, this.pick(lengths)) >>> 0, 0);
        return b;
      }
      default: {
        // A msgpack container header claiming far more elements or bytes than follow.
        const at = 4 + this.int(Math.max(1, b.length - 4));
        const header = this.pick([[0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0xff, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xf0], [0xc6, 0x7f, 0xff, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0xd6, 0xff, 0xff, 0xff, 0xff, 0xff], [0xc7, 0x0c, 0xff, 0, 0, 0, 0]]);
        return Buffer.concat([b.subarray(0, at), Buffer.from(header), b.subarray(at)]);
      }
    }
  }

  private mutateOnce(value: unknown): unknown {
    const nodes: { parent: unknown[] | Record<string, unknown>; key: number | string }[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        v.forEach((child, i) => {
          nodes.push({ parent: v, key: i });
          walk(child);
        });
      } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
        for (const [k, child] of Object.entries(v)) {
          nodes.push({ parent: v as Record<string, unknown>, key: k });
          walk(child);
        }
      }
    };
    walk(value);
    if (nodes.length === 0 || this.chance(0.03)) return this.nasty();
    const { parent, key } = this.pick(nodes);
    const container = parent as Record<string | number, unknown>;
    switch (this.int(5)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete container[key];
        break;
      case 1:
        if (Array.isArray(parent)) parent.push(this.nasty());
        else container[this.pick(['extra', '__proto__', 'constructor', 'toString', ''])] = this.nasty();
        break;
      case 2:
        container[key] = [container[key]];
        break;
      default:
        container[key] = this.nasty();
    }
    return value;
  }

  private nasty(): unknown {
    switch (this.int(4)) {
      case 0:
        return this.pick(NASTY_NUMBERS);
      case 1:
        return this.pick(NASTY_TEXT);
      case 2:
        return this.pick([null, true, false, [], [[[]]], {}, { '': null }, new Uint8Array(0), new Uint8Array(this.int(64))]);
      default:
        return this.chance(0.01) ? new Uint8Array(MAX_INLINE_BODY + 1) : this.bytes(this.int(40)).toString('latin1');
    }
  }
}

const NASTY_NUMBERS = [-1, -0, 0, 1.5, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 1, 2 ** 53, 2 ** 64, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE];
const NASTY_TEXT = [
  '', '.', '..', '../x', '../../../etc/passwd', '/etc/passwd', '/', 'a/', '/a', 'a//b', 'a/../b', 'a\0b', '\0', 'x/y', '.hidden',
  'new', 'cur', 'tmp', 'INBOX', 'a\nb', '\u202e', '\ud800', 'x'.repeat(300), 'y'.repeat(5000), '__proto__', 'constructor', 'S', 'abc', 'a:2,S',
];

const HASH = 'ab'.repeat(32);
const GUID = '1600000001.M1P1.host,S=120';

/** One valid request and one valid answer for every method: the starting points of the mutations. */
export const VALID_FRAMES: Record<Method, { args: unknown; result: unknown }> = {
  hello: {
    args: { protocol: PROTOCOL_VERSION, minor: 0, program: 'mdsync 0.1.0', timeoutMs: 30_000, compress: true, partialListings: true, create: true, mkpath: true, readOnly: false, layout: 'maildir++', separator: ':' },
    result: { protocol: PROTOCOL_VERSION, minor: 0, program: 'mdsync 0.1.0', id: 'host:/srv/mail', layout: 'fs', root: '/srv/mail' },
  },
  lock: { args: {}, result: null },
  unlock: { args: {}, result: null },
  listFolders: {
    args: { release: { keep: 50000 }, folders: ['INBOX', 'Work/Q1'] },
    result: { folders: [['INBOX', 'd1', 3, 'u1', 1600000000, null, null], ['Work/Q1', 'd2', 0, 'u2', null, 'damaged', 'unreadable']], subscriptions: ['Work/Q1'] },
  },
  manifest: {
    args: { folder: 'Work', start: 0 },
    result: {
      digest: 'd', total: 1, entries: [[GUID, 'FS', ['$Label1'], 'cur', 120, ',W=122', 7, HASH, 'c0ffee']], uidValidity: 1600000000, nextUid: 8, mailboxGuid: 'beef',
    },
  },
  changes: {
    args: { folder: 'Work', since: '0123456789abcdef0123456789abcdef' },
    result: { changed: [[GUID, 'FS', ['$Label1'], 'cur', 120, ',W=122', 7, HASH, 'c0ffee'], ['x', '', [], 'new', null, null, null, null, null]], gone: ['y'] },
  },
  prepare: { args: { folders: ['INBOX', 'Archive/2024'] }, result: null },
  release: { args: { folders: ['INBOX', 'Archive/2024'] }, result: null },
  hash: { args: { folder: 'INBOX', guids: [GUID, 'x'] }, result: [HASH, null] },
  mtimes: { args: { folder: 'INBOX', guids: [GUID, 'x'] }, result: [1600000000000, null] },
  checksum: { args: { folder: 'INBOX', guids: [GUID, 'x'] }, result: [{ hash: HASH, mtime: 1600000000000 }, null] },
  setMtimes: { args: { folder: 'INBOX', items: [{ guid: GUID, mtime: 1600000000000 }, { guid: 'x', mtime: 1 }] }, result: [true, false] },
  read: {
    args: { folder: 'INBOX', guids: [GUID] },
    result: [{ guid: GUID, data: new Uint8Array([72, 105]), mtime: 1600000000, hash: HASH }, { guid: 'y', stream: 3, size: 2 ** 21, mtime: 1, hash: HASH }, { guid: 'z', vanished: true }],
  },
  readChunk: { args: { stream: 3, seq: 0 }, result: new Uint8Array([1, 2, 3]) },
  closeStream: { args: { stream: 3 }, result: null },
  deliver: {
    args: { folder: 'INBOX', guids: `${GUID}\nx`, flags: 'S\n', locations: 'cn', mtimes: [1600000000, 1], keywords: [['work'], []], infoRest: [',W=2', null], data: [new Uint8Array([72, 105]), new Uint8Array(0)] },
    result: { hashes: new Uint8Array(64).fill(0xab), existed: new Uint8Array(2), others: [{ at: 1, guid: `${GUID}2`, vanished: true }] },
  },
  upload: { args: { folder: 'INBOX', item: { guid: GUID, mtime: 1, flags: '', keywords: [], location: 'new', size: 2 ** 21 } }, result: 5 },
  uploadChunk: { args: { stream: 5, seq: 0, data: new Uint8Array([1]) }, result: null },
  uploadEnd: { args: { stream: 5 }, result: { wanted: GUID, guid: `${GUID}2`, hash: HASH, existed: true, vanished: false } },
  copyLocal: {
    args: { folder: 'Archive', items: [{ fromFolder: 'INBOX', fromGuid: GUID, guid: GUID, flags: 'S', keywords: [], location: 'cur', mtime: 1600000000000 }] },
    result: [{ wanted: GUID, guid: GUID, hash: HASH, existed: false }],
  },
  setFlags: {
    args: { folder: 'INBOX', deltas: [{ guid: GUID, addFlags: 'F', removeFlags: 'S', addKeywords: ['a'], removeKeywords: [], location: 'cur' }] },
    result: [{ guid: GUID, vanished: false, dropped: [] }],
  },
  expunge: { args: { folder: 'INBOX', guids: [GUID] }, result: 1 },
  createFolder: { args: { folder: 'New/Sub', staged: true }, result: null },
  stageFolder: { args: { folder: 'Sent' }, result: true },
  publishFolder: { args: { folder: 'New/Sub' }, result: null },
  deleteFolder: { args: { folder: 'Old' }, result: true },
  writeSubscriptions: { args: { names: ['INBOX', 'Work'] }, result: null },
  writeUidlist: { args: { folder: 'INBOX', uidValidity: 1600000000, nextUid: 9, uids: [[GUID, 7, 'c0ffee'], ['x', 8, null]], mailboxGuid: 'beef' }, result: true },
  commit: { args: {}, result: null },
  drainWarnings: { args: {}, result: { warnings: [{ message: 'skipped', folder: 'INBOX' }], raced: false } },
};

/** Raw msgpack that is not a frame body we could ever send: for the generator's own corpus. */
export function rawFrame(body: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

export const encodeRaw = (value: unknown): Uint8Array => encode(value, { ignoreUndefined: true });
