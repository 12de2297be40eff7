// `-n`, `-v` and `verify` showed subscriptions in modified UTF-7, as the subscriptions file holds
// them ("Entw&APw-rfe"), while every folder name is shown in UTF-8 ("Entwürfe").

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

describe('subscription names in the plan', () => {
  it.each([['-n'], ['-v']])('%s shows them in UTF-8, as folder names', async (flag) => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [
      { dir: '', messages: [message('1600000001.M1P1.host', 'inbox')] },
      { dir: '.Entw&APw-rfe', messages: [message('1600000002.M2P1.host', 'draft')] },
    ], ['INBOX', 'Entw&APw-rfe']);
    await makeMaildir(b, [{ dir: '', messages: [] }]);
    const r = await runCli(['sync', flag, a, b], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('create folder Entwürfe on the second side');
    expect(r.stdout).toContain('subscriptions on the second side: Entwürfe, INBOX');
    expect(r.stdout).not.toContain('&APw-');
  });

  it('verify shows them in UTF-8 too', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: [] }, { dir: '.Entw&APw-rfe', messages: [] }], ['INBOX', 'Entw&APw-rfe']);
    await makeMaildir(b, [{ dir: '', messages: [] }, { dir: '.Entw&APw-rfe', messages: [] }], ['INBOX']);
    const r = await runCli(['verify', a, b], home);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('subscriptions differ: [Entwürfe, INBOX] ≠ [INBOX]');
  });
});
