// How the built-in SSH client reaches a far mdsync. A single run logs in and starts `mdsync serve
// --root` on a session of its own. A batch (while connections are held) logs in to each host once
// and starts one `mdsync serve --sessions` there; every user is a session of that
// (protocol/mux.ts), instead of a handshake and a Node start per user.

import { MdsyncError } from '../errors.js';
import { MuxClient } from '../protocol/mux.js';
import { connectSsh2, execOn, sessionTransport, type Ssh2Connection, type Ssh2Target } from './ssh2-transport.js';
import type { Transport } from './transport.js';

interface Shared {
  ready: Promise<Ssh2Connection>;
  /** Sessions open on it. */
  sessions: number;
  gone: boolean;
  /** The host's `serve --sessions`. */
  mux?: Promise<MuxClient>;
}

const shared = new Map<string, Shared>();
let holds = 0;
let dropped = 0;
/** How long a batch's idle connection waits for another user of its host. */
const IDLE_MS = 5_000;

/**
 * Shares one connection and one far `serve --sessions` per host until the returned function is
 * called (a batch, between its users); then they end.
 */
export function holdConnections(): () => void {
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds > 0) return;
    // The batch is over: whatever it left open ends (an open connection would keep the process alive).
    for (const [key, s] of shared) end(key, s);
  };
}

/** How many sessions were cut by a connection or a far `serve --sessions` going away: a batch runs those users once more. */
export function droppedSessions(): number {
  return dropped;
}

function keyOf(t: Ssh2Target): string {
  return JSON.stringify([t.user ?? '', t.host, t.port ?? 0, t.identities, t.acceptNewHostKey, t.timeoutMs, t.remotePath]);
}

function end(key: string, s: Shared): void {
  s.gone = true;
  if (shared.get(key) === s) shared.delete(key);
  void s.mux?.then((m) => m.end(), () => undefined);
  void s.ready.then((c) => c.client.end(), () => undefined);
}

function connect(key: string, target: Ssh2Target): Shared {
  const s: Shared = { ready: connectSsh2(target), sessions: 0, gone: false };
  shared.set(key, s);
  // A connection that fails or drops takes only its own sessions with it; the next user logs in again.
  s.ready.then((c) => c.client.once('close', () => {
    if (!s.gone && s.sessions > 0) dropped += s.sessions;
    end(key, s);
  }), () => end(key, s));
  return s;
}

/** The host's `serve --sessions`, started for its first user and again after it ended. */
async function muxOn(s: Shared, target: Ssh2Target): Promise<MuxClient> {
  for (;;) {
    const current = s.mux ?? (s.mux = startMux(s, target));
    let mux: MuxClient;
    try {
      mux = await current;
    } catch (err) {
      if (s.mux === current) s.mux = undefined;
      throw err;
    }
    if (mux.open) return mux;
    if (s.mux === current) s.mux = undefined;
  }
}

async function startMux(s: Shared, target: Ssh2Target): Promise<MuxClient> {
  const connection = await s.ready;
  const channel = await execOn(connection, `${target.remotePath} serve --sessions`);
  const transport = sessionTransport(connection, channel, () => undefined);
  return new MuxClient(transport.input, transport.output, () => transport.failure(), (carried) => { dropped += carried; });
}

/** A session serving the target's Maildir: a batch's on the host's shared `serve --sessions`, a single run's on its own connection. */
export async function openSession(target: Ssh2Target): Promise<Transport> {
  if (holds > 0 && target.root !== undefined) return openShared(target, target.root);
  const connection = await connectSsh2(target);
  let channel;
  try {
    channel = await execOn(connection, target.remoteCommand);
  } catch (err) {
    connection.client.end();
    throw new MdsyncError('REMOTE', `${connection.where}: cannot start ${target.remotePath}: ${(err as Error).message}`);
  }
  return sessionTransport(connection, channel, () => connection.client.end());
}

async function openShared(target: Ssh2Target, root: string): Promise<Transport> {
  const key = keyOf(target);
  const s = shared.get(key) ?? connect(key, target);
  s.sessions++;
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    s.sessions--;
    if (s.sessions > 0 || s.gone) return;
    if (holds === 0) end(key, s);
    // Held, an idle connection waits a while for the host's next user, then ends: a template with
    // a login or a host per user must not leave a connection open per user until the batch ends.
    else setTimeout(() => { if (s.sessions === 0 && !s.gone) end(key, s); }, IDLE_MS).unref();
  };
  let session: ReturnType<MuxClient['openSession']>;
  try {
    session = (await muxOn(s, target)).openSession(root);
  } catch (err) {
    release();
    if (err instanceof MdsyncError) throw err;
    throw new MdsyncError('REMOTE', `${target.host}: cannot start ${target.remotePath} serve --sessions: ${(err as Error).message}`);
  }
  return {
    input: session.input,
    output: session.output,
    failure: () => session.failure(),
    close: async () => {
      await session.close();
      release();
    },
  };
}
