// One protocol session over a byte stream: numbered requests, many in flight, answers matched by id.

import type { Readable, Writable } from 'node:stream';
import { MdsyncError, type ErrorCode } from '../errors.js';
import { FrameDecoder, encodeFrame } from './frame.js';
import { MAX_IN_FLIGHT } from './limits.js';
import { METHODS, isMethod, type Args, type Method, type Result } from './messages.js';
import { Keepalives } from './keep-alives.js';
import { ANSWER, BODIES_ASKED, HEAD_KEEP, BYE, ERROR, ERROR_CODE, KEEPALIVE, REQUEST, UNDEFLATED_ANSWERS, errorCode, errorText, shown } from './frame-kinds.js';

/** How long requests sent before a bye may still be answered after the peer's stream ended. */
const BYE_GRACE_MS = 10_000;

export type Handler = (method: Method, args: unknown) => Promise<unknown>;

export interface ConnectionOptions {
  /** Names the peer in error messages ("mail.example.org:Maildir"). */
  label: string;
  /** Fail when the peer owes an answer and has sent nothing for this long. */
  timeoutMs?: number;
  /** Serving side: answers requests. Requests arriving at a side without one end the session. */
  handle?: Handler;
  /**
   * Serving side: sent while requests are being worked on and progress (work started, a request
   * answered) was made within three times this (the client's --timeout), so a busy side is not
   * taken for a dead one, and one stuck in one operation goes silent.
   */
  keepaliveMs?: number;
  /** Asking side: sent all along, so a serving side can tell a client that is gone from one still at work. */
  heartbeatMs?: number;
  /** The peer said bye: run before our own bye goes back. */
  onBye?: () => Promise<void>;
}

interface Pending {
  method: Method;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class Connection {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private inFlight = 0;
  private lastHeard = Date.now();
  /** Serving side: when work last started or a request was last answered. */
  private lastProgress = Date.now();
  private failure?: MdsyncError;
  private byeReceived = false;
  private timer?: NodeJS.Timeout;
  /** Serving side: shows life while busy and moving (keep-alives.ts). */
  private readonly keepalive: Keepalives;
  private heartbeat?: NodeJS.Timeout;
  /** Serving side: end the session when the peer sent nothing for this long. */
  private idleTimeoutMs?: number;
  /** Our reading is paused (too many requests in flight): the peer's silence then says nothing. */
  private held = false;
  private drained?: Promise<void>;
  private idle?: () => void;
  private discarding = false;
  /** What goes deflated to the peer: nothing before hello, then metadata, or everything with --compress. */
  private deflate: 'none' | 'metadata' | 'all' = 'none';
  private head = Buffer.alloc(0);
  /** Protocol bytes written and read (frames, not the transport's own overhead). */
  sent = 0;
  /** Requests the peer answered with an error frame. */
  refused = 0;
  received = 0;
  private readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(private readonly input: Readable, private readonly output: Writable, private readonly options: ConnectionOptions) {
    this.finished = new Promise((resolve) => { this.finish = resolve; });
    this.keepalive = new Keepalives(() => { void this.send([KEEPALIVE]).catch(() => undefined); }, () => this.lastProgress);
    input.on('data', (chunk: Buffer) => this.receive(chunk));
    input.on('end', () => this.ended());
    input.on('close', () => this.ended());
    input.on('error', (err) => this.fail(new MdsyncError('REMOTE', `${options.label}: connection failed: ${err.message}`)));
    output.on('error', (err) => this.fail(new MdsyncError('REMOTE', `${options.label}: connection failed: ${err.message}`)));
    if (options.timeoutMs) this.startTimer(options.timeoutMs);
    if (options.heartbeatMs) {
      this.heartbeat = setInterval(() => { void this.send([KEEPALIVE]).catch(() => undefined); }, options.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  private startTimer(timeoutMs: number): void {
    if (this.timer) return;
    const every = Math.max(50, Math.min(1000, timeoutMs / 4));
    this.timer = setInterval(() => this.checkTimeout(), every);
    this.timer.unref();
  }

  /**
   * Serving side (a client sends keep-alives all along): a peer silent this long is gone (a dead
   * SSH link sends no end), and the session ends so the Maildir lock is not held for good.
   */
  setIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
    this.lastHeard = Date.now();
    this.startTimer(ms);
  }

  /** Resolves when the session is over (bye exchanged, stream closed or failed). */
  get done(): Promise<void> { return this.finished; }

  get error(): MdsyncError | undefined { return this.failure; }

  /** The first bytes the peer sent (a few dozen at most). */
  get firstBytes(): Buffer {
    return this.head;
  }

  /**
   * From now on frames without message bodies go deflated: lists of names, flags and hashes
   * shrink to a third. Bodies go as they are unless `bodies` (--compress): deflating them costs
   * more CPU than a fast link saves, and saves much on a slow one.
   */
  deflateFrames(bodies: boolean): void {
    this.deflate = bodies ? 'all' : 'metadata';
  }

  async request<M extends Method>(method: M, args: Args<M>): Promise<Result<M>> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      if (this.pending.size === 0) this.lastHeard = Date.now();
      this.pending.set(id, { method, resolve, reject });
    });
    // A peer gone while the request is written (EPIPE) fails the answer before it is returned:
    // unobserved, that rejection would end the process before the far side's exit is known.
    answer.catch(() => undefined);
    try {
      await this.send([REQUEST, id, method, args], BODIES_ASKED.has(method));
    } catch (err) {
      this.pending.delete(id);
      throw err;
    }
    return answer as Promise<Result<M>>;
  }

