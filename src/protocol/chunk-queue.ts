// A body arriving chunk by chunk from the wire, read as an async iterable by the side writing it to disk.

import { MdsyncError } from '../errors.js';

interface Queued {
  data: Uint8Array;
  taken(): void;
}

/** Each push resolves once the reader has taken the chunk: the sender can never run far ahead. */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly queued: Queued[] = [];
  private wake?: () => void;
  private ended = false;
  private failure?: Error;
  private rejecters = new Set<(err: Error) => void>();

  push(data: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new MdsyncError('PROTOCOL', 'a chunk arrived after the end of its body'));
    return new Promise<void>((resolve, reject) => {
      const taken = (): void => {
        this.rejecters.delete(reject);
        resolve();
      };
      this.rejecters.add(reject);
      this.queued.push({ data, taken });
      this.wake?.();
    });
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The reader failed or the session ended: every waiting and later push gets this error. */
  abort(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const reject of this.rejecters) reject(err);
    this.rejecters.clear();
    this.queued.length = 0;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for (;;) {
        const next = this.queued.shift();
        if (next) {
          next.taken();
          yield next.data;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.ended) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
      }
    } finally {
      // The reader stopped early (a write failed): nothing more will be taken.
      if (!this.ended || this.queued.length > 0) this.abort(this.failure ?? new MdsyncError('IO', 'the message could not be written'));
    }
  }
}
