// The compiled benchmark end to end on a tiny corpus: every scenario row for every tool, numbers in its cells, mdsync exact.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireDovecot } from '../helpers/dovecot.js';
import { SSH, SSHD, requireTool } from '../helpers/sshd.js';

const BENCH = fileURLToPath(new URL('../../dist/bench/bench.js', import.meta.url));
const RSYNC = '/usr/bin/rsync';
const PARALLEL = '/usr/bin/parallel';

// A missing peer fails here, never skips: .ci/run installs them all.
requireTool(SSHD);
requireTool(SSH);
requireDovecot();
for (const [tool, pkg] of [[RSYNC, 'rsync'], [PARALLEL, 'parallel']] as const) {
  try {
    accessSync(tool, constants.X_OK);
  } catch {
    throw new Error(`${tool} is missing: install ${pkg} (.ci/run does)`);
  }
}

const SECTIONS: Record<string, string[]> = {
  'Local, one-way (backup)': ['mdsync backup', 'rsync -a --delete', 'doveadm backup'],
  'Local, two-way (sync)': ['mdsync sync', 'doveadm sync'],
  'Over SSH, one-way (backup)': ['mdsync backup', 'rsync -a --delete', 'doveadm backup'],
  'Over SSH, two-way (sync)': ['mdsync sync', 'doveadm sync'],
};
const SCENARIOS = ['initial copy', 'no-change re-run', 'after changes', 'after realistic changes'];
const MESSAGES = 300;
const NUMBER = /^\d+(\.\d+)?( \+ \d+(\.\d+)?)?$/;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The table rows (cells, trimmed) under a `## title` heading, up to the next heading. */
function rowsUnder(report: string, title: string): string[][] {
  const start = report.indexOf(`\n## ${title}\n`);
  if (start < 0) return [];
  const rest = report.slice(start + title.length + 5);
  const end = rest.search(/\n## /);
  return (end < 0 ? rest : rest.slice(0, end))
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(' | ').map((c) => c.trim()));
}

