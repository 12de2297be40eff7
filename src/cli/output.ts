// What the user sees: the plan in words and the summary.

import { writeSync } from 'node:fs';
import { isMoveSource, movedAway, type Plan, type PlanSummary } from '../sync/plan.js';
import { decodeMutf7 } from '../local/mutf7.js';

/**
 * A reader that has gone (`mdsync verify A B | head`) is not an error: later output is dropped and
 * the command ends with its own exit code, as a tool killed by SIGPIPE would be silent (Node ignores
 * SIGPIPE, so writes fail with EPIPE instead); a run still finishes its work rather than stop half-way.
 */
export function dropOutputToClosedPipes(): void {
  for (const [stream, name] of [[process.stdout, 'standard output'], [process.stderr, 'standard error']] as const) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
      // Any other failure (a full disk behind `> file`) is an error line and exit 1; thrown from
      // here it would be an uncaught exception with a stack trace.
      try {
        writeSync(2, `mdsync: cannot write to ${name} (${err.code ?? err.message}): check where it goes, then run again\n`);
      } catch {
        // Standard error itself is what failed: the exit code says it.
      }
      process.exit(1);
    });
  }
}

/**
 * A subscribed name as folder names are shown, in UTF-8: the subscriptions file holds them in
 * modified UTF-7, and so do the plan and the state. A name that does not decode is shown as it is.
 */
export function subscriptionName(name: string): string {
  try {
    return decodeMutf7(name);
  } catch {
    return name;
  }
}

export function describePlan(plan: Plan): string[] {
  const side = (s: 'a' | 'b'): string => (s === 'a' ? 'first' : 'second');
  const lines: string[] = [];
  for (const f of plan.createFolders) lines.push(`create folder ${f.folder} on the ${side(f.side)} side`);
  for (const t of plan.transfers) lines.push(`copy ${t.folder}/${t.sourceGuid} to the ${side(t.from === 'a' ? 'b' : 'a')} side`);
  for (const c of plan.copies) lines.push(`move ${c.request.fromFolder}/${c.request.fromGuid} to ${c.folder} on the ${side(c.side)} side (no transfer)`);
  for (const f of plan.flagChanges) {
    const d = f.delta;
    const parts = [
      d.addFlags && `+${d.addFlags}`, d.removeFlags && `-${d.removeFlags}`,
      ...d.addKeywords.map((k) => `+${k}`), ...d.removeKeywords.map((k) => `-${k}`), d.location && `to ${d.location}/`,
    ].filter(Boolean);
    lines.push(`flags ${f.folder}/${d.guid} on the ${side(f.side)} side: ${parts.join(' ')}`);
  }
  for (const m of plan.mtimes ?? []) lines.push(`mtime ${m.folder}/${m.change.guid} on the ${side(m.side)} side: ${new Date(m.change.mtime).toISOString()}`);
  // The expunge that ends a move is the move's line above, not a line of its own.
  const moved = movedAway(plan);
  for (const e of plan.expunges) if (!isMoveSource(moved, e)) lines.push(`expunge ${e.folder}/${e.guid} on the ${side(e.side)} side`);
  for (const f of plan.deleteFolders) lines.push(`delete folder ${f.folder} on the ${side(f.side)} side`);
  for (const s of ['a', 'b'] as const) {
    const subs = plan.subscriptions[s];
    if (subs) lines.push(`subscriptions on the ${side(s)} side: ${subs.map(subscriptionName).join(', ') || '(none)'}`);
  }
  return lines;
}

export function describeSummary(s: PlanSummary, verb: string): string {
  const pair = (r: { a: number; b: number }): string => `${r.a}/${r.b}`;
  const linked = s.links.a + s.links.b > 0 ? ` (linked ${pair(s.links)})` : '';
  return `${verb}: copied ${pair(s.transfers)}${linked}, moved ${pair(s.copies)}, flagged ${pair(s.flagChanges)}, expunged ${pair(s.expunges)}, folders +${pair(s.createFolders)} -${pair(s.deleteFolders)}${s.mtimes ? `, mtimes ${pair(s.mtimes)}` : ''} (first/second side)`;
}
