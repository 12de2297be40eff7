import { describe, expect, it } from 'vitest';
import { checkShape, checkTemplate, endpointFor, expandTemplate, parseShard, parseUserList, shardOf, userNameProblem } from '../../../../src/cli/batch/users.js';

describe('the user list', () => {
  it('takes one user per line, skips blank lines and comments, and reads tab-separated sides', () => {
    const { users, refused } = parseUserList('alice@example.org\r\n\n  # a comment\nbob@example.org\t/old/bob\tnew:/srv/bob\n');
    expect(refused).toEqual([]);
    expect(users).toEqual([
      { user: 'alice@example.org', line: 1 },
      { user: 'bob@example.org', line: 4, from: '/old/bob', to: 'new:/srv/bob' },
    ]);
  });

  it('refuses a line by line, naming it, and keeps the others', () => {
    const { users, refused } = parseUserList(['ok@x', '../etc@x', 'a/b', 'two\tfields', 'ok@x', 'c\u0001d', 'e\t\tnew:/e', '..', 'f@..', '@x'].join('\n'));
    expect(users.map((u) => u.user)).toEqual(['ok@x']);
    expect(refused.map((r) => [r.line, r.message])).toEqual([
      [2, 'the name holds a "/"'],
      [3, 'the name holds a "/"'],
      [4, '2 tab-separated fields: a user alone, or a user, a source and a destination'],
      [5, 'listed already on line 1'],
      [6, 'the name holds a control character'],
      [7, 'its source is empty'],
      [8, 'the name, its part before "@" or its domain is "." or ".."'],
      [9, 'the name, its part before "@" or its domain is "." or ".."'],
      [10, 'no name before the "@"'],
    ]);
  });

  it('refuses NUL in a name', () => {
    expect(userNameProblem('a\u0000b')).toBe('the name holds a control character');
  });
});

