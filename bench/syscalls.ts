// Runs a command under strace and counts what it did to the Maildirs: message opens, directory listings, stats.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';

export interface SyscallCounts {
  code: number;
  /** Successful openat() of a file in some cur/ or new/. */
  messageOpens: number;
  /** Complete listings (getdents64 reaching the end) of directories inside a root: folders, cur/, new/, tmp/. */
  folderListings: number;
  /** Complete listings of a root directory itself. */
  rootListings: number;
  /** stat-family calls on paths inside the roots (or relative paths, after a chdir into one). */
  stats: number;
}

const STRACE = '/usr/bin/strace';
const TRACED = 'openat,getdents64,statx,newfstatat,stat,lstat';

export function straceAvailable(): boolean {
  return existsSync(STRACE);
}

/** Joins strace -f's "<unfinished ...>" / "<... resumed>" halves into whole calls: [name, args, result]. */
export function calls(text: string): [string, string, string][] {
  const pending = new Map<string, string>();
  const out: [string, string, string][] = [];
  for (const raw of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const pid = m[1] as string;
    let line = m[2] as string;
    if (line.endsWith('<unfinished ...>')) {
      pending.set(pid, line.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(line);
    if (resumed) {
      line = (pending.get(pid) ?? '') + (resumed[1] as string);
      pending.delete(pid);
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line);
    if (call) out.push([call[1] as string, call[2] as string, call[3] as string]);
  }
  return out;
}

/** The path strace -y prints after an fd: `5</a/b>` → `/a/b`. */
function fdPath(text: string): string | undefined {
  return /^-?\d+<(.*)>/.exec(text)?.[1];
}

function firstString(args: string): string | undefined {
  return /"((?:[^"\\]|\\.)*)"/.exec(args)?.[1];
}

export async function countSyscalls(cmd: string, args: string[], env: NodeJS.ProcessEnv, roots: string[], traceFile: string): Promise<SyscallCounts> {
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(STRACE, ['-f', '-y', '-qq', '-e', `trace=${TRACED}`, '-o', traceFile, cmd, ...args], { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  const inRoot = (p: string): boolean => roots.some((r) => p === r || p.startsWith(r + sep));
  const isRoot = (p: string): boolean => roots.includes(p);
  const counts: SyscallCounts = { code, messageOpens: 0, folderListings: 0, rootListings: 0, stats: 0 };
  for (const [name, callArgs, result] of calls(readFileSync(traceFile, 'utf8'))) {
    if (name === 'openat') {
      const path = fdPath(result);
      if (path && inRoot(path) && !callArgs.includes('O_DIRECTORY') && /\/(cur|new)\/[^/]+$/.test(path)) counts.messageOpens++;
    } else if (name === 'getdents64') {
      const path = fdPath(callArgs);
      if (!path || result.trim() !== '0' || !inRoot(path)) continue;
      if (isRoot(path)) counts.rootListings++;
      else counts.folderListings++;
    } else {
      const path = firstString(callArgs);
      if (path !== undefined && path !== '' && (!isAbsolute(path) || inRoot(path))) counts.stats++;
    }
  }
  return counts;
}
