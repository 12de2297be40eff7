// A fast 128-bit hash of a string, for folder digests: MurmurHash3's x86 128-bit rounds and
// finalisation (public domain, Austin Appleby), a seed per lane, over the string's UTF-16 code
// units, two per 32-bit word. Not a cryptographic hash, and not meant as one: a folder digest is
// a sum of these (digest.ts), which no hash makes collision-proof against someone who chooses the
// names; what it must be is well mixed (any change to a line changes all four words) and cheap,
// as a large folder's first digest hashes every message's line. Native SHA-1 per line cost
// 1–2 µs, mostly the call into C++; this costs a third of a microsecond.

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 32-bit word of code units `i` and `i + 1` (charCodeAt past the end is NaN, which shifts to 0). */
function word(s: string, i: number): number {
  return s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
}

/** Writes the hash of `s` into `out` (four 32-bit words). */
export function hash128(s: string, out: Uint32Array): void {
  // A seed per lane: with one seed, the lanes of a line shorter than three code units come out equal.
  let h1 = 0x9747b28c;
  let h2 = 0x85ebca6b;
  let h3 = 0xc2b2ae35;
  let h4 = 0x27d4eb2f;
  const n = s.length;
  const whole = n - (n % 8);
  let i = 0;
  for (; i < whole; i += 8) {
    let k1 = word(s, i);
    let k2 = word(s, i + 2);
    let k3 = word(s, i + 4);
    let k4 = word(s, i + 6);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: up to three words and a half, mixed into the lanes without the rounds.
  const left = n - i;
  if (left > 6) h4 ^= Math.imul(rotl(Math.imul(word(s, i + 6), C4), 18), C1);
  if (left > 4) h3 ^= Math.imul(rotl(Math.imul(word(s, i + 4), C3), 17), C4);
  if (left > 2) h2 ^= Math.imul(rotl(Math.imul(word(s, i + 2), C2), 16), C3);
  if (left > 0) h1 ^= Math.imul(rotl(Math.imul(word(s, i), C1), 15), C2);
  h1 ^= n;
  h2 ^= n;
  h3 ^= n;
  h4 ^= n;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}
