// `npm run demo`: two small Maildirs, a two-way sync, changes on both sides, another sync, then verify.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyChanges, generateCorpus } from './corpus.js';

const CLI = fileURLToPath(new URL('../../bin/mdsync.js', import.meta.url));

function main(): number {
  const work = mkdtempSync(join(tmpdir(), 'mdsync-demo-'));
  const a = join(work, 'A');
  const b = join(work, 'B');
  const env = { ...process.env, XDG_STATE_HOME: join(work, 'state'), XDG_CACHE_HOME: join(work, 'cache') };
  const mdsync = (...args: string[]): number => {
    console.log(`\n$ mdsync ${args.map((x) => x.replace(work + '/', '')).join(' ')}`);
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    const shown = (r.stdout + r.stderr).trim().split('\n').map((l) => l.replace(work + '/', ''));
    console.log(shown.map((l) => `  ${l}`).join('\n'));
    console.log(`  (exit ${r.status})`);
    return r.status ?? 1;
  };
  const indent = (line: string): void => console.log(`  ${line.replace(work + '/', '')}`);
  try {
    console.log(`Working in ${work} (A and B below are in it)\n`);
    const infoA = generateCorpus(a, { messages: 200, folders: 4, seed: 7 });
    console.log(`A: ${infoA.messages} messages in ${infoA.folders.join(', ')} (${(infoA.bytes / 1e6).toFixed(1)} MB), flags, keywords, 2019–2024 arrival dates`);
    const infoB = generateCorpus(b, { messages: 6, folders: 2, seed: 99, host: 'laptop.example.net' });
    console.log(`B: ${infoB.messages} other messages in ${infoB.folders.join(', ')}; the two have never met`);
    if (mdsync('sync', a, b) !== 0) return 1;

    console.log('\nOn B, a mail client changes flags:');
    applyChanges(b, { seed: 1, flagChanges: 2, onChange: indent });
    console.log('On A, the server delivers, a client moves one message and expunges another:');
    applyChanges(a, { seed: 2, deliveries: 2, moves: 1, expunges: 1, onChange: indent });
    if (mdsync('sync', '-v', a, b) !== 0) return 1;
    if (mdsync('sync', a, b) !== 0) return 1;

    const code = mdsync('verify', a, b);
    console.log(code === 0 ? '\nA and B are identical.' : '\nverify found differences.');
    return code;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = main();
