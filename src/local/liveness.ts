// Whether the process a lock file or a temp file names is still the one that wrote it (Linux /proc, else a signal).

import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { isErrno } from '../errors.js';

/** The aux vector entry giving USER_HZ, the unit of the start time in /proc/PID/stat. */
const AT_CLKTCK = 17n;

/**
 * Room for a file's time against its writer's start found from btime: whole-second mtimes, and a
 * clock stepped a little after boot (btime moves with it). Ticks, where a file carries them, are exact.
 */
const WRITTEN_MARGIN_MS = 5_000;

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

/** When a file's writer was alive: its own start time (`ticks`, as /proc/PID/stat gives it), or when the file last changed (`atMs`, this host's clock). */
export type Written = { ticks: number } | { atMs: number };

/** The fields of /proc/PID/stat after the command name (the state first), or undefined where there is none. */
function statFields(pid: number | 'self'): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name in parentheses may hold spaces and parentheses: fields are counted after the last one.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** This process's start time in clock ticks since boot (field 22 of /proc/self/stat); undefined without /proc. */
export function ownStartTicks(): number | undefined {
  const ticks = Number(statFields('self')?.[19]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/**
 * Whether `pid` is a live process that can be the writer of a file: a zombie is dead (kill(pid, 0)
 * succeeds on one), and so is a process other than the writer (its PID reused, after a reboot or
 * later in the same boot): one whose start ticks differ from those the file carries, or, for a
 * file without them, one that started after the file last changed.
 */
export function isOwnerAlive(pid: number, written?: Written): boolean {
  const fields = statFields(pid);
  // No /proc, or a process /proc hides (hidepid): only a signal can tell, and not its age.
  if (!fields) return signalable(pid);
  if (fields[0] === 'Z' || fields[0] === 'X' || fields[0] === 'x') return false;
  const startTicks = Number(fields[19]);
  if (written === undefined || !Number.isFinite(startTicks)) return true;
  if ('ticks' in written) return startTicks === written.ticks;
  const boot = bootTimeMs();
  if (boot === null) return true;
  // btime and the start ticks are both rounded down, so the start found is never later than the
  // real one (by up to a second and a tick); the margin covers the file's side.
  return boot + (startTicks * 1000) / clockTicks() <= written.atMs + WRITTEN_MARGIN_MS;
}
