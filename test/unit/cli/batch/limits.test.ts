import { describe, expect, it } from 'vitest';
import { RateLimit, parseLoad, parseRate, waitForLoad } from '../../../../src/cli/batch/limits.js';

describe('batch throttles', () => {
  it('reads rates as rsync does (powers of 1024, a bare number in KiB)', () => {
    expect(parseRate('500K')).toBe(512_000);
    expect(parseRate('20m')).toBe(20 * 1024 * 1024);
    expect(parseRate('1G')).toBe(1024 ** 3);
    expect(parseRate('4096')).toBe(4096 * 1024);
    expect(parseRate('800B')).toBe(800);
    expect(parseRate('2KiB/s')).toBe(2048);
    for (const bad of ['', 'fast', '0', '-5K', '5T']) expect(() => parseRate(bad)).toThrow('--bwlimit takes a rate');
  });

  it('reads a load average and refuses what is not one', () => {
    expect(parseLoad('2.5')).toBe(2.5);
    for (const bad of ['', 'high', '-1']) expect(() => parseLoad(bad)).toThrow('--max-load takes a load average');
  });

  it('makes the batch after a booked one wait for the bytes to be due', async () => {
    const limit = new RateLimit(100_000);
    const t0 = performance.now();
    await limit.take(10_000);
    await limit.take(10_000);
    // 20 000 bytes at 100 000 per second: the second take returns ~0.2 s after the start.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
  });

  it('holds back while the load is above the limit, says so once, and lets go when stopped', async () => {
    const heard: number[] = [];
    let stop = false;
    setTimeout(() => { stop = true; }, 120);
    const t0 = performance.now();
    await waitForLoad(-1, () => stop, (load) => heard.push(load), 20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    expect(heard).toHaveLength(1);
  });
});
