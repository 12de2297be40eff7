// The command transport: an ssh-like program of the user's choosing (`-e "ssh -J bastion"`) started with the remote command.

import { spawn } from 'node:child_process';
import { MdsyncError } from '../errors.js';
import { cannotRunText, endedText, type Transport } from './transport.js';
import { splitWords } from './shell-words.js';

const STDERR_KEEP = 8192;
const SSH_FAILED = 255;

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
export function startCommand(sshCommand: string, target: CommandTarget): Transport {
  const { program, args } = commandArgs(sshCommand, target);
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let spawnError: NodeJS.ErrnoException | undefined;
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
  });
  const stderrRead = new Promise<void>((resolve) => child.stderr.once('close', resolve));
  // A far side that went away makes writes fail with EPIPE: the connection reports it, not a crash.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const waitFor = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
    Promise.race([promise, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);

  return {
    input: child.stdout,
    output: child.stdin,
    async failure() {
      const status = await waitFor(exited, 3000);
      if (spawnError) return cannotRunText(program, spawnError);
      // The exit can come before the last of stderr is read; a grandchild holding it open is not waited for.
      if (status) await waitFor(stderrRead, 500);
      if (status === undefined) return endedText(program, 'is still running', stderr);
      if (status.code === null) return endedText(program, `was killed by ${status.signal}`, stderr);
      // OpenSSH exits 255 for its own failures (refused, host key, login): the remote command never ran.
      if (status.code === SSH_FAILED) return endedText(program, `exited with code ${status.code}`, stderr);
      return endedText('remote command', `exited with code ${status.code}`, stderr, status.code);
    },
    async close() {
      if (!child.stdin.writableEnded) child.stdin.end();
      if ((await waitFor(exited, 5000)) === undefined) {
        child.kill('SIGTERM');
        if ((await waitFor(exited, 2000)) === undefined) child.kill('SIGKILL');
      }
    },
  };
}
