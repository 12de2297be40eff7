// The side-by-side runs of one mode and direction: each tool through initial copy, no-change re-run and re-run after changes.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BodyKind } from './bodies.js';
import { applyChanges, type ChangeCounts } from './corpus.js';
import { chownToMail } from './dovecot.js';
import { applyRealisticChanges, describeRealistic } from './realistic.js';
import { missingSample, runStep, type Sample } from './runner.js';
import type { SshLink } from './ssh.js';
import type { Direction, Mode, Tool, ToolContext, ToolName } from './tools.js';
import { verifyTrees } from './verify.js';

export const SCENARIOS = ['initial copy', 'no-change re-run', 'after changes', 'after realistic changes'] as const;

export interface ToolResult {
  name: ToolName;
  label: string;
  samples: Sample[];
}

export interface SectionResult {
  mode: Mode;
  direction: Direction;
  /** What "after changes" changed, and where. */
  changes: string;
  /** What "after realistic changes" changed. */
  realistic: string;
  /** One entry per scenario, in SCENARIOS order; tools in the order given. */
  scenarios: ToolResult[][];
}

export interface SectionContext {
  mode: Mode;
  work: string;
  cli: string;
  dovecotConfig: string;
  runs: number;
  changes: number;
  /** Folders in the corpus. */
  folders: number;
  seed: number;
  bodies: BodyKind;
  /** Results are verified in the first this many repetitions. */
  verifyRuns: number;
  /** The corpus, as mdsync and rsync read it. */
  src: string;
  /** Dovecot's copy of it, with its indexes, owned by the mail user. */
  srcDovecot: string;
  link?: SshLink;
}

/** A side the tools read or write, as the run leaves it. */
interface Pair {
  tool: Tool;
  a: string;
  b: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const described = (c: ChangeCounts): string => `${c.delivered} delivered, ${c.flagged} flag changes, ${c.moved} moves, ${c.expunged} expunged`;

function changeSeed(c: SectionContext, direction: Direction, rep: number, side: number): number {
  return c.seed * 1000 + (c.mode === 'ssh' ? 500 : 0) + (direction === 'two-way' ? 250 : 0) + rep * 2 + side;
}

function stateEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, XDG_STATE_HOME: join(dir, 'state'), XDG_CACHE_HOME: join(dir, 'cache') };
}

/** A destination Dovecot creates must sit in a directory the mail user may write. */
function prepareDestination(tool: Tool, dir: string): void {
  if (!tool.dovecot) return;
  mkdirSync(dir, { recursive: true });
  chownToMail(dir);
}

function copyTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${from} ${to}: ${r.stderr.trim()}`);
}

async function runScenario(c: SectionContext, direction: Direction, rep: number, scenario: number, pairs: Pair[], ctx: ToolContext, into: ToolResult[]): Promise<void> {
  const verifyEnv = stateEnv(join(c.work, 'xdg-verify'));
  // Tool order rotates with the repetition, so none always runs right after the corpus changed.
  for (let i = 0; i < pairs.length; i++) {
    const index = (i + rep) % pairs.length;
    const { tool, a, b } = pairs[index] as Pair;
    const label = `${c.mode} ${direction}, ${SCENARIOS[scenario]}, ${tool.label}`;
    const missing = tool.missing();
    if (missing) {
      console.log(`  ${label}: ${missing}`);
      into[index]?.samples.push(missingSample(missing));
      continue;
    }
    const sample = await runStep({
      label,
      command: tool.command(ctx, a, b, c.link?.remote),
      written: direction === 'one-way' ? [b] : [a, b],
      link: c.link,
      verify: rep < c.verifyRuns ? () => verifyTrees(c.cli, a, b, verifyEnv) : undefined,
    });
    into[index]?.samples.push(sample);
  }
}

export async function runSection(c: SectionContext, direction: Direction, tools: Tool[]): Promise<SectionResult> {
  const half = Math.ceil(c.changes / 2);
  const result: SectionResult = {
    mode: c.mode,
    direction,
    changes: direction === 'one-way'
      ? `${c.changes}× each of deliveries, flag changes, cross-folder moves and expunges, on the source`
      : `${half}× each of deliveries, flag changes, cross-folder moves and expunges on side a, ${c.changes - half}× each on side b`,
    realistic: direction === 'one-way'
      ? `on the source, ${describeRealistic(c.changes, c.folders)}`
      : `on side a, ${describeRealistic(half, c.folders)}; on side b the same kinds, ${c.changes - half} of each`,
    scenarios: SCENARIOS.map(() => tools.map((t) => ({ name: t.name, label: t.label, samples: [] }))),
  };
  const hasDovecot = tools.some((t) => t.dovecot && !t.missing());
  for (let rep = 0; rep < c.runs; rep++) {
    console.log(`\n${c.mode} ${direction}: repetition ${rep + 1}/${c.runs}`);
    const trees = join(c.work, 'trees', `${c.mode}-${direction}-${rep + 1}`);
    const xdg = join(c.work, 'xdg', `${c.mode}-${direction}-${rep + 1}`);
    const ctx: ToolContext = { cli: c.cli, dovecotConfig: c.dovecotConfig, mdsyncEnv: stateEnv(xdg) };
    // rsync makes its destination but not the directory above it (whichever tool runs first).
    mkdirSync(trees, { recursive: true });
    const pairs: Pair[] = tools.map((tool) => {
      const source = tool.dovecot ? c.srcDovecot : c.src;
      if (direction === 'one-way') return { tool, a: source, b: join(trees, tool.name) };
      const a = join(trees, tool.name, 'a');
      mkdirSync(join(trees, tool.name), { recursive: true });
      copyTree(source, a);
      return { tool, a, b: join(trees, tool.name, 'b') };
    });
    for (const p of pairs) prepareDestination(p.tool, p.b);
    for (let scenario = 0; scenario < SCENARIOS.length; scenario++) {
      if (scenario >= 2) {
        // Dovecot sees a Maildir change by its directory's mtime, in whole seconds.
        if (hasDovecot) await sleep(1100);
        applyScenarioChanges(c, direction, rep, pairs, half, scenario === 3);
      }
      await runScenario(c, direction, rep, scenario, pairs, ctx, result.scenarios[scenario] as ToolResult[]);
    }
    rmSync(trees, { recursive: true, force: true });
    rmSync(xdg, { recursive: true, force: true });
  }
  return result;
}

/**
 * One-way: the same changes on the corpus and on Dovecot's copy of it. Two-way: on both sides of
 * every pair. `realistic`: a day's changes to a few folders (realistic.ts), else each kind anywhere.
 */
function applyScenarioChanges(c: SectionContext, direction: Direction, rep: number, pairs: Pair[], half: number, realistic: boolean): void {
  const change = (root: string, count: number, side: number): ChangeCounts => {
    const seed = changeSeed(c, direction, rep, side);
    return realistic ? applyRealisticChanges(root, { count, seed, bodies: c.bodies }) : applyChanges(root, { count, seed, bodies: c.bodies });
  };
  if (direction === 'one-way') {
    const sources = [...new Set(pairs.map((p) => p.a))];
    for (const source of sources) {
      console.log(`  changes on ${source}: ${described(change(source, c.changes, 0))}`);
      if (pairs.some((p) => p.tool.dovecot && p.a === source)) chownToMail(source);
    }
    return;
  }
  for (const p of pairs) {
    const ca = change(p.a, half, 0);
    const cb = change(p.b, c.changes - half, 1);
    console.log(`  changes for ${p.tool.label}: a: ${described(ca)}; b: ${described(cb)}`);
    if (p.tool.dovecot) chownToMail(join(p.a, '..'));
  }
}
