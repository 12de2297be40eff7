// `--json` printed nothing when a guard refused the run or the run failed: a script reading stdout
// got an empty line. The object is always printed, naming the error and the guard, with the plan's counts.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

interface RunJson {
  mode: string;
  dryRun: boolean;
  exit: number;
  error: { code: string; message: string } | null;
  refusedBy: string | null;
  summary: Record<string, { a: number; b: number }> | null;
}

const jsonLine = (stdout: string): RunJson => {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as RunJson;
};

describe('--json when a run is refused or fails', () => {
  it('a backup refused by --max-delete prints the guard, its error and the refused plan in the words of the summary', async () => {
    const home = join(work, 'home');
    const src = join(work, 'src');
    const dst = join(work, 'dst');
    const folder = bulkFolder('', 0, 120);
    await makeMaildir(src, [folder]);
    const first = await runCli(['backup', src, dst, '--json'], home);
    expect(first.code, first.stderr).toBe(0);
    const ok = jsonLine(first.stdout);
    expect(ok).toMatchObject({ mode: 'backup', exit: 0, error: null, refusedBy: null });
    expect(ok.summary).toMatchObject({ copied: { a: 0, b: 120 }, moved: { a: 0, b: 0 }, flagged: { a: 0, b: 0 }, expunged: { a: 0, b: 0 } });

    for (const m of folder.messages.slice(0, 60)) await rm(join(src, 'cur', `${m.base}:2,${m.flags ?? ''}`));
    const refused = await runCli(['backup', src, dst, '--json'], home);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^mdsync: refusing to expunge 60 of 120 messages/m);
    const j = jsonLine(refused.stdout);
    expect(j).toMatchObject({ mode: 'backup', dryRun: false, exit: 3, refusedBy: 'GUARD_MAX_DELETE' });
    expect(j.error?.code).toBe('GUARD_MAX_DELETE');
    expect(j.error?.message).toMatch(/^refusing to expunge 60 of 120 messages on the second side/);
    expect(j.summary).toMatchObject({ copied: { a: 0, b: 0 }, expunged: { a: 0, b: 60 } });

    // A dry run prints the plan a guard would refuse: its object names the guard too.
    const dry = await runCli(['backup', '--dry-run', src, dst, '--json'], home);
    expect(dry.code).toBe(3);
    const d = jsonLine(dry.stdout);
    expect(d).toMatchObject({ mode: 'backup', dryRun: true, exit: 3, refusedBy: 'GUARD_MAX_DELETE', summary: { expunged: { a: 0, b: 60 } } });
    expect(d.error?.code).toBe('GUARD_MAX_DELETE');
  });

  it('a run that fails prints the error, no guard and no plan', async () => {
    const home = join(work, 'home');
    const dst = join(work, 'dst');
    await makeMaildir(dst, [bulkFolder('', 0, 1)]);
    const r = await runCli(['sync', join(work, 'missing'), dst, '--json'], home);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mdsync: /m);
    const j = jsonLine(r.stdout);
    expect(j).toMatchObject({ mode: 'sync', dryRun: false, exit: 1, refusedBy: null, summary: null });
    expect(j.error?.code).toBe('ROOT_MISSING');
    expect(r.stderr).toContain(j.error?.message);
  });

  it('verify --json on a side that cannot be opened prints the error', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    await makeMaildir(a, [bulkFolder('', 0, 1)]);
    const r = await runCli(['verify', a, join(work, 'missing'), '--json'], home);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.trim()) as { identical: boolean | null; exit: number; error: { code: string } | null };
    expect(j).toMatchObject({ identical: null, exit: 1, error: { code: 'ROOT_MISSING' } });
  });

  it('a dry run into a side that does not exist yet prints its object, with the note', async () => {
    const src = join(work, 'src');
    await makeMaildir(src, [bulkFolder('', 0, 3)]);
    const r = await runCli(['backup', '-n', '--json', src, join(work, 'missing')], join(work, 'home'));
    expect(r.code).toBe(0);
    const j = jsonLine(r.stdout);
    expect(j).toMatchObject({ mode: 'backup', dryRun: true, exit: 0, error: null, refusedBy: null, summary: null });
    expect(JSON.stringify(j)).toContain('does not exist yet: everything would be copied');
  });
});
