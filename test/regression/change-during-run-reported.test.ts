// A delivery or a flag change on the source while a long first copy runs ends the run with 2
// ("a side changed during the run"), naming the folder. (It ended 0 with no warning, the change
// missing from the replica.) The next run takes the change and ends 0.

import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { message, removeDir, tempDir, type MessageSpec } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const MESSAGES = 20_000;

let work: string;
let a: string;
let b: string;

/** The source's INBOX: MESSAGES small messages in cur/, seen. */
async function makeSource(): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(a, sub), { recursive: true });
  const specs: MessageSpec[] = Array.from({ length: MESSAGES }, (_, i) => message(`17${String(i).padStart(8, '0')}.M${i}P7.host`, `small ${i}`));
  for (let i = 0; i < specs.length; i += 500) {
    await Promise.all(specs.slice(i, i + 500).map((m) => writeFile(join(a, 'cur', `${m.base}:2,S`), m.body)));
  }
}

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  await makeSource();
});

afterEach(() => removeDir(work));

/** Whether the replica holds any message yet (in its INBOX, or built aside in its tmp/). */
async function copyStarted(): Promise<boolean> {
  const has = (dir: string): Promise<boolean> => readdir(dir).then((names) => names.length > 0, () => false);
  if (await has(join(b, 'cur'))) return true;
  for (const entry of await readdir(join(b, 'tmp')).catch(() => [] as string[])) {
    if (await has(join(b, 'tmp', entry, 'cur'))) return true;
  }
  return false;
}

const DELIVERED = '1799999999.M1P1.late,S=64';

/** The change, made on the source once the copy is under way. */
const changes = {
  delivery: async (): Promise<void> => {
    await writeFile(join(a, 'tmp', DELIVERED), 'Subject: late\r\n\r\ndelivered while the first copy ran\r\n'.padEnd(64, '.'));
    await rename(join(a, 'tmp', DELIVERED), join(a, 'new', DELIVERED));
  },
  'flag change': async (): Promise<void> => {
    const base = message('1700019999.M19999P7.host', 'small 19999').base;
    await rename(join(a, 'cur', `${base}:2,S`), join(a, 'cur', `${base}:2,FS`));
  },
};

/** What the replica must hold after the change is synced. */
async function changeSynced(change: keyof typeof changes): Promise<boolean> {
  if (change === 'delivery') return (await readdir(join(b, 'new'))).includes(DELIVERED);
  const base = message('1700019999.M19999P7.host', 'small 19999').base;
  return stat(join(b, 'cur', `${base}:2,FS`)).then(() => true, () => false);
}

const cases: { mode: 'backup' | 'sync'; change: keyof typeof changes; t: SideTransport }[] = [
  { mode: 'backup', change: 'delivery', t: localTransport },
  { mode: 'backup', change: 'flag change', t: localTransport },
  { mode: 'sync', change: 'delivery', t: localTransport },
  { mode: 'backup', change: 'delivery', t: serveTransport },
];

describe('a change on the source during a first copy', () => {
  it.each(cases)('$mode, a $change ($t.name): exit 2 naming the folder; the next run takes it and ends 0', async ({ mode, change, t }) => {
    await t.prepare?.(work);
    const cli = cliVia(t, work);
    let ended = false;
    const running = cli([mode, t.endpoint(a), b]).finally(() => { ended = true; });
    while (!ended && !(await copyStarted())) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ended, 'the first copy ended before the change could be made during it').toBe(false);
    await changes[change]();
    const during = await running;
    expect(during.stderr).toContain('INBOX: changed on the first side during the run');
    expect(during.stderr).toContain('a side changed during the run');
    expect(during.code, during.stderr).toBe(2);

    const after = await cli([mode, t.endpoint(a), b]);
    expect(after.stderr).toBe('');
    expect(after.code).toBe(0);
    expect(await changeSynced(change)).toBe(true);
  }, 180_000);

  it.each([localTransport, serveTransport])('no change ($name): exit 0, no warning', async (t) => {
    await t.prepare?.(work);
    const run = await cliVia(t, work)(['backup', t.endpoint(a), b]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  }, 180_000);
});
