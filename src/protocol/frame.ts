// Frames on the wire: a 4-byte big-endian length, then one msgpack value of that many bytes; with
// the length's top bit set, the value is deflated (raw DEFLATE, RFC 1951). Every peer reads both;
// a sender deflates what shrinks (Connection.deflateFrames).

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Encoder, decode } from '@msgpack/msgpack';
import { MdsyncError } from '../errors.js';
import { MAX_FRAME } from './limits.js';

// One encoder for the process: its buffer grows once to the frame sizes in use and is reused,
// rather than grown from a few KiB by doubling (and copied) for every multi-MiB frame.
const encoder = new Encoder({ ignoreUndefined: true, initialBufferSize: 64 * 1024 });

const DEFLATED = 0x80000000;
/** Frames smaller than this are sent as they are: deflating them saves nothing worth the work. */
const DEFLATE_MIN = 512;

/** A value as one frame; deflated at `level` (zlib's 1–9) when given and that makes it smaller. */
export function encodeFrame(value: unknown, level?: number): Buffer {
  const encoded = encoder.encodeSharedRef(value);
  if (encoded.length > MAX_FRAME) throw new MdsyncError('PROTOCOL', `refusing to send a frame of ${encoded.length} bytes (limit ${MAX_FRAME})`);
  const packed = level !== undefined && encoded.length >= DEFLATE_MIN ? deflateRawSync(encoded, { level }) : undefined;
  const body = packed && packed.length < encoded.length ? packed : encoded;
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body === packed ? (body.length | DEFLATED) >>> 0 : body.length, 0);
  frame.set(body, 4);
  return frame;
}

/**
 * The text a session opened with, up to the first byte that is not text; undefined when it opened
 * with a frame. A frame's first byte is 0x00 or 0x80 (no frame reaches 16 MiB), so text there is
 * something else speaking before the peer did, such as a remote shell's login banner.
 */
export function textBeforeFrames(head: Uint8Array): string | undefined {
  const decoded = new TextDecoder('utf-8').decode(head);
  // Opening with a printable character, a line end or ESC (a coloured banner), up to a NUL or a
  // byte that is not UTF-8 (U+FFFD): a frame's header holds either.
  const text = /^(?:[^\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\ufffd][^\x00\ufffd]*)?/.exec(decoded)?.[0] ?? '';
  return text === '' ? undefined : text;
}

/** Cuts a byte stream into decoded values; holds at most one partial frame. */
export class FrameDecoder {
  private parts: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrame = MAX_FRAME) {}

  /** Bytes of an incomplete frame held so far (non-zero at end of input means a truncated frame). */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): unknown[] {
    this.parts.push(chunk);
    this.buffered += chunk.length;
    const values: unknown[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4).readUInt32BE(0);
      const deflated = (head & DEFLATED) !== 0;
      const length = deflated ? head - DEFLATED : head;
      // Checked on the header alone: a hostile 4 GiB length never reaches an allocation.
      if (length > this.maxFrame) throw new MdsyncError('PROTOCOL', `${deflated ? 'deflated ' : ''}frame of ${length} bytes announced (limit ${this.maxFrame})`);
      if (this.buffered < 4 + length) break;
      const frame = this.take(4 + length).subarray(4);
      values.push(this.decodeValue(frame, deflated));
    }
    return values;
  }

  private decodeValue(frame: Buffer, deflated: boolean): unknown {
    let plain = frame;
    if (deflated) {
      try {
        // Bounded like a plain frame: a few bytes that inflate to gigabytes stop at the limit.
        plain = inflateRawSync(frame, { maxOutputLength: this.maxFrame });
      } catch (err) {
        throw new MdsyncError('PROTOCOL', `a deflated frame does not inflate within ${this.maxFrame} bytes: ${(err as Error).message}`);
      }
    }
    try {
      return decode(plain);
    } catch (err) {
      throw new MdsyncError('PROTOCOL', `undecodable frame: ${(err as Error).message}`);
    }
  }

  private peek(n: number): Buffer {
    if ((this.parts[0] as Buffer).length < n) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0] as Buffer;
  }

  private take(n: number): Buffer {
    const all = (this.parts[0] as Buffer).length >= n ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.parts = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
