// What the numbers were measured on: machine, tool versions, work dir filesystem, process start-up costs.

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DOVEADM, DOVECOT_ENV, chownToMail, doveadmArgs } from './dovecot.js';
import { measure, median } from './measure.js';
import { findInPath, firstLine } from './paths.js';
import { table } from './report.js';
import type { SshLink } from './ssh.js';

export function machine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, ${firstLine('uname', ['-sr'])}`;
}

/** The filesystem type of `dir` and what it is on, e.g. "ext4 on /dev/vda" (stat -f names ext4 "ext2/ext3"). */
export function filesystem(dir: string): string {
  const mount = firstLine('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir]).split(/\s+/);
  if (mount[0]) return mount[1] && mount[1] !== mount[0] ? `${mount[0]} on ${mount[1]}` : mount[0];
  return firstLine('stat', ['-f', '-c', '%T', dir]) || '?';
}

/** mdsync's version and the commit it was built from, noting changes not yet committed. */
function mdsyncVersion(cli: string, repo: string): string {
  const version = firstLine(process.execPath, [cli, '--version']);
  const commit = firstLine('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', repo, 'diff', '--quiet', 'HEAD', '--', 'src', 'bin']).status === 1;
  return `mdsync ${version}${commit ? ` (commit ${commit}${dirty ? ' + uncommitted changes' : ''})` : ''}`;
}

export function toolVersions(cli: string, repo: string): string[] {
  const rsync = findInPath('rsync');
  return [
    mdsyncVersion(cli, repo),
    rsync ? firstLine(rsync, ['--version']).replace(/\s+/g, ' ') : 'rsync: not installed',
    `Dovecot ${firstLine('/usr/sbin/dovecot', ['--version']) || 'not installed'}`,
    firstLine('ssh', ['-V']),
  ];
}

/** Median wall time and peak RSS of a few runs of commands that do (almost) nothing. */
export async function startupTable(cli: string, dovecotConfig: string, work: string, link?: SshLink): Promise<string> {
  const empty = join(work, 'empty-maildir');
  mkdirSync(join(empty, 'cur'), { recursive: true });
  chownToMail(empty);
  const commands: [string, string, string[], NodeJS.ProcessEnv][] = [
    ["node -e ''", process.execPath, ['-e', ''], process.env],
    ['mdsync --version', process.execPath, [cli, '--version'], process.env],
    ['rsync --version', findInPath('rsync') ?? 'rsync', ['--version'], process.env],
    ['doveadm mailbox list (empty Maildir)', DOVEADM, [...doveadmArgs(dovecotConfig, empty), 'mailbox', 'list'], { ...process.env, ...DOVECOT_ENV }],
  ];
  if (link) {
    const [ssh, ...args] = link.remote.ssh as [string, ...string[]];
    commands.push(['ssh 127.0.0.1 true', ssh, [...args, link.remote.target, 'true'], process.env]);
  }
  const rows: string[][] = [];
  for (const [label, cmd, args, env] of commands) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await measure(cmd, args, env));
    const ok = runs.every((r) => r.code === 0);
    rows.push([label, median(runs.map((r) => r.wallS)).toFixed(3), median(runs.map((r) => r.rssMB)).toFixed(0), ok ? '0' : String(runs.find((r) => r.code !== 0)?.code)]);
  }
  return table(['command', 'wall s', 'peak RSS MB', 'exit'], rows);
}
