// The programs compared: the command line of each for a local or an SSH run, one-way or two-way.

import { existsSync } from 'node:fs';
import { DOVEADM, DOVECOT_ENV, doveadmArgs } from './dovecot.js';
import { GNU_TIME, TIME_FORMAT } from './measure.js';
import { findInPath } from './paths.js';

export type Mode = 'local' | 'ssh';
export type Direction = 'one-way' | 'two-way';
export type ToolName = 'mdsync' | 'rsync' | 'doveadm';

/** How to reach the second side over SSH: the client's words and what the remote side writes. */
export interface RemoteSide {
  /** The OpenSSH client and its options, one word each (logging to the wire log included). */
  ssh: string[];
  /** `user@host` */
  target: string;
  /** Where `/usr/bin/time` on the remote side writes the remote process's peak RSS (kB). */
  rssFile: string;
}

export interface Command {
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface ToolContext {
  /** bin/mdsync.js */
  cli: string;
  /** The Dovecot config doveadm runs with. */
  dovecotConfig: string;
  /** Environment of mdsync runs (their own state and cache directories). */
  mdsyncEnv: NodeJS.ProcessEnv;
}

export interface Tool {
  name: ToolName;
  /** "mdsync backup", "rsync -a --delete", "doveadm sync", … */
  label: string;
  /** Dovecot works on its own copy of the source, owned by the mail user. */
  dovecot: boolean;
  /** Why it cannot run here, or undefined. */
  missing(): string | undefined;
  /** `a` is the source (one-way) or first side, `b` the destination or second side, remote when `remote` is given. */
  command(ctx: ToolContext, a: string, b: string, remote?: RemoteSide): Command;
}

const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
export const shellJoin = (words: string[]): string => words.map(shellQuote).join(' ');
const remoteTimed = (remote: RemoteSide): string[] => [GNU_TIME, '-f', TIME_FORMAT, '-o', remote.rssFile];

function mdsync(verb: 'backup' | 'sync'): Tool {
  return {
    name: 'mdsync',
    label: `mdsync ${verb}`,
    dovecot: false,
    missing: () => undefined,
    command(ctx, a, b, remote) {
      const args = [ctx.cli, verb, a, remote ? `${remote.target}:${b}` : b, '--json'];
      if (remote) args.push('-e', shellJoin(remote.ssh), '--remote-path', shellJoin([...remoteTimed(remote), process.execPath, ctx.cli]));
      return { cmd: process.execPath, args, env: ctx.mdsyncEnv };
    },
  };
}

/** `fsync`: rsync's --fsync, each file fsynced as it is written, for a peer as durable as mdsync on a disk. */
function rsync(fsync: boolean): Tool {
  const options = ['-a', '--delete', ...(fsync ? ['--fsync'] : [])];
  return {
    name: 'rsync',
    label: `rsync ${options.join(' ')}`,
    dovecot: false,
    missing: () => (findInPath('rsync') ? undefined : 'rsync is not installed (apt-get install -y rsync)'),
    command(_ctx, a, b, remote) {
      const args = [...options];
      if (remote) args.push('-e', shellJoin(remote.ssh), '--rsync-path', shellJoin([...remoteTimed(remote), 'rsync']));
      args.push(`${a}/`, remote ? `${remote.target}:${b}/` : `${b}/`);
      return { cmd: findInPath('rsync') ?? 'rsync', args, env: process.env };
    },
  };
}

function doveadm(verb: 'backup' | 'sync'): Tool {
  return {
    name: 'doveadm',
    label: `doveadm ${verb}`,
    dovecot: true,
    missing: () => (existsSync(DOVEADM) ? undefined : `${DOVEADM} is not installed (apt-get install -y dovecot-imapd)`),
    command(ctx, a, b, remote) {
      const dovecot = (dir: string): string[] => [DOVEADM, ...doveadmArgs(ctx.dovecotConfig, dir)];
      // The destination is a mail location, or the words of a command whose stdin/stdout reach a dsync-server.
      const destination = remote
        ? [...remote.ssh, remote.target, ...remoteTimed(remote), 'env', ...Object.entries(DOVECOT_ENV).map(([k, v]) => `${k}=${v}`), ...dovecot(b), 'dsync-server']
        : [`maildir:${b}`];
      const [cmd, ...args] = [...dovecot(a), verb, ...destination] as [string, ...string[]];
      return { cmd, args, env: { ...process.env, ...DOVECOT_ENV } };
    },
  };
}

/** The tools of one direction, without those left out by the options; rsync with --fsync when `rsyncFsync`. */
export function toolsFor(direction: Direction, withDoveadm: boolean, rsyncFsync = false): Tool[] {
  const tools = direction === 'one-way' ? [mdsync('backup'), rsync(rsyncFsync), doveadm('backup')] : [mdsync('sync'), doveadm('sync')];
  return tools.filter((t) => withDoveadm || t.name !== 'doveadm');
}
