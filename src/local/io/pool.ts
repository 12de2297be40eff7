// Worker threads for batches of message-file I/O (batch.ts): reading and writing go on in
// parallel with each other and with the main thread's work, without a promise per system call.
// Small batches, the first thousand files of a run, and code run from sources where no compiled
// worker exists, run inline.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runJob, type CopyJob, type CopyOutcome, type HashJob, type HashOutcome, type Job, type ReadJob, type ReadOutcome, type WriteJob, type WriteOutcome } from './batch.js';
import { packJob, transferOf, unpackOutcomes, type PackedOutcomes } from './wire.js';
import { crashCounter } from '../disk.js';

type Outcomes = ReadOutcome[] | WriteOutcome[] | CopyOutcome[] | HashOutcome[];

const WORKERS = 2;
/** Below this many files a batch runs inline: starting a thread costs more. */
const INLINE_BELOW = 16;
/**
 * Files of larger batches run inline before the threads are started: starting two costs more CPU
 * than a run of a few hundred changes spends on its file I/O (docs/performance.md, "Copies").
 */
export const START_AFTER_FILES = 1024;
/**
 * A run that announces fewer files than this (IoPool.expect) never starts the threads: it would
 * be over before they had loaded and taken a share of the work (docs/performance.md, "Copies").
 */
export const THREADS_FROM_FILES = 4096;

interface Pending {
  kind: Job['kind'];
  resolve(value: Outcomes): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  /**
   * Set by the thread once it has loaded its code. Shared memory, not a message: a run whose
   * jobs all run here chains them through promises and gives no turn to the event loop, where a
   * message would wait.
   */
  ready: Int32Array;
  busy: number;
  pending: Map<number, Pending>;
  /** Jobs in flight per lane (a folder's directory). */
  lanes: Map<string, number>;
}

const isReady = (slot: Slot): boolean => Atomics.load(slot.ready, 0) === 1;

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

export class IoPool {
  private slots?: Slot[];
  private nextId = 0;
  private readonly available: boolean;
  /** Files of batches run inline that could have gone to a thread. */
  private inlined = 0;
  private threadJobs = 0;
  /** Message files the runs of this process announced they are about to move (0: none said). */
  private expected = 0;

  constructor(private readonly workerFile: string = WORKER_FILE) {
    this.available = existsSync(workerFile);
  }

  /** What the pool has done so far: files of batches run inline, threads started and ready, jobs they ran. */
  get activity(): { inlineFiles: number; threadsStarted: number; threadsReady: number; threadJobs: number } {
    const slots = this.slots ?? [];
    return { inlineFiles: this.inlined, threadsStarted: slots.length, threadsReady: slots.filter(isReady).length, threadJobs: this.threadJobs };
  }

  /** A run is about to move this many message files (LocalAgent.prepare): few, and the threads are not started. */
  expect(files: number): void {
    this.expected += files;
  }

  private start(): Slot[] {
    this.slots ??= Array.from({ length: WORKERS }, () => {
      const ready = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(this.workerFile, { workerData: { crashCounter: crashCounter(), ready } });
      const slot: Slot = { worker, ready, busy: 0, pending: new Map(), lanes: new Map() };
      worker.on('message', ({ id, result, error }: { id: number; result?: PackedOutcomes; error?: string }) => {
        const p = slot.pending.get(id);
        if (!p) return;
        slot.pending.delete(id);
        if (--slot.busy === 0) worker.unref();
        if (error !== undefined) p.reject(new Error(error));
        else p.resolve(unpackOutcomes(p.kind, result as PackedOutcomes) as Outcomes);
      });
      worker.on('error', (err) => {
        Atomics.store(ready, 0, 0);
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
        slot.lanes.clear();
        slot.busy = 0;
      });
      worker.unref();
      return slot;
    });
    return this.slots;
  }

  /**
   * Runs a job on a thread. Jobs of one `lane` (the folder they write) go to the thread already
   * writing it, unless another thread is idle: two threads creating, linking and unlinking names
   * in one directory wait on its lock.
   */
  run(job: ReadJob, lane?: string): Promise<ReadOutcome[]>;
  run(job: WriteJob, lane?: string): Promise<WriteOutcome[]>;
  run(job: CopyJob, lane?: string): Promise<CopyOutcome[]>;
  run(job: HashJob, lane?: string): Promise<HashOutcome[]>;
  async run(job: Job, lane?: string): Promise<Outcomes> {
    const size = job.kind === 'read' || job.kind === 'hash' ? job.paths.length : job.items.length;
    if (!this.available || size < INLINE_BELOW) return runJob(job);
    // Threads take jobs once they have loaded their code: until then jobs run here, and a run
    // never waits for a thread to start.
    const few = this.inlined < START_AFTER_FILES || (this.expected > 0 && this.expected < THREADS_FROM_FILES);
    const slots = few ? [] : this.start().filter(isReady);
    if (slots.length === 0) {
      this.inlined += size;
      return runJob(job);
    }
    const idle = slots.find((s) => s.busy === 0);
    const writing = lane === undefined ? undefined : slots.find((s) => s.lanes.has(lane));
    const slot = idle ?? writing ?? slots.reduce((best, s) => (s.busy < best.busy ? s : best));
    const id = this.nextId++;
    this.threadJobs++;
    // A thread at work keeps the process alive; an idle one does not hold it open.
    if (slot.busy++ === 0) slot.worker.ref();
    if (lane !== undefined) slot.lanes.set(lane, (slot.lanes.get(lane) ?? 0) + 1);
    const settled = (): void => {
      if (lane === undefined) return;
      const left = (slot.lanes.get(lane) ?? 1) - 1;
      if (left > 0) slot.lanes.set(lane, left);
      else slot.lanes.delete(lane);
    };
    return new Promise<Outcomes>((resolve, reject) => {
      slot.pending.set(id, { kind: job.kind, resolve, reject });
      const packed = packJob(job);
      slot.worker.postMessage({ id, job: packed }, transferOf(packed));
    }).finally(settled);
  }
}

export const ioPool = new IoPool();
