// Runs a command as a child process and measures its wall time, CPU time and peak resident set size.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  code: number;
  wallS: number;
  /** Peak RSS in MB (for a command that forks, the largest single process). */
  rssMB: number;
  /** User + system CPU seconds of the command and every child it waited for; NaN without GNU time. */
  cpuS: number;
  stdout: string;
  stderr: string;
}

export const GNU_TIME = '/usr/bin/time';
/** What GNU time writes: peak RSS (kB), user and system CPU seconds (no space: remote commands pass through a shell). */
export const TIME_FORMAT = '%M,%U,%S';

/**
 * GNU time's %M is the ru_maxrss wait4() returns for the child (kB, exact since time 1.8).
 * Without it, /proc/<pid>/status VmHWM (the kernel's own high-water mark) is polled; it can miss
 * growth in the last few milliseconds before exit.
 */
export const rssMethod = existsSync(GNU_TIME)
  ? `${GNU_TIME} -f %M (ru_maxrss of the child from wait4)`
  : '/proc/<pid>/status VmHWM polled every 5 ms';

function readHwmKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS (kB) and CPU seconds as GNU time wrote them; on failure it writes "Command exited with non-zero status N" first. */
export function readTime(file: string): { kb: number; cpuS: number } | undefined {
  try {
    const [kb, user, system] = (readFileSync(file, 'utf8').trim().split('\n').pop() ?? '').split(',').map(Number);
    if (kb === undefined || !Number.isFinite(kb) || kb <= 0) return undefined;
    return { kb, cpuS: user !== undefined && system !== undefined ? user + system : Number.NaN };
  } catch {
    return undefined;
  }
}

export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const scratch = useTime ? mkdtempSync(join(tmpdir(), 'mdsync-time-')) : '';
  const timeFile = join(scratch, 'rss');
  const [file, argv] = useTime ? [GNU_TIME, ['-f', TIME_FORMAT, '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let hwmKb = 0;
    const poll = useTime ? undefined : setInterval(() => {
      if (child.pid !== undefined) hwmKb = Math.max(hwmKb, readHwmKb(child.pid) ?? 0);
    }, 5);
    // A program that cannot be started is a result (exit 127, as a shell says), not a crash.
    child.on('error', (error) => {
      if (poll) clearInterval(poll);
      if (useTime) rmSync(scratch, { recursive: true, force: true });
      resolve({ code: 127, wallS: Number(process.hrtime.bigint() - started) / 1e9, rssMB: 0, cpuS: Number.NaN, stdout: '', stderr: error.message });
    });
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      let kb = hwmKb;
      let cpuS = Number.NaN;
      if (useTime) {
        const got = readTime(timeFile);
        kb = got?.kb ?? 0;
        cpuS = got?.cpuS ?? Number.NaN;
        rmSync(scratch, { recursive: true, force: true });
      }
      resolve({ code: code ?? -1, wallS, rssMB: kb / 1024, cpuS, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
