// Frames on the wire: a 4-byte big-endian length, then one msgpack value of that many bytes.

import { Encoder, decode } from '@msgpack/msgpack';
import { MdsyncError } from '../errors.js';
import { MAX_FRAME } from './limits.js';

// One encoder for the process: its buffer grows once to the frame sizes in use and is reused,
// rather than grown from a few KiB by doubling (and copied) for every multi-MiB frame.
const encoder = new Encoder({ ignoreUndefined: true, initialBufferSize: 64 * 1024 });

export function encodeFrame(value: unknown): Buffer {
  const body = encoder.encodeSharedRef(value);
  if (body.length > MAX_FRAME) throw new MdsyncError('PROTOCOL', `refusing to send a frame of ${body.length} bytes (limit ${MAX_FRAME})`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, 4);
  return frame;
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
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      // Checked on the header alone: a hostile 4 GiB length never reaches an allocation.
      if (length > this.maxFrame) throw new MdsyncError('PROTOCOL', `frame of ${length} bytes announced (limit ${this.maxFrame})`);
      if (this.buffered < 4 + length) break;
      const frame = this.take(4 + length).subarray(4);
      try {
        values.push(decode(frame));
      } catch (err) {
        throw new MdsyncError('PROTOCOL', `undecodable frame: ${(err as Error).message}`);
      }
    }
    return values;
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
