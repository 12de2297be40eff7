// The two recipes of examples/ for `mdsync batch --shard`: GNU parallel over SSH, with two sshd on
// 127.0.0.1 standing for two worker machines, and the Kubernetes Indexed Job, its command line run
// for each index as the cluster would. Afterwards every user is exact and was taken by one shard.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { expandTemplate, shardOf } from '../../src/cli/batch/users.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { makeMaildir, message, messageContents, removeDir, tempDir } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { sshCommand } from '../helpers/sshd.js';
import { BIN } from '../helpers/transports.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const MIGRATE = join(ROOT, 'examples', 'parallel', 'migrate.sh');
const MANIFEST = join(ROOT, 'examples', 'kubernetes', 'migrate-job.yaml');
const PARALLEL = '/usr/bin/parallel';

/** A missing GNU parallel fails the recipe's test, never skips it: `.ci/run` installs it. */
function requireParallel(): void {
  try {
    accessSync(PARALLEL, constants.X_OK);
  } catch {
    throw new Error(`${PARALLEL} is missing or not executable: install GNU parallel (apt-get install parallel; .ci/run does)`);
  }
  // moreutils has a `parallel` too, with none of these options.
  const version = spawnSync(PARALLEL, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  if (!version.startsWith('GNU parallel')) throw new Error(`${PARALLEL} is not GNU parallel: install the Debian package parallel (.ci/run does)`);
}

const USERS = Array.from({ length: 20 }, (_, i) => `user${i}@${['example.org', 'example.net', 'mail.example.com'][i % 3]}`);

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

/** Each user's old Maildir where the template puts it: INBOX (one read, one in new/) and a flagged one in Archive. */
async function makeUsers(from: string): Promise<void> {
  for (const [i, user] of USERS.entries()) {
    const id = String(i).padStart(3, '0');
    await makeMaildir(expandTemplate(from, user), [
      {
        dir: '',
        messages: [
          message(`1600000${id}1.M1P${i}.host`, `${user} one`, { flags: 'S', mtime: new Date(Date.UTC(2022, 0, 1, i)) }),
          message(`1600000${id}2.M2P${i}.host`, `${user} two`, { location: 'new' }),
        ],
      },
      { dir: '.Archive', messages: [message(`1600000${id}3.M3P${i}.host`, `${user} three`, { flags: 'FS' })] },
    ]);
  }
}

/** The user's message files on the new side are the old side's: names (flags), bytes, mtimes. */
async function expectExact(from: string, to: string, user: string): Promise<void> {
  const old = await messageContents(expandTemplate(from, user));
  expect(old, user).toHaveLength(3);
  expect(await messageContents(expandTemplate(to, user)), user).toEqual(old);
}

/** A joblog's lines as [user, exit]. */
async function joblog(path: string): Promise<[string, string][]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const f = l.split('\t');
    return [f[0] as string, f[3] as string];
  });
}

