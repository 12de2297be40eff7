// The wire's msgpack codec, measured on mdsync's own frames: @msgpack/msgpack (in use) against
// msgpackr (the package the design names), each encoding and decoding the frames a first copy
// and a no-change run send most. `npm run bench:codec`; prints a Markdown table of medians.

import { Encoder, decode } from '@msgpack/msgpack';
import { Packr } from 'msgpackr';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { MANIFEST_PAGE } from '../src/protocol/limits.js';

const ROUNDS = 7;

interface Codec {
  name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const msgpack = new Encoder({ ignoreUndefined: true, initialBufferSize: 64 * 1024 });
// Plain msgpack, as the far side of any version reads it: no record extension, no structures;
// 64-bit integers (mtimes in ms) as numbers, as the message table checks them.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

const codecs: Codec[] = [
  { name: '@msgpack/msgpack', encode: (v) => msgpack.encodeSharedRef(v), decode: (b) => decode(b) },
  { name: 'msgpackr', encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b) },
];

const hex = (n: number): string => randomBytes(n).toString('hex');
const guid = (i: number): string => `${1_600_000_000 + i}.M${i}P${i % 977}.mail.example.org,S=${4000 + (i % 5000)},W=${4100 + (i % 5000)}`;

/** The frames, as the protocol sends them (messages.ts). */
function frames(): { name: string; value: unknown }[] {
  const entries = Array.from({ length: MANIFEST_PAGE }, (_, i) => [guid(i), i % 3 ? 'S' : 'FS', i % 7 ? [] : ['$label1'], i % 5 ? 'cur' : 'new', 4000 + (i % 5000), null, i + 1, hex(32), null]);
  const bodies = Array.from({ length: 128 }, (_, i) => randomBytes(2000 + ((i * 7919) % 12000)));
  const names = bodies.map((_, i) => guid(i));
  return [
    { name: `manifest page (${MANIFEST_PAGE} entries)`, value: [1, 7, { digest: hex(16), total: MANIFEST_PAGE, entries }] },
    {
      name: 'deliver (128 bodies)',
      value: [0, 9, 'deliver', {
        folder: 'Archive/2024', guids: names.join('\n'), flags: names.map(() => 'S').join('\n'), locations: 'c'.repeat(128),
        mtimes: names.map((_, i) => 1_600_000_000_000 + i), keywords: names.map(() => []), infoRest: names.map(() => null), data: bodies,
      }],
    },
    { name: 'read answer (128 bodies)', value: [1, 11, bodies.map((data, i) => ({ guid: names[i], data, mtime: 1_600_000_000_000 + i }))] },
    { name: 'hash answer (10 000 hashes)', value: [1, 13, Array.from({ length: 10_000 }, () => hex(32))] },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Milliseconds per call, the median of ROUNDS rounds of enough calls to take 50 ms or more. */
function time(fn: () => void): number {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    if (performance.now() - t0 >= 50) break;
    n *= 2;
  }
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    per.push((performance.now() - t0) / n);
  }
  return median(per);
}

const rows: string[] = [];
for (const { name, value } of frames()) {
  const cells: string[] = [];
  const results: Record<string, { enc: number; dec: number }> = {};
  for (const c of codecs) {
    const bytes = Uint8Array.from(c.encode(value));
    // Each decodes what the other wrote: the far side may be either.
    for (const other of codecs) {
      if (!isDeepStrictEqual(normalize(other.decode(bytes)), normalize(value))) throw new Error(`${other.name} does not read ${c.name}'s ${name} back`);
    }
    results[c.name] = { enc: time(() => c.encode(value)), dec: time(() => c.decode(bytes)) };
    cells.push(`${results[c.name]?.enc.toFixed(3)} / ${results[c.name]?.dec.toFixed(3)}`);
  }
  const a = results['@msgpack/msgpack'] as { enc: number; dec: number };
  const b = results.msgpackr as { enc: number; dec: number };
  rows.push(`| ${name} | ${cells.join(' | ')} | ${(b.enc / a.enc).toFixed(2)} / ${(b.dec / a.dec).toFixed(2)} |`);
}
console.log(`| frame | ${codecs.map((c) => `${c.name} encode / decode (ms)`).join(' | ')} | msgpackr ÷ @msgpack/msgpack |`);
console.log(`|---|${codecs.map(() => '---:').join('|')}|---:|`);
for (const r of rows) console.log(r);
console.log(`\nNode ${process.version}; medians of ${ROUNDS} rounds.`);
// A peer is untrusted: what each decoder makes of bytes that are not one msgpack value.
const odd = { 'the reserved byte 0xc1': [0xc1], 'a value with bytes after it': [0x01, 0x02] };
for (const c of codecs) {
  const said = Object.entries(odd).map(([what, bytes]) => {
    try {
      c.decode(Uint8Array.from(bytes));
      return `accepts ${what}`;
    } catch {
      return `refuses ${what}`;
    }
  });
  console.log(`${c.name}: ${said.join(', ')}`);
}

/** Bodies compare as bytes whichever class they come back as (Buffer or Uint8Array). */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}
