// How a test reaches the second side of a run: a local path, `mdsync serve` in a child process, or real SSH.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliResult } from './cli.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const BIN = join(HERE, '..', '..', 'bin', 'mdsync.js');
const FAKE_SSH = join(HERE, 'fake-ssh.mjs');
const PEER_PROXY = join(HERE, 'peer-proxy.mjs');
/** The far side runs this very build, with this Node. */
export const REMOTE_PATH = `${process.execPath} ${BIN}`;

export interface SideTransport {
  name: string;
  /** The endpoint string naming a directory of this machine, reached this way. */
  endpoint(path: string): string;
  /** Options the run needs (-e, --remote-path, -i …). */
  args: string[];
  /** Prepares a test's HOME (known_hosts for the built-in client). */
  prepare?(home: string): Promise<void>;
  /** Environment of the run (this side's process). */
  env?: Record<string, string>;
}

/**
 * The same transport, with a first copy made in passes of one message, however few it copies:
 * every folder holding mail ends a pass, and a side lets go of all but the first folder's listing
 * as it sums them up. Every checkpoint is saved: a run stopped after a pass leaves a state, and
 * the next goes on in passes (resumedCopyPasses).
 */
export function inPasses(t: SideTransport): SideTransport {
  // Read through, not copied: a transport to the test sshd knows its arguments once it runs.
  return {
    name: `${t.name}, a first copy in passes`,
    endpoint: (p) => t.endpoint(p),
    get args() {
      return t.args;
    },
    prepare: async (home) => t.prepare?.(home),
    env: { ...t.env, MDSYNC_PASS_MESSAGES: '1', MDSYNC_PASSES_FROM: '1', MDSYNC_CHECKPOINT_MS: '0' },
  };
}

export const localTransport: SideTransport = { name: 'local', endpoint: (p) => p, args: [] };

/** `mdsync serve` in a child process started by a stand-in for ssh that runs the remote command with sh. */
export const serveTransport: SideTransport = {
  name: 'mdsync serve over a child process',
  endpoint: (p) => `localhost:${p}`,
  args: ['-e', `${process.execPath} ${FAKE_SSH}`, '--remote-path', REMOTE_PATH],
};

/**
 * `mdsync serve` as serveTransport starts it, behind peer-proxy.mjs: one that bends its answers
 * (`changes:evil-guid`, `place:short-hashes` …) or records the requests (`record:<file>`). The endpoints are the same.
 */
export function proxyTransport(mode: string): SideTransport {
  return {
    name: `mdsync serve behind a proxy (${mode})`,
    endpoint: serveTransport.endpoint,
    args: ['-e', `${process.execPath} ${PEER_PROXY} ${mode}`, '--remote-path', REMOTE_PATH],
  };
}

/** Runs mdsync with the transport's options; the endpoints are already strings. */
export function cliVia(t: SideTransport, home: string): (args: string[]) => Promise<CliResult> {
  return (args) => runCli([...args, ...t.args], home, { SSH_AUTH_SOCK: '', ...t.env });
}
