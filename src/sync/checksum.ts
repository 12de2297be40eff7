// `--checksum`: the folders both sides hold are compared by content and mtime, as `verify` compares
// them, not by name; each side hashes its own files (a far side's bodies never cross for it).

import { MdsyncError } from '../errors.js';
import type { Agent } from './agent.js';
import type { SideSnapshot } from './diff.js';
import type { Plan } from './plan.js';
import { SIDE_NAME, type Side } from './state.js';


/** Refuses before anything is read or changed when a side's Agent cannot do it. */
function requireChecksums(agents: Record<Side, Agent>): void {
  for (const side of ['a', 'b'] as const) {
    if (!agents[side].checksum || !agents[side].setMtimes) {
      throw new MdsyncError('USAGE', `the ${SIDE_NAME[side]} side's mdsync cannot compare files for --checksum: run without --checksum`);
    }
  }
}

/**
 * Gives every entry of the folders both sides hold its hash and mtime, read from its file now: a
 * hash kept from before (a cache trusting the name) is replaced. A message gone meanwhile keeps
 * what its entry said.
 */
export async function fillChecksums(agents: Record<Side, Agent>, snaps: Record<Side, SideSnapshot>): Promise<void> {
  requireChecksums(agents);
  for (const [name, fa] of snaps.a.folders) {
    const fb = snaps.b.folders.get(name);
    if (!fb) continue;
    await Promise.all((['a', 'b'] as const).map(async (side) => {
      const entries = (side === 'a' ? fa : fb).messages;
      if (entries.length === 0) return;
      const got = await (agents[side].checksum as NonNullable<Agent['checksum']>)(name, entries.map((e) => e.guid));
      entries.forEach((e, i) => {
        const c = got[i];
        if (!c) return;
        e.hash = c.hash;
        e.mtime = c.mtime;
      });
    }));
  }
}

/** Sets the mtimes the plan repairs; returns how many files had gone meanwhile. */
export async function applyMtimes(agents: Record<Side, Agent>, plan: Plan): Promise<number> {
  const groups = new Map<string, { side: Side; folder: string; changes: { guid: string; mtime: number }[] }>();
  for (const m of plan.mtimes ?? []) {
    const key = `${m.side}\0${m.folder}`;
    const g = groups.get(key) ?? { side: m.side, folder: m.folder, changes: [] };
    g.changes.push(m.change);
    groups.set(key, g);
  }
  let vanished = 0;
  for (const g of groups.values()) {
    const setMtimes = agents[g.side].setMtimes;
    if (!setMtimes) throw new MdsyncError('USAGE', `the ${SIDE_NAME[g.side]} side's mdsync cannot set mtimes for --checksum`);
    const done = await setMtimes.call(agents[g.side], g.folder, g.changes);
    vanished += done.filter((ok) => !ok).length;
  }
  return vanished;
}
