// What the report says about doveadm: why its results are not exact, and what the benchmark does to run it fairly.

export const DOVEADM_NOTES = [
  '## Notes on doveadm',
  '',
  '`mdsync verify` finds differences after every doveadm run; the tables count them by kind:',
  '',
  '- **mtime**: dsync gives each file it writes the message\'s received date in whole seconds; the sub-second part of the ' +
    'source\'s mtime is lost.',
  '- **cur/new**: a message without any flag that the source keeps in cur/ is written to new/.',
  '- **flags**: the `P` (passed) flag, which IMAP has no name for, is dropped.',
  '- **missing / extra**: the copy\'s bytes differ: a line ending in CR CR LF loses a CR (the one such message of the ' +
    'SpamAssassin corpus, in each of its copies).',
  '- It also writes its own file names (`<time>.M<usec>P<pid>.<host>,S=<size>,W=<vsize>`); verify matches messages by content.',
  '',
  'Worked around, so that doveadm runs at all and on equal terms:',
  '',
  '- Dovecot hard-links messages into a destination on the source\'s filesystem (`maildir_copy_with_hardlinks`, on by default): ' +
    'such a "backup" shares the source\'s inodes and copies nothing. It is turned off in the config.',
  '- Dovecot refuses mail access as root: it runs with `mail_uid = mail`, every tree it touches is chowned to `mail`, and the remote ' +
    '`dsync-server` is started with `HOME=/tmp` (sshd gives it root\'s home, which the mail user cannot enter).',
  '- doveadm writes dovecot-uidlist, indexes and dovecot-uidvalidity into the Maildirs it reads (moved elsewhere with `CONTROL=`, ' +
    'it also looks for dovecot-keywords there and misses the keywords), so it reads its own copy of the corpus.',
  '- Dovecot notices a change to a Maildir by its directory\'s mtime, in whole seconds: changes are made at least 1.1 s after the ' +
    'previous run.',
  '- doveadm starts the ssh command it is given with a scrubbed environment: everything the client needs (port, key, known_hosts, ' +
    'log file) is passed as options.',
].join('\n');
