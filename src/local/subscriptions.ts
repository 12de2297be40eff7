// The `subscriptions` file: Dovecot's v2 format ("V\t2" header, hierarchy as tabs) and the older one-name-per-line form.

export function parseSubscriptions(text: string): string[] {
  const lines = text.split('\n');
  const names = new Set<string>();
  if (lines[0] === 'V\t2') {
    for (const line of lines.slice(1)) if (line !== '') names.add(line.split('\t').join('/'));
  } else {
    for (const line of lines) {
      const name = line.trim();
      if (name !== '') names.add(name.replace(/^INBOX\./, '').split('.').join('/'));
    }
  }
  return [...names].sort();
}

export function formatSubscriptions(names: string[]): string {
  return 'V\t2\n\n' + [...new Set(names)].sort().map((n) => n.split('/').join('\t') + '\n').join('');
}
