// known_hosts lookups checked against keys and hashed entries made by OpenSSH's own ssh-keygen.

import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendHostKey, checkHostKey, fingerprint, hostKeyError, knownKeyTypes } from '../../../src/remote/known-hosts.js';
import { removeDir, tempDir } from '../../helpers/maildir.js';
import { SSH_KEYGEN, requireTool } from '../../helpers/sshd.js';

let dir: string;
const keys: Record<string, { line: string; blob: Buffer }> = {};

async function makeKey(name: string, type: string): Promise<void> {
  execFileSync(SSH_KEYGEN, ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
  const [t, b64] = (await readFile(join(dir, `${name}.pub`), 'utf8')).split(' ');
  keys[name] = { line: `${t} ${b64}`, blob: Buffer.from(b64 as string, 'base64') };
}

const key = (name: string): { line: string; blob: Buffer } => keys[name] as { line: string; blob: Buffer };

describe('known_hosts', () => {
  beforeAll(async () => {
    requireTool(SSH_KEYGEN);
    dir = await tempDir();
    await makeKey('a', 'ed25519');
    await makeKey('b', 'ed25519');
    await makeKey('e', 'ecdsa');
  });

  afterAll(async () => {
    await removeDir(dir);
  });

  async function file(name: string, lines: string[]): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, lines.join('\n') + '\n');
    return path;
  }

  it('finds a plain entry, on port 22 and as [host]:port', async () => {
    const f = await file('plain', ['# comment', '', `mail.example.org,10.0.0.1 ${key('a').line}`, `[mail.example.org]:2222 ${key('b').line}`]);
    expect(await checkHostKey([f], 'mail.example.org', 22, key('a').blob)).toEqual({ status: 'known' });
    expect(await checkHostKey([f], '10.0.0.1', 22, key('a').blob)).toEqual({ status: 'known' });
    expect(await checkHostKey([f], 'mail.example.org', 2222, key('b').blob)).toEqual({ status: 'known' });
    expect(await checkHostKey([f], 'MAIL.example.org', 22, key('a').blob)).toEqual({ status: 'known' });
    expect(await checkHostKey([f], 'other.org', 22, key('a').blob)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('matches wildcards and honours negation', async () => {
    const f = await file('patterns', [`*.example.org,!bad.example.org ${key('a').line}`, `host?.lan ${key('a').line}`]);
    expect((await checkHostKey([f], 'mx.example.org', 22, key('a').blob)).status).toBe('known');
    expect((await checkHostKey([f], 'bad.example.org', 22, key('a').blob)).status).toBe('unknown');
    expect((await checkHostKey([f], 'host1.lan', 22, key('a').blob)).status).toBe('known');
    expect((await checkHostKey([f], 'host12.lan', 22, key('a').blob)).status).toBe('unknown');
  });

  it('finds entries hashed by ssh-keygen -H', async () => {
    const f = await file('hashed', [`mail.example.org ${key('a').line}`, `[127.0.0.1]:2200 ${key('b').line}`]);
    execFileSync(SSH_KEYGEN, ['-q', '-H', '-f', f]);
    const text = await readFile(f, 'utf8');
    expect(text).not.toContain('mail.example.org');
    expect(await checkHostKey([f], 'mail.example.org', 22, key('a').blob)).toEqual({ status: 'known' });
    expect(await checkHostKey([f], '127.0.0.1', 2200, key('b').blob)).toEqual({ status: 'known' });
    expect((await checkHostKey([f], '127.0.0.1', 22, key('b').blob)).status).toBe('unknown');
  });

  it('reports a changed key of the same type with its file and line', async () => {
    const f = await file('changed', ['# one', `other.org ${key('b').line}`, `mail.example.org ${key('a').line}`]);
    const check = await checkHostKey(['/nonexistent/known_hosts', f], 'mail.example.org', 22, key('b').blob);
    expect(check).toEqual({ status: 'changed', file: f, line: 3, keyType: 'ssh-ed25519', expected: fingerprint(key('a').blob) });
    const err = hostKeyError(check as Exclude<typeof check, { status: 'known' }>, 'mail.example.org', 22, key('b').blob, f);
    expect(err.code).toBe('HOST_KEY_CHANGED');
    expect(err.message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(err.message).toContain(`Offending ED25519 key in ${f}:3`);
    expect(err.message).toContain(`ssh-keygen -R 'mail.example.org'`);
  });

  it('treats a key of another type as unknown, naming the known types, and lists them first', async () => {
    const f = await file('types', [`mail.example.org ${key('e').line}`]);
    expect(await checkHostKey([f], 'mail.example.org', 22, key('a').blob)).toEqual({ status: 'unknown', otherTypes: ['ecdsa-sha2-nistp256'] });
    expect(await knownKeyTypes([f], 'mail.example.org', 22)).toEqual(['ecdsa-sha2-nistp256']);
  });

  it('refuses a revoked key', async () => {
    const f = await file('revoked', [`@revoked * ${key('a').line}`, `mail.example.org ${key('a').line}`]);
    expect(await checkHostKey([f], 'mail.example.org', 22, key('a').blob)).toEqual({ status: 'revoked', file: f, line: 1 });
  });

  it('ignores @cert-authority lines and malformed lines', async () => {
    const f = await file('ca', [`@cert-authority *.example.org ${key('a').line}`, 'garbage', `mail.example.org ssh-ed25519 !!!`]);
    expect((await checkHostKey([f], 'mail.example.org', 22, key('a').blob)).status).toBe('unknown');
  });

  it('appends a new key in a form OpenSSH finds, creating the file', async () => {
    const f = join(dir, 'sub', 'known_hosts');
    await appendHostKey(f, '127.0.0.1', 2222, key('a').blob);
    await appendHostKey(f, 'mail.example.org', 22, key('b').blob);
    expect(await readFile(f, 'utf8')).toBe(`[127.0.0.1]:2222 ${key('a').line}\nmail.example.org ${key('b').line}\n`);
    expect(execFileSync(SSH_KEYGEN, ['-F', '[127.0.0.1]:2222', '-f', f]).toString()).toContain(key('a').line);
    expect(await checkHostKey([f], '127.0.0.1', 2222, key('a').blob)).toEqual({ status: 'known' });
  });

  it('prints fingerprints as ssh-keygen -l does', async () => {
    const printed = execFileSync(SSH_KEYGEN, ['-l', '-f', join(dir, 'a.pub')]).toString();
    expect(printed).toContain(fingerprint(key('a').blob));
  });
});
