// A run that fails at any one of its calls (a full disk, a far side gone) and is run again ends
// where an uninterrupted run ends: nothing lost, nothing doubled, expunges and moves not undone.
// The real runner over in-memory sides, with the state and journal as the CLI keeps them.

import { describe, expect, it } from 'vitest';
import type { Location } from '../../../src/model.js';
import type { Mode } from '../../../src/sync/plan.js';
import { runSync, type RunResult } from '../../../src/sync/run.js';
import type { Side } from '../../../src/sync/state.js';
import { MemoryAgent, MemoryMaildir } from '../../helpers/memory-agent.js';
import { MemoryPair } from '../../helpers/memory-pair.js';
import { InjectedFailure, tracingAgent, type Call } from '../../helpers/tracing-agent.js';

const ARRIVED = Date.UTC(2024, 0, 1);
let names = 0;

function deliver(m: MemoryMaildir, folder: string, text: string, flags = '', location: Location = flags ? 'cur' : 'new'): string {
  if (!m.folders.has(folder)) m.folders.set(folder, { messages: new Map() });
  const bytes = Buffer.from(`Subject: ${text}\n\n${text}\n`);
  const guid = `${1_700_000_000 + ++names}.M${names}P1.${m.host},S=${bytes.length}`;
  m.place(folder, guid, { bytes, flags, keywords: [], location, mtime: ARRIVED + names * 1000 });
  return guid;
}

function moveTo(m: MemoryMaildir, from: string, guid: string, to: string): void {
  const msg = m.folder(from).messages.get(guid);
  if (!msg) throw new Error(`no ${guid} in ${from}`);
  m.folder(from).messages.delete(guid);
  m.place(to, `${1_700_000_000 + ++names}.M${names}P1.${m.host},S=${msg.bytes.length}`, { ...msg });
}

/** Finds a message by its text, wherever it is. */
function find(m: MemoryMaildir, text: string): { folder: string; guid: string } {
  for (const [folder, f] of m.folders) {
    for (const [guid, msg] of f.messages) if (Buffer.from(msg.bytes).toString().endsWith(`\n${text}\n`)) return { folder, guid };
  }
  throw new Error(`${m.host}: no message "${text}"`);
}

/** After the run: the origin expunges and moves mail the run copied (what an unrecorded copy would bring back). */
function userActsAgain(w: World): void {
  const gone = find(w.sides.a, 'new on a');
  w.sides.a.folder(gone.folder).messages.delete(gone.guid);
  const moved = find(w.sides.a, 'list mail 1');
  moveTo(w.sides.a, moved.folder, moved.guid, 'Archive');
  const flagged = find(w.sides.a, 'list mail 2');
  (w.sides.a.folder(flagged.folder).messages.get(flagged.guid) as { flags: string }).flags = '';
}

interface World {
  sides: Record<Side, MemoryMaildir>;
  pair: MemoryPair;
}

function clone(w: World): World {
  return { sides: { a: w.sides.a.clone(), b: w.sides.b.clone() }, pair: w.pair.clone() };
}

async function run(w: World, mode: Mode, trace?: { calls: Call[]; failAt?: number }): Promise<RunResult> {
  const agent = (side: Side) => {
    const a = new MemoryAgent(w.sides[side], `id-${side}`);
    return trace ? tracingAgent(a, trace) : a;
  };
  return runSync(agent('a'), agent('b'), { mode, checkpointMs: 0, ...w.pair.options() });
}

/** Two Maildirs synced once, then changed on both sides: deliveries, a move, flags, expunges, a new folder. */
async function changedWorld(): Promise<World> {
  const a = new MemoryMaildir('ahost');
  const b = new MemoryMaildir('bhost');
  a.folders.set('INBOX', { messages: new Map() });
  b.folders.set('INBOX', { messages: new Map() });
  const inbox = [1, 2, 3, 4, 5].map((i) => deliver(a, 'INBOX', `a${i}`, i % 2 ? 'S' : ''));
  deliver(a, 'Archive', 'old1', 'S');
  deliver(a, 'Archive', 'old2', 'RS');
  const fromB = [1, 2, 3].map((i) => deliver(b, 'INBOX', `b${i}`));
  const w: World = { sides: { a, b }, pair: new MemoryPair() };
  await run(w, 'sync');
  deliver(a, 'INBOX', 'new on a');
  deliver(a, 'Lists', 'list mail 1');
  deliver(a, 'Lists', 'list mail 2', 'S');
  moveTo(a, 'INBOX', inbox[0] as string, 'Archive');
  (a.folder('INBOX').messages.get(inbox[1] as string) as { flags: string }).flags = 'FS';
  a.folder('INBOX').messages.delete(inbox[2] as string);
  deliver(b, 'INBOX', 'new on b');
  deliver(b, 'Work', 'work mail');
  b.folder('INBOX').messages.delete(fromB[1] as string);
  (b.folder('INBOX').messages.get(fromB[2] as string) as { flags: string; location: Location }).flags = 'S';
  return w;
}

for (const mode of ['sync', 'backup'] as const) {
  describe(`${mode}: a run failing at any call, run again`, () => {
    it('ends as an uninterrupted run ends: nothing lost, doubled or brought back', async () => {
      const start = await changedWorld();
      const clean = clone(start);
      const trace = { calls: [] as Call[] };
      await run(clean, mode, trace);
      userActsAgain(clean);
      await run(clean, mode);
      const expected = { a: clean.sides.a.contents(), b: clean.sides.b.contents() };
      if (mode === 'sync') expect(expected.b).toEqual(expected.a);
      expect(expected.a.some((l) => l.startsWith('Archive') && l.includes('a1'))).toBe(true);
      expect(expected.a.some((l) => l.includes(' a3 ') || l.includes('new on a'))).toBe(false);
      expect(expected.a.filter((l) => l.includes('list mail 1'))).toHaveLength(1);
      const total = trace.calls.length;
      expect(total).toBeGreaterThan(20);
      let failed = 0;
      for (let n = 1; n <= total; n++) {
        const w = clone(start);
        const err = await run(w, mode, { calls: [], failAt: n }).then(() => undefined, (e: unknown) => e);
        if (err !== undefined) {
          expect(err, `call ${n} (${trace.calls[n - 1]?.method})`).toBeInstanceOf(InjectedFailure);
          failed++;
        }
        userActsAgain(w);
        await run(w, mode);
        const what = `failed at call ${n} (${trace.calls[n - 1]?.method} ${trace.calls[n - 1]?.folder ?? ''}), mail expunged and moved, then run again`;
        expect(w.sides.a.contents(), `${what}: first side`).toEqual(expected.a);
        expect(w.sides.b.contents(), `${what}: second side`).toEqual(expected.b);
        const again = await run(w, mode);
        expect(again.summary.transfers, `${what}: a third run`).toEqual({ a: 0, b: 0 });
        expect(again.summary.expunges, `${what}: a third run`).toEqual({ a: 0, b: 0 });
      }
      // Every call of the run's work was one a failure could land on.
      expect(failed).toBe(total);
    });
  });
}
