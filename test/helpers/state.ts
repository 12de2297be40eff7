// What a run's saved state says each side holds, and what the disk holds: the state must never
// claim a message the disk does not have (DESIGN §9, invariant 4).

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseState } from '../../src/sync/state.js';
import { readTree } from './maildir.js';

/** Message base names per folder directory, as on disk. */
export async function namesOnDisk(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of await readTree(root)) {
    const m = /^(.*?)\/?(cur|new)\/([^/:]+)/.exec(f.path);
    if (m) out.add(`${m[1] || 'INBOX'}\0${m[3]}`);
  }
  return out;
}


/** The folder directory a folder name has in these Maildir++ tests. */
const dirOf = (folder: string): string => (folder === 'INBOX' ? 'INBOX' : `.${folder.replace(/\//g, '.')}`);

/** Messages the saved state says a side holds. */
export async function stateClaims(home: string): Promise<Record<'a' | 'b', Set<string>>> {
  const dir = join(home, 'state', 'mdsync');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.state'));
  const claims = { a: new Set<string>(), b: new Set<string>() };
  for (const file of files) {
    const saved = parseState(await readFile(join(dir, file)));
    if (saved.kind !== 'ok') throw new Error(`${file}: ${saved.why}`);
    for (const [folder, sf] of Object.entries(saved.state.folders)) {
      for (const m of sf.messages) {
        if (m.a) claims.a.add(`${dirOf(folder)}\0${m.a.guid}`);
        if (m.b) claims.b.add(`${dirOf(folder)}\0${m.b.guid}`);
      }
    }
  }
  return claims;
}

