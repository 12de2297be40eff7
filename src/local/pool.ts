// The I/O threads (io-pool.ts), their code loaded at the first batch: a run that copies nothing
// never needs it (start-up is most of a no-change run).

import type { IoPool } from './io-pool.js';

let poolCode: Promise<typeof import('./io-pool.js')> | undefined;

export async function ioPool(): Promise<IoPool> {
  poolCode ??= import('./io-pool.js');
  return (await poolCode).ioPool;
}
