// `--dry-run` was refused by the guards like a real run: "check the plan with --dry-run", as the
// refusal itself advises, showed nothing. A dry run prints the plan, then which guard would refuse
// it, and exits 3; nothing changes.

import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bulkFolder, makeMaildir, readTree, removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(() => removeDir(work));

describe.each([localTransport, serveTransport])('a dry run of a plan a guard refuses ($name)', (t: SideTransport) => {
  it('prints the plan and the guard, exits 3, changes nothing', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [bulkFolder('', 0, 120)]);
    await t.prepare?.(work);
    const cli = cliVia(t, work);
    expect((await cli(['sync', a, t.endpoint(b)])).code).toBe(0);
    const doomed = (await readdir(join(a, 'cur'))).sort().slice(0, 40);
    for (const name of doomed) await unlink(join(a, 'cur', name));
    const before = await readTree(b);

    const r = await cli(['sync', '--dry-run', a, t.endpoint(b)]);
    expect(r.code).toBe(3);
    const expunges = r.stdout.split('\n').filter((l) => l.startsWith('expunge '));
    expect(expunges).toHaveLength(40);
    expect(r.stdout).toContain('would do: copied 0/0, moved 0/0, flagged 0/0, expunged 0/40,');
    expect(r.stderr).toContain('mdsync: a run would be refused by a guard: refusing to expunge 40 of 120 messages on the second side (limit 30, see --max-delete)');
    expect(await readTree(b)).toEqual(before);

    // The dry run with --force shows the same plan, unrefused.
    const forced = await cli(['sync', '--dry-run', '--force', a, t.endpoint(b)]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('');
    expect(await readTree(b)).toEqual(before);
  });
});
