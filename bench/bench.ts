// `npm run bench`: mdsync against rsync and doveadm on a real-mail corpus, locally and over SSH, a scale test, small mailboxes and many of them; writes bench/RESULTS.md.

import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './document.js';
import { writeDovecotConfig } from './dovecot.js';
import { filesystem, machine } from './environment.js';
import { parseOptions } from './options.js';
import { runScale, scaleTable } from './scale.js';
import { runSideBySide } from './side-by-side.js';
import { runSmall, smallTable } from './small.js';
import { batchTable, runBatch } from './batch.js';
import { snapshotMdsync } from './snapshot.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  mkdirSync(options.dir, { recursive: true });
  const work = mkdtempSync(join(options.dir, 'mdsync-bench-'));
  // The mail user Dovecot works as must reach the trees inside.
  chmodSync(work, 0o755);
  console.log(`# mdsync benchmark\nwork dir ${work} (${filesystem(work)}), report ${options.out}`);
  // Killed halfway, the run leaves neither its gigabytes of Maildirs behind nor a partial report.
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping; the report is left as it was`);
      if (!options.keep) rmSync(work, { recursive: true, force: true });
      process.exit(code);
    });
  }
  try {
    const dovecotConfig = writeDovecotConfig(work);
    const cli = snapshotMdsync(REPO, work);
    const body = options.sideBySide ? await runSideBySide({ options, work, cli, repo: REPO, dovecotConfig }) : undefined;
    let scale: string | undefined;
    if (options.scale) {
      const rows = await runScale({ work, cli, sizes: options.scaleSizes, folders: options.scaleFolders, runs: options.runs, seed: options.seed });
      scale = [
        '## Scale: mdsync backup, no-change re-run',
        '',
        `Generated messages of 1–2 KB in ${options.scaleFolders} folders; for each size the initial backup (timed only as set-up; its peak RSS is what a first copy of that many messages needs), then ` +
          `${options.runs} no-change re-runs, medians; growth relative to the smallest size. Then, as if that first copy had stopped halfway, ` +
          'the folders holding the first half of the messages copied again into an empty replica (set-up, `--exclude` for the others) and the whole run again: the second half (one run). ' +
          `Measured on ${new Date().toISOString().slice(0, 10)}, ` +
          `${machine()}, work dir ${filesystem(work)}.`,
        '',
        scaleTable(rows),
      ].join('\n');
    }
    let small: string | undefined;
    if (options.small) {
      const rows = await runSmall({ work, cli, sizes: options.smallSizes, runs: Math.max(options.runs, 5), seed: options.seed });
      small = [
        '## Small mailboxes: first copy and no-change re-run, mdsync backup against rsync -a --delete',
        '',
        'Most mailboxes of a migration are small. For each size, the SpamAssassin corpus dealt into a Maildir (as above), then ' +
          `${Math.max(options.runs, 5)} repetitions of a first copy into an empty destination and a no-change re-run, the two tools alternating ` +
          '(the order rotating), medians; the ratio is the median of each repetition\'s own ratio. mdsync starts with no state and no cache each time, ' +
          `and fsyncs what it writes; rsync does not. Measured on ${new Date().toISOString().slice(0, 10)}, ${machine()}, work dir ${filesystem(work)}.`,
        '',
        smallTable(rows),
      ].join('\n');
    }
    let batch: string | undefined;
    if (options.batch) {
      const rows = await runBatch({ work, cli, users: options.batchUsers, messages: options.batchMessages, sample: options.batchSample, jobs: options.batchJobs, runs: options.runs, seed: options.seed });
      batch = [
        '## Many small mailboxes over SSH: mdsync batch against a run per user',
        '',
        `${options.batchUsers} users of ${options.batchMessages} messages each (the SpamAssassin corpus in 3 folders), backed up to an sshd on 127.0.0.1 through the built-in client: ` +
          `\`mdsync batch backup --jobs ${options.batchJobs}\` (one process, one connection, one far \`mdsync serve --sessions\`) against a shell loop of \`mdsync backup\` per user and ` +
          `\`parallel -j${options.batchJobs}\` of it, each starting a process, a login and a far mdsync per user. The per-user peers are timed on ${Math.min(options.batchSample, options.batchUsers)} users and scaled to all. ` +
          `${options.runs} repetitions, medians. Measured on ${new Date().toISOString().slice(0, 10)}, ${machine()}, work dir ${filesystem(work)}.`,
        '',
        batchTable(rows),
      ].join('\n');
    }
    writeReport(options.out, { body, scale, small, batch });
    console.log(`\nreport written to ${options.out} (${((Date.now() - started) / 60_000).toFixed(1)} min in all)`);
    return 0;
  } finally {
    if (options.keep) console.log(`work dir kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
