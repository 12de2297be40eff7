// A real OpenSSH sshd on 127.0.0.1 for tests: its own host key, authorized key and config in a temp dir.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;
const START_ATTEMPTS = 5;

export interface TestSshd {
  port: number;
  host: '127.0.0.1';
  user: string;
  dir: string;
  /** "ssh-ed25519 AAAA…" */
  hostKeyPub: string;
  hostKeyBlob: Buffer;
  /** An unencrypted private key that authorized_keys lets in. */
  clientKey: string;
  clientKeyPub: string;
  /** "[127.0.0.1]:PORT ssh-ed25519 AAAA…" */
  knownHostsLine: string;
  /** OpenSSH client options for this server: its port, key and known_hosts; no user config. */
  sshArgs: string[];
  /** The sshd log, for failure messages. */
  logFile: string;
  stop(): Promise<void>;
}

/** A missing tool fails the tests that need it, never skips them: `.ci/run` installs it. */
export function requireTool(path: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing or not executable: install openssh-server and openssh-client (.ci/run does)`);
  }
}

/** One `--ssh-command` string running the OpenSSH client against this server; a shell splits it back. */
export function sshCommand(sshd: TestSshd): string {
  return ['ssh', ...sshd.sshArgs.map(shellQuote)].join(' ');
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

// Vitest stops a fork with SIGTERM, so an 'exit' handler never runs there: a watcher shell also
// kills sshd when our end of its stdin closes, which happens however this process dies.
const WATCHED_SSHD = [
  'exec 3<&0',
  '"$@" &',
  'sshd=$!',
  '{ read _ <&3; kill "$sshd" 2>/dev/null; } &',
  'watcher=$!',
  'wait "$sshd"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** sshd pids still running, killed synchronously if the process exits without stopping them. */
const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

export async function startSshd(options: { env?: Record<string, string> } = {}): Promise<TestSshd> {
  const env = Object.entries(options.env ?? {});
  for (const [name, value] of env) {
    // sshd_config has no escape for these; a bad line would stop sshd from starting at all.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /["\n\r]/.test(value)) {
      throw new Error(`startSshd: env ${JSON.stringify(name)} cannot be written as a SetEnv line`);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'mdsync-sshd-'));
  try {
    // Sessions get a home of their own: the far side writes nothing in the tester's home, and
    // the login shell does not run the tester's ~/.bashrc (bash reads it for sshd's commands).
    if (!env.some(([name]) => name === 'HOME')) {
      mkdirSync(join(dir, 'home'), { mode: 0o700 });
      env.push(['HOME', join(dir, 'home')]);
    }
    return await startIn(dir, env);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(dir: string, env: [string, string][]): Promise<TestSshd> {
  const hostKey = join(dir, 'host_key');
  const clientKey = join(dir, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  const hostKeyPub = keyLine(await readFile(`${hostKey}.pub`, 'utf8'));
  const clientKeyPub = keyLine(await readFile(`${clientKey}.pub`, 'utf8'));
  await writeFile(join(dir, 'authorized_keys'), `${clientKeyPub}\n`, { mode: 0o600 });
  // Privilege separation chroots here; the service's start script normally makes it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const logFile = join(dir, 'sshd.log');
  const config = join(dir, 'sshd_config');
  const pidFile = join(dir, 'sshd.pid');

  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    // Another process may take the port between our probe closing and sshd binding: then retry.
    const port = await freePort();
    await writeFile(config, sshdConfig(dir, port, env));
    // A pid left by a failed attempt may since name another process.
    await rm(pidFile, { force: true });
    const log = openSync(logFile, 'a');
    const child = spawn('/bin/sh', ['-c', WATCHED_SSHD, 'sh', SSHD, '-D', '-e', '-f', config], {
      stdio: ['pipe', log, log],
    });
    closeSync(log);
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    if (!(await waitForBanner(port, exited))) {
      await halt(child, exited, await readPid(pidFile));
      continue;
    }
    const pid = await readPid(pidFile);
    if (pid !== undefined) running.add(pid);

    const knownHostsLine = `[127.0.0.1]:${port} ${hostKeyPub}`;
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${knownHostsLine}\n`);
    let stopping: Promise<void> | undefined;
    return {
      port,
      host: '127.0.0.1',
      user: userInfo().username,
      dir,
      hostKeyPub,
      hostKeyBlob: Buffer.from(hostKeyPub.split(' ')[1] as string, 'base64'),
      clientKey,
      clientKeyPub,
      knownHostsLine,
      sshArgs: [
        '-p', String(port),
        '-i', clientKey,
        '-o', `UserKnownHostsFile=${knownHosts}`,
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'IdentitiesOnly=yes',
        '-o', 'BatchMode=yes',
        '-F', '/dev/null',
      ],
      logFile,
      stop() {
        // Twice is harmless: an afterAll may stop what a test already stopped.
        stopping ??= (async () => {
          await halt(child, exited, pid);
          if (pid !== undefined) running.delete(pid);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  throw new Error(`sshd did not start on 127.0.0.1 after ${START_ATTEMPTS} attempts; its log:\n${log}`);
}

function sshdConfig(dir: string, port: number, env: [string, string][]): string {
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // The temp dir is not owned the way StrictModes wants a home directory to be.
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
    // Quoted, or a value with a space would be read as a second, invalid entry.
    ...env.map(([name, value]) => `SetEnv "${name}=${value}"`),
    '',
  ].join('\n');
}

function keygen(path: string): void {
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'mdsync-test', '-f', path], { stdio: 'pipe' });
}

/** "type base64" without the comment, as known_hosts and authorized_keys want it. */
function keyLine(pub: string): string {
  return pub.trim().split(/\s+/).slice(0, 2).join(' ');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True once the port answers with an SSH banner; false if sshd exits or the deadline passes first. */
async function waitForBanner(port: number, exited: Promise<void>): Promise<boolean> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!hasExited && Date.now() < deadline) {
    if (await readsBanner(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function readsBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let banner = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('data', (d: Buffer) => {
      banner += d.toString('latin1');
      if (banner.length >= 8) done(banner.startsWith('SSH-2.0-'));
    });
    socket.once('error', () => done(false));
    socket.once('end', () => done(false));
  });
}

/** Ends sshd through its watcher, then by force; resolves once the watcher has exited. */
async function halt(child: ChildProcess, exited: Promise<void>, pid: number | undefined): Promise<void> {
  child.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
  if (await Promise.race([exited.then(() => false), timedOut])) {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}