  /** Orderly end: tells the peer, waits for its bye (or the stream's end), then closes our side. */
  async bye(waitMs = 10_000): Promise<void> {
    if (this.failure || this.byeReceived) return this.close();
    await this.send([BYE]).catch(() => undefined);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
    await Promise.race([this.finished, timeout]);
    this.close();
  }

  close(): void {
    // A peer that says bye (or hangs up cleanly) with our requests unanswered must not leave them waiting forever.
    if (this.pending.size > 0) {
      this.fail(new MdsyncError('REMOTE', `${this.options.label}: the session ended with ${this.pending.size} request(s) unanswered`));
      return;
    }
    this.stopTimers();
    if (!this.output.writableEnded) this.output.end();
    this.discardInput();
    this.finish();
  }

  /**
   * After the session, whatever still arrives is read and dropped: a stream left paused never
   * reaches its end, and an SSH channel would not close.
   */
  private discardInput(): void {
    this.discarding = true;
    this.input.resume();
  }

  private async send(frame: unknown[], bodies = false): Promise<void> {
    if (this.failure) throw this.failure;
    // zlib's fastest level: names and hashes deflate nearly as well as at the default level, in
    // half the time.
    const level = this.deflate === 'all' || (this.deflate === 'metadata' && !bodies) ? 1 : undefined;
    const bytes = encodeFrame(frame, level);
    this.sent += bytes.length;
    const ok = this.output.write(bytes);
    if (ok) return;
    // Back-pressure: a peer that does not read stops us writing; it never fills our memory.
    this.drained ??= new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.output.off('close', closed);
        this.drained = undefined;
        resolve();
      };
      const closed = (): void => {
        this.output.off('drain', done);
        this.drained = undefined;
        reject(this.failure ?? new MdsyncError('REMOTE', `${this.options.label}: connection closed`));
      };
      this.output.once('drain', done);
      this.output.once('close', closed);
    });
    await this.drained;
  }

  private receive(chunk: Buffer): void {
    if (this.failure || this.discarding) return;
    this.lastHeard = Date.now();
    this.received += chunk.length;
    if (this.head.length < HEAD_KEEP) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_KEEP - this.head.length)]);
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.protocolError((err as Error).message);
      return;
    }
    for (const frame of frames) {
      if (this.failure) return;
      try {
        this.dispatch(frame);
      } catch (err) {
        this.protocolError((err as Error).message);
        return;
      }
    }
  }

  private dispatch(frame: unknown): void {
    if (!Array.isArray(frame) || typeof frame[0] !== 'number') throw new Error('a frame is not a list starting with its type');
    switch (frame[0]) {
      case REQUEST:
        this.serve(frame);
        return;
      case ANSWER: {
        const [, id, value] = frame as [number, unknown, unknown];
        const p = this.take(id);
        let result: unknown;
        try {
          result = METHODS[p.method].result(value, `answer to ${p.method}`);
        } catch (err) {
          p.reject(new MdsyncError('PROTOCOL', `${this.options.label}: protocol error: ${(err as Error).message}`));
          throw err;
        }
        p.resolve(result);
        return;
      }
      case ERROR: {
        const [, id, code, message] = frame as [number, unknown, unknown, unknown];
        const err = new MdsyncError(
          typeof code === 'string' && ERROR_CODE.test(code) ? (code as ErrorCode) : 'REMOTE',
          `${this.options.label}: ${typeof message === 'string' ? shown(message.slice(0, 4096)) : 'error'}`,
        );
        if (id === 0) {
          this.fail(err);
          return;
        }
        this.refused++;
        this.take(id).reject(err);
        return;
      }
      case BYE:
        this.byeReceived = true;
        void this.answerBye();
        return;
      case KEEPALIVE:
        return;
      default:
        throw new Error(`unknown frame type ${String(frame[0])}`);
    }
  }

  private take(id: unknown): Pending {
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) throw new Error(`an answer to request ${String(id)}, which was never sent or was already answered`);
    this.pending.delete(id as number);
    return p;
  }

  private serve(frame: unknown[]): void {
    const [, id, method, args] = frame;
    if (!this.options.handle) throw new Error('a request was sent to the side that asks');
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 2 ** 32) throw new Error(`bad request id ${String(id)}`);
    if (!isMethod(method)) throw new Error(`unknown message type ${JSON.stringify(String(method).slice(0, 40))}`);
    const checked = METHODS[method].args(args, method);
    if (this.inFlight === 0) this.lastProgress = Date.now();
    this.inFlight++;
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.held = true;
      this.input.pause();
    }
    this.keepalive.start(this.options.keepaliveMs);
    let answer: Promise<unknown>;
    try {
      // Called synchronously, in arrival order: stream chunks are checked for order as they come.
      answer = this.options.handle(method, checked);
    } catch (err) {
      answer = Promise.reject(err);
    }
    void answer.then(
      (value) => {
        this.lastProgress = Date.now();
        return this.send([ANSWER, id, value ?? null], UNDEFLATED_ANSWERS.has(method));
      },
      async (err: unknown) => {
        await this.send([ERROR, id, errorCode(err), errorText(err)]);
        // A request that breaks the protocol (before hello, out of order…) ends the session.
        if (err instanceof MdsyncError && err.code === 'PROTOCOL') this.fail(new MdsyncError('PROTOCOL', `${this.options.label}: ${err.message}`));
      },
    ).catch(() => undefined).finally(() => {
      this.inFlight--;
      if (this.inFlight < MAX_IN_FLIGHT && !this.failure && !this.discarding) {
        // What the peer sent while we did not read was not heard: its silence is counted from now.
        if (this.held) this.lastHeard = Date.now();
        this.held = false;
        this.input.resume();
      }
      if (this.inFlight === 0) {
        this.keepalive.stop();
        this.idle?.();
      }
    });
  }

  private async answerBye(): Promise<void> {
    // Requests sent before the bye are answered first.
    while (this.inFlight > 0 && !this.failure) await new Promise<void>((resolve) => { this.idle = resolve; });
    try {
      await this.options.onBye?.();
      await this.send([BYE]);
    } catch {
      // The peer is leaving; nothing more to tell it.
    }
    this.close();
  }

  private protocolError(message: string): void {
    const err = new MdsyncError('PROTOCOL', `${this.options.label}: protocol error: ${message}`);
    // Tell the peer why the session ends (best effort), then end it.
    if (!this.output.writableEnded) {
      try {
        this.output.write(encodeFrame([ERROR, 0, 'PROTOCOL', `protocol error: ${message}`]));
      } catch {
        // Nothing more can be said.
      }
    }
    this.fail(err);
  }

  private ended(): void {
    if (this.failure) {
      this.finish();
      return;
    }
    if (this.byeReceived && this.pending.size === 0) {
      // A bye sent behind requests is answered once they are: the stream's end (the client sent
      // all it had) must not cut that short and make an orderly session look broken. Not for long.
      if (this.inFlight > 0) setTimeout(() => this.finish(), BYE_GRACE_MS).unref();
      else this.finish();
      return;
    }
    if (this.byeReceived) {
      this.fail(new MdsyncError('REMOTE', `${this.options.label}: the session ended with ${this.pending.size} request(s) unanswered`));
      return;
    }
    const truncated = this.decoder.pending > 0 ? ` in the middle of a frame (${this.decoder.pending} bytes of it received)` : '';
    this.fail(new MdsyncError('REMOTE', `${this.options.label}: connection closed by the other side${truncated}`));
  }

  /** Ends the session: every request still waiting gets this error. */
  fail(err: MdsyncError): void {
    if (this.failure) return;
    this.failure = err;
    this.stopTimers();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!this.output.writableEnded) this.output.end();
    this.discardInput();
    this.finish();
  }

  private checkTimeout(): void {
    const silent = Date.now() - this.lastHeard;
    if (this.idleTimeoutMs !== undefined && !this.held && silent > this.idleTimeoutMs) {
      this.fail(new MdsyncError('TIMEOUT', `${this.options.label}: nothing heard for ${Math.round(silent / 1000)} s (its --timeout): the client is gone`));
      return;
    }
    if (this.pending.size === 0 || !this.options.timeoutMs) return;
    if (silent > (this.options.timeoutMs as number)) {
      this.fail(new MdsyncError('TIMEOUT', `${this.options.label}: no answer for ${Math.round(silent / 1000)} s (--timeout); giving up`));
    }
  }

  /** Serving side: how often to show life while busy and moving (a third of the client's --timeout). */
  setKeepalive(ms: number): void {
    this.options.keepaliveMs = ms;
  }

  private stopTimers(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.keepalive.stop();
  }
}
