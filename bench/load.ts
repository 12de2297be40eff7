// The machine's load average before each timed run: a sign of other work sharing the cores with the benchmark.

import { readFileSync } from 'node:fs';
import { median } from './measure.js';

const samples: number[] = [];

/** Records the 1-minute load average (Linux /proc/loadavg; nothing elsewhere). */
export function sampleLoad(): void {
  try {
    const one = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    if (Number.isFinite(one)) samples.push(one);
  } catch {
    // No /proc: no figure.
  }
}

export function loadSummary(): string {
  if (samples.length === 0) return 'not measured';
  return `median ${median(samples).toFixed(2)}, max ${Math.max(...samples).toFixed(2)} over ${samples.length} timed runs`;
}
