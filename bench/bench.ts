// `npm run bench`: mdsync backup (initial, no-change, after N× changes) against rsync on a generated corpus.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { applyChanges, generateCorpus } from './corpus.js';
import { measure, rssMethod, type Measured } from './measure.js';
import { syscallTable, timingTable, type Sample, type ScenarioResult } from './report.js';
import { runSshBench, sshAvailable } from './ssh.js';
import { countSyscalls, straceAvailable, type SyscallCounts } from './syscalls.js';

const CLI = fileURLToPath(new URL('../../bin/mdsync.js', import.meta.url));

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(value)}`);
  return n;
}

function findInPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n')[0]?.trim() ?? '';
}

/** "copied 200, moved 200, …" from the --json summary of a backup (the work is on the second side). */
function describeRun(m: Measured): string {
  try {
    const json: unknown = JSON.parse(m.stdout.trim().split('\n').pop() ?? '');
    if (typeof json !== 'object' || json === null || !('summary' in json)) return 'no summary';
    const summary = json.summary as Record<string, { b?: number }>;
    const get = (k: string): number => summary[k]?.b ?? 0;
    const bytes = 'bytes' in json && typeof json.bytes === 'number' ? json.bytes : 0;
    return `copied ${get('transfers')}, moved ${get('copies')}, flags ${get('flagChanges')}, expunged ${get('expunges')}, ${(bytes / 1e6).toFixed(1)} MB`;
  } catch {
    return 'no summary';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '20000' },
      folders: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      changes: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      ssh: { type: 'boolean', default: true },
      'no-ssh': { type: 'boolean', default: false },
    },
  });
  const messages = positive('messages', values.messages as string);
  const folders = positive('folders', values.folders as string);
  const runs = positive('runs', values.runs as string);
  const changes = positive('changes', values.changes as string);
  const seed = positive('seed', values.seed as string);

  const fromEnv = process.env.BENCH_DIR;
  const work = fromEnv ? resolve(fromEnv) : mkdtempSync(join(tmpdir(), 'mdsync-bench-'));
  const p = (name: string): string => join(work, name);
  for (const name of ['src', 'dst', 'xdg', 'xdg-verify', 'traces']) rmSync(p(name), { recursive: true, force: true });
  mkdirSync(p('traces'), { recursive: true });
  const env = { ...process.env, XDG_STATE_HOME: p('xdg/state'), XDG_CACHE_HOME: p('xdg/cache') };
  // verify keeps its own cache, so the timed runs only ever see what earlier timed runs left.
  const verifyEnv = { ...process.env, XDG_STATE_HOME: p('xdg-verify/state'), XDG_CACHE_HOME: p('xdg-verify/cache') };
  const rsync = findInPath('rsync');
  const strace = straceAvailable();

  console.log(`# mdsync benchmark\n`);
  console.log(`- machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, work dir ${work} (${firstLine('stat', ['-f', '-c', '%T', work]) || '?'})`);
  console.log(`- peers: ${rsync ? firstLine(rsync, ['--version']) : 'rsync not installed: its columns are skipped (apt-get install -y rsync)'}`);
  console.log(`- peak RSS: ${rssMethod}; syscalls: ${strace ? 'strace -f -y' : 'strace not installed: syscall counts skipped (apt-get install -y strace)'}`);

  const started = Date.now();
  const corpus = generateCorpus(p('src'), { messages, folders, seed });
  console.log(`- corpus: ${corpus.messages} messages in ${corpus.folders.length} folders, ${(corpus.bytes / 1e6).toFixed(1)} MB, generated in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed})`);
  console.log(`- ${runs} repetitions; each: empty destination, initial backup, no-change re-run, ${changes}× each of deliveries, flag renames, moves and expunges on the source, re-run\n`);

  let failures = 0;
  const verify = (dst: string): boolean => {
    const r = spawnSync(process.execPath, [CLI, 'verify', '-q', p('src'), dst], { env: verifyEnv, encoding: 'utf8' });
    if (r.status !== 0) console.log(`  verify ${dst}: exit ${r.status} ${r.stderr.trim()}`);
    return r.status === 0;
  };
  const timed = async (label: string, cmd: string, args: string[], dst: string, describe: boolean): Promise<Sample> => {
    // Earlier steps' dirty pages are written back first, so they do not throttle the timed run.
    spawnSync('sync');
    const m = await measure(cmd, args, env);
    if (m.code !== 0) {
      failures++;
      console.log(`  ${label}: exit ${m.code}\n${m.stderr}`);
    }
    const exact = m.code === 0 && verify(dst);
    console.log(`  ${label}: ${m.wallS.toFixed(2)} s, ${m.rssMB.toFixed(1)} MB, exact: ${exact ? 'yes' : 'no'}${describe ? `; ${describeRun(m)}` : ''}`);
    return { wallS: m.wallS, rssMB: m.rssMB, exact };
  };

  const scenarios: ScenarioResult[] = [
    { label: 'initial backup (empty destination)', mdsync: [], rsync: rsync ? [] : undefined },
    { label: 'no-change re-run', mdsync: [], rsync: rsync ? [] : undefined },
    { label: `re-run after ${changes}× changes`, mdsync: [], rsync: rsync ? [] : undefined },
  ];
  const traced: { mdsync: SyscallCounts[]; rsync: SyscallCounts[] } = { mdsync: [], rsync: [] };

  for (let rep = 0; rep < runs; rep++) {
    console.log(`repetition ${rep + 1}/${runs}`);
    // A new destination path each time, the earlier ones kept until the end: writing into a tree just
    // deleted at the same path is several times slower on ext4 here (rsync: 1.1 s into a new path,
    // 10–14 s into a just-deleted one).
    rmSync(p('xdg'), { recursive: true, force: true });
    spawnSync('sync');
    const dst = join(p('dst'), `mdsync-${rep + 1}`);
    const dstRsync = join(p('dst'), `rsync-${rep + 1}`);
    const mdsyncArgs = [CLI, 'backup', p('src'), dst, '--json'];
    const rsyncArgs = ['-a', '--delete', `${p('src')}/`, `${dstRsync}/`];
    const roots = [p('src'), dst, dstRsync];
    for (const [i, scenario] of scenarios.entries()) {
      if (i === 2) {
        const c = applyChanges(p('src'), { count: changes, seed: seed * 1000 + rep });
        console.log(`  changes on the source: ${c.delivered} delivered, ${c.flagged} flag renames, ${c.moved} moves, ${c.expunged} expunged`);
      }
      scenario.mdsync.push(await timed(`mdsync ${scenario.label}`, process.execPath, mdsyncArgs, dst, true));
      if (i === 1 && strace) {
        const counts = await countSyscalls(process.execPath, mdsyncArgs, env, roots, join(p('traces'), `mdsync-${rep}.strace`));
        traced.mdsync.push(counts);
        console.log(`  mdsync no-change under strace: ${JSON.stringify(counts)}`);
      }
      if (rsync && scenario.rsync) {
        scenario.rsync.push(await timed(`rsync ${scenario.label}`, rsync, rsyncArgs, dstRsync, false));
        if (i === 1 && strace) {
          const counts = await countSyscalls(rsync, rsyncArgs, env, roots, join(p('traces'), `rsync-${rep}.strace`));
          traced.rsync.push(counts);
          console.log(`  rsync no-change under strace: ${JSON.stringify(counts)}`);
        }
      }
    }
  }

  console.log(`\n## Results: ${corpus.messages} messages, ${corpus.folders.length} folders, ${(corpus.bytes / 1e6).toFixed(0)} MB, medians of ${runs}\n`);
  console.log(timingTable(scenarios));
  if (strace) {
    const rows: [string, SyscallCounts[]][] = [['mdsync backup', traced.mdsync]];
    if (rsync) rows.push(['rsync -a --delete', traced.rsync]);
    console.log('\n' + syscallTable(rows));
  }
  if (values.ssh && !values['no-ssh']) {
    if (!sshAvailable()) {
      console.log('\nssh variant skipped: /usr/sbin/sshd or ssh missing (apt-get install -y openssh-server openssh-client)');
    } else {
      console.log(`\n## Over SSH: the same corpus to a throw-away sshd on 127.0.0.1, medians of ${runs}\n`);
      const sshTable = await runSshBench({ cli: CLI, src: p('src'), work, runs, changes, seed, rsync, verify });
      console.log(`\n${sshTable}\n\n"on the wire": TCP bytes both ways as OpenSSH counts them (handshake and SSH framing included); "protocol": mdsync's own frames (--json \`wire\`). The ssh variant runs after the local one on the same, changed, source.`);
    }
  }
  const startup = await measure(process.execPath, ['-e', ''], env);
  console.log(`\nWall time includes process start-up (\`node -e ''\` alone: ${startup.wallS.toFixed(2)} s, ${startup.rssMB.toFixed(0)} MB). Before each timed run \`sync\` flushes dirty pages; the Maildirs are in the page cache for every run (rsync does not fsync, mdsync does). "exact": \`mdsync verify src dst\` exited 0 after every repetition.`);
  if (!fromEnv && !values.keep) rmSync(work, { recursive: true, force: true });
  else console.log(`Work dir kept: ${work}`);
  return failures === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
