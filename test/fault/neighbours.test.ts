// Live neighbours: while a run is in progress, another process keeps delivering into the same
// Maildirs (tmp/ → new/), reading mail (new/ → cur/) and renaming flags in cur/. The run ends
// with 0 or 2, one more run converges, and every delivered message is there exactly once.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const NEIGHBOUR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'helpers', 'neighbour.mjs');
const PER_FOLDER = 150;

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, PER_FOLDER), bulkFolder('.Lists', 1000, PER_FOLDER), bulkFolder('.Work', 2000, PER_FOLDER)], ['Lists', 'Work']);
});

afterEach(() => removeDir(work));

interface Neighbour {
  /** Stops it and returns what it delivered, as "folder\tfile name" lines. */
  stop(): Promise<string[]>;
}

function startNeighbour(root: string, tag: string): Neighbour {
  const child = spawn(process.execPath, [NEIGHBOUR, root, tag, '', '.Lists', '.Work'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return out.split('\n').filter(Boolean);
    },
  };
}

/** Per folder directory, each message's base name and how many files carry it. */
async function baseCounts(root: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const f of await readTree(root)) {
    const m = /^(.*?)\/?(cur|new)\/([^:]+)/.exec(f.path);
    if (!m) continue;
    const key = `${m[1] || 'INBOX'}\t${m[3]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe.each([localTransport, serveTransport])('neighbours at work during a run ($name)', (t: SideTransport) => {
  let cli: (args: string[]) => Promise<CliResult>;
  beforeEach(async () => {
    cli = cliVia(t, work);
    await t.prepare?.(work);
  });

  it.each(['backup', 'sync'] as const)('%s: ends 0 or 2, the next run converges, every delivery once', async (mode) => {
    expect((await cli([mode, a, t.endpoint(b)])).code).toBe(0);
    // The neighbours start before the run and keep going until it has ended.
    const neighbours = [startNeighbour(a, 'na')];
    if (mode === 'sync') neighbours.push(startNeighbour(b, 'nb'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = await cli([mode, a, t.endpoint(b)]);
    const delivered = (await Promise.all(neighbours.map((n) => n.stop()))).flat();
    expect(delivered.length, 'messages delivered while the run went on').toBeGreaterThan(5);
    expect([0, 2], during.stderr).toContain(during.code);
    expect(during.stderr).not.toContain('    at ');

    const after = await cli([mode, a, t.endpoint(b)]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    const v = await cli(['verify', a, t.endpoint(b)]);
    expect(v.stdout).toContain('identical');
    expect(v.code).toBe(0);
    for (const root of mode === 'sync' ? [a, b] : [b]) {
      const counts = await baseCounts(root);
      for (const line of delivered) {
        // A backup's replica has what the source's neighbour delivered; two-way, both sides have both.
        expect(counts.get(line), `${line} on ${root === a ? 'a' : 'b'}`).toBe(1);
      }
      expect([...counts.values()].every((c) => c === 1), 'no message twice in a folder').toBe(true);
    }
  });
});
