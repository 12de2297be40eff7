// The progress line's words: each step named, sizes and durations as a person reads them.

import { describe, expect, it } from 'vitest';
import { describeProgress, formatBytes, formatDuration } from '../../../src/cli/progress.js';

describe('progress line', () => {
  it.each([[0, '0 B'], [999, '999 B'], [1_500, '1.5 kB'], [15_000_000, '15 MB'], [2_345_000_000, '2.3 GB']])('%d bytes: %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it.each([[0.2, '1 s'], [59, '59 s'], [90, '2 min'], [3_700, '1 h 2 min']])('%d s: %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  it('names each step, and during transfers the messages, bytes, rate and time left', () => {
    expect(describeProgress({ phase: 'scan', done: 1, total: 2 }, 0)).toBe('reading the folders of both sides (1 of 2 done)');
    expect(describeProgress({ phase: 'compare', done: 0, total: 0 }, 0)).toBe('comparing both sides');
    expect(describeProgress({ phase: 'transfer', done: 0, total: 400, bytes: 0 }, 0)).toBe('copying 0 of 400 messages');
    expect(describeProgress({ phase: 'transfer', done: 100, total: 400, bytes: 3_000_000 }, 2_000)).toBe('copying 100 of 400 messages, 3.0 MB, 1.5 MB/s, about 6 s left');
    expect(describeProgress({ phase: 'transfer', done: 400, total: 400, bytes: 12_000_000 }, 8_000)).toBe('copying 400 of 400 messages, 12 MB, 1.5 MB/s');
    expect(describeProgress({ phase: 'flags', done: 3, total: 10 }, 0)).toBe('setting flags: 3 of 10 messages');
    expect(describeProgress({ phase: 'expunge', done: 0, total: 5 }, 0)).toBe('removing message files: 0 of 5');
  });
});
