// `verify` showed a message whose bytes differ under the same name on both sides as two: "only on
// the first side: X" and "only on the second side: X". It is one message whose content differs.

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
});

afterEach(async () => {
  await removeDir(work);
});

describe('verify, same name with other bytes', () => {
  it('says "content differs", once, and still lists a message on one side only', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: [
      { base: '1600000001.M1P1.host', body: 'Subject: x\n\nfirst\n', flags: 'S' },
      { base: '1600000002.M2P1.host', body: 'Subject: y\n\nonly here\n', flags: 'S' },
    ] }]);
    await makeMaildir(b, [{ dir: '', messages: [{ base: '1600000001.M1P1.host', body: 'Subject: x\n\nother\n', flags: 'S' }] }]);
    const r = await runCli(['verify', a, b], home);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe([
      'INBOX: 1600000001.M1P1.host: content differs',
      'INBOX: only on the first side: 1600000002.M2P1.host',
      '2 differences',
      '',
    ].join('\n'));
  });
});
