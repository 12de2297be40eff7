// Whether the process a lock file or a temp file names is still the one that wrote it (Linux /proc, else a signal).

import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { isErrno } from '../errors.js';

/** The aux vector entry giving USER_HZ, the unit of the start time in /proc/PID/stat. */
const AT_CLKTCK = 17n;

let ticksPerSecond: number | undefined;
let bootMs: number | null | undefined;

function clockTicks(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  ticksPerSecond = 100;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    const read = (at: number): bigint => (endianness() === 'LE' ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at));
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      if (read(at) === AT_CLKTCK) {
        ticksPerSecond = Number(read(at + 8)) || 100;
        break;
      }
    }
  } catch {
    // No aux vector to read: USER_HZ is 100 on every architecture Node runs on.
  }
  return ticksPerSecond;
}

/** This boot's time from /proc/stat `btime`, in whole seconds rounded down; null where there is none. */
function bootTimeMs(): number | null {
  if (bootMs !== undefined) return bootMs;
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    bootMs = m ? Number(m[1]) * 1000 : null;
  } catch {
    bootMs = null;
  }
  return bootMs;
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * Whether `pid` is a live process that can be the writer of a file written at `writtenMs` (this
 * host's clock): a zombie is dead (kill(pid, 0) succeeds on one), and so is a process that started
 * after the file was written (its PID reused, after a reboot or later in the same boot).
 */
export function isOwnerAlive(pid: number, writtenMs?: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    // No /proc, or a process /proc hides (hidepid): only a signal can tell, and not its age.
    return signalable(pid);
  }
  // The command name in parentheses may hold spaces and parentheses: fields are counted after the last one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X' || fields[0] === 'x') return false;
  const boot = bootTimeMs();
  const startTicks = Number(fields[19]);
  if (writtenMs === undefined || boot === null || !Number.isFinite(startTicks)) return true;
  // btime and the start ticks are both rounded down, so the start found is never later than the
  // real one (by up to a second and a tick): a writer is never judged to have started after its file.
  return boot + (startTicks * 1000) / clockTicks() <= writtenMs;
}
