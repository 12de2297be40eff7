// A folder under sustained deliveries and flag renames (a list server's INBOX) syncs what two
// listings agree on and ends 2, never 1. (The quiescent scan gave up on it every run: "folder …
// kept changing while it was scanned; run again", exit 1, for as long as the churn lasted.)

import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const WRITER = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'helpers', 'churn-writer.mjs');
const MESSAGES = 3000;
/** Deliveries and flag renames a second. */
const RATE = 400;

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeMaildir(a, [bulkFolder('', 0, MESSAGES)]);
});

afterEach(() => removeDir(work));

/** Starts the writer on a's INBOX; stop() ends it and returns the base names it delivered. */
function startWriter(dir: string): { stop(): Promise<string[]> } {
  const child = spawn(process.execPath, [WRITER, dir, String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** How many files carry each base name in a Maildir's INBOX (new/ and cur/). */
async function baseCounts(root: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const sub of ['new', 'cur']) {
    for (const name of await readdir(join(root, sub))) {
      const base = name.split(':')[0] as string;
      counts.set(base, (counts.get(base) ?? 0) + 1);
    }
  }
  return counts;
}

const initialBases = (): string[] => bulkFolder('', 0, MESSAGES).messages.map((m) => m.base);

function expectOnceEach(counts: Map<string, number>, bases: string[], where: string): void {
  const missing = bases.filter((base) => counts.get(base) !== 1).map((base) => `${base} ×${counts.get(base) ?? 0}`);
  expect(missing.slice(0, 5), `${missing.length} of ${bases.length} messages not exactly once on ${where}`).toEqual([]);
  expect([...counts.values()].every((c) => c === 1), `no message twice on ${where}`).toBe(true);
}

const cases: { mode: 'backup' | 'sync'; firstCopy: boolean; t: SideTransport }[] = [
  { mode: 'backup', firstCopy: true, t: localTransport },
  { mode: 'backup', firstCopy: false, t: localTransport },
  { mode: 'sync', firstCopy: false, t: localTransport },
  { mode: 'backup', firstCopy: false, t: serveTransport },
];

describe('a folder that never settles during the run', () => {
  it.each(cases)('$mode (first copy: $firstCopy, $t.name): ends 2 with what existed before copied once; the next run converges', async ({ mode, firstCopy, t }) => {
    await t.prepare?.(work);
    const cli = cliVia(t, work);
    const source = t.endpoint(a);
    if (!firstCopy) {
      const before = await cli([mode, source, b]);
      expect(before.code, before.stderr).toBe(0);
    }
    const writer = startWriter(a);
    // The writer runs before the run starts and until after it ends: no listing of it settles.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const during = await cli([mode, source, b]);
    const delivered = await writer.stop();
    expect(delivered.length, 'messages delivered while the run went on').toBeGreaterThan(50);
    expect(during.stderr).not.toContain('kept changing while it was scanned');
    expect(during.stderr).not.toContain('    at ');
    expect(during.code, during.stderr).toBe(2);
    // Every message that was there before the run is on the replica, once; nothing twice anywhere.
    expectOnceEach(await baseCounts(b), initialBases(), `the replica after the busy run (${during.stderr})`);
    expectOnceEach(await baseCounts(a), [...initialBases(), ...delivered], 'the source after the busy run');

    const after = await cli([mode, source, b]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    const v = await cli(['verify', source, b]);
    expect(v.stdout + v.stderr).toContain('identical');
    expect(v.code).toBe(0);
    expectOnceEach(await baseCounts(b), [...initialBases(), ...delivered], 'the replica after the next run');
    expectOnceEach(await baseCounts(a), [...initialBases(), ...delivered], 'the source after the next run');
  }, 120_000);
});