/** The users a shard takes, sorted: each of them must be in its joblog, once, and no other. */
function shardUsers(index: number, count: number): string[] {
  return USERS.filter((u) => shardOf(u, count) === index).sort();
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('examples/parallel: GNU parallel --sshlogin to two workers', () => {
  const workers = [useSshd(), useSshd()];

  it('runs shard I of 2 on worker I, each user exact and in its worker\'s joblog once; run again, every user is skipped', async () => {
    requireParallel();
    const home = join(work, 'home');
    // The citation notice acknowledged, as `parallel --citation` leaves it.
    await mkdir(join(home, '.parallel'), { recursive: true });
    await writeFile(join(home, '.parallel', 'will-cite'), '');
    const from = join(work, 'old', '%d', '%n', 'Maildir');
    const to = join(work, 'new', '%d', '%n');
    await makeUsers(from);
    const list = join(work, 'users');
    await writeFile(list, `${USERS.join('\n')}\n`);
    const joblogs = join(work, 'joblogs');
    await mkdir(joblogs);
    // The workers' mdsync: notes which worker (its sshd's port) ran which command line, then runs this build.
    const calls = join(work, 'calls');
    const mdsync = join(work, 'bin', 'mdsync');
    await mkdir(dirname(mdsync));
    await writeFile(mdsync, [
      '#!/bin/sh',
      `printf '%s\\n' "\${SSH_CONNECTION##* } $*" >> ${shellQuote(calls)}`,
      `exec ${shellQuote(process.execPath)} ${shellQuote(BIN)} "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });
    const workersFile = join(work, 'workers');
    await writeFile(workersFile, ['# the two workers', ...workers.map((w) => `${sshCommand(w())} ${w().user}@${w().host}`), ''].join('\n'));
    const migrate = (): Promise<CliResult> => run(MIGRATE, ['--workers', workersFile, '--shards', '2', '--users', list, '--from', from, '--to', to, '--joblog-dir', joblogs, '--', '--mkpath'], {
      HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache'), SSH_AUTH_SOCK: '', MDSYNC: mdsync,
    });

    const r = await migrate();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const callsBy = async (k: number): Promise<string[]> => (await readFile(calls, 'utf8')).split('\n').filter((l) => l.startsWith(`${workers[k]().port} `));
    const taken: string[] = [];
    for (const k of [0, 1]) {
      const mine = shardUsers(k, 2);
      expect(mine.length).toBeGreaterThan(0);
      expect(r.stdout).toContain(`shard ${k}/2\tbatch backup: ${mine.length} of ${mine.length} users done, 0 failed`);
      const ran = await callsBy(k);
      expect(ran).toHaveLength(1);
      expect(ran[0]).toContain(`batch backup --users ${list} --from ${from} --to ${to} --shard ${k}/2 --joblog ${joblogs}/shard-${k}-of-2.log --resume --mkpath`);
      const lines = await joblog(join(joblogs, `shard-${k}-of-2.log`));
      expect(lines.map(([user]) => user).sort()).toEqual(mine);
      expect(lines.every(([, exit]) => exit === '0')).toBe(true);
      taken.push(...lines.map(([user]) => user));
    }
    expect(taken.sort()).toEqual([...USERS].sort());
    expect((await readdir(joblogs)).sort()).toEqual(['shard-0-of-2.log', 'shard-1-of-2.log']);
    for (const user of USERS) await expectExact(from, to, user);

    // The same command again: each shard goes back to its worker and its joblog, and skips every user.
    const again = await migrate();
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    for (const k of [0, 1]) {
      const mine = shardUsers(k, 2);
      expect(again.stdout).toContain(`shard ${k}/2\t${mine.length} users skipped (done already in ${joblogs}/shard-${k}-of-2.log)`);
      const ran = await callsBy(k);
      expect(ran).toHaveLength(2);
      expect(ran[1]).toContain(`--shard ${k}/2 --joblog ${joblogs}/shard-${k}-of-2.log --resume`);
      expect(await joblog(join(joblogs, `shard-${k}-of-2.log`))).toHaveLength(mine.length);
    }
    for (const user of USERS) await expectExact(from, to, user);
  });
});

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Volume {
  name: string;
  configMap?: { name: string };
  persistentVolumeClaim?: { claimName: string };
}

interface Job {
  apiVersion: string;
  kind: string;
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimitPerIndex?: number;
    template: { spec: { restartPolicy?: string; containers: Container[]; volumes?: Volume[] } };
  };
}

/** Kubernetes' expansion of command, args and env values: $(VAR) from the container's environment, $$ a $, an unknown $(VAR) left as written. */
function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (match === '$$' ? '$' : name !== undefined && name in env ? env[name] as string : match));
}

/** The value following an option in a command line. */
function optionValue(argv: string[], option: string): string {
  const i = argv.indexOf(option);
  expect(i, option).toBeGreaterThanOrEqual(0);
  return argv[i + 1] as string;
}

describe('examples/kubernetes: the Indexed Job', () => {
  it('runs each index\'s command line as the cluster would: every user exact, in the joblog of exactly one index; a retried pod skips its users', async () => {
    const docs = parseAllDocuments(await readFile(MANIFEST, 'utf8'));
    for (const doc of docs) expect(doc.errors).toEqual([]);
    const jobs = docs.map((doc) => doc.toJS() as { kind?: string }).filter((o) => o.kind === 'Job') as Job[];
    expect(jobs).toHaveLength(1);
    const job = jobs[0] as Job;
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(1);
    // backoffLimitPerIndex is refused by the API server with any other restart policy.
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const shards = job.spec.completions as number;
    expect(shards).toBeGreaterThanOrEqual(2);
    expect(job.spec.parallelism).toBe(shards);
    const containers = job.spec.template.spec.containers;
    expect(containers).toHaveLength(1);
    const container = containers[0] as Container;

    // Each volume a directory of the test's, where the pod would see it mounted.
    const volumes = job.spec.template.spec.volumes ?? [];
    const mounts = (container.volumeMounts ?? []).map((m) => {
      const volume = volumes.find((v) => v.name === m.name);
      expect(volume, m.name).toBeDefined();
      return { ...m, volume: volume as Volume, dir: join(work, 'volumes', m.name) };
    }).sort((a, b) => b.mountPath.length - a.mountPath.length);
    const onDisk = (path: string): string => {
      const m = mounts.find((mount) => path === mount.mountPath || path.startsWith(`${mount.mountPath}/`));
      // A path on no volume would go with the pod.
      if (!m) throw new Error(`${path} is on no volume of the pod`);
      return m.dir + path.slice(m.mountPath.length);
    };
    for (const m of mounts) await mkdir(m.dir, { recursive: true });

    const pods = Array.from({ length: shards }, (_, index) => {
      // The Job controller adds JOB_COMPLETION_INDEX to the container's environment; its own entries follow, expanded in order.
      const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index) };
      for (const e of container.env ?? []) {
        expect(e.value, e.name).toBeDefined();
        env[e.name] = expandVars(e.value as string, env);
      }
      const argv = [...(container.command ?? []), ...(container.args ?? [])].map((a) => expandVars(a, env));
      expect(argv.slice(0, 3)).toEqual(['mdsync', 'batch', 'backup']);
      expect(optionValue(argv, '--shard')).toBe(`${index}/${shards}`);
      expect(argv).toContain('--resume');
      return { index, env, argv: argv.map((a) => (a.startsWith('/') ? onDisk(a) : a)), manifestArgv: argv };
    });

    // The ConfigMap's users file, the old Maildirs on their volume, as the admin left them.
    const usersPath = optionValue(pods[0].manifestArgv, '--users');
    expect(mounts.find((m) => usersPath.startsWith(`${m.mountPath}/`))?.volume.configMap, 'the user list comes from a ConfigMap').toBeDefined();
    const list = onDisk(usersPath);
    await mkdir(dirname(list), { recursive: true });
    await writeFile(list, `${USERS.join('\n')}\n`);
    const from = optionValue(pods[0].argv, '--from');
    const to = optionValue(pods[0].argv, '--to');
    await makeUsers(from);

    // parallelism == completions: every pod at once, each with a home of its own.
    const results = await Promise.all(pods.map(async (pod) => {
      const home = join(work, 'pods', String(pod.index));
      await mkdir(home, { recursive: true });
      return runCli(pod.argv.slice(1), home, pod.env);
    }));
    const taken: string[] = [];
    for (const [index, r] of results.entries()) {
      expect(r.stderr, `index ${index}`).toBe('');
      expect(r.code, `index ${index}`).toBe(0);
      const mine = shardUsers(index, shards);
      expect(mine.length).toBeGreaterThan(0);
      const lines = await joblog(optionValue(pods[index].argv, '--joblog'));
      expect(lines.map(([user]) => user).sort()).toEqual(mine);
      expect(lines.every(([, exit]) => exit === '0')).toBe(true);
      taken.push(...lines.map(([user]) => user));
    }
    expect(taken.sort()).toEqual([...USERS].sort());
    for (const user of USERS) await expectExact(from, to, user);
    const stateDir = optionValue(pods[0].argv, '--state-dir');
    expect((await readdir(stateDir)).some((name) => name.endsWith('.state'))).toBe(true);

    // backoffLimitPerIndex: a pod replaced after a failure runs the same command line for the same index.
    const retried = pods[1];
    const home = join(work, 'pods', '1-retry');
    await mkdir(home, { recursive: true });
    const again = await runCli(retried.argv.slice(1), home, retried.env);
    expect(again.code).toBe(0);
    const log = optionValue(retried.argv, '--joblog');
    expect(again.stdout).toContain(`${shardUsers(1, shards).length} users skipped (done already in ${log})`);
    expect(await joblog(log)).toHaveLength(shardUsers(1, shards).length);
  });
});
