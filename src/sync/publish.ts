// Folders a run fills built aside and published whole. A folder new to a side that the run fills
// is created staged there, and so is what fills a folder that held no message (the INBOX of a
// Maildir just made, the Sent or Trash Dovecot made at a client's login): a reader never sees it
// half copied, and its files skip tmp/. It is published when its last placement is made; until
// then a checkpoint leaves it out, as if not yet created: no saved state names files unseen.

import type { Agent } from './agent.js';
import type { PlacementLog } from './journal.js';
import type { Plan, Transfer } from './plan.js';
import { other, type Side } from './state.js';

const keyOf = (side: Side, folder: string): string => `${side}\0${folder}`;

export class StagedFolders {
  /** Staged folders, with the placements still to come into each. */
  private readonly unpublished = new Map<string, { side: Side; folder: string; left: number }>();

  constructor(private readonly agents: Record<Side, Agent>, private readonly log: PlacementLog | undefined) {}

  /** Creates the plan's folders (staged where the run fills them) and stages the empty ones it fills. */
  async create(plan: Plan, transferGroups: Transfer[][], empty: Record<Side, Set<string>>, include: (folder: string) => boolean): Promise<void> {
    const placements = new Map<string, number>();
    const count = (side: Side, folder: string, n: number): void => {
      const key = keyOf(side, folder);
      placements.set(key, (placements.get(key) ?? 0) + n);
    };
    for (const group of transferGroups) count(other((group[0] as Transfer).from), (group[0] as Transfer).folder, group.length);
    for (const c of plan.copies) count(c.side, c.folder, 1);
    for (const op of plan.createFolders) {
      const left = placements.get(keyOf(op.side, op.folder)) ?? 0;
      await this.agents[op.side].createFolder(op.folder, left > 0 ? { staged: true } : {});
      if (left > 0) this.unpublished.set(keyOf(op.side, op.folder), { side: op.side, folder: op.folder, left });
    }
    for (const side of ['a', 'b'] as const) {
      for (const folder of empty[side]) {
        const key = keyOf(side, folder);
        const left = placements.get(key) ?? 0;
        if (left === 0 || this.unpublished.has(key) || !include(folder)) continue;
        if (await this.agents[side].stageFolder?.(folder)) this.unpublished.set(key, { side, folder, left });
      }
    }
  }

  /** Whether this side's copy of the folder is built aside. */
  isStaged(side: Side, folder: string): boolean {
    return this.unpublished.has(keyOf(side, folder));
  }

  /** Whether either side's copy of the folder is still built aside. */
  isUnpublished(folder: string): boolean {
    return this.unpublished.has(keyOf('a', folder)) || this.unpublished.has(keyOf('b', folder));
  }

  /** `count` placements were made into the folder: published after its last. */
  async placed(side: Side, folder: string, count: number): Promise<void> {
    const key = keyOf(side, folder);
    const staged = this.unpublished.get(key);
    if (!staged || staged.left <= 0) return;
    staged.left -= count;
    if (staged.left <= 0) await this.publish(key);
  }

  /** Publishes what is left staged (placements that vanished or were linked elsewhere never came). */
  async publishAll(): Promise<void> {
    for (const key of [...this.unpublished.keys()]) await this.publish(key);
  }

  private async publish(key: string): Promise<void> {
    const staged = this.unpublished.get(key);
    if (!staged) return;
    await this.log?.publishing(staged.folder, staged.side);
    await this.agents[staged.side].publishFolder?.(staged.folder);
    this.unpublished.delete(key);
  }
}
