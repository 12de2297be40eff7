// The plan phase: the hashes the diff needs, then the three-way diff of both sides and the state
// (DESIGN §8), with each side's messages counted for the guards.

import { fillChecksums } from './checksum.js';
import { diff } from './diff.js';
import type { Planned, Trusted } from './run-types.js';
import { fillHashes } from './snapshot.js';
import { narrowedInput, withoutFolders } from './trust.js';

/** The plan phase: hashes the diff needs, then the three-way diff (DESIGN §8). */
export async function plan(ctx: Trusted): Promise<Planned> {
  const { agents, options, snaps, trusted, quiet, narrowed } = ctx;
  const sides = { a: snaps.a.snap, b: snaps.b.snap };
  const input = { mode: options.mode, a: sides.a, b: sides.b, state: trusted && narrowedInput(withoutFolders(trusted, quiet), narrowed) };
  if (options.checksum) await fillChecksums(agents, sides);
  await fillHashes(agents, sides, input);
  const totals = { a: 0, b: 0 };
  for (const side of ['a', 'b'] as const) {
    for (const name of sides[side].folders.keys()) totals[side] += snaps[side].counts.get(name) ?? 0;
    for (const name of quiet) totals[side] += snaps[side].counts.get(name) ?? 0;
  }
  return { ...ctx, plan: diff(input), totals };
}
