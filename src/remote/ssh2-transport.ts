// The built-in SSH transport: the user's ~/.ssh/config, agent and keys, and known_hosts, with no ssh binary.

import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import ssh2, { type AuthenticationType, type ClientChannel, type ConnectConfig } from 'ssh2';
import { MdsyncError, isErrno } from '../errors.js';
import { endedText, type Transport } from './transport.js';
import { appendHostKey, checkHostKey, hostKeyError, knownKeyTypes } from './known-hosts.js';
import { resolveHost } from './ssh-config.js';

// ssh2 is CommonJS: its named exports are reached through the default one.
const { Client, utils } = ssh2;

const STDERR_KEEP = 8192;

export interface Ssh2Target {
  host: string;
  user?: string;
  port?: number;
  /** `-i` files, tried before those of ~/.ssh/config and the defaults. */
  identities: string[];
  acceptNewHostKey: boolean;
  timeoutMs: number;
  remoteCommand: string;
  remotePath: string;
  /** The Maildir the command serves, for a session of a shared `serve --sessions` (a batch). */
  root?: string;
}

type AuthMethod = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: Buffer };

/** Key files that exist and open without a passphrase; `-i` files must exist. */
async function loadKeys(explicit: string[], configured: string[]): Promise<{ keys: { path: string; key: Buffer }[]; skipped: string[] }> {
  const keys: { path: string; key: Buffer }[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const [i, path] of [...explicit, ...configured].entries()) {
    if (seen.has(path)) continue;
    seen.add(path);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if (i < explicit.length) throw new MdsyncError('USAGE', `identity file ${path}: ${isErrno(err, 'ENOENT') ? 'not found' : (err as Error).message}`);
      continue;
    }
    const parsed = utils.parseKey(data);
    if (parsed instanceof Error) {
      skipped.push(`${path} (${/encrypted|passphrase/i.test(parsed.message) ? 'needs a passphrase: load it into ssh-agent' : parsed.message})`);
      continue;
    }
    keys.push({ path, key: data });
  }
  return { keys, skipped };
}

// A key type recorded in known_hosts and the signature algorithms that use it.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** An SSH connection open to a host, ready for sessions. */
export interface Ssh2Connection {
  client: InstanceType<typeof Client>;
  where: string;
}

/** Logs in to a host as ~/.ssh/config, ssh-agent, the keys and known_hosts say. */
export async function connectSsh2(target: Omit<Ssh2Target, 'remoteCommand'>): Promise<Ssh2Connection> {
  const settings = await resolveHost(target.host, undefined);
  const username = target.user ?? settings.user ?? userInfo().username;
  const port = target.port ?? settings.port ?? 22;
  const hostName = settings.hostName;
  const where = `${username}@${hostName}${port === 22 ? '' : `:${port}`}`;
  const { keys, skipped } = await loadKeys(target.identities, settings.identityFiles);
  const auth: AuthMethod[] = [];
  const agentSocket = process.env.SSH_AUTH_SOCK;
  if (agentSocket) auth.push({ type: 'agent', username, agent: agentSocket });
  for (const { key } of keys) auth.push({ type: 'publickey', username, key });
  if (auth.length === 0) {
    throw new MdsyncError('REMOTE', `${where}: no way to log in: no ssh-agent (SSH_AUTH_SOCK) and no usable key among ${[...target.identities, ...settings.identityFiles].join(', ')}${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}; name one with -i`);
  }
  const knownHosts = settings.userKnownHostsFiles;
  const knownTypes = await knownKeyTypes(knownHosts, hostName, port);
  let hostKeyProblem: MdsyncError | undefined;

  const client = new Client();
  const config: ConnectConfig = {
    host: hostName,
    port,
    username,
    readyTimeout: target.timeoutMs,
    keepaliveInterval: Math.max(1000, Math.floor(target.timeoutMs / 3)),
    keepaliveCountMax: 3,
    authHandler: auth as unknown as AuthenticationType[],
    // As OpenSSH does: ask first for a key type known_hosts holds, so a known host is recognised.
    algorithms: { serverHostKey: { prepend: knownTypes.flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? []) } } as ConnectConfig['algorithms'],
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      void (async () => {
        const check = await checkHostKey(knownHosts, hostName, port, key);
        if (check.status === 'known') return true;
        if (check.status === 'unknown' && target.acceptNewHostKey) {
          await appendHostKey(knownHosts[0] as string, hostName, port, key);
          return true;
        }
        hostKeyProblem = hostKeyError(check, hostName, port, key, knownHosts[0] as string);
        return false;
      })().then(verify, (err: Error) => {
        hostKeyProblem = new MdsyncError('REMOTE', `${where}: cannot check the host key: ${err.message}`);
        verify(false);
      });
    },
  };

  await new Promise<void>((resolve, reject) => {
    client.once('error', (err: Error & { level?: string }) => {
      if (hostKeyProblem) return reject(hostKeyProblem);
      if (err.level === 'client-authentication') {
        const tried = [agentSocket ? 'ssh-agent' : '', ...keys.map((k) => k.path)].filter(Boolean).join(', ');
        return reject(new MdsyncError('REMOTE', `${where}: permission denied (tried ${tried})`));
      }
      if (err.level === 'client-timeout') return reject(new MdsyncError('TIMEOUT', `${where}: no SSH handshake within ${Math.round(target.timeoutMs / 1000)} s`));
      reject(new MdsyncError('REMOTE', `${where}: cannot connect: ${err.message}`));
    });
    client.once('ready', () => resolve());
    client.connect(config);
  }).catch((err: unknown) => {
    client.end();
    throw err;
  });
  client.on('error', () => undefined);
  // Requests are small and answered at once: Nagle's algorithm would hold a second small write
  // until the first is acknowledged, and the far end delays that acknowledgement (40 ms on Linux).
  client.setNoDelay(true);
  return { client, where };
}

/** Starts a command on a connection; rejects with the server's refusal (sshd's MaxSessions reached) as is. */
export function execOn(connection: Ssh2Connection, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    connection.client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)));
  });
}

/** The byte stream of a session, and what to say when its command ended; `done` runs once the session is closed. */
export function sessionTransport(connection: Ssh2Connection, channel: ClientChannel, done: () => void): Transport {
  const { client } = connection;
  let stderr = '';
  channel.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
  });
  let status: { code?: number; signal?: string } | undefined;
  channel.on('exit', (code: number | null, signal?: string) => {
    status = code !== null ? { code } : { signal: signal ? `SIG${signal.replace(/^SIG/, '')}` : 'a signal' };
  });
  let connectionClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    connectionClosed = resolve;
    channel.on('close', () => resolve());
    client.on('close', connectionClosed);
  });
  // The connection outlives this session (a batch's other users): its listener goes with it.
  void closed.then(() => {
    client.removeListener('close', connectionClosed);
    done();
  });
  const waitClosed = (ms: number): Promise<boolean> =>
    Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
  return {
    input: channel,
    output: channel,
    async failure() {
      await waitClosed(3000);
      if (status === undefined) return endedText('remote command', 'closed the connection', stderr);
      if (status.code === undefined) return endedText('remote command', `was killed by ${status.signal}`, stderr);
      return endedText('remote command', `exited with code ${status.code}`, stderr, status.code);
    },
    async close() {
      if (!channel.writableEnded) channel.end();
      if (!(await waitClosed(5000))) channel.close();
    },
  };
}

export async function startSsh2(target: Ssh2Target): Promise<Transport> {
  const { openSession } = await import('./ssh-connections.js');
  return openSession(target);
}
