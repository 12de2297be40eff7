// A test hook for the crash-anywhere proof: MDSYNC_CRASH_AFTER=N kills this process with SIGKILL
// (what a power cut or `kill -9` does) just before its N-th change to a disk, so a test can
// interrupt a run at every point of its work and show that the next run repairs it. The count is
// shared with the file-I/O worker threads, which change the disk too. MDSYNC_HANG_AFTER=N makes a
// worker thread's N-th change never return instead, as on a hung NFS mount.

import { isMainThread } from 'node:worker_threads';

const after = Number(process.env.MDSYNC_CRASH_AFTER) || 0;
let changes = new Int32Array(new SharedArrayBuffer(4));
const hangAfter = Number(process.env.MDSYNC_HANG_AFTER) || 0;
let threadChanges = 0;

/** The counter, for a worker thread to share. */
export function crashCounter(): SharedArrayBuffer {
  return changes.buffer as SharedArrayBuffer;
}

/** In a worker thread: count on the process's one counter. */
export function shareCrashCounter(buffer: SharedArrayBuffer): void {
  changes = new Int32Array(buffer);
}

export function crashPoint(): void {
  // Only a thread of the pool hangs: the event loop goes on, as it does while a system call is stuck.
  if (hangAfter > 0 && !isMainThread && ++threadChanges >= hangAfter) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  if (after > 0 && Atomics.add(changes, 0, 1) + 1 >= after) process.kill(process.pid, 'SIGKILL');
}
