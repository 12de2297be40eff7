// A message file whose name holds a newline (or another control character) is skipped with a one-line
// warning naming it, and the rest of the Maildir crosses: locally, through `mdsync serve` and over SSH.
// (The far side sent the name, the wire check refused it, and not one message of that Maildir
// crossed, in either direction; locally the file was copied.)

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf, type CliResult } from '../helpers/cli.js';
import { makeMaildir, message, messageFiles, removeDir, tempDir, type TreeFile } from '../helpers/maildir.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport, ssh2Transport } from '../helpers/ssh-transports.js';
import { cliVia, localTransport, serveTransport, type SideTransport } from '../helpers/transports.js';

const server = useSshd();
const transports: SideTransport[] = [localTransport, serveTransport, opensshTransport(server), ssh2Transport(server)];

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

/** Odd names: where each lies under a, and how its warning shows it (one line, control bytes as \xNN). */
const ODD = [
  { path: join('cur', '1600000003.M3P1\nhost,S=20:2,S'), shown: 'cur/1600000003.M3P1\\x0ahost,S=20:2,S' },
  { path: join('.Work', 'new', '1600000004.M4P1.host\t,S=20'), shown: 'new/1600000004.M4P1.host\\x09,S=20' },
  { path: join('.Work', 'cur', '1600000005.M5P1.host\x7f:2,F'), shown: 'cur/1600000005.M5P1.host\\x7f:2,F' },
];

async function makeSource(): Promise<void> {
  await makeMaildir(a, [
    { dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' }), message('1600000002.M2P1.host', 'two', { location: 'new' })] },
    { dir: '.Work', messages: [message('1600000006.M6P1.host', 'six', { flags: 'FS' })] },
  ]);
  for (const odd of ODD) await writeFile(join(a, odd.path), 'Subject: odd\r\n\r\nodd\r\n');
  await makeMaildir(b, [{ dir: '', messages: [] }]);
}

const isOdd = (f: TreeFile): boolean => ODD.some((o) => o.path === f.path);
const withoutIno = (files: TreeFile[]): Omit<TreeFile, 'ino'>[] => files.map(({ path, sha, mtimeMs }) => ({ path, sha, mtimeMs }));

function expectWarnedOnce(r: CliResult): void {
  expect(r.stderr).not.toContain('    at ');
  for (const odd of ODD) {
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('mdsync: warning:') && l.includes(odd.shown));
    expect(lines, `one warning naming ${odd.shown}; stderr:\n${r.stderr}`).toHaveLength(1);
  }
}

describe.each(transports.map((t) => [t.name, t] as const))('a file name with a control character, %s', (_name, transport) => {
  it.each([
    ['backup', 'a'], ['backup', 'b'], ['sync', 'a'], ['sync', 'b'],
  ] as const)('%s with the far side as %s: the others cross, each odd file is one warning line, a re-run is the same', async (mode, far) => {
    await makeSource();
    await transport.prepare?.(work);
    const cli = cliVia(transport, work);
    const ends = far === 'a' ? [transport.endpoint(a), b] : [a, transport.endpoint(b)];
    const sourceBefore = await messageFiles(a);

    const first = await cli([mode, ...ends, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expectWarnedOnce(first);
    expect(await messageFiles(a)).toEqual(sourceBefore);
    expect(withoutIno(await messageFiles(b))).toEqual(withoutIno(sourceBefore.filter((f) => !isOdd(f))));
    for (const odd of ODD) expect(await readFile(join(a, odd.path), 'utf8')).toBe('Subject: odd\r\n\r\nodd\r\n');

    const again = await cli([mode, ...ends, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expectWarnedOnce(again);
    for (const [kind, counts] of Object.entries(jsonOf(again).summary)) expect(counts, `second run: ${kind}`).toEqual({ a: 0, b: 0 });
    expect(await messageFiles(a)).toEqual(sourceBefore);
  });
});
