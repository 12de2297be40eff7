// A client facing a broken or hostile far side: a clear error, bounded time, nothing written locally.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/protocol/limits.js';
import { runCli } from '../helpers/cli.js';
import { makeMaildir, message, readTree, removeDir, tempDir } from '../helpers/maildir.js';

const PEER = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'helpers', 'hostile-peer.mjs');
let work: string;
let local: string;
let before: Awaited<ReturnType<typeof readTree>>;

beforeEach(async () => {
  work = await tempDir();
  local = join(work, 'local');
  await makeMaildir(local, [{ dir: '', messages: [message('1600000001.M1P1.host', 'one', { flags: 'S' })] }]);
  before = await readTree(local);
});

afterEach(async () => {
  await removeDir(work);
});

const against = (mode: string, ...extra: string[]): ReturnType<typeof runCli> =>
  runCli(['sync', local, 'peer:/srv/mail', '-e', `${process.execPath} ${PEER} ${mode}`, ...extra], work);

describe('a hostile or broken remote side', () => {
  it.each([
    ['garbage', /peer:\/srv\/mail: protocol error: undecodable frame/],
    // All 32 bits set: the top one marks a deflated frame, the other 31 its length.
    ['huge', /peer:\/srv\/mail: protocol error: deflated frame of 2147483647 bytes announced \(limit 16777216\)/],
    ['truncated', /^mdsync: peer:\/srv\/mail: remote command exited with code 0\n$/],
    ['unknown-type', /protocol error: unknown frame type 9/],
    ['version', new RegExp(`remote mdsync 9\\.0\\.0 speaks protocol 99, this one \\(mdsync \\S+\\) speaks ${PROTOCOL_VERSION}: install the same mdsync version on both sides`)],
    ['old-server', /^mdsync: peer:\/srv\/mail: the far side refused this mdsync's greeting \(hello: missing field "capabilities"\): it speaks another protocol version; install the same mdsync version on both sides\n$/],
    ['escape-root', /answer to hello\.root: "\/srv\/\\u001b\]0;owned\\u0007\\u001b\[2Jmail" holds a control character/],
    ['escape-id', /answer to hello\.id: "1:2\\u001b\[1A\\r" holds a control character/],
    ['escape-error', /peer:\/srv\/mail: disk \\x1b\]0;owned\\x07\\x1b\[2Jfailed\\x0d/],
    ['evil-folder', /answer to listFolders\.folders\[1\]\[0\]: folder name "\.\.\/\.\.\/etc" has an empty, "\." or "\.\." component/],
    ['evil-guid', /answer to manifest\.entries\[0\]\[0\]: GUID "\.\.\/\.\.\/\.\.\/tmp\/x" contains "\/"/],
    ['nul-keyword', /bad keyword "a\\u0000b"/],
    ['absolute-folder', /answer to listFolders\.folders\[1\]\[0\]: folder name "\/etc" starts or ends with "\/"/],
    ['nul-guid', /answer to manifest\.entries\[0\]\[0\]: GUID "1\.M1\.h\\u0000x" holds a control character/],
    // Written bare in new/, "a:2,F" would read back as message "a" with \Flagged.
    ['mark-guid', /answer to manifest\.entries\[0\]\[0\]: GUID "a:2,F" holds the info mark ":2,"/],
    ['negative-size', /answer to manifest\.entries\[0\]\[4\]: expected a whole number from 0 to 1099511627776, got -1/],
    ['huge-size', /answer to read\[0\]\.size: expected a whole number from 0 to 1099511627776, got 1125899906842624/],
    ['lying-size', /peer:\/srv\/mail: message 1\.M1\.h is longer than the 10 bytes announced/],
    ['bye-early', /peer:\/srv\/mail: the session ended with 1 request\(s\) unanswered/],
    ['dies-midway', /^mdsync: peer:\/srv\/mail: connection closed by the other side; remote command exited with code 137: "remote: out of memory"\n$/],
    ['crash', /^mdsync: peer:\/srv\/mail: remote command exited with code 3: "remote: something went wrong"\n$/],
    ['not-found', /^mdsync: peer:\/srv\/mail: remote command exited with code 127: "sh: 1: mdsync: not found" \(install mdsync there or name it with --remote-path\)\n$/],
  ])('%s: exit 1 with a clear error, no stack trace, nothing written', async (mode, text) => {
    const r = await against(mode);
    expect(r.stderr).toMatch(text);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Nothing of the peer's reaches the terminal as an escape sequence.
    expect(r.stderr).not.toContain('\u001b');
    expect(await readTree(local)).toEqual(before);
  });

  it('gives up on a silent side after --timeout', async () => {
    const started = Date.now();
    const r = await against('silent', '--timeout', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/peer:\/srv\/mail: no answer for 2 s \(--timeout\); giving up/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await readTree(local)).toEqual(before);
  });
});
