#!/usr/bin/env node
// A list server's INBOX under load: `node churn-writer.mjs DIR RATE` delivers into DIR/new/ (tmp/
// then rename) and renames flags of messages in DIR/cur/, about RATE operations a second in all,
// until SIGTERM; then prints the base names it delivered, one per line. It never expunges.
import { readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const [dir, rateText] = process.argv.slice(2);
const rate = Number(rateText ?? 400);
const delivered = [];
let stop = false;
let n = 0;
process.on('SIGTERM', () => { stop = true; });

/** The writer's own idea of cur/: names as it last renamed them (read again when a rename misses). */
let cur = (await readdir(join(dir, 'cur'))).filter((f) => f.includes(':2,'));

async function deliver() {
  n++;
  const base = `${1800000000 + n}.M${n}P${process.pid}.churn`;
  const body = `From: c@example.org\r\nSubject: churn ${n}\r\nMessage-ID: <${base}@example.org>\r\n\r\nDelivered under load\r\n`;
  const name = `${base},S=${Buffer.byteLength(body)}`;
  await writeFile(join(dir, 'tmp', name), body, { flag: 'wx' });
  await rename(join(dir, 'tmp', name), join(dir, 'new', name));
  delivered.push(name);
}

async function toggleFlag(i) {
  if (cur.length === 0) return;
  const k = (i * 7919) % cur.length;
  const name = cur[k];
  const [base, flags] = name.split(':2,');
  const next = flags.includes('F') ? flags.replace('F', '') : [...flags, 'F'].sort().join('');
  const to = `${base}:2,${next}`;
  try {
    await rename(join(dir, 'cur', name), join(dir, 'cur', to));
    cur[k] = to;
  } catch {
    // Renamed by the run meanwhile (a two-way run's flag change): look again.
    cur = (await readdir(join(dir, 'cur'))).filter((f) => f.includes(':2,'));
  }
}

const started = Date.now();
for (let i = 0; !stop; i++) {
  if (i % 3 === 0) await deliver();
  else await toggleFlag(i);
  // Paced to RATE a second on average, in bursts of a few operations.
  const ahead = i + 1 - ((Date.now() - started) * rate) / 1000;
  if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, (ahead * 1000) / rate));
}
process.stdout.write(delivered.map((d) => `${d}\n`).join(''));
