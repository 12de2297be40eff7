// Crash anywhere, both sides on this machine: killed before every change a run makes to a disk,
// the next run leaves both trees as an uninterrupted run does (test/helpers/crash-sweep.ts).

import { crashSweep } from '../helpers/crash-sweep.js';
import { inPasses, localTransport } from '../helpers/transports.js';

// The quiet third run after every third repair (a repair that left work behind fails its own
// comparison with the uninterrupted run already).
crashSweep([
  // Every other point, the odd ones one day and the even ones the next (crash-sweep.ts): every
  // point each run would take CI past its 20 minutes on two cores.
  { name: 'backup, local', mode: 'backup', transport: () => localTransport, crashIn: 'client', stride: 2, minPoints: 25, quietEvery: 3 },
  { name: 'two-way sync, local', mode: 'sync', transport: () => localTransport, crashIn: 'client', stride: 2, minPoints: 28, quietEvery: 3 },
  // A folder at a time: killed between passes as well as inside them. Each pass goes through the
  // same points again, so every other point still reaches each of them.
  { name: 'first copy in passes, local', mode: 'backup', transport: () => inPasses(localTransport), crashIn: 'client', stride: 2, minPoints: 30, firstCopy: true, quietEvery: 3 },
], 70);
