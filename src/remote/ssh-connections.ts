// SSH connections shared by the sessions of one process: a batch of many users reaches each host
// over one connection, each user's `mdsync serve` on a session of its own, instead of a
// handshake per user. OpenSSH's sshd allows 10 sessions per connection (MaxSessions): past that,
// or when a server refuses a session, another connection is opened, and the operator is told.

import type { ClientChannel } from 'ssh2';
import { MdsyncError } from '../errors.js';
import { connectSsh2, execOn, sessionTransport, type Ssh2Connection, type Ssh2Target } from './ssh2-transport.js';
import type { Transport } from './transport.js';

/** sshd's default MaxSessions. */
export const SESSIONS_PER_CONNECTION = 10;

interface Pooled {
  ready: Promise<Ssh2Connection>;
  /** Sessions open or opening on it. */
  sessions: number;
  /** The most this server took at once (lowered when it refuses one). */
  limit: number;
  gone: boolean;
}

const pools = new Map<string, Pooled[]>();
let holds = 0;
let dropped = 0;
let notice: (line: string) => void = () => undefined;

/** Where a batch hears that a host got another connection. */
export function onConnectionNotice(listener: (line: string) => void): void {
  notice = listener;
}

/**
 * Keeps idle connections open until the returned function is called (a batch, between its users);
 * otherwise a connection ends with its last session, as a single run's does.
 */
export function holdConnections(): () => void {
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds > 0) return;
    for (const [key, list] of pools) for (const p of list) if (p.sessions === 0) end(key, p);
  };
}

/** How many connections went away while they carried sessions: a batch runs those sessions' users once more. */
export function droppedConnections(): number {
  return dropped;
}

/** The number of connections open now (tests and status). */
export function openConnections(): number {
  let n = 0;
  for (const list of pools.values()) n += list.filter((p) => !p.gone).length;
  return n;
}

function keyOf(t: Ssh2Target): string {
  return JSON.stringify([t.user ?? '', t.host, t.port ?? 0, t.identities, t.acceptNewHostKey, t.timeoutMs]);
}

function end(key: string, p: Pooled): void {
  p.gone = true;
  const list = pools.get(key)?.filter((q) => q !== p) ?? [];
  if (list.length > 0) pools.set(key, list);
  else pools.delete(key);
  void p.ready.then((c) => c.client.end(), () => undefined);
}

function connect(key: string, target: Ssh2Target, list: Pooled[]): Pooled {
  const p: Pooled = { ready: connectSsh2(target), sessions: 0, limit: SESSIONS_PER_CONNECTION, gone: false };
  list.push(p);
  pools.set(key, list);
  // A connection that fails or drops takes only its own sessions with it; the next session opens a new one.
  p.ready.then((c) => c.client.once('close', () => {
    if (p.sessions > 0 && !p.gone) dropped++;
    end(key, p);
  }), () => end(key, p));
  return p;
}

/** A session running the target's command, on a connection to its host that has room for it. */
export async function openSession(target: Ssh2Target): Promise<Transport> {
  const key = keyOf(target);
  for (let attempt = 0; ; attempt++) {
    const list = pools.get(key) ?? [];
    let p = list.find((q) => !q.gone && q.sessions < q.limit);
    if (!p) {
      if (list.some((q) => !q.gone)) notice(`${target.host}: more sessions in flight than one SSH connection carries (sshd's MaxSessions, ${SESSIONS_PER_CONNECTION} by default): opening connection ${list.filter((q) => !q.gone).length + 1}`);
      p = connect(key, target, list);
    }
    p.sessions++;
    const pooled = p;
    let connection: Ssh2Connection;
    let channel: ClientChannel;
    try {
      connection = await pooled.ready;
      channel = await execOn(connection, target.remoteCommand);
    } catch (err) {
      pooled.sessions--;
      if (err instanceof MdsyncError) throw err;
      // The server refused a session on a connection it holds open (its MaxSessions is lower): it
      // carries as many as it has now, and this one goes on another.
      if (!pooled.gone && attempt < 3 && pooled.sessions > 0) {
        pooled.limit = pooled.sessions;
        continue;
      }
      throw new MdsyncError('REMOTE', `${target.host}: cannot start ${target.remotePath}: ${(err as Error).message}`);
    }
    return sessionTransport(connection, channel, () => {
      pooled.sessions--;
      if (pooled.sessions === 0 && holds === 0 && !pooled.gone) end(key, pooled);
    });
  }
}
