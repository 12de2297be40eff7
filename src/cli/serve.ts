// `mdsync serve --root DIR`: one Maildir served on stdin/stdout to a remote mdsync; diagnostics on
// stderr. `mdsync serve --sessions`: many, each session naming its root (a batch's users).

import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { LocalAgent } from '../local/agent.js';
import { serveSession } from '../protocol/server.js';
import { serveSessions } from '../protocol/mux.js';

/** `~/x` is the serving user's home: the client quotes the path, so no shell expanded it. */
export function serveRoot(root: string): string {
  if (root === '~') return homedir();
  if (root.startsWith('~/')) return resolve(homedir(), root.slice(2));
  return resolve(root);
}

/** After the session, how long anything still under way may keep the process alive. */
const EXIT_AFTER_MS = 2_000;

export async function runServe(root: string): Promise<number> {
  const dir = serveRoot(root);
  const code = await serveSession(process.stdin, process.stdout, {
    open: (request) => LocalAgent.open(dir, { ...request, create: request.create ?? false }),
    log: (line) => process.stderr.write(`${line}\n`),
    exitNow: (code) => process.exit(code),
  });
  // A stdin still open (a silent client) or a read stuck in the thread pool would keep an
  // orphaned serve alive for good; the session and its lock are over, so the process ends.
  process.stdin.destroy();
  setTimeout(() => process.exit(code), EXIT_AFTER_MS).unref();
  return code;
}

/** Every session the client opens on stdin/stdout, each with its own root, lock and exit status. */
export async function runServeSessions(): Promise<number> {
  // A session whose client left while its work was stuck (a hung disk) keeps its Maildir's lock,
  // held by this live process, so nothing else writes there; the other sessions go on. Once every
  // client has left, the process ends at once: the lock is then stale, and the next run takes it over.
  let abandoned = false;
  await serveSessions(process.stdin, process.stdout, (root, input, output, log) => {
    const dir = serveRoot(root);
    return serveSession(input, output, {
      open: (request) => LocalAgent.open(dir, { ...request, create: request.create ?? false }),
      log,
      exitNow: () => { abandoned = true; },
    });
  });
  if (abandoned) process.exit(1);
  process.stdin.destroy();
  setTimeout(() => process.exit(0), EXIT_AFTER_MS).unref();
  return 0;
}
