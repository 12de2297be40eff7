// The I/O threads (pool.ts), their code loaded at the first batch: a run that copies nothing
// never needs it (start-up is most of a no-change run).

import type { IoPool } from './pool.js';

let poolCode: Promise<typeof import('./pool.js')> | undefined;
let pool: IoPool | undefined;
/** Files announced before the pool's code was loaded. */
let announced = 0;

export async function ioPool(): Promise<IoPool> {
  poolCode ??= import('./pool.js');
  const loaded = (await poolCode).ioPool;
  if (!pool) {
    pool = loaded;
    if (announced > 0) pool.expect(announced);
  }
  return pool;
}

/** A run is about to move this many message files through the pool (IoPool.expect). */
export function expectFiles(files: number): void {
  if (pool) pool.expect(files);
  else announced += files;
}
