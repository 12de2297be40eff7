// Fuzzing the wire: random and mutated frames through the frame decoder, the message table and a live session.
// MDSYNC_FUZZ_FRAMES sets the count (CI runs the default; the nightly run sets 1000000 or more), MDSYNC_FUZZ_SEED the seed.

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MdsyncError } from '../../src/errors.js';
import { Connection } from '../../src/protocol/connection.js';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';
import { MAX_FRAME } from '../../src/protocol/limits.js';
import { METHODS, isMethod, type Method } from '../../src/protocol/messages.js';
import { Fuzzer, VALID_FRAMES, encodeRaw, rawFrame } from '../helpers/fuzz.js';

const FRAMES = Number(process.env.MDSYNC_FUZZ_FRAMES ?? 200_000);
const SEED = Number(process.env.MDSYNC_FUZZ_SEED ?? 20261123);
const METHOD_NAMES = Object.keys(METHODS) as Method[];
/** Growth of the process's resident memory allowed over the whole run: bounded, whatever the count. */
const MEMORY_BOUND = 160 * 1024 * 1024;

interface Finding {
  input: string;
  error: string;
}

/** What the session does with a decoded value, minus the I/O: the envelope, then the table's checks. */
function checkDecoded(value: unknown, answerTo: Method): void {
  if (!Array.isArray(value)) return;
  if (value[0] === 0 && isMethod(value[2])) METHODS[value[2]].args(value[3], value[2]);
  if (value[0] === 1) METHODS[answerTo].result(value[2], `answer to ${answerTo}`);
}

function isExpected(err: unknown): boolean {
  return err instanceof MdsyncError && err.code === 'PROTOCOL';
}

/** The next frame on a hostile stream: valid, mutated as a value, mutated as bytes, or random bytes. */
function nextFrame(fuzz: Fuzzer): { bytes: Buffer; method: Method } {
  const method = fuzz.pick(METHOD_NAMES);
  const sample = VALID_FRAMES[method];
  const kind = fuzz.int(10);
  const asAnswer = fuzz.chance(0.5);
  const envelope = (body: unknown): unknown[] => (asAnswer ? [1, 1 + fuzz.int(4), body] : [0, 1 + fuzz.int(4), method, body]);
  if (kind === 0) return { bytes: encodeFrame(envelope(asAnswer ? sample.result : sample.args)), method };
  if (kind <= 5) return { bytes: encodeFrame(envelope(fuzz.mutateValue(asAnswer ? sample.result : sample.args))), method };
  if (kind <= 6) return { bytes: encodeFrame(fuzz.mutateValue(envelope(asAnswer ? sample.result : sample.args))), method };
  if (kind <= 8) return { bytes: fuzz.mutateBytes(encodeFrame(envelope(asAnswer ? sample.result : sample.args))), method };
  return { bytes: fuzz.chance(0.5) ? rawFrame(fuzz.bytes(fuzz.int(64))) : fuzz.bytes(1 + fuzz.int(64)), method };
}

