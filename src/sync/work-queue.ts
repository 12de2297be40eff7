// The requests of a run in flight at once (RunOptions.jobs), drained at each step of §8's order.

import type PQueue from 'p-queue';

export class WorkQueue {
  private tasks: Promise<void>[] = [];

  private constructor(private readonly queue: PQueue) {}

  /** Loaded here, not with the module: a run with nothing to do never needs it (start-up is most of a no-change run). */
  static async open(jobs: number): Promise<WorkQueue> {
    const { default: Queue } = await import('p-queue');
    return new WorkQueue(new Queue({ concurrency: Math.max(1, jobs) }));
  }

  add(task: () => Promise<void>): void {
    this.tasks.push(this.queue.add(task));
  }

  /** Waits for every task added so far; the first failure is thrown once all have settled (none is left unhandled). */
  async drain(): Promise<void> {
    const pending = this.tasks;
    this.tasks = [];
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
