// The progress line on stderr: what the run is doing, in words; during transfers messages, bytes, rate and time left.

import type { ProgressEvent } from '../sync/run.js';

/** Least time between two lines: redrawn in place on a terminal, written one under another elsewhere (a log). */
const TERMINAL_MS = 100;
const LOG_MS = 1_000;

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The line for an event; `elapsedMs`: time since the transfers began. */
export function describeProgress(e: ProgressEvent, elapsedMs: number): string {
  switch (e.phase) {
    case 'scan':
      return `reading the folders of both sides (${e.done} of 2 done)`;
    case 'compare':
      return 'comparing both sides';
    case 'flags':
      return `setting flags: ${e.done} of ${e.total} messages`;
    case 'expunge':
      return `removing message files: ${e.done} of ${e.total}`;
    case 'done':
      return 'done';
    case 'transfer': {
      const parts = [`copying ${e.done} of ${e.total} messages`];
      const bytes = e.bytes ?? 0;
      if (e.done > 0) parts.push(formatBytes(bytes));
      const seconds = elapsedMs / 1000;
      if (e.done > 0 && seconds > 0) parts.push(`${formatBytes(Math.round(bytes / seconds))}/s`);
      if (e.done > 0 && e.done < e.total && seconds > 0) parts.push(`about ${formatDuration((seconds * (e.total - e.done)) / e.done)} left`);
      return parts.join(', ');
    }
  }
}

/**
 * On a terminal the line is redrawn in place and cleared at the end; into a pipe or file each
 * line ends with a newline. A new phase, the first count of a transfer (its rate and time left
 * are known from then on) and its last are always shown; the rest at most every so often.
 */
export function progressPrinter(stream: NodeJS.WriteStream): (e: ProgressEvent) => void {
  const isTerminal = stream.isTTY === true;
  const interval = isTerminal ? TERMINAL_MS : LOG_MS;
  let lastAt = 0;
  let lastPhase: ProgressEvent['phase'] | undefined;
  let transferStart: number | undefined;
  let shownCounted = false;
  return (e) => {
    const now = Date.now();
    if (e.phase === 'transfer') transferStart ??= now;
    if (e.phase === 'done') {
      if (isTerminal) stream.write('\r\x1b[K');
      return;
    }
    const newPhase = e.phase !== lastPhase;
    const firstCount = e.phase === 'transfer' && e.done > 0 && !shownCounted;
    const last = e.total > 0 && e.done === e.total;
    if (!newPhase && !firstCount && !last && now - lastAt < interval) return;
    if (firstCount) shownCounted = true;
    lastAt = now;
    lastPhase = e.phase;
    const line = describeProgress(e, transferStart === undefined ? 0 : now - transferStart);
    stream.write(isTerminal ? `\r\x1b[K${line}` : `${line}\n`);
  };
}
