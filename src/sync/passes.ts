// A first copy into a side holding no message, made in passes of a few folders: which ones.

import type { FolderList } from '../model.js';
import type { Mode } from './plan.js';
import type { Side } from './state.js';

/**
 * Messages a pass gathers before the next one starts (the last takes what is left).
 * MDSYNC_PASS_MESSAGES sets it (tests make passes of a message or two).
 */
export const PASS_MESSAGES = Number(process.env.MDSYNC_PASS_MESSAGES) || 10_000;

/**
 * Messages from which a first copy goes in passes; MDSYNC_PASSES_FROM sets it. Below, one pass
 * as ever: passes cost ~5 % in time (~10 % over SSH, the pipeline drained between passes) and at
 * 100 000 messages save only ~15 % of the peak memory; from here on, memory that grows with the
 * Maildir (~750 MB at 300 000) is what matters.
 */
export const PASSES_FROM = Number(process.env.MDSYNC_PASSES_FROM) || 200_000;

/**
 * Messages whose folders' listings a first copy's sides keep as they sum them up (~300 bytes
 * each); beyond, each folder is let go of, and its names are parsed again in its pass.
 */
export const KEPT_LISTED = PASSES_FROM;

export interface FirstCopy {
  /** Messages to copy in all. */
  messages: number;
  /** Folder names, in name order, grouped into passes. */
  passes: string[][];
}

/**
 * Passes for a run that only fills an empty side: every folder of the side with mail, in name
 * order, grouped until a pass holds at least `size` messages; a folder only the empty side has
 * joins the pass its name falls in. Undefined for any other run, which goes in one pass as ever:
 * both sides hold mail, a folder is damaged or unreadable, the mode never copies that way, or
 * there are fewer messages than `least` (or than two passes hold).
 */
export function firstCopyPasses(
  mode: Mode, lists: Record<Side, FolderList>, include: (name: string) => boolean, size = PASS_MESSAGES, least = PASSES_FROM,
): FirstCopy | undefined {
  const counts: Record<Side, Map<string, number>> = { a: new Map(), b: new Map() };
  for (const side of ['a', 'b'] as const) {
    for (const f of lists[side].folders) {
      if (!include(f.name)) continue;
      if (f.damaged !== undefined || f.unreadable !== undefined) return undefined;
      counts[side].set(f.name, f.messages);
    }
  }
  const total = (side: Side): number => [...counts[side].values()].reduce((n, c) => n + c, 0);
  const from: Side | undefined = total('b') === 0 ? 'a' : total('a') === 0 && mode === 'sync' ? 'b' : undefined;
  if (from === undefined) return undefined;
  const messages = total(from);
  if (messages < Math.max(least, 2 * size)) return undefined;
  const passes: string[][] = [];
  let pass: string[] = [];
  let held = 0;
  for (const name of [...new Set([...counts.a.keys(), ...counts.b.keys()])].sort()) {
    pass.push(name);
    held += counts[from].get(name) ?? 0;
    if (held < size) continue;
    passes.push(pass);
    pass = [];
    held = 0;
  }
  if (pass.length > 0) passes.push(pass);
  return passes.length > 1 ? { messages, passes } : undefined;
}
