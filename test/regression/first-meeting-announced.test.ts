// A first meeting of two sides that both hold mail is announced on stderr and in --json, every time.
// (It went silently: with the state lost, moves since the last run were doubled, expunges undone.)

import { rm } from 'node:fs/promises';
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

const jsonLine = (stdout: string): { firstMeeting?: boolean } => JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { firstMeeting?: boolean };

describe('first meeting announced', () => {
  it('says so when both sides hold mail, again after the state is deleted, and not once the pair has met', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeMaildir(a, [{ dir: '', messages: [message('1600000001.M1P1.host', 'on a')] }]);
    await makeMaildir(b, [{ dir: '', messages: [message('1600000002.M2P1.host', 'on b')] }]);
    const first = await runCli(['sync', a, b, '--json'], home);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/^mdsync: warning: .*first meeting/m);
    expect(jsonLine(first.stdout).firstMeeting).toBe(true);

    const again = await runCli(['sync', a, b, '--json'], home);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/first meeting/);
    expect(jsonLine(again.stdout).firstMeeting).toBe(false);

    await rm(join(home, 'state'), { recursive: true, force: true });
    const lost = await runCli(['sync', b, a, '--json'], home);
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.stderr).toMatch(/^mdsync: warning: .*first meeting/m);
    expect(jsonLine(lost.stdout).firstMeeting).toBe(true);
  });

  it('stays quiet for a first copy into an empty side', async () => {
    const home = join(work, 'home');
    const a = join(work, 'a');
    await makeMaildir(a, [{ dir: '', messages: [message('1600000001.M1P1.host', 'on a')] }]);
    const r = await runCli(['sync', a, join(work, 'b'), '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/first meeting/);
    expect(jsonLine(r.stdout).firstMeeting).toBe(false);
  });
});
