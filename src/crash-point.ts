// A test hook for the crash-anywhere proof: MDSYNC_CRASH_AFTER=N kills this process with SIGKILL
// (what a power cut or `kill -9` does) just before its N-th change to a disk, so a test can
// interrupt a run at every point of its work and show that the next run repairs it.

const after = Number(process.env.MDSYNC_CRASH_AFTER) || 0;
let changes = 0;

export function crashPoint(): void {
  if (after > 0 && ++changes >= after) process.kill(process.pid, 'SIGKILL');
}
