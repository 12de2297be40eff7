// Is a result exact? `mdsync verify` on the two trees, with a short account of what differs.

import { spawnSync } from 'node:child_process';

export interface Exactness {
  exact: boolean;
  /** Why not, in a few words: counts of differences by kind, or the failure. */
  reason?: string;
}

interface Difference {
  folder?: string;
  what: string;
}

/** Kinds of difference, in the words of `mdsync verify`'s lines: a line of the first group is that kind only. */
const WHOLE: [string, RegExp][] = [
  ['missing', /^only on the first side/],
  ['extra', /^only on the second side/],
  ['folders', /^folder only on/],
  ['subscriptions', /^subscriptions differ/],
  ['unreadable', /^cannot be compared/],
];
const PARTS: [string, RegExp][] = [
  ['flags', /: .*flags "/],
  ['keywords', /: .*keywords \[/],
  ['cur/new', /: .*(cur|new)\/ ≠ /],
  ['mtime', /: .*mtime /],
];

function kindsOf(what: string): string[] {
  const whole = WHOLE.find(([, re]) => re.test(what));
  if (whole) return [whole[0]];
  const parts = PARTS.filter(([, re]) => re.test(what)).map(([kind]) => kind);
  return parts.length > 0 ? parts : ['other'];
}

export function summarize(differences: Difference[]): string {
  const counts = new Map<string, number>();
  for (const d of differences) for (const kind of kindsOf(d.what)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const parts = [...counts].sort((x, y) => y[1] - x[1]).map(([kind, n]) => `${kind} ${n}`);
  return `${differences.length} differences (${parts.join(', ')})`;
}

export function verifyTrees(cli: string, a: string, b: string, env: NodeJS.ProcessEnv): Exactness {
  const r = spawnSync(process.execPath, [cli, 'verify', '--json', a, b], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status === 0) return { exact: true };
  try {
    const json = JSON.parse((r.stdout ?? '').trim().split('\n').pop() ?? '') as { differences: Difference[] };
    if (r.status === 1 && Array.isArray(json.differences)) return { exact: false, reason: summarize(json.differences) };
  } catch {
    // Not a verify report: say how it ended instead.
  }
  const said = `${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return { exact: false, reason: `verify exit ${r.status ?? r.signal}${said ? `: ${said.slice(0, 120)}` : ''}` };
}
