#!/usr/bin/env node
// A busy neighbour on a Maildir, as an MDA and an MUA are: `node neighbour.mjs ROOT TAG DIR…`
// delivers messages (written in tmp/, renamed into new/), moves messages from new/ to cur/ and
// renames flags in cur/, in the given folder directories, until SIGTERM; then prints the base
// names it delivered, one per line.
import { readdir, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const [root, tag, ...dirs] = process.argv.slice(2);
const delivered = [];
let stop = false;
let n = 0;
process.on('SIGTERM', () => { stop = true; });

async function deliver(dir) {
  n++;
  const base = `${1700000000 + n}.M${n}P${process.pid}.${tag}`;
  const body = `From: n@example.org\r\nSubject: ${tag} ${n}\r\nMessage-ID: <${base}@example.org>\r\n\r\nDelivered during the run\r\n`;
  const name = `${base},S=${Buffer.byteLength(body)}`;
  const tmp = join(root, dir, 'tmp', name);
  await writeFile(tmp, body, { flag: 'wx' });
  const t = new Date(Date.UTC(2022, 0, 1) + n * 1000);
  await utimes(tmp, t, t);
  await rename(tmp, join(root, dir, 'new', name));
  delivered.push(`${dir || 'INBOX'}\t${name}`);
}

/** A client reading mail: the oldest message of new/ goes to cur/ as seen; a message in cur/ gets a flag toggled. */
async function touch(dir, i) {
  const fresh = (await readdir(join(root, dir, 'new'))).filter((f) => !f.startsWith('.'));
  if (fresh.length > 0 && i % 3 === 0) {
    const name = fresh[0];
    await rename(join(root, dir, 'new', name), join(root, dir, 'cur', `${name}:2,S`)).catch(() => undefined);
    return;
  }
  const cur = (await readdir(join(root, dir, 'cur'))).filter((f) => f.includes(':2,'));
  if (cur.length === 0) return;
  const name = cur[(i * 7919) % cur.length];
  const [base, flags] = name.split(':2,');
  const next = flags.includes('F') ? flags.replace('F', '') : [...flags, 'F'].sort().join('');
  // The file may be gone or renamed by the run meanwhile: a real client then just rescans.
  await rename(join(root, dir, 'cur', name), join(root, dir, 'cur', `${base}:2,${next}`)).catch(() => undefined);
}

for (let i = 0; !stop; i++) {
  const dir = dirs[i % dirs.length];
  if (i % 2 === 0) await deliver(dir);
  else await touch(dir, i);
  await new Promise((resolve) => setTimeout(resolve, 5));
}
process.stdout.write(delivered.map((d) => `${d}\n`).join(''));
