// The commands and their options (commander): what each command line means.

import { Command, Option } from 'commander';
import { MdsyncError } from '../errors.js';
import { VERSION } from '../version.js';
import { DEFAULT_TIMEOUT_S } from '../protocol/limits.js';
import { remoteOptions, type CommonOptions, type RemoteFlags } from './flags.js';
import { exitCodeOf } from './exit-codes.js';
import { runCommand } from './run-command.js';

export function addRemote(cmd: Command): Command {
  return cmd
    .option('-e, --ssh-command <command>', 'reach remote sides with this command (e.g. "ssh -J bastion") instead of the built-in SSH client')
    .option('--remote-path <command>', 'how to start mdsync on the remote side (default "mdsync")')
    .option('-i, --identity <file>', 'private key to log in with, tried before ~/.ssh/config and the defaults (repeatable)', collect, [])
    .option('--accept-new-host-key', 'record the host key of a host not yet in ~/.ssh/known_hosts (a changed key is always refused)')
    .option('--timeout <seconds>', 'give up on a remote side that sends nothing for this long', String(DEFAULT_TIMEOUT_S))
    .option('-z, --compress', 'deflate message bodies on the wire too, for slow links (lists of names and flags always are)');
}

export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addCommon(cmd: Command, jobs = 'operations in flight at once'): Command {
  return cmd
    .option('-n, --dry-run', 'print the plan, change nothing')
    .option('-f, --folder <glob>', 'only folders matching (repeatable; * one level, ** any)', collect, [])
    .option('-x, --exclude <glob>', 'skip folders matching (repeatable)', collect, [])
    .option('--max-delete <n|n%>', 'refuse to expunge more than this many messages per side (default 25% of a side over 100)')
    .option('--force', 'run even when a safety guard would refuse')
    .option('--checksum', 'compare every message by content and mtime, not by name, and repair what differs (reads every file)')
    .option('--mkpath', 'create the missing parent directories of a side that is created (only its last component otherwise)')
    .option('--state-dir <dir>', 'where the state of each pair is kept (default $XDG_STATE_HOME/mdsync)')
    .option('--json', 'print one JSON summary object on stdout, also when refused or failed')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'print every operation and warning')
    .option('--progress', 'show a progress line on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'no progress line')
    .addOption(new Option('--layout <layout>', 'folder layout for a new destination').choices(['maildir++', 'fs']))
    .option('--separator <char>', 'info separator in file names for new files (":", "!" or ";")')
    .option('--jobs <n>', jobs, '4');
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('mdsync')
    .description('keep Maildir trees in step: two-way sync, one-way backup, verify')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  addRemote(addCommon(program.command('sync <a> <b>').description('two-way sync (a → b only with --one-way)')))
    .option('--one-way', "a's changes reach b; b's own changes stay on b")
    .action(async (a: string, b: string, opts: CommonOptions & RemoteFlags) => setExit(await runCommand(opts.oneWay ? 'one-way' : 'sync', a, b, opts)));

  addRemote(addCommon(program.command('backup <src> <dst>').description('make dst an exact replica of src (created if missing)')))
    .action(async (a: string, b: string, opts: CommonOptions & RemoteFlags) => setExit(await runCommand('backup', a, b, opts)));

  addRemote(addCommon(program.command('batch <command>'), 'users in flight at once'))
    .description('run backup, sync or verify for every user of a list: --users FILE --from TEMPLATE --to TEMPLATE (%u user, %n name before @, %d domain)')
    .requiredOption('--users <file>', 'the users, one per line ("-": standard input); a line may add a source and a destination after tabs')
    .requiredOption('--from <template>', 'each user\'s first side, e.g. /var/vmail/%d/%n/Maildir')
    .requiredOption('--to <template>', 'each user\'s second side, e.g. newhost:/srv/vmail/%d/%n/Maildir')
    .option('--joblog <file>', 'append a tab-separated line per finished user: user, start, seconds, exit, copied, bytes, error')
    .option('--resume', 'skip the users whose last joblog line says exit 0')
    .option('--retry-failed', 'run only the users whose last joblog line says another exit')
    .option('--shard <i/n>', 'run only shard i of n (0 <= i < n): the users whose name hashes to it')
    .option('--bwlimit <rate>', 'message bytes per second across the whole batch (500K, 20M)')
    .option('--max-load <load>', 'start no new user while the 1-minute load average is above this')
    .option('--one-way', 'batch sync: each user\'s first side\'s changes reach the second only')
    .option('--uids', 'batch verify: also compare UIDVALIDITY and every UID')
    .action(async (command: string, opts: Record<string, unknown>) => {
      const { batchCommand } = await import('./batch/command.js');
      setExit(await batchCommand(command, opts as never));
    });

  program.command('serve')
    .description('serve one Maildir on stdin/stdout to a remote mdsync (started by it over SSH)')
    .option('--root <dir>', 'the Maildir served; nothing outside it is ever opened')
    .option('--sessions', 'serve many sessions on stdin/stdout, each naming its Maildir (a batch\'s users)')
    .action(async (opts: { root?: string; sessions?: boolean }) => {
      if ((opts.root === undefined) === (opts.sessions !== true)) throw new MdsyncError('USAGE', 'mdsync serve takes --root DIR or --sessions');
      const serve = await import('./serve.js');
      setExit(opts.root !== undefined ? await serve.runServe(opts.root) : await serve.runServeSessions());
    });

  addRemote(program.command('verify <a> <b>'))
    .description('compare content, flags, keywords, folders, mtimes; exit 1 listing differences')
    .option('--json', 'print the differences as JSON')
    .option('-q, --quiet', 'print nothing, only set the exit code')
    .option('--uids', 'also compare UIDVALIDITY and every message\'s UID (from dovecot-uidlist)')
    .option('-f, --folder <glob>', 'only folders matching (repeatable)', collect, [])
    .option('-x, --exclude <glob>', 'skip folders matching (repeatable)', collect, [])
    .action(async (a: string, b: string, opts: { json?: boolean; quiet?: boolean; uids?: boolean; folder: string[]; exclude: string[] } & RemoteFlags) => {
      const { runVerify } = await import('./verify.js');
      setExit(await runVerify(a, b, opts, remoteOptions(opts), exitCodeOf));
    });
  return program;
}

