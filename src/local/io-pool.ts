// Worker threads for batches of message-file I/O (batch-io.ts): reading and writing go on in
// parallel with each other and with the main thread's work, without a promise per system call.
// Small batches, and code run from sources where no compiled worker exists, run inline.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { crashCounter } from '../crash-point.js';
import { runJob, type CopyJob, type CopyOutcome, type HashJob, type HashOutcome, type Job, type ReadJob, type ReadOutcome, type WriteJob, type WriteOutcome } from './batch-io.js';

type Outcomes = ReadOutcome[] | WriteOutcome[] | CopyOutcome[] | HashOutcome[];

const WORKERS = 2;
/** Below this many files a batch runs inline: starting a thread costs more. */
const INLINE_BELOW = 16;

interface Pending {
  resolve(value: Outcomes): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

const WORKER_FILE = fileURLToPath(new URL('./io-worker.js', import.meta.url));

class IoPool {
  private slots?: Slot[];
  private nextId = 0;
  private readonly available = existsSync(WORKER_FILE);

  private start(): Slot[] {
    this.slots ??= Array.from({ length: WORKERS }, () => {
      const worker = new Worker(WORKER_FILE, { workerData: { crashCounter: crashCounter() } });
      const slot: Slot = { worker, busy: 0, pending: new Map() };
      worker.on('message', ({ id, result, error }: { id: number; result?: Outcomes; error?: string }) => {
        const p = slot.pending.get(id);
        if (!p) return;
        slot.pending.delete(id);
        if (--slot.busy === 0) worker.unref();
        if (error !== undefined) p.reject(new Error(error));
        else p.resolve(asBuffers(result as Outcomes));
      });
      worker.on('error', (err) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
        slot.busy = 0;
      });
      worker.unref();
      return slot;
    });
    return this.slots;
  }

  run(job: ReadJob): Promise<ReadOutcome[]>;
  run(job: WriteJob): Promise<WriteOutcome[]>;
  run(job: CopyJob): Promise<CopyOutcome[]>;
  run(job: HashJob): Promise<HashOutcome[]>;
  async run(job: Job): Promise<Outcomes> {
    const size = job.kind === 'read' || job.kind === 'hash' ? job.paths.length : job.items.length;
    if (!this.available || size < INLINE_BELOW) return runJob(job);
    const slots = this.start();
    const slot = slots.reduce((best, s) => (s.busy < best.busy ? s : best));
    const id = this.nextId++;
    // A thread at work keeps the process alive; an idle one does not hold it open.
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job });
    });
  }
}

/** Bodies cross threads as plain Uint8Arrays: the same bytes, seen as Buffers again. */
function asBuffers<T extends Outcomes>(outcomes: T): T {
  for (const o of outcomes) if ('data' in o) o.data = Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
  return outcomes;
}

export const ioPool = new IoPool();
