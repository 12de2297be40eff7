// The `subscriptions` file: Dovecot v2 (tab-separated hierarchy) and the older one-name-per-line form.

import { describe, expect, it } from 'vitest';
import { formatSubscriptions, parseSubscriptions } from '../../../src/local/subscriptions.js';

describe('parseSubscriptions', () => {
  const rows: { text: string; names: string[] }[] = [
    { text: 'V\t2\n\nWork\nArchive\t2024\nINBOX\n', names: ['Archive/2024', 'INBOX', 'Work'] },
    { text: 'V\t2\n\n', names: [] },
    { text: 'V\t2\n\nEntwürfe\nEntwürfe\n', names: ['Entwürfe'] },
    // Older Maildir++ form: "." hierarchy, optional "INBOX." prefix, stray spaces.
    { text: 'INBOX.Sent\nArchive.2024\n  Drafts  \n\nINBOX\n', names: ['Archive/2024', 'Drafts', 'INBOX', 'Sent'] },
    { text: '', names: [] },
  ];
  it.each(rows)('reads $text', ({ text, names }) => {
    expect(parseSubscriptions(text)).toEqual(names);
  });
});

describe('formatSubscriptions', () => {
  it('writes v2, sorted, without duplicates, hierarchy as tabs', () => {
    expect(formatSubscriptions(['Work', 'Archive/2024', 'INBOX', 'Work'])).toBe('V\t2\n\nArchive\t2024\nINBOX\nWork\n');
    expect(formatSubscriptions([])).toBe('V\t2\n\n');
  });

  it('round-trips through parseSubscriptions', () => {
    const names = ['A/B/C', 'INBOX', 'Tom & Jerry', 'Entwürfe', 'v1.2'];
    expect(parseSubscriptions(formatSubscriptions(names))).toEqual([...names].sort());
  });
});
