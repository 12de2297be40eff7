// Crash anywhere, both sides on this machine: killed before every change a run makes to a disk,
// the next run leaves both trees as an uninterrupted run does (test/helpers/crash-sweep.ts).

import { crashSweep } from '../helpers/crash-sweep.js';
import { inPasses, localTransport } from '../helpers/transports.js';

crashSweep([
  { name: 'backup, local', mode: 'backup', transport: () => localTransport, crashIn: 'client', stride: 1, minPoints: 30 },
  { name: 'two-way sync, local', mode: 'sync', transport: () => localTransport, crashIn: 'client', stride: 1, minPoints: 30 },
  // A folder at a time: killed between passes as well as inside them.
  { name: 'first copy in passes, local', mode: 'backup', transport: () => inPasses(localTransport), crashIn: 'client', stride: 1, minPoints: 30, firstCopy: true },
], 100);