describe('npm run bench on a tiny corpus', () => {
  let work: string;
  let report: string;
  let output: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mdsync-test-'));
    // Dovecot works as the mail user, which must reach the trees inside.
    await chmod(work, 0o755);
    const out = join(work, 'RESULTS.md');
    const r = await run([
      '--messages', String(MESSAGES), '--folders', '4', '--runs', '1', '--changes', '5',
      '--scale', '--scale-sizes', '200,400', '--scale-folders', '10', '--small', '--small-sizes', '20',
      '--batch', '--batch-users', '6', '--batch-messages', '4', '--batch-sample', '3', '--batch-jobs', '2', '--dir', work, '--out', out,
    ]);
    output = `${r.stdout}\n${r.stderr}`;
    expect(r.code, output).toBe(0);
    report = await readFile(out, 'utf8');
  }, 115_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const [title, tools] of Object.entries(SECTIONS)) {
    it(`${title}: a row per scenario and tool, numbers in every measured cell`, () => {
      const rows = rowsUnder(report, title);
      for (const scenario of SCENARIOS) {
        for (const tool of tools) {
          const row = rows.find((r) => r[0] === scenario && r[1] === tool);
          expect(row, `${title}: no row for ${scenario} / ${tool}\n${report}`).toBeDefined();
          const cells = row as string[];
          for (const cell of cells.slice(2, -1)) expect(cell, `${title}, ${scenario}, ${tool}: ${cells.join(' | ')}`).toMatch(NUMBER);
          if (tool.startsWith('mdsync')) expect(cells.at(-1), `${title}, ${scenario}, ${tool}`).toBe('yes');
        }
      }
    });
  }

  it('gives each tool\'s CPU time, the far side\'s beside it over SSH', () => {
    const cpuOf = (title: string, tool: string): string | undefined => rowsUnder(report, title).find((r) => r[0] === 'initial copy' && r[1] === tool)?.[3];
    // Copying the corpus takes some CPU, locally and on each side of an SSH link.
    expect(Number(cpuOf('Local, one-way (backup)', 'rsync -a --delete'))).toBeGreaterThan(0);
    expect(Number(cpuOf('Local, one-way (backup)', 'mdsync backup'))).toBeGreaterThan(0);
    const [local, remote] = (cpuOf('Over SSH, one-way (backup)', 'mdsync backup') ?? '').split(' + ').map(Number);
    expect(local).toBeGreaterThan(0);
    expect(remote).toBeGreaterThan(0);
  });

  it('counts re-copies as new files and renames as none', () => {
    const rows = rowsUnder(report, 'Local, one-way (backup)');
    const newFiles = (scenario: string, tool: string): string | undefined => rows.find((r) => r[0] === scenario && r[1] === tool)?.[5];
    for (const tool of SECTIONS['Local, one-way (backup)'] as string[]) expect(newFiles('initial copy', tool), tool).toBe(String(MESSAGES));
    expect(newFiles('no-change re-run', 'mdsync backup')).toBe('0');
    expect(newFiles('no-change re-run', 'rsync -a --delete')).toBe('0');
    // rsync sends a flag change (a rename) as a new file; 5 deliveries, 5 moves and 5 flag changes.
    expect(newFiles('after changes', 'rsync -a --delete')).toBe('15');
    // A day's changes: 5 deliveries are new files for both; rsync also sends the 5 read or flagged
    // and the 5 filed as new files, where mdsync renames the one and links the other.
    expect(newFiles('after realistic changes', 'mdsync backup')).toBe('5');
    expect(newFiles('after realistic changes', 'rsync -a --delete')).toBe('15');
  });

  it('has ratio tables and the scale section with growth ratios', () => {
    expect(report).toContain('wall mdsync/rsync');
    expect(report).toContain('CPU mdsync/rsync');
    expect(report).toContain('wall mdsync/doveadm');
    const scale = rowsUnder(report, 'Scale: mdsync backup, no-change re-run').filter((r) => r[0] !== 'messages');
    expect(scale.map((r) => r[0])).toEqual(['200', '400']);
    for (const row of scale) for (const cell of row.slice(0, -1)) expect(cell, row.join(' | ')).toMatch(NUMBER);
    // Every run exited 0: the initial copy, the no-change re-runs, and the second half after a stop.
    for (const row of scale) expect(row.at(-1), row.join(' | ')).toBe('0');
    expect(report).toContain('the second half (one run)');
    expect(report).toMatch(/rsync does not fsync/);
    expect(report).toContain('- **doveadm**: runs as the `mail` user');
  });

  it('has the small mailboxes: a first copy and a no-change re-run against rsync', () => {
    const rows = rowsUnder(report, 'Small mailboxes: first copy and no-change re-run, mdsync backup against rsync -a --delete');
    for (const run of ['first copy', 'no-change re-run']) {
      const row = rows.find((r) => r[0] === '20 (2)' && r[1] === run);
      expect(row, `${run}\n${report}`).toBeDefined();
      for (const cell of (row as string[]).slice(2)) expect(cell, (row as string[]).join(' | ')).toMatch(/^\d+(\.\d+)?( s| MB|×)$/);
    }
  });

  it('has many small mailboxes over SSH: mdsync batch against a loop and GNU parallel, a ratio to the loop', () => {
    const rows = rowsUnder(report, 'Many small mailboxes over SSH: mdsync batch against a run per user');
    expect(rows.map((r) => r[0])).toEqual([
      'run',
      'mdsync batch backup --jobs 2, first copy',
      'mdsync batch backup --jobs 2, no-change re-run',
      'shell loop of mdsync backup, first copy (timed on a sample, scaled)',
      'parallel -j2 mdsync backup, first copy (timed on a sample, scaled)',
      'parallel -j2 mdsync backup, no-change re-run (timed on a sample, scaled)',
    ]);
    for (const row of rows.slice(1)) {
      expect(row[1], row.join(' | ')).toMatch(/^\d+\.\d s$/);
      expect(row[3], row.join(' | ')).toMatch(/^\d+ MB$/);
    }
    expect(rows[1]?.[2]).toMatch(/^\d+\.\d\d×$/);
  });
});

describe('npm run bench -- --rsync-fsync', () => {
  let work: string;
  let report: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'mdsync-test-'));
    const out = join(work, 'RESULTS.md');
    const r = await run(['--messages', '100', '--folders', '3', '--runs', '1', '--changes', '3', '--no-ssh', '--no-doveadm', '--rsync-fsync', '--dir', work, '--out', out]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    report = await readFile(out, 'utf8');
  }, 60_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('compares mdsync with rsync --fsync, and says so', () => {
    const rows = rowsUnder(report, 'Local, one-way (backup)');
    for (const scenario of SCENARIOS) {
      const row = rows.find((r) => r[0] === scenario && r[1] === 'rsync -a --delete --fsync');
      expect(row, `${scenario}\n${report}`).toBeDefined();
      for (const cell of (row as string[]).slice(2, -1)) expect(cell, (row as string[]).join(' | ')).toMatch(NUMBER);
    }
    expect(rows.some((r) => r[1] === 'rsync -a --delete')).toBe(false);
    expect(report).toContain('rsync runs with `--fsync`');
    // doveadm was left out: no word on how it runs.
    expect(report).not.toContain('- **doveadm**');
  });
});

