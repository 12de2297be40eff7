// The order in which a run queues its per-folder transfer tasks.

/**
 * Tasks of per-folder groups in the order they are queued: the groups split into two lanes of
 * about as many messages, each lane's folders one after another, the lanes' tasks alternating.
 * Two folders are then written at once, which a local side gives a thread each (two threads
 * writing one directory wait on its lock), and folders still finish one after another (each is
 * then sealed and checkpointed while others copy).
 */
export function inTwoLanes<T>(groups: { size: number; tasks: T[] }[]): T[] {
  const lanes: [T[], T[]] = [[], []];
  const sizes = [0, 0];
  for (const g of groups) {
    const i = (sizes[0] as number) <= (sizes[1] as number) ? 0 : 1;
    lanes[i].push(...g.tasks);
    sizes[i] = (sizes[i] as number) + g.size;
  }
  const out: T[] = [];
  for (let i = 0; i < Math.max(lanes[0].length, lanes[1].length); i++) {
    for (const lane of lanes) {
      const task = lane[i];
      if (task !== undefined) out.push(task);
    }
  }
  return out;
}
