// The command transport: an ssh-like program of the user's choosing (`-e "ssh -J bastion"`) started with the remote command.

import { spawn } from 'node:child_process';
import { MdsyncError } from '../errors.js';
import type { Transport } from '../protocol/remote-agent.js';
import { splitWords } from './shell-words.js';

const STDERR_KEEP = 8192;

export interface CommandTarget {
  host: string;
  user?: string;
  port?: number;
  /** The command line the far side's shell runs (already quoted). */
  remoteCommand: string;
}

export function commandArgs(sshCommand: string, target: CommandTarget): { program: string; args: string[] } {
  const words = splitWords(sshCommand);
  const program = words.shift();
  if (!program) throw new MdsyncError('USAGE', '--ssh-command is empty');
  if (target.port !== undefined) words.push('-p', String(target.port));
  words.push(target.user ? `${target.user}@${target.host}` : target.host, target.remoteCommand);
  return { program, args: words };
}

/** Starts the command; its stdin/stdout carry the protocol, its stderr is kept for when it fails. */
export function startCommand(sshCommand: string, target: CommandTarget, remotePath: string): Transport {
  const { program, args } = commandArgs(sshCommand, target);
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let spawnError: Error | undefined;
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_KEEP);
  });
  // A far side that went away makes writes fail with EPIPE: the connection reports it, not a crash.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const waitExit = (ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> =>
    Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);

  return {
    input: child.stdout,
    output: child.stdin,
    async failure() {
      const status = await waitExit(3000);
      if (spawnError) return `cannot run ${program}: ${spawnError.message}`;
      const said = stderr.trim();
      const how = status === undefined ? 'is still running' : status.code !== null ? `exited with code ${status.code}` : `was killed by ${status.signal}`;
      let text = `${program} ${how}${said ? `:\n${said}` : ''}`;
      if (status?.code === 127) {
        text += `\n(the remote command "${remotePath}" was not found on ${target.host}: install mdsync there or name it with --remote-path)`;
      }
      return text;
    },
    async close() {
      if (!child.stdin.writableEnded) child.stdin.end();
      if ((await waitExit(5000)) === undefined) {
        child.kill('SIGTERM');
        if ((await waitExit(2000)) === undefined) child.kill('SIGKILL');
      }
    },
  };
}
