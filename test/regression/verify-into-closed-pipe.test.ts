// Output into a pipe whose reader has gone (`mdsync verify A B | head -1`) ends quietly: no stack
// trace, no EPIPE on stderr, the command's own exit code; a run keeps going and finishes its work.
// (verify died with an unhandled EPIPE and a stack trace.)

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { bulkFolder, makeMaildir, messageFiles, removeDir, tempDir } from '../helpers/maildir.js';
import { BIN } from '../helpers/transports.js';

let work: string;
let a: string;
let b: string;

beforeEach(async () => {
  work = await tempDir();
  a = join(work, 'a');
  b = join(work, 'b');
  // Thousands of lines of output: far more than a pipe holds once its reader has gone.
  await makeMaildir(a, [bulkFolder('', 0, 800), bulkFolder('.Lists', 2000, 800)], ['Lists']);
  await makeMaildir(b, [{ dir: '', messages: [] }]);
});

afterEach(() => removeDir(work));

/** Runs `mdsync <args> | <reader>` through a real shell; the mdsync side's exit status and output. */
function piped(args: string[], reader: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const line = `${process.execPath} ${BIN} ${args.join(' ')} | ${reader}; echo "status \${PIPESTATUS[0]}" >&2`;
  const child = spawn('bash', ['-c', line], {
    env: { ...process.env, HOME: work, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('close', () => {
    const m = /status (\d+)\n$/.exec(stderr);
    resolve({ status: Number(m?.[1] ?? -1), stdout, stderr: stderr.replace(/status \d+\n$/, '') });
  }));
}

describe('output into a closed pipe', () => {
  it('verify A B | head -1: one line, nothing on stderr, exit 1 for the differences', async () => {
    const r = await piped(['verify', a, b], 'head -1');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.status).toBe(1);
  });

  it('verify --json A B | true: nothing on stderr', async () => {
    const r = await piped(['verify', '--json', a, b], 'true');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
  });

  it('sync -n A B | head -1: nothing on stderr, exit 0, nothing changed', async () => {
    const r = await piped(['sync', '-n', a, b], 'head -1');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(await messageFiles(b)).toHaveLength(0);
  });

  it.each([['sync', '-v', 'head -1'], ['backup', '-v', 'head -1'], ['backup', '--json', 'true']])('%s %s A B | %s: the run finishes its work quietly', async (mode, flag, reader) => {
    const r = await piped([mode, flag, a, b], reader);
    expect(r.stderr).not.toMatch(/EPIPE|    at /);
    expect(r.status).toBe(0);
    expect(await messageFiles(b)).toHaveLength(1600);
    expect((await runCli(['verify', a, b], work)).code).toBe(0);
  });
});
