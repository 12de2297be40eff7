// Standard output that fails for another reason than a gone reader (a full disk behind `> file`):
// an error line and exit 1. (The error was rethrown from the stream's listener: an uncaught
// exception with a stack trace.)

import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeMaildir, message, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;

beforeEach(async () => {
  work = await tempDir();
  await makeMaildir(join(work, 'a'), [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
});

afterEach(async () => {
  await removeDir(work);
});

it('a plan printed to /dev/full: exit 1 with an error line naming standard output, no stack trace', () => {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, 'sync', '--dry-run', join(work, 'a'), join(work, 'b')], {
      env: { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') },
      stdio: ['ignore', full, 'pipe'],
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mdsync: cannot write to standard output (ENOSPC): check where it goes, then run again\n');
  } finally {
    closeSync(full);
  }
});
