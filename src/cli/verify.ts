// `mdsync verify`: hashes every message of both sides where it is and lists every difference.

import { hashBody } from '../body.js';
import type { FolderList } from '../model.js';
import type { Agent } from '../sync/agent.js';
import { compareSides, type Difference, type VerifyEntry, type VerifySide } from '../sync/verify.js';
import type { RemoteOptions } from '../remote/open.js';
import { openAgent } from './endpoints.js';
import { folderSelection, unmatchedGlobs } from './options.js';
import { subscriptionName } from './output.js';
import { jsonError } from './report.js';

/** Messages hashed per request, and requests in flight at once. */
const CHECKSUM_SLICE = 256;
const CHECKSUMS_IN_FLIGHT = 4;

async function gather(agent: Agent, list: FolderList, include: (name: string) => boolean): Promise<VerifySide> {
  const folders = new Map<string, VerifyEntry[]>();
  const uidValidity = new Map<string, number>();
  const unreadable = new Map<string, string>();
  for (const f of list.folders) {
    if (!include(f.name)) continue;
    if (f.unreadable !== undefined) {
      unreadable.set(f.name, f.unreadable);
      continue;
    }
    const manifest = await agent.manifest(f.name);
    if (manifest.uidValidity !== undefined) uidValidity.set(f.name, manifest.uidValidity);
    const byGuid = new Map(manifest.messages.map((e) => [e.guid, e]));
    const entries: VerifyEntry[] = [];
    const add = (guid: string, hash: string, mtime: number): void => {
      const e = byGuid.get(guid);
      if (!e) return;
      const entry: VerifyEntry = { guid: e.guid, hash, mtime, flags: e.flags, keywords: e.keywords, location: e.location };
      if (e.uid !== undefined) {
        entry.uid = e.uid;
        entry.dovecotGuid = e.dovecotGuid ?? e.guid;
      }
      entries.push(entry);
    };
    const guids = manifest.messages.map((e) => e.guid);
    if (agent.checksum) {
      // Hashed where the files are: over SSH only the hashes cross, never the bodies.
      // A few hundred a request, each answered well within --timeout however large the folder,
      // and a few requests in flight so the far side hashes while an answer travels.
      const slices: string[][] = [];
      for (let i = 0; i < guids.length; i += CHECKSUM_SLICE) slices.push(guids.slice(i, i + CHECKSUM_SLICE));
      for (let i = 0; i < slices.length; i += CHECKSUMS_IN_FLIGHT) {
        const window = slices.slice(i, i + CHECKSUMS_IN_FLIGHT);
        const answers = await Promise.all(window.map((slice) => agent.checksum?.(f.name, slice) ?? []));
        window.forEach((slice, w) => answers[w]?.forEach((c, k) => c && add(slice[k] as string, c.hash, c.mtime)));
      }
    } else {
      for await (const batch of agent.read(f.name, guids)) for (const got of batch) {
        if (got.vanished || !got.data) continue;
        add(got.guid, got.hash ?? await hashBody(got.data), got.mtime ?? 0);
      }
    }
    folders.set(f.name, entries);
  }
  return { folders, subscriptions: list.subscriptions.map(subscriptionName), uidValidity, unreadable };
}

type VerifyOptions = { json?: boolean; quiet?: boolean; uids?: boolean; folder: string[]; exclude: string[] };

/** `exitOf`: the code an error ends the command with, for the --json object printed when verify fails (the error goes on to stderr). */
export async function runVerify(first: string, second: string, opts: VerifyOptions, remote: RemoteOptions, exitOf: (err: unknown) => number): Promise<number> {
  try {
    return await verify(first, second, opts, remote);
  } catch (err) {
    if (opts.json) process.stdout.write(JSON.stringify({ identical: null, exit: exitOf(err), error: jsonError(err) }) + '\n');
    throw err;
  }
}

type PairCompareOptions = Pick<VerifyOptions, 'uids' | 'folder' | 'exclude'>;

/** Both sides compared; `nothing` says why nothing was (a glob that matched no folder): not "identical". */
export interface PairComparison {
  nothing?: string;
  folders: number;
  messages: number;
  differences: Difference[];
}

export async function comparePair(first: string, second: string, opts: PairCompareOptions, remote: RemoteOptions): Promise<PairComparison> {
  const selection = folderSelection(opts.folder, opts.exclude);
  const a = await openAgent(first, { create: false }, remote);
  try {
    const b = await openAgent(second, { create: false }, remote);
    try {
      const lists = await Promise.all([a.agent.listFolders(), b.agent.listFolders()]);
      const selected = lists.flatMap((list) => list.folders.filter((f) => selection.includes(f.name)));
      // Comparing nothing proves nothing: a glob that matches no folder is an error, not "identical".
      const unmatched = selection.unmatched();
      const nothing = unmatched.length > 0 ? unmatchedGlobs(unmatched)
        : selected.length === 0 && opts.exclude.length > 0 ? (opts.folder.length > 0 ? '-x excludes every folder -f selects' : '-x excludes every folder')
        : undefined;
      if (nothing !== undefined) return { nothing, folders: 0, messages: 0, differences: [] };
      const include = (name: string): boolean => selection.includes(name);
      const [sa, sb] = await Promise.all([gather(a.agent, lists[0], include), gather(b.agent, lists[1], include)]);
      const differences = compareSides(sa, sb, { uids: opts.uids });
      let messages = 0;
      for (const f of sa.folders.values()) messages += f.length;
      return { folders: sa.folders.size, messages, differences };
    } finally {
      await b.agent.close();
    }
  } finally {
    await a.agent.close();
  }
}

async function verify(first: string, second: string, opts: VerifyOptions, remote: RemoteOptions): Promise<number> {
  const { nothing, folders, messages, differences: diffs } = await comparePair(first, second, opts, remote);
  if (nothing !== undefined) {
    process.stderr.write(`mdsync: ${nothing}: nothing compared\n`);
    if (opts.json) process.stdout.write(JSON.stringify({ identical: false, exit: 1, error: { code: 'NO_FOLDER', message: `${nothing}: nothing compared` }, folders: 0, messages: 0, differences: [] }) + '\n');
    return 1;
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ identical: diffs.length === 0, exit: diffs.length === 0 ? 0 : 1, error: null, folders, messages, differences: diffs }) + '\n');
  } else if (!opts.quiet) {
    for (const d of diffs) process.stdout.write(`${d.folder ? `${d.folder}: ` : ''}${d.what}\n`);
    process.stdout.write(diffs.length === 0
      ? `identical: ${counted(folders, 'folder')}, ${counted(messages, 'message')}\n`
      : `${diffs.length} difference${diffs.length === 1 ? '' : 's'}\n`);
  }
  return diffs.length === 0 ? 0 : 1;
}

/** `1 folder`, `2 folders`. */
function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
