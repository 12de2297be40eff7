// The batch's throttles, to spare the old server: `--bwlimit` (message bytes per second across every
// user in flight) and `--max-load` (no new user while the 1-minute load average is above it).

import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MdsyncError } from '../../errors.js';
import { quoted } from '../../printable.js';

const UNITS: Record<string, number> = { '': 1024, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `500K`, `20M`, `1G`, `800B`; a bare number is KiB (powers of 1024, as rsync reads --bwlimit): bytes per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:([kmg])i?b?|(b)?)(?:\/s)?$/i.exec(text.trim());
  const rate = m ? Number(m[1]) * (UNITS[(m[2] ?? m[3] ?? '').toLowerCase()] as number) : NaN;
  if (!m || !(rate >= 1)) throw new MdsyncError('USAGE', `--bwlimit takes a rate such as 500K or 20M (bytes per second), not ${quoted(text)}`);
  return Math.floor(rate);
}

export function parseLoad(text: string): number {
  const load = Number(text);
  if (text.trim() === '' || !Number.isFinite(load) || load < 0) throw new MdsyncError('USAGE', `--max-load takes a load average such as 8 or 2.5, not ${quoted(text)}`);
  return load;
}

/**
 * One budget shared by every run of the batch: each batch of messages sent books its bytes, and
 * the next waits until the rate allows them. Bytes are booked after they are sent (a run cannot
 * know a batch's size before it reads it), so the rate holds over seconds, not within one batch.
 */
export class RateLimit {
  private next = 0;
  constructor(private readonly bytesPerSecond: number) {}

  readonly take = async (bytes: number): Promise<void> => {
    if (bytes <= 0) return;
    const now = performance.now();
    this.next = Math.max(this.next, now) + (bytes / this.bytesPerSecond) * 1000;
    const wait = this.next - now;
    if (wait > 1) await sleep(wait);
  };
}

/** Waits while the load average is above `max`; `onWait` hears the load the first time it waits. */
export async function waitForLoad(max: number, stopped: () => boolean, onWait: (load: number) => void, pollMs = 2_000): Promise<void> {
  let told = false;
  for (;;) {
    const load = loadavg()[0] as number;
    if (load <= max || stopped()) return;
    if (!told) onWait(load);
    told = true;
    await sleep(pollMs);
  }
}
