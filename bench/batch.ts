// Many small mailboxes over SSH, as a migration copies them: `mdsync batch backup --jobs 8`
// against a shell loop of `mdsync backup` per user and `parallel -j8 mdsync backup` per user, to
// a throw-away sshd on 127.0.0.1 through the built-in client. The peers start a process and log in
// per user: they are timed on a sample of the users and their time scaled to all of them.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { generateCorpus } from './corpus.js';
import { measure, median, type Measured } from './measure.js';
import { findInPath } from './paths.js';

export interface BatchContext {
  work: string;
  /** The snapshot of bin/mdsync.js every run uses. */
  cli: string;
  users: number;
  messages: number;
  /** Users the per-user peers are timed on. */
  sample: number;
  jobs: number;
  runs: number;
  seed: number;
}

export interface BatchRow {
  label: string;
  /** Wall seconds for every user (the peers': the sample's, scaled). */
  wall: number[];
  rssMB: number[];
  scaled: boolean;
}

function check(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code}: ${m.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return m;
}

const userName = (i: number): string => `user${i}@example.org`;

export async function runBatch(c: BatchContext): Promise<BatchRow[]> {
  const parallel = findInPath('parallel');
  if (!parallel) throw new Error('GNU parallel is not installed (apt-get install -y parallel)');
  const old = join(c.work, 'batch-old');
  const users = Array.from({ length: c.users }, (_, i) => userName(i));
  for (const [i, user] of users.entries()) {
    generateCorpus(join(old, user.split('@')[0] as string), { messages: c.messages, folders: 3, seed: c.seed + i, bodies: 'spamassassin' });
  }
  const list = join(c.work, 'batch-users');
  writeFileSync(list, users.join('\n') + '\n');
  const sampleList = join(c.work, 'batch-sample');
  const sample = users.slice(0, Math.min(c.sample, c.users));
  writeFileSync(sampleList, sample.join('\n') + '\n');
  const sshd = await startSshd({ env: { XDG_CACHE_HOME: join(c.work, 'batch-remote-cache') } });
  try {
    return await measureAll(c, sshd, { old, list, sampleList, sample, parallel });
  } finally {
    await sshd.stop();
    rmSync(old, { recursive: true, force: true });
  }
}

async function measureAll(c: BatchContext, sshd: TestSshd, d: { old: string; list: string; sampleList: string; sample: string[]; parallel: string }): Promise<BatchRow[]> {
  const home = join(c.work, 'batch-home');
  const dest = join(c.work, 'batch-new');
  const remotePath = `${process.execPath} ${c.cli}`;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache'), SSH_AUTH_SOCK: '' });
  const reset = (): void => {
    rmSync(home, { recursive: true, force: true });
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'known_hosts'), `${sshd.knownHostsLine}\n`);
    mkdirSync(dest, { recursive: true });
  };
  const far = (path: string): string => `ssh://${sshd.user}@127.0.0.1:${sshd.port}${path}`;
  const remote = ['-i', sshd.clientKey, '--remote-path', remotePath];
  const batchArgs = (users: string): string[] => [c.cli, 'batch', 'backup', '-q', '--users', users, '--from', join(d.old, '%n'), '--to', far(join(dest, '%n')), '--jobs', String(c.jobs), ...remote];
  const one = (user: string): string[] => [c.cli, 'backup', '-q', join(d.old, user.split('@')[0] as string), far(join(dest, user.split('@')[0] as string)), ...remote];
  const scale = c.users / d.sample.length;
  const rows: BatchRow[] = [
    { label: `mdsync batch backup --jobs ${c.jobs}, first copy`, wall: [], rssMB: [], scaled: false },
    { label: `mdsync batch backup --jobs ${c.jobs}, no-change re-run`, wall: [], rssMB: [], scaled: false },
    { label: 'shell loop of mdsync backup, first copy', wall: [], rssMB: [], scaled: scale !== 1 },
    { label: `parallel -j${c.jobs} mdsync backup, first copy`, wall: [], rssMB: [], scaled: scale !== 1 },
    { label: `parallel -j${c.jobs} mdsync backup, no-change re-run`, wall: [], rssMB: [], scaled: scale !== 1 },
  ];
  const note = (row: BatchRow, m: Measured, factor = 1): void => {
    row.wall.push(m.wallS * factor);
    row.rssMB.push(m.rssMB);
  };
  for (let run = 0; run < c.runs; run++) {
    reset();
    note(rows[0] as BatchRow, check(await measure(process.execPath, batchArgs(d.list), env()), 'mdsync batch backup'));
    note(rows[1] as BatchRow, check(await measure(process.execPath, batchArgs(d.list), env()), 'mdsync batch backup, again'));
    reset();
    const loop = d.sample.map((u) => `${shq(process.execPath)} ${one(u).map(shq).join(' ')} || exit 1`).join('\n');
    note(rows[2] as BatchRow, check(await measure('/bin/sh', ['-c', loop], env()), 'shell loop'), scale);
    reset();
    const perUser = ['--will-cite', '-q', '--halt', 'now,fail=1', '-j', String(c.jobs), process.execPath, c.cli, 'backup', '-q', `${d.old}/{1}`, far(`${dest}/{1}`), ...remote, ':::', ...d.sample.map((u) => u.split('@')[0] as string)];
    note(rows[3] as BatchRow, check(await measure(d.parallel, perUser, env()), 'parallel'), scale);
    note(rows[4] as BatchRow, check(await measure(d.parallel, perUser, env()), 'parallel, again'), scale);
    console.log(`batch: repetition ${run + 1} of ${c.runs} done`);
  }
  reset();
  return rows;
}

function shq(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function batchTable(rows: BatchRow[]): string {
  const base = rows[2];
  const lines = ['| run | wall (median) | against the shell loop | peak RSS (one process) |', '|---|---|---|---|'];
  for (const r of rows) {
    const wall = median(r.wall);
    const ratio = base && r !== base && r.label.endsWith('first copy') ? `${(wall / median(base.wall)).toFixed(2)}×` : '';
    lines.push(`| ${r.label}${r.scaled ? ' (timed on a sample, scaled)' : ''} | ${wall.toFixed(1)} s | ${ratio} | ${median(r.rssMB).toFixed(0)} MB |`);
  }
  return lines.join('\n');
}