describe('templates', () => {
  it('expands %u, %n, %d and %% as Dovecot does', () => {
    expect(expandTemplate('/var/vmail/%d/%n/Maildir', 'alice@example.org')).toBe('/var/vmail/example.org/alice/Maildir');
    expect(expandTemplate('host:/m/%u/100%%', 'bob')).toBe('host:/m/bob/100%');
    expect(expandTemplate('/m/%d/%n', 'x@y@z')).toBe('/m/z/x@y');
  });

  it('refuses a template naming no user or an unknown placeholder', () => {
    expect(() => checkTemplate('--from', '/var/vmail/alice')).toThrow('--from "/var/vmail/alice" names no user: put %u, %n or %d in it');
    expect(() => checkTemplate('--from', '/srv/%%u')).toThrow('names no user');
    expect(() => checkTemplate('--to', '/var/%x/%n')).toThrow('--to "/var/%x/%n": %x is not %u, %n, %d or %%');
    expect(() => checkTemplate('--to', '/var/%n%')).toThrow('a lone % is not %u, %n, %d or %%');
    expect(expandTemplate('/srv/%u%%', 'a')).toBe('/srv/a%');
  });

  it('keeps an endpoint under its template\'s fixed directory, with its template\'s host and login', () => {
    const shape = (t: string) => checkTemplate('--to', t);
    expect(endpointFor(shape('newhost:/srv/%d/%n'), 'a@b')).toBe('newhost:/srv/b/a');
    expect(endpointFor(shape('/var/mail/user-%n'), 'a')).toBe('/var/mail/user-a');
    expect(endpointFor(shape('/srv/100%%/%u'), 'a@b')).toBe('/srv/100%/a@b');
    expect(endpointFor(shape('%d:/srv/mail/%n'), 'alice@mx1.example.org')).toBe('mx1.example.org:/srv/mail/alice');
    // Where the user names the host, only a plain host name is taken: nothing an ssh command would read as more.
    expect(() => endpointFor(shape('%n:/srv/mail'), '-oProxyCommand=touch x@example.org')).toThrow('a host or user may not start with "-"');
    expect(() => endpointFor(shape('%d:/srv/mail/%n'), 'x@h;id')).toThrow('its host is not a plain host name');
    expect(() => endpointFor(shape('%n@mail:/srv/mail'), 'a$b@x')).toThrow('its login is not a plain login name');
    // A name the list check would refuse does not get past this one either.
    expect(() => endpointFor(shape('/var/vmail/%n'), '..')).toThrow('outside "/var/vmail"');
    expect(() => endpointFor(shape('/var/vmail/%d/%n'), 'x@../..')).toThrow('outside');
    expect(() => endpointFor(shape('mail:/srv/%d/%n'), 'x@..')).toThrow('its path holds "." or ".."');
  });

  it('refuses a user whose missing domain would lift its path a level, in whatever template shape', () => {
    const shape = (t: string) => checkTemplate('--to', t);
    for (const [template, user] of [['/srv/vmail/%d/%n', 'bob'], ['%d/%n/Maildir', 'root@'], ['%d:/srv/%n', 'bob'], ['mail:%d/%n', 'bob']] as const) {
      expect(() => endpointFor(shape(template), user), `${template} ${user}`).toThrow(`gives the domain a directory, and user "${user}" has none`);
    }
    // Within a directory name, an empty domain lifts nothing.
    expect(endpointFor(shape('/srv/%n-%d'), 'bob')).toBe('/srv/bob-');
  });

  it('holds a template that starts with the user to the directory it names (the current one, or the login\'s home)', () => {
    const relative = checkTemplate('--to', '%d/%n');
    expect(relative.base).toBe(process.cwd());
    expect(endpointFor(relative, 'a@b')).toBe('b/a');
    expect(() => checkShape(relative, '/etc/passwd-dir', 'a@b')).toThrow(`outside "${process.cwd()}"`);
    const home = checkTemplate('--to', 'mail:%u');
    expect(home.base).toBe('');
    expect(endpointFor(home, 'a@b')).toBe('mail:a@b');
    expect(() => checkShape(home, 'mail:/etc', 'a@b')).toThrow('outside "the login\'s home"');
  });

  it('holds a line\'s own endpoints to the template\'s shape', () => {
    const to = checkTemplate('--to', 'newhost:/srv/vmail/%d/%n');
    checkShape(to, 'newhost:/srv/vmail/example.org/alice.old', 'alice@example.org');
    expect(() => checkShape(to, 'newhost:/var/vmail/ceo', 'x')).toThrow('outside "/srv/vmail"');
    expect(() => checkShape(to, 'otherhost:/srv/vmail/x', 'x')).toThrow('its host is not "newhost"');
    expect(() => checkShape(to, '/srv/vmail/x', 'x')).toThrow('not a remote endpoint as "newhost:/srv/vmail/%d/%n" is');
    expect(() => checkShape(to, 'newhost:/srv/vmail/x/../../../etc', 'x')).toThrow('its path holds "." or ".."');
  });

  it('refuses a name starting with "~" or longer than 255 characters', () => {
    expect(userNameProblem('~')).toBe('the name starts with "~" (a home directory)');
    expect(userNameProblem('x'.repeat(256))).toBe('the name is over 255 characters');
  });
});

describe('shards', () => {
  it('are disjoint and cover the list, the same on every run', () => {
    const users = Array.from({ length: 500 }, (_, i) => `user${i}@example.org`);
    const seen = new Map<string, number>();
    for (let i = 0; i < 4; i++) for (const u of users.filter((u) => shardOf(u, 4) === i)) seen.set(u, (seen.get(u) ?? 0) + 1);
    expect(seen.size).toBe(500);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(Array.from({ length: 4 }, (_, i) => users.filter((u) => shardOf(u, 4) === i).length).every((n) => n > 80)).toBe(true);
    expect(shardOf('alice@example.org', 7)).toBe(shardOf('alice@example.org', 7));
  });

  it('parses I/N and refuses what is not', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1', '-1/3', '0/0', 'a/b']) expect(() => parseShard(bad)).toThrow('--shard takes I/N');
  });
});