describe('frame decoder and message table under random and mutated frames', () => {
  it('accept every unmutated sample (the mutations start from valid frames)', () => {
    for (const method of METHOD_NAMES) {
      const { args, result } = VALID_FRAMES[method];
      const [decoded] = new FrameDecoder().push(encodeFrame([0, 1, method, args]));
      expect(() => METHODS[method].args((decoded as unknown[])[3], method)).not.toThrow();
      const [answer] = new FrameDecoder().push(encodeFrame([1, 1, result]));
      expect(() => METHODS[method].result((answer as unknown[])[2], method)).not.toThrow();
    }
  });

  it(`raise only protocol errors, hold at most one frame, and stay within bounded memory (${FRAMES} frames)`, () => {
    const fuzz = new Fuzzer(SEED);
    const findings: Finding[] = [];
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let decoded = 0;
    let refused = 0;
    let decoder = new FrameDecoder();
    for (let n = 0; n < FRAMES; n++) {
      const { bytes, method } = nextFrame(fuzz);
      // Cut the frame at random places, as a socket would.
      let at = 0;
      while (at < bytes.length) {
        const size = fuzz.chance(0.7) ? bytes.length - at : 1 + fuzz.int(bytes.length - at);
        const chunk = bytes.subarray(at, at + size);
        at += size;
        try {
          for (const value of decoder.push(chunk)) {
            decoded++;
            try {
              checkDecoded(value, method);
            } catch (err) {
              refused++;
              if (!isExpected(err)) findings.push({ input: bytes.toString('hex').slice(0, 400), error: String((err as Error).stack ?? err) });
            }
          }
        } catch (err) {
          refused++;
          if (!isExpected(err)) findings.push({ input: bytes.toString('hex').slice(0, 400), error: String((err as Error).stack ?? err) });
          // A session ends at its first broken frame; the next stream starts clean.
          decoder = new FrameDecoder();
          break;
        }
        expect(decoder.pending).toBeLessThanOrEqual(4 + MAX_FRAME);
      }
      // A stream that ended mid-frame is a closed session too.
      if (fuzz.chance(0.2) || decoder.pending > 0) decoder = new FrameDecoder();
      if (n % 5000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      if (findings.length >= 5) break;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(findings).toEqual([]);
    // The sweep really reached the checks, with both outcomes.
    expect(decoded).toBeGreaterThan(FRAMES / 2);
    expect(refused).toBeGreaterThan(FRAMES / 4);
    expect(peak - baseline).toBeLessThan(MEMORY_BOUND);
  }, Math.max(60_000, FRAMES / 5));

  it('refuse every announced length above the limit from the header alone, holding 4 bytes', () => {
    const fuzz = new Fuzzer(SEED + 1);
    for (let i = 0; i < 10_000; i++) {
      // The top bit marks a deflated frame; the other 31 are its length.
      const length = MAX_FRAME + 1 + fuzz.int(0x7fffffff - MAX_FRAME);
      const deflated = fuzz.int(2) === 1;
      const head = Buffer.alloc(5);
      head.writeUInt32BE(deflated ? (length | 0x80000000) >>> 0 : length, 0);
      const decoder = new FrameDecoder();
      expect(() => decoder.push(head)).toThrow(new RegExp(`${deflated ? 'deflated ' : ''}frame of ${length} bytes announced`));
    }
  });

  it('refuse containers claiming 4 billion entries or bytes without allocating them', () => {
    const before = process.memoryUsage().rss;
    for (const header of [[0xdd, 0xff, 0xff, 0xff, 0xff], [0xdf, 0xff, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xff], [0xc6, 0xff, 0xff, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0xdc, 0xff, 0xff], [0xde, 0xff, 0xff]]) {
      for (let i = 0; i < 200; i++) {
        const err = catchError(() => new FrameDecoder().push(rawFrame(new Uint8Array([0x94, 0, 1, 0xa4, ...Buffer.from('hash'), ...header]))));
        expect(isExpected(err), String(err)).toBe(true);
      }
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(MEMORY_BOUND);
  });

  it('refuse a map key that would replace an object prototype', () => {
    const body = encodeRaw([0, 1, 'manifest', { ['__proto__']: { folder: 'x', start: 0 } }]);
    expect(catchError(() => new FrameDecoder().push(rawFrame(body)))).toMatchObject({ code: 'PROTOCOL', message: expect.stringMatching(/undecodable frame: .*__proto__/) });
  });
});

describe('a live session fed hostile streams', () => {
  const sessions = Math.max(200, Math.floor(FRAMES / 100));

  it(`ends each with a protocol or connection error, rejects each pending request with a protocol error (${sessions} sessions)`, async () => {
    const fuzz = new Fuzzer(SEED + 2);
    const findings: Finding[] = [];
    const baseline = process.memoryUsage().rss;
    let handled = 0;
    let ended = 0;
    for (let s = 0; s < sessions; s++) {
      // The asking side: requests out, hostile answers in.
      const input = new PassThrough();
      const output = new PassThrough();
      output.resume();
      const asking = new Connection(input, output, { label: 'peer' });
      const pending = METHOD_NAMES.slice(0, 4 + fuzz.int(8)).map((method) => asking.request(method, VALID_FRAMES[method].args as never).then(
        () => undefined,
        (err: unknown) => {
          if (!(err instanceof MdsyncError) || !['PROTOCOL', 'REMOTE'].includes(err.code)) findings.push({ input: method, error: String((err as Error).stack ?? err) });
        },
      ));
      // The serving side: hostile requests in; the handler sees only checked arguments.
      const requests = new PassThrough();
      const answers = new PassThrough();
      answers.resume();
      const serving = new Connection(requests, answers, {
        label: 'client',
        handle: async (method, args) => {
          handled++;
          METHODS[method].args(args, method);
          return VALID_FRAMES[method].result;
        },
      });
      for (let f = 0, n = 1 + fuzz.int(6); f < n; f++) {
        const { bytes } = nextFrame(fuzz);
        input.write(bytes);
        requests.write(bytes);
      }
      input.end();
      requests.end();
      await Promise.all([asking.done, serving.done, ...pending]);
      if (asking.error) ended++;
      for (const err of [asking.error, serving.error]) {
        if (err && !['PROTOCOL', 'REMOTE'].includes(err.code)) findings.push({ input: 'session', error: err.message });
        if (err && /TypeError|RangeError|Cannot read|is not a function|is not iterable|Maximum call stack/.test(err.message)) findings.push({ input: 'session', error: err.message });
      }
    }
    expect(findings).toEqual([]);
    expect(ended).toBe(sessions);
    expect(handled).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - baseline).toBeLessThan(MEMORY_BOUND);
  }, 120_000);
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
