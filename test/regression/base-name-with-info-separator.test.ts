// A base name holding an info mark (`:2,`, `!2,`, `;2,`) or the separator itself is skipped with a
// warning: written on the replica it read back as another message (`new/X:2,S:2,` became `new/X:2,S`,
// message X with \Seen), and after a state loss a backup deleted that copy and a sync duplicated it.

import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir, type TreeFile } from '../helpers/maildir.js';
import { cliVia, localTransport, serveTransport } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
});

afterEach(async () => {
  await removeDir(work);
});

const ODD: Record<':' | '!', string[]> = {
  ':': [
    join('new', '1600000001.M1P1.host:2,S:2,'),
    join('new', '1600000002.M2P1.host!2,F:2,'),
    join('cur', '1600000003.M3P1.host;2,T:2,S'),
    join('new', '1600000004.M4P1:x:2,'),
    join('.Work', 'new', '1600000005.M5P1.host:2,RS:2,'),
  ],
  '!': [
    join('new', '1600000001.M1P1.host!2,S!2,'),
    join('new', '1600000002.M2P1.host:2,F:2,'),
    join('new', '1600000004.M4P1!x!2,'),
    join('.Work', 'new', '1600000005.M5P1.host;2,S!2,'),
  ],
};

async function makeSource(separator: ':' | '!'): Promise<void> {
  await makeMaildir(a, [
    { dir: '', messages: [message('1600000010.M10P1.host', 'ten', { flags: 'S' }), message('1600000011.M11P1.host', 'eleven', { location: 'new' })] },
    { dir: '.Work', messages: [message('1600000012.M12P1.host', 'twelve', { flags: 'F' })] },
  ]);
  // Names of another system's separator that parse to their own base name are messages as usual.
  await writeFile(join(a, 'cur', '1600000013.M13P1.host!2,S'), 'Subject: bang\r\n\r\nbang\r\n');
  for (const path of ODD[separator]) await writeFile(join(a, path), `Subject: ${path}\r\n\r\nodd\r\n`);
}

const isOdd = (separator: ':' | '!') => (f: TreeFile): boolean => ODD[separator].includes(f.path);
const contents = (files: TreeFile[]): string[] => files.map((f) => f.sha).sort();

function expectWarnedOnce(r: CliResult, separator: ':' | '!'): void {
  expect(r.stderr).not.toContain('    at ');
  for (const path of ODD[separator]) {
    const shown = path.replace(/^\.Work\//, '');
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('mdsync: warning:') && l.includes(shown));
    expect(lines, `one warning naming ${shown}; stderr:\n${r.stderr}`).toHaveLength(1);
  }
}

describe.each([localTransport, serveTransport].map((t) => [t.name, t] as const))('base names holding an info mark, %s', (_name, transport) => {
  it.each([
    ['backup', 'a', ':'], ['backup', 'b', ':'], ['sync', 'a', ':'], ['sync', 'b', ':'], ['backup', 'a', '!'], ['sync', 'b', '!'],
  ] as const)('%s with the far side as %s, separator %s: skipped with a warning; after a state loss nothing deleted or duplicated', async (mode, far, separator) => {
    await makeSource(separator);
    const cli = cliVia(transport, work);
    const ends = far === 'a' ? [transport.endpoint(a), b] : [a, transport.endpoint(b)];
    const args = [mode, ...ends, '--separator', separator];
    const sourceBefore = await messageFiles(a);
    const wanted = contents(sourceBefore.filter((f) => !isOdd(separator)(f)));

    const first = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expectWarnedOnce(first, separator);
    expect(await messageFiles(a)).toEqual(sourceBefore);
    expect(contents(await messageFiles(b))).toEqual(wanted);
    const replica = await messageFiles(b);

    // The state is lost: the run meets both sides as for the first time.
    expect(await readdir(join(work, 'state', 'mdsync'))).not.toHaveLength(0);
    await rm(join(work, 'state'), { recursive: true, force: true });
    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    expectWarnedOnce(again, separator);
    expect(await messageFiles(a)).toEqual(sourceBefore);
    expect(await messageFiles(b)).toEqual(replica);
  });
});
