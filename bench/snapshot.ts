// A copy of the mdsync under test, taken as the benchmark starts: a rebuild during a long run cannot change it halfway.

import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Copies `repo`'s bin/ and dist/src into `work` and returns the copy's bin/mdsync.js. */
export function snapshotMdsync(repo: string, work: string): string {
  const root = join(work, 'mdsync');
  cpSync(join(repo, 'bin'), join(root, 'bin'), { recursive: true });
  cpSync(join(repo, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
  // package.json says the .js files are ES modules; node_modules is shared, not copied.
  cpSync(join(repo, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  return join(root, 'bin', 'mdsync.js');
}
