// A transport to a far mdsync (ssh2-transport.ts, command-transport.ts): the byte stream a
// RemoteAgent speaks over, and how the far side's command ended, in one line: what a user reads
// when a remote side fails to start or goes away.

import { quoted } from '../printable.js';
import type { SessionStreams } from '../protocol/remote-agent.js';

/** A byte stream to a serving mdsync, and what to say when it broke. */
export type Transport = SessionStreams;

/** A shell's "command not found" status. */
export const NOT_FOUND = 127;

/**
 * The line of stderr that says what went wrong: the last one, passing over the stack frames and the
 * "Node.js v20…" line that end an uncaught exception's report.
 */
export function lastStderrLine(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).filter((line) => line.trim() !== '' && !/^\s+at /.test(line) && !/^Node\.js v\d/.test(line));
  return lines.at(-1)?.trim();
}

/** `remote command exited with code 127: "bash: mdsync: command not found" (install mdsync there …)`. */
export function endedText(who: string, how: string, stderr: string, code?: number): string {
  const said = lastStderrLine(stderr);
  const hint = code === NOT_FOUND ? ' (install mdsync there or name it with --remote-path)' : '';
  return `${who} ${how}${said === undefined ? '' : `: ${quoted(said)}`}${hint}`;
}

/** `cannot run nosuchssh: not found`: the -e program did not start. */
export function cannotRunText(program: string, err: NodeJS.ErrnoException): string {
  const why = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return `cannot run ${program}: ${why}`;
}
