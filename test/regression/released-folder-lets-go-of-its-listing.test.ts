// A folder let go of between the passes of a first copy (MaildirFolder.release) kept the listing
// it had been loaded from its cache record: every folder of the source stayed in memory, file by
// file, through all the passes (100 000 messages: the whole source's listing at the peak). And a
// folder listed again kept the listing before it, which the new listing had followed.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MaildirFolder } from '../../src/local/folder.js';
import type { FolderScan } from '../../src/local/scan.js';
import { bulkFolder, makeMaildir, removeDir, tempDir } from '../helpers/maildir.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let dir: string;
let root: string;
beforeEach(async () => {
  dir = await tempDir();
  root = join(dir, 'Maildir');
  await makeMaildir(root, [bulkFolder('', 200, 60)]);
  // Settled: a listing of a folder written this instant is never let go of.
  const past = new Date(Date.now() - 10_000);
  for (const d of ['cur', 'new']) await utimes(join(root, d), past, past);
});
afterEach(async () => removeDir(dir));

const events = { warn: (): void => undefined, raced: (): void => undefined };

/** Whether the listing held by the folder now is garbage once the folder lets go of it. */
async function listingCollectedAfterRelease(folder: MaildirFolder): Promise<boolean> {
  const held = new WeakRef(folder.index.scan as FolderScan);
  expect(await folder.release()).toBeDefined();
  // Two collections and a turn between them: a promise's reactions may still hold it at the first.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return held.deref() === undefined;
}

it('a folder let go of holds no listing, also when it was loaded from its cache record', async () => {
  const folder = new MaildirFolder('INBOX', root, ':', events);
  const listed = await folder.manifest();
  expect(await listingCollectedAfterRelease(folder)).toBe(true);
  // Loaded again from the record it was let go of as (the pass that copies it), then let go of again.
  expect(await folder.manifest()).toEqual(listed);
  expect(await listingCollectedAfterRelease(folder)).toBe(true);
  expect(await folder.manifest()).toEqual(listed);
});

it('a folder listed again holds no listing of before, which the new one followed', async () => {
  const folder = new MaildirFolder('INBOX', root, ':', events);
  const listed = await folder.manifest();
  const before = new WeakRef(folder.index.scan?.files as object);
  await folder.rescan();
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  expect(before.deref()).toBeUndefined();
  expect(await folder.manifest()).toEqual(listed);
});
