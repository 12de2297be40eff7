// The crash sweep: a run is killed with SIGKILL just before its N-th change to a disk
// (MDSYNC_CRASH_AFTER=N), for every N the run reaches; the next run must leave both trees exactly
// as an uninterrupted run does — nothing lost, nothing doubled, no temp file left — and the state
// saved at the moment of the crash must never claim a message the disk does not hold.

import { execFileSync } from 'node:child_process';
import { access, link, mkdir, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type CliResult } from './cli.js';
import { addMessage, fileName, makeMaildir, message, readTree, removeDir, tempDir } from './maildir.js';
import { namesOnDisk, stateClaims } from './state.js';
import { BIN, cliVia, type SideTransport } from './transports.js';

// Three runs per point (the killed one, the repair, a quiet one), over SSH each with its login:
// a sweep takes minutes on two busy cores, longer beside another test file.
const SWEEP_TIMEOUT_MS = 900_000;
/**
 * Where a sweep that takes every `stride`-th point starts: one day the first, the next day the
 * second, and so on, so that runs on `stride` days in a row have killed a run at every point.
 * MDSYNC_SWEEP_OFFSET names one (0 for the first point).
 */
const firstPoint = (stride: number): number => {
  const asked = Number(process.env.MDSYNC_SWEEP_OFFSET);
  const offset = Number.isInteger(asked) && asked >= 0 ? asked : Math.floor(Date.now() / 86_400_000);
  return 1 + (offset % stride);
};

const base = (n: number): string => `16000000${String(n).padStart(2, '0')}.M${n}P1.host`;
const msg = (n: number, flags = 'S'): ReturnType<typeof message> => message(base(n), `message ${n}`, { flags });

/** What a user checks of a tree, whatever the file names: per folder, each message's bytes, flags, keywords, place and date. */
async function canonical(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const f of await readTree(root)) {
    const m = /^(.*?)\/?(cur|new)\/([^/]+)$/.exec(f.path);
    if (!m) continue;
    const dir = m[1] ?? '';
    const names = (await readFile(join(root, dir, 'dovecot-keywords'), 'utf8').catch(() => '')).split('\n').filter(Boolean)
      .map((l) => l.split(' ')) as [string, string][];
    const info = (m[3] as string).split(':2,')[1] ?? '';
    const keywords = [...info].filter((c) => c >= 'a' && c <= 'z').map((c) => names.find(([i]) => Number(i) === c.charCodeAt(0) - 97)?.[1] ?? `?${c}`).sort();
    const flags = [...info].filter((c) => !(c >= 'a' && c <= 'z')).join('');
    (out[dir || 'INBOX'] ??= []).push(`${f.sha} ${flags} [${keywords.join(' ')}] ${m[2]} ${f.mtimeMs}`);
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** Files a run may leave only while it runs: anything in a tmp/ directory (a folder staged there too), and tagged temp files. */
async function leftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && /(^|\/)tmp$/.test(rel)) out.push(`${r}/`);
      else if (e.isDirectory()) await walk(join(dir, e.name), r);
      else if (/(^|\/)tmp\/[^/]+$/.test(r) || /mdsync-\d+@/.test(e.name) || e.name === 'mdsync.lock') out.push(r);
    }
  };
  await walk(root, '');
  return out;
}

/**
 * Puts a test's directory back as it was: the Maildir roots a and b keep their own directories
 * (a root's inode is its side's identity) and get the saved contents; the rest is replaced.
 */
function restoreInto(from: string, to: string): void {
  execFileSync('sh', ['-c', `
    for entry in "$2"/* "$2"/.[!.]*; do
      [ -e "$entry" ] || continue
      name=$(basename "$entry")
      if [ "$name" = a ] || [ "$name" = b ]; then
        mkdir -p "$1/$name" && find "$1/$name" -mindepth 1 -maxdepth 1 -exec rm -rf {} + && cp -a "$entry/." "$1/$name/"
      else
        rm -rf "$1/$name" && cp -a "$entry" "$1/$name"
      fi
    done`, 'sh', to, from]);
}

