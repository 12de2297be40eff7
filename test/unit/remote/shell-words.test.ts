// Shell words: what the remote shell receives, and how an -e command is split.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { remoteCommand } from '../../../src/remote/open.js';
import { shellQuote, splitWords } from '../../../src/remote/shell-words.js';

describe('shellQuote', () => {
  it.each(['Maildir', '/srv/mail/alice', 'Mail Dir', "it's", '$HOME', '`id`', 'a;b', '~/Maildir', ''])('%j reaches sh unchanged', (arg) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(arg)}`]).toString()).toBe(arg);
  });

  it('leaves plain paths unquoted', () => {
    expect(shellQuote('/srv/mail/alice')).toBe('/srv/mail/alice');
  });
});

describe('remoteCommand', () => {
  it('quotes the path, not the --remote-path prefix', () => {
    expect(remoteCommand('sudo -u vmail mdsync', "/srv/o'neil mail")).toBe("sudo -u vmail mdsync serve --root '/srv/o'\\''neil mail'");
  });
});

describe('splitWords', () => {
  it.each([
    ['ssh', ['ssh']],
    ['ssh -J bastion', ['ssh', '-J', 'bastion']],
    ["ssh -o 'ProxyCommand=nc %h %p'", ['ssh', '-o', 'ProxyCommand=nc %h %p']],
    ['ssh -i "/my keys/id"  -p 22', ['ssh', '-i', '/my keys/id', '-p', '22']],
    ['ssh -o A=b\\ c', ['ssh', '-o', 'A=b c']],
    ["ssh ''", ['ssh', '']],
  ])('%j', (line, words) => {
    expect(splitWords(line)).toEqual(words);
  });

  it('refuses an unbalanced quote', () => {
    expect(() => splitWords("ssh -o 'x")).toThrow(/unbalanced ' in/);
  });
});
