// Dovecot's own tools on test Maildirs: doveadm with a minimal config, mail access as the `mail` user.

import { accessSync, constants } from 'node:fs';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOVEADM = '/usr/bin/doveadm';

export function requireDovecot(): void {
  try {
    accessSync(DOVEADM, constants.X_OK);
  } catch {
    throw new Error(`${DOVEADM} is missing: install dovecot-imapd (.ci/run does)`);
  }
}

/** A test's work directory the mail user can reach, with the minimal config in it (fails when Dovecot is missing). */
export async function dovecotWorkDir(): Promise<{ work: string; config: string }> {
  requireDovecot();
  const work = await mkdtemp(join(tmpdir(), 'mdsync-test-'));
  await chmod(work, 0o755);
  return { work, config: await dovecotConfig(work) };
}

/** The minimal config doveadm needs (no daemon); Dovecot refuses mail access as root, so `mail`. */
export function dovecotConfigText(extra: string[] = []): string {
  return [
    'protocols = imap',
    'mail_location = maildir:~/Maildir',
    'first_valid_uid = 0',
    'first_valid_gid = 0',
    'mail_uid = mail',
    'mail_gid = mail',
    'ssl = no',
    'log_path = /dev/stderr',
    ...extra,
    'namespace inbox {',
    '  inbox = yes',
    '  separator = /',
    '}',
    '',
  ].join('\n');
}

export async function dovecotConfig(dir: string): Promise<string> {
  const path = join(dir, 'dovecot.conf');
  await writeFile(path, dovecotConfigText());
  return path;
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The mail location of an fs-layout Maildir (folders as A/B rather than .A.B). */
export const fsLayout = (maildir: string): string => `${maildir}:LAYOUT=fs`;

/** Runs doveadm on one Maildir (a path, or a path with `:LAYOUT=…`), made the mail user's first as Dovecot requires. */
/**
 * chown -R to the mail user. mdsync may be at work in the tree (its lock's temp file comes and
 * goes within a moment), and chown -R fails on a file that vanishes under it: tried again.
 */
async function giveToMail(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('chown', ['-R', 'mail:mail', dir]);
      return;
    } catch (err) {
      if (attempt >= 5 || !/No such file or directory/.test((err as Error).message)) throw err;
    }
  }
}

export async function doveadm(config: string, maildir: string, args: string[]): Promise<string> {
  await giveToMail(maildir.split(':')[0] as string);
  return run(DOVEADM, ['-c', config, '-o', `mail_location=maildir:${maildir}`, ...args], { ...process.env, USER: 'root', HOME: '/tmp' });
}

/** Delivers one message through Dovecot (`doveadm save`), which gives it the mailbox's next UID. */
export async function doveadmSave(config: string, maildir: string, mailbox: string, messageText: string): Promise<void> {
  await giveToMail(maildir.split(':')[0] as string);
  await run(DOVEADM, ['-c', config, '-o', `mail_location=maildir:${maildir}`, 'save', '-m', mailbox], { ...process.env, USER: 'root', HOME: '/tmp' }, messageText);
}

export interface DovecotStatus {
  messages: number;
  uidvalidity: number;
  uidnext: number;
}

export async function mailboxStatus(config: string, maildir: string, mailbox: string): Promise<DovecotStatus> {
  const out = await doveadm(config, maildir, ['-f', 'tab', 'mailbox', 'status', 'messages uidvalidity uidnext', mailbox]);
  const [head, values] = out.trim().split('\n').map((l) => l.split('\t'));
  const get = (k: string): number => Number(values?.[head?.indexOf(k) ?? -1]);
  return { messages: get('messages'), uidvalidity: get('uidvalidity'), uidnext: get('uidnext') };
}

export interface DovecotMessage {
  uid: number;
  guid: string;
  /** Flags and keywords as Dovecot reports them, without the session's \Recent, sorted. */
  flags: string[];
}

export async function fetchMessages(config: string, maildir: string, mailbox: string): Promise<DovecotMessage[]> {
  const out = await doveadm(config, maildir, ['-f', 'tab', 'fetch', 'uid guid flags', 'mailbox', mailbox, 'ALL']);
  return out.trim().split('\n').slice(1).filter(Boolean).map((line) => {
    const [uid, guid, flags] = line.split('\t');
    return { uid: Number(uid), guid: guid as string, flags: (flags ?? '').split(' ').filter((f) => f && f !== '\\Recent').sort() };
  });
}

/** Folder names Dovecot lists, and those it lists as subscribed. */
export async function mailboxList(config: string, maildir: string): Promise<{ all: string[]; subscribed: string[] }> {
  const names = (out: string): string[] => out.trim().split('\n').filter(Boolean).sort();
  return {
    all: names(await doveadm(config, maildir, ['mailbox', 'list'])),
    subscribed: names(await doveadm(config, maildir, ['mailbox', 'list', '-s'])),
  };
}
