// The test sshd harness itself, driven by the real OpenSSH client: it logs in, passes env, refuses strangers, stops clean.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSH, SSHD, SSH_KEYGEN, requireTool, sshCommand, startSshd, type TestSshd } from '../helpers/sshd.js';

// A missing tool fails here, never skips.
for (const tool of [SSHD, SSH, SSH_KEYGEN]) requireTool(tool);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a hung ssh is killed so the test fails with its output instead of timing out. */
function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** sshArgs with one `-o Name=…` option or one flag's value swapped, the rest as the harness gives them. */
function withOption(args: string[], name: string, value: string): string[] {
  const out = [...args];
  const flag = out.indexOf(name);
  if (flag >= 0) {
    out[flag + 1] = value;
    return out;
  }
  const option = out.findIndex((a) => a.startsWith(`${name}=`));
  if (option < 0) throw new Error(`sshArgs has no ${name}: ${args.join(' ')}`);
  out[option] = `${name}=${value}`;
  return out;
}

/** True when a TCP connection to the port is accepted, false when refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('test sshd harness', () => {
  let sshd: TestSshd | undefined;
  // A value with a slash and a dot, like the cache directories tests point the remote side at.
  const probe = '/tmp/mdsync-probe.value';

  beforeAll(async () => {
    sshd = await startSshd({ env: { MDSYNC_PROBE: probe } });
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  const server = (): TestSshd => sshd as TestSshd;
  const login = (): string => `${server().user}@${server().host}`;
  /** The sshd log, so a failed login says why the server refused. */
  const log = (): Promise<string> => readFile(server().logFile, 'utf8').catch(() => '');

  it('describes itself consistently', () => {
    const s = server();
    expect(s.host).toBe('127.0.0.1');
    expect(s.hostKeyPub).toMatch(/^ssh-ed25519 AAAA\S+/);
    expect(s.hostKeyBlob.equals(Buffer.from(s.hostKeyPub.split(' ')[1] as string, 'base64'))).toBe(true);
    expect(s.knownHostsLine).toBe(`[127.0.0.1]:${s.port} ${s.hostKeyPub.split(' ').slice(0, 2).join(' ')}`);
    expect(s.sshArgs).toEqual(expect.arrayContaining(['-p', String(s.port), '-i', s.clientKey, '-F', '/dev/null']));
  });

  it('runs a command for the authorised key', async () => {
    const result = await run(SSH, [...server().sshArgs, login(), 'echo', 'hello']);
    expect(result.code, `${result.stderr}\nsshd log:\n${await log()}`).toBe(0);
    expect(result.stdout).toBe('hello\n');
  });

  it('passes the variables given as env to the remote session', async () => {
    const result = await run(SSH, [...server().sshArgs, login(), 'printenv', 'MDSYNC_PROBE']);
    expect(result).toMatchObject({ code: 0, stdout: `${probe}\n` });
  });

  it('gives a shell command string that a shell splits back into the same client call', async () => {
    const result = await run('/bin/sh', ['-c', `${sshCommand(server())} ${login()} echo split`]);
    expect(result).toMatchObject({ code: 0, stdout: 'split\n' });
  });

  it('refuses a client key that is not in authorized_keys', async () => {
    const stranger = join(server().dir, 'stranger_key');
    execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const result = await run(SSH, [...withOption(server().sshArgs, '-i', stranger), login(), 'echo', 'hello']);
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('is refused by a client that does not know its host key', async () => {
    const empty = join(server().dir, 'empty_known_hosts');
    await writeFile(empty, '');
    const result = await run(SSH, [...withOption(server().sshArgs, 'UserKnownHostsFile', empty), login(), 'echo', 'hello']);
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Host key verification failed/);
  });
});

describe('stopping the test sshd', () => {
  it('closes the port, ends the process and removes its directory', async () => {
    const sshd = await startSshd();
    try {
      const pid = Number((await readFile(join(sshd.dir, 'sshd.pid'), 'utf8')).trim());
      expect(isAlive(pid)).toBe(true);
      expect(await accepts(sshd.port)).toBe(true);
      await sshd.stop();
      expect(await accepts(sshd.port)).toBe(false);
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(sshd.dir)).toBe(false);
    } finally {
      await sshd.stop();
    }
  });
});
