// Crash anywhere over SSH: the far `mdsync serve` or this side killed before a change to a disk,
// the next run leaves both trees as an uninterrupted run does (test/helpers/crash-sweep.ts).

import { crashSweep } from '../helpers/crash-sweep.js';
import { useSshd } from '../helpers/sshd-fixture.js';
import { opensshTransport } from '../helpers/ssh-transports.js';
import { inPasses } from '../helpers/transports.js';

const sshd = useSshd();

crashSweep([
  // Every sixth point (from another point each day: crash-sweep.ts), and the quiet run after every
  // third repair: each run costs an SSH login and a far side started.
  { name: 'backup over SSH, the far side killed', mode: 'backup', transport: () => opensshTransport(sshd), crashIn: 'server', stride: 6, minPoints: 6, quietEvery: 3 },
  { name: 'two-way sync over SSH, the far side killed', mode: 'sync', transport: () => opensshTransport(sshd), crashIn: 'server', stride: 6, minPoints: 6, quietEvery: 3 },
  // This side holds the first Maildir, the state and the cache: its own share of the changes.
  { name: 'two-way sync over SSH, this side killed', mode: 'sync', transport: () => opensshTransport(sshd), crashIn: 'client', stride: 2, minPoints: 5, quietEvery: 3 },
  { name: 'first copy in passes over SSH, the far side killed', mode: 'sync', transport: () => inPasses(opensshTransport(sshd)), crashIn: 'server', stride: 5, minPoints: 8, firstCopy: true, quietEvery: 3 },
], 28);
