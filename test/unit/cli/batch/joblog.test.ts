import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOBLOG_HEADER, formatJoblogLine, lastExits, openJoblog, parseJoblogLine } from '../../../../src/cli/batch/joblog.js';
import { removeDir, tempDir } from '../../../helpers/maildir.js';

let dir: string;
beforeEach(async () => { dir = await tempDir(); });
afterEach(async () => { await removeDir(dir); });

const line = { user: 'alice@example.org', start: '2026-12-08T01:00:00.000Z', seconds: 1.5, exit: 0, copied: 12, bytes: 3400, error: '' };

describe('the joblog', () => {
  it('writes a line that reads back, the error on one line without tabs', () => {
    const text = formatJoblogLine({ ...line, exit: 1, error: 'first\tpart\nsecond line' });
    expect(text).toBe('alice@example.org\t2026-12-08T01:00:00.000Z\t1.500\t1\t12\t3400\tfirst part');
    expect(parseJoblogLine(text)).toEqual({ ...line, exit: 1, error: 'first part' });
    expect(parseJoblogLine(JOBLOG_HEADER)).toBeNull();
    expect(parseJoblogLine('alice\t2026')).toBeNull();
  });

  it('gives each user its last exit, and nothing for a joblog not there yet', async () => {
    const path = join(dir, 'joblog');
    expect(await lastExits(path)).toEqual(new Map());
    const log = await openJoblog(path);
    await log.append(formatJoblogLine({ ...line, exit: 1 }));
    await log.append(formatJoblogLine({ ...line, user: 'bob' }));
    await log.append(formatJoblogLine(line));
    await log.close();
    expect((await readFile(path, 'utf8')).split('\n')[0]).toBe(JOBLOG_HEADER);
    expect(await lastExits(path)).toEqual(new Map([['alice@example.org', 0], ['bob', 0]]));
  });

  it('ends a line a crash cut short before appending, so the next line is read whole', async () => {
    const path = join(dir, 'joblog');
    await writeFile(path, `${JOBLOG_HEADER}\n${formatJoblogLine(line)}\n`);
    await appendFile(path, 'bob\t2026-12-08T01:00:00.000Z\t0.1');
    const log = await openJoblog(path);
    await log.append(formatJoblogLine({ ...line, user: 'bob', exit: 3 }));
    await log.close();
    expect(await lastExits(path)).toEqual(new Map([['alice@example.org', 0], ['bob', 3]]));
    expect((await readFile(path, 'utf8')).split('\n').filter((l) => l.startsWith('#'))).toHaveLength(1);
  });
});