async function lockReleased(root: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (!(await access(join(root, 'mdsync.lock')).then(() => true, () => false))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the far side still holds ${root}/mdsync.lock after 10 s`);
}

export interface Scenario {
  name: string;
  mode: 'backup' | 'sync';
  /** The far side, and where the crash happens: in this process, or in the far side's `mdsync serve`. */
  transport: () => SideTransport;
  crashIn: 'client' | 'server';
  /** Every how many points to crash (1: every point). */
  stride: number;
  /** After every how many repaired points a third run checks that it moves nothing (default 1: every one). */
  quietEvery?: number;
  /** Fewer points would mean the knob no longer reaches the work. */
  minPoints: number;
  /** The killed run is a first copy into an empty b (made in passes by the transport), not a re-run. */
  firstCopy?: boolean;
}

/** Two Maildirs synced once, then changed on a (and, for sync, on b) in every way a run handles. */
async function prepare(work: string, cli: (args: string[]) => Promise<CliResult>, t: SideTransport, mode: 'backup' | 'sync', firstCopy = false): Promise<void> {
  const a = join(work, 'a');
  const b = join(work, 'b');
  await makeMaildir(a, [
    { dir: '', keywords: ['$Label1', 'Todo'], messages: [1, 2, 3, 4, 5, 6].map((n) => msg(n)) },
    { dir: '.Archive', messages: [7, 8, 9, 10].map((n) => msg(n)) },
    { dir: '.Old', messages: [11].map((n) => msg(n)) },
    { dir: '.Sent', messages: [] },
  ], ['Archive', 'Old']);
  if (firstCopy) {
    // An empty side, and no state or cache yet: each restore puts them back so.
    for (const dir of [b, join(work, 'state'), join(work, 'cache')]) await mkdir(dir);
  } else {
    const first = await cli([mode, a, t.endpoint(b)]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
  }
  // On a: deliveries (new/ and cur/, with a keyword), flag changes, a move, an expunge, a new
  // folder with mail, mail for a folder empty on b (its new/ and cur/ built aside there), a folder
  // emptied and deleted.
  for (const n of [20, 21, 22]) await addMessage(a, '', { ...msg(n, ''), location: 'new' });
  // Large enough to travel and be written as a stream of chunks: kills land inside its body.
  const large = `${msg(26).body}${'streamed body line\r\n'.repeat(180_000)}`;
  await addMessage(a, '.Archive', { base: `${base(26)},S=${Buffer.byteLength(large)}`, body: large, flags: 'S' });
  await addMessage(a, '', { ...msg(23, 'F'), letters: 'b' });
  await makeMaildir(a, [{ dir: '.Projects', messages: [24, 25].map((n) => msg(n)) }]);
  await addMessage(a, '.Sent', msg(27));
  // Copies as Dovecot makes them, one file under a new name in another folder: of a message both
  // sides hold, and of one new this run (linked on the other side: to its bytes there, or to the
  // first of the file's names sent).
  await link(join(a, 'cur', fileName(msg(6))), join(a, '.Sent', 'cur', `${base(41)}:2,S`));
  await link(join(a, '.Sent', 'cur', fileName(msg(27))), join(a, '.Archive', 'cur', `${base(42)}:2,S`));
  await addMessage(a, '.Sent', { ...msg(28, ''), location: 'new' });
  await rename(join(a, 'cur', fileName(msg(1))), join(a, 'cur', fileName({ ...msg(1, 'FS'), letters: 'a' })));
  await rename(join(a, 'cur', fileName(msg(2))), join(a, 'cur', fileName(msg(2, ''))));
  await rename(join(a, 'cur', fileName(msg(3))), join(a, '.Archive', 'cur', fileName(msg(3))));
  await unlink(join(a, 'cur', fileName(msg(4))));
  await unlink(join(a, '.Old', 'cur', fileName(msg(11))));
  await rm(join(a, '.Old'), { recursive: true });
  if (mode === 'sync' && !firstCopy) {
    // On b too: its own deliveries, a flag change and an expunge.
    for (const n of [30, 31]) await addMessage(b, '.Archive', msg(n));
    await rename(join(b, 'cur', fileName(msg(5))), join(b, 'cur', fileName(msg(5, 'RS'))));
    await unlink(join(b, '.Archive', 'cur', fileName(msg(8))));
  }
}

/** Sweeps each scenario; at least `leastPoints` distinct crash points over them all. */
export function crashSweep(scenarios: Scenario[], leastPoints: number): void {
let points = 0;
afterAll(() => {
  expect(points).toBeGreaterThanOrEqual(leastPoints);
});

describe.each(scenarios)('crash anywhere: $name', (s: Scenario) => {
  let work: string;
  let template: string;
  let reference: { a: Record<string, string[]>; b: Record<string, string[]>; names: Record<'a' | 'b', Set<string>> };

  beforeAll(async () => {
    work = await tempDir();
    template = await tempDir();
    const t = s.transport();
    await t.prepare?.(work);
    await prepare(work, cliVia(t, work), t, s.mode, s.firstCopy);
    restoreInto(work, template);
    // The uninterrupted run is the reference.
    const r = await cliVia(t, work)([s.mode, join(work, 'a'), t.endpoint(join(work, 'b'))]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    reference = {
      a: await canonical(join(work, 'a')), b: await canonical(join(work, 'b')),
      names: { a: await namesOnDisk(join(work, 'a')), b: await namesOnDisk(join(work, 'b')) },
    };
    expect(reference.b).toEqual(reference.a);
  });

  afterAll(async () => {
    await removeDir(work);
    await removeDir(template);
  });

  it('the next run repairs a kill at every point, and the state never claims what is not on disk', async () => {
    const t = s.transport();
    const a = join(work, 'a');
    const b = join(work, 'b');
    let completed = false;
    let crashed = 0;
    const first = firstPoint(s.stride);
    for (let n = first; !completed && n < 400; n += s.stride) {
      restoreInto(template, work);
      const crashArgs = s.crashIn === 'server' ? ['--remote-path', `MDSYNC_CRASH_AFTER=${n} ${process.execPath} ${BIN}`] : [];
      const crashEnv: Record<string, string> = s.crashIn === 'client' ? { MDSYNC_CRASH_AFTER: String(n) } : {};
      const run = await runCli([s.mode, a, t.endpoint(b), ...t.args, ...crashArgs], work, { SSH_AUTH_SOCK: '', ...t.env, ...crashEnv });
      if (run.code === 0) {
        completed = true;
        break;
      }
      crashed++;
      // This side killed: the far `mdsync serve` sees its input end and finishes on its own; look
      // at the trees once it has let go of its Maildir.
      if (s.crashIn === 'client' && t.endpoint(b) !== b) await lockReleased(b);
      expect(run.stderr, `point ${n}`).not.toContain('    at ');
      // Whatever the state says a side holds is on that side, unless the run was removing it.
      const claims = await stateClaims(work);
      for (const side of ['a', 'b'] as const) {
        const onDisk = await namesOnDisk(side === 'a' ? a : b);
        const missing = [...claims[side]].filter((k) => !onDisk.has(k) && reference.names[side].has(k));
        expect(missing, `point ${n}: the state claims on ${side} what is not there`).toEqual([]);
      }
      const again = await cliVia(t, work)([s.mode, a, t.endpoint(b), '--json']);
      expect(again.code, `point ${n}: ${again.stderr}`).toBe(0);
      expect(await canonical(a), `point ${n}`).toEqual(reference.a);
      expect(await canonical(b), `point ${n}`).toEqual(reference.b);
      expect([...await leftovers(a), ...await leftovers(b)], `point ${n}`).toEqual([]);
      if (crashed % (s.quietEvery ?? 1) === 0) {
        const quiet = jsonOf(await cliVia(t, work)([s.mode, a, t.endpoint(b), '--json']));
        expect(quiet.bytes, `point ${n}: a third run moves nothing`).toBe(0);
      }
    }
    expect(completed, 'the sweep reached the end of the run').toBe(true);
    expect(crashed).toBeGreaterThanOrEqual(s.minPoints);
    points += crashed;
    process.stdout.write(`${s.name}: ${crashed} crash points (every ${s.stride} from point ${first})\n`);
  }, SWEEP_TIMEOUT_MS);
});
}
