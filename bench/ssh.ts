// The benchmark's SSH variant: mdsync and rsync to a throw-away sshd on 127.0.0.1, with bytes on the wire.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSH, SSHD, requireTool, sshCommand, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { applyChanges } from './corpus.js';
import { measure, median } from './measure.js';
import { table } from './report.js';

export interface SshBenchOptions {
  cli: string;
  src: string;
  work: string;
  runs: number;
  changes: number;
  seed: number;
  rsync?: string;
  verify(dst: string): boolean;
}

interface SshSample {
  wallS: number;
  rssMB: number;
  /** TCP payload both ways, from OpenSSH's own "Transferred:" count (SSH framing and handshake included). */
  tcpBytes: number;
  /** mdsync only: protocol frames both ways, from its --json summary. */
  protocolBytes?: number;
  /** mdsync only: message bytes delivered. */
  messageBytes?: number;
  exact: boolean;
}

export function sshAvailable(): boolean {
  try {
    requireTool(SSHD);
    requireTool(SSH);
    return true;
  } catch {
    return false;
  }
}

/** OpenSSH logs "Transferred: sent N, received M bytes" at DEBUG1 when the session ends. */
function transferred(log: string): number {
  const m = [...readFileSync(log, 'utf8').matchAll(/Transferred: sent (\d+), received (\d+) bytes/g)].pop();
  return m ? Number(m[1]) + Number(m[2]) : Number.NaN;
}

function wireOf(stdout: string): { protocol: number; messages: number } {
  try {
    const json = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { bytes: number; wire: { b?: { sent: number; received: number } } };
    return { protocol: (json.wire.b?.sent ?? 0) + (json.wire.b?.received ?? 0), messages: json.bytes };
  } catch {
    return { protocol: Number.NaN, messages: Number.NaN };
  }
}

const kb = (n: number): string => (Number.isNaN(n) ? '—' : n < 10_000 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1e6).toFixed(2)} MB`);

export async function runSshBench(o: SshBenchOptions): Promise<string> {
  const remoteCache = join(o.work, 'ssh-remote-cache');
  mkdirSync(remoteCache, { recursive: true });
  const sshd: TestSshd = await startSshd({ env: { XDG_CACHE_HOME: remoteCache } });
  const env = { ...process.env, XDG_STATE_HOME: join(o.work, 'xdg-ssh/state'), XDG_CACHE_HOME: join(o.work, 'xdg-ssh/cache') };
  const log = join(o.work, 'ssh.log');
  const ssh = `${sshCommand(sshd)} -o LogLevel=DEBUG1 -E ${log}`;
  const remote = (path: string): string => `${sshd.user}@127.0.0.1:${path}`;
  const remotePath = `${process.execPath} ${o.cli}`;
  const labels = ['initial backup (empty destination)', 'no-change re-run', `re-run after ${o.changes} flag changes only`, `re-run after ${o.changes}× each of deliveries, flag changes, moves, expunges`];
  const results: { mdsync: SshSample[]; rsync: SshSample[] }[] = labels.map(() => ({ mdsync: [], rsync: [] }));
  try {
    for (let rep = 0; rep < o.runs; rep++) {
      console.log(`ssh repetition ${rep + 1}/${o.runs}`);
      rmSync(join(o.work, 'xdg-ssh'), { recursive: true, force: true });
      const dst = join(o.work, 'dst', `ssh-mdsync-${rep + 1}`);
      const dstRsync = join(o.work, 'dst', `ssh-rsync-${rep + 1}`);
      for (const [i, label] of labels.entries()) {
        if (i === 2) applyChanges(o.src, { seed: 50_000 + o.seed * 100 + rep, flagChanges: o.changes, deliveries: 0, moves: 0, expunges: 0 });
        if (i === 3) applyChanges(o.src, { seed: 60_000 + o.seed * 100 + rep, count: o.changes });
        spawnSync('sync');
        writeFileSync(log, '');
        const m = await measure(process.execPath, [o.cli, 'backup', o.src, remote(dst), '--json', '-e', ssh, '--remote-path', remotePath], env);
        const wire = wireOf(m.stdout);
        const sample: SshSample = { wallS: m.wallS, rssMB: m.rssMB, tcpBytes: transferred(log), protocolBytes: wire.protocol, messageBytes: wire.messages, exact: m.code === 0 && o.verify(dst) };
        if (m.code !== 0) console.log(`  mdsync over ssh ${label}: exit ${m.code}\n${m.stderr}`);
        results[i]?.mdsync.push(sample);
        console.log(`  mdsync over ssh ${label}: ${m.wallS.toFixed(2)} s, ${m.rssMB.toFixed(1)} MB, wire ${kb(sample.tcpBytes)} (protocol ${kb(wire.protocol)}, messages ${kb(wire.messages)}), exact: ${sample.exact ? 'yes' : 'no'}`);
        if (o.rsync) {
          spawnSync('sync');
          writeFileSync(log, '');
          const r = await measure(o.rsync, ['-a', '--delete', '-e', ssh, `${o.src}/`, `${remote(dstRsync)}/`], env);
          const rs: SshSample = { wallS: r.wallS, rssMB: r.rssMB, tcpBytes: transferred(log), exact: r.code === 0 && o.verify(dstRsync) };
          results[i]?.rsync.push(rs);
          console.log(`  rsync over ssh ${label}: ${r.wallS.toFixed(2)} s, ${r.rssMB.toFixed(1)} MB, wire ${kb(rs.tcpBytes)}, exact: ${rs.exact ? 'yes' : 'no'}`);
        }
      }
    }
  } finally {
    await sshd.stop();
  }
  const med = (xs: number[]): number => median(xs.filter((x) => !Number.isNaN(x)));
  const rows = labels.map((label, i) => {
    const r = results[i] as { mdsync: SshSample[]; rsync: SshSample[] };
    const m = r.mdsync;
    const cells = [label, med(m.map((s) => s.wallS)).toFixed(2), med(m.map((s) => s.rssMB)).toFixed(1), kb(med(m.map((s) => s.tcpBytes))), kb(med(m.map((s) => s.protocolBytes ?? Number.NaN))), m.every((s) => s.exact) ? 'yes' : 'no'];
    if (r.rsync.length === 0) return [...cells, '—', '—', '—', '—'];
    const rw = med(r.rsync.map((s) => s.wallS));
    return [...cells, rw.toFixed(2), kb(med(r.rsync.map((s) => s.tcpBytes))), r.rsync.every((s) => s.exact) ? 'yes' : 'no', (med(m.map((s) => s.wallS)) / rw).toFixed(2)];
  });
  return table(['over ssh (OpenSSH client, sshd on 127.0.0.1)', 'mdsync wall s', 'mdsync peak RSS MB', 'mdsync on the wire', 'mdsync protocol', 'exact', 'rsync wall s', 'rsync on the wire', 'rsync exact', 'mdsync/rsync'], rows);
}
