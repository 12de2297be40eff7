// Runs the real mdsync command in a child process, with its own state and cache directories.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bin', 'mdsync.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `prefix`: a command that runs mdsync (`setpriv … --`), as `env` or `sudo` would. */
export function runCli(args: string[], home: string, extraEnv: Record<string, string> = {}, prefix: string[] = []): Promise<CliResult> {
  const [command, ...rest] = [...prefix, process.execPath, BIN, ...args] as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, rest, {
      env: {
        ...process.env,
        HOME: home,
        XDG_STATE_HOME: join(home, 'state'),
        XDG_CACHE_HOME: join(home, 'cache'),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The --json summary line of a run that went ahead (a refused or failed one has error, refusedBy, and a summary only when refused). */
export function jsonOf(r: CliResult): {
  exit: number;
  error: { code: string; message: string } | null;
  refusedBy: string | null;
  bytes: number;
  summary: Record<string, { a: number; b: number }>;
  wire: Record<string, { sent: number; received: number } | undefined>;
  passes?: number;
} {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ReturnType<typeof jsonOf>;
}
