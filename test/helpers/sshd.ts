// A real OpenSSH sshd on 127.0.0.1 for tests: its own host key, authorized key and config in a temp dir.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface TestSshd {
  port: number;
  host: '127.0.0.1';
  user: string;
  dir: string;
  hostKeyPub: string;
  hostKeyBlob: Buffer;
  clientKey: string;
  knownHostsLine: string;
  /** OpenSSH client options for this server (its key, its known_hosts line, no user config). */
  sshArgs: string[];
  logFile: string;
  stop(): Promise<void>;
}

/**
 * True when the tool is there. Missing under CI=true is a failure, never a skip: `.ci/run` must
 * install it. Elsewhere the caller skips.
 */
export function requireTool(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${path} is missing: .ci/run must install it (openssh-server, openssh-client)`);
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the port answers with an SSH banner. */
function waitForBanner(port: number, deadline: number): Promise<boolean> {
  return new Promise((resolve) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('data', (d: Buffer) => {
        socket.destroy();
        resolve(d.toString().startsWith('SSH-2.0-'));
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) resolve(false);
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function keygen(path: string): void {
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'mdsync-test', '-f', path]);
}

export async function startSshd(options: { env?: Record<string, string> } = {}): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'mdsync-sshd-'));
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  const hostKeyPub = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim();
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  // Privilege separation needs this directory (normally made by the service's start script).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const logFile = join(dir, 'sshd.log');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      ...Object.entries(options.env ?? {}).map(([k, v]) => `SetEnv ${k}=${v}`),
    ].join('\n');
    await writeFile(join(dir, 'sshd_config'), `${config}\n`);
    const log = openSync(logFile, 'a');
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', log, log] });
    running.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve(); }));
    const up = await Promise.race([waitForBanner(port, Date.now() + 10_000), exited.then(() => false)]);
    if (!up) {
      child.kill('SIGKILL');
      await exited;
      continue;
    }
    const knownHostsLine = `[127.0.0.1]:${port} ${hostKeyPub.split(' ').slice(0, 2).join(' ')}`;
    await writeFile(join(dir, 'known_hosts'), `${knownHostsLine}\n`);
    const clientKey = join(dir, 'client_key');
    return {
      port,
      host: '127.0.0.1',
      user: userInfo().username,
      dir,
      hostKeyPub,
      hostKeyBlob: Buffer.from(hostKeyPub.split(' ')[1] as string, 'base64'),
      clientKey,
      knownHostsLine,
      sshArgs: [
        '-F', '/dev/null', '-p', String(port), '-i', clientKey,
        '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
      ],
      logFile,
      async stop() {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  await rm(dir, { recursive: true, force: true });
  throw new Error(`sshd did not start on 127.0.0.1:\n${log}`);
}

const quote = (arg: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** One `--ssh-command` string running the OpenSSH client against this server. */
export function sshCommand(sshd: TestSshd): string {
  return [SSH, ...sshd.sshArgs].map(quote).join(' ');
}
