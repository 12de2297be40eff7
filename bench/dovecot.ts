// Dovecot's doveadm without a daemon: a minimal config, and Maildirs owned by the mail user it works as.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dovecotConfigText } from '../test/helpers/dovecot.js';

export const DOVEADM = '/usr/bin/doveadm';
/** Dovecot refuses mail access as root unless told whom it is; HOME only needs to be reachable. */
export const DOVECOT_ENV = { USER: 'root', HOME: '/tmp' };

/** Writes the config doveadm runs with into `dir`; mail is accessed as `mail`, as Dovecot refuses root. */
export function writeDovecotConfig(dir: string): string {
  const path = join(dir, 'dovecot.conf');
  // Otherwise a destination on the source's filesystem shares its inodes: no copy at all.
  writeFileSync(path, dovecotConfigText(['maildir_copy_with_hardlinks = no']));
  return path;
}

export function chownToMail(path: string): void {
  const r = spawnSync('chown', ['-R', 'mail:mail', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chown -R mail:mail ${path}: ${r.stderr.trim()}`);
}

export function doveadmArgs(config: string, maildir: string): string[] {
  return ['-c', config, '-o', `mail_location=maildir:${maildir}`];
}

/** Builds Dovecot's uidlists and indexes in a Maildir, as a server that has been delivering to it would have them. */
export function indexMaildir(config: string, maildir: string): void {
  const r = spawnSync(DOVEADM, [...doveadmArgs(config, maildir), 'mailbox', 'status', 'messages', '*'], { env: { ...process.env, ...DOVECOT_ENV }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`doveadm mailbox status on ${maildir}: exit ${r.status} ${r.stderr.trim()}`);
}
