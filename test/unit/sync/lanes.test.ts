// The order of a run's transfer tasks: two folders at a time, each folder's tasks in order.

import { describe, expect, it } from 'vitest';
import { inTwoLanes } from '../../../src/sync/lanes.js';

const group = (folder: string, tasks: number, size = tasks * 128): { size: number; tasks: string[] } =>
  ({ size, tasks: Array.from({ length: tasks }, (_, i) => `${folder}${i}`) });

describe('inTwoLanes', () => {
  it('alternates two folders, each lane taking its next folder when one ends', () => {
    expect(inTwoLanes([group('A', 3), group('B', 2), group('C', 2)])).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'C0', 'C1']);
  });

  it('gives each lane about as many messages', () => {
    const order = inTwoLanes([group('A', 1, 10_000), group('B', 1, 10), group('C', 1, 10), group('D', 1, 10)]);
    // B, C and D share the lane beside the large folder A.
    expect(order).toEqual(['A0', 'B0', 'C0', 'D0']);
    expect(inTwoLanes([group('A', 4, 10_000), group('B', 1, 10), group('C', 1, 10)])).toEqual(['A0', 'B0', 'A1', 'C0', 'A2', 'A3']);
  });

  it('keeps every task once and each folder\'s tasks in their order', () => {
    const groups = [group('A', 5), group('B', 1), group('C', 7), group('D', 2), group('E', 3)];
    const order = inTwoLanes(groups);
    expect([...order].sort()).toEqual(groups.flatMap((g) => g.tasks).sort());
    for (const g of groups) expect(order.filter((t) => t[0] === g.tasks[0]?.[0])).toEqual(g.tasks);
  });

  it('queues one folder as it is, and nothing as nothing', () => {
    expect(inTwoLanes([group('A', 3)])).toEqual(['A0', 'A1', 'A2']);
    expect(inTwoLanes([])).toEqual([]);
  });
});
