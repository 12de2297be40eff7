// Takes one dotlock when told to on stdin ("go"), as a run would, and says on stdout whether it holds it.
// Used by tests that set many processes at one stale lock at the same moment.

import { createInterface } from 'node:readline';
import { Dotlock } from '../../dist/src/local/lock.js';

const [path, holdMs] = process.argv.slice(2);
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).once('line', async () => {
  try {
    const lock = await Dotlock.acquire(path, { staleMs: 300_000, waitMs: 0, what: 'the test lock' });
    process.stdout.write(`held ${lock.tookOver ? 'took-over' : 'fresh'}\n`);
    // Held long enough that every other taker has made up its mind while this one holds it.
    await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
    await lock.release();
    process.exit(0);
  } catch (err) {
    process.stdout.write(`refused ${err.code ?? err.message}\n`);
    process.exit(2);
  }
});
