// One timed run of one tool: wall time, CPU time, peak RSS, bytes on the wire, message files written anew, exactness.

import { spawnSync } from 'node:child_process';
import { countNew, messageInodes } from './inodes.js';
import { sampleLoad } from './load.js';
import { measure, readTime } from './measure.js';
import { resetLink, transferred, type SshLink } from './ssh.js';
import type { Command } from './tools.js';
import type { Exactness } from './verify.js';

export interface Sample {
  /** Exit code; 127 when the program is missing. */
  code: number;
  wallS: number;
  /** Local peak RSS (the largest single process the tool started, its ssh client included). */
  rssMB: number;
  /** Peak RSS of the remote process tree, under GNU time on the far side. */
  remoteRssMB?: number;
  /** User + system CPU seconds of the tool's local processes (its ssh client included). */
  cpuS: number;
  /** The same of the remote process tree (sshd not included). */
  remoteCpuS?: number;
  /** TCP bytes both ways, OpenSSH's count. */
  wireBytes?: number;
  /** Message files whose inode was not in the trees before the run. */
  newFiles: number;
  /** Undefined when the run was not verified. */
  exact?: boolean;
  /** Why not exact, or how the run failed. */
  reason?: string;
}

export interface Step {
  label: string;
  command: Command;
  /** Trees whose message files count as written by the run (the destination; both sides for two-way). */
  written: string[];
  link?: SshLink;
  verify?: () => Exactness;
}

export const missingSample = (why: string): Sample => ({ code: 127, wallS: Number.NaN, rssMB: Number.NaN, cpuS: Number.NaN, newFiles: Number.NaN, exact: false, reason: why });

function firstLineOf(text: string): string {
  return text.trim().split('\n').find((l) => l.trim() !== '')?.trim().slice(0, 160) ?? '';
}

const mb = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : `${n.toFixed(0)} MB`);
const seconds = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '—' : `${n.toFixed(2)} s`);

export function describeSample(s: Sample): string {
  const parts = [
    seconds(s.wallS), `CPU ${seconds(s.cpuS)}${s.remoteCpuS !== undefined ? ` + remote ${seconds(s.remoteCpuS)}` : ''}`,
    `RSS ${mb(s.rssMB)}${s.remoteRssMB !== undefined ? ` + remote ${mb(s.remoteRssMB)}` : ''}`,
  ];
  if (s.wireBytes !== undefined) parts.push(`wire ${(s.wireBytes / 1e6).toFixed(2)} MB`);
  parts.push(`${s.newFiles} new files`);
  if (s.code !== 0) parts.push(`exit ${s.code}`);
  parts.push(`exact: ${s.exact === undefined ? 'not checked' : s.exact ? 'yes' : `no (${s.reason ?? '?'})`}`);
  return parts.join(', ');
}

export async function runStep(step: Step): Promise<Sample> {
  const before = messageInodes(step.written);
  if (step.link) resetLink(step.link);
  // Earlier steps' dirty pages are written back first, so they do not throttle the timed run.
  spawnSync('sync');
  sampleLoad();
  const m = await measure(step.command.cmd, step.command.args, step.command.env);
  const sample: Sample = { code: m.code, wallS: m.wallS, rssMB: m.rssMB, cpuS: m.cpuS, newFiles: countNew(before, messageInodes(step.written)) };
  if (step.link) {
    sample.wireBytes = transferred(step.link.log);
    const remote = readTime(step.link.remote.rssFile);
    sample.remoteRssMB = remote === undefined ? Number.NaN : remote.kb / 1024;
    sample.remoteCpuS = remote?.cpuS ?? Number.NaN;
  }
  if (m.code !== 0) {
    sample.reason = `exit ${m.code}${firstLineOf(m.stderr) ? `: ${firstLineOf(m.stderr)}` : ''}`;
    console.log(`  ${step.label}: exit ${m.code}\n${m.stderr.trim().split('\n').slice(0, 10).map((l) => `    ${l}`).join('\n')}`);
  }
  if (step.verify) {
    const v = step.verify();
    sample.exact = v.exact && m.code === 0;
    if (!v.exact) sample.reason = [sample.reason, v.reason].filter(Boolean).join('; ');
  }
  console.log(`  ${step.label}: ${describeSample(sample)}`);
  return sample;
}
