// Quoting outside text for a one-line message: nothing of it breaks the line or drives the terminal.

import { expect, it } from 'vitest';
import { quoted } from '../../src/printable.js';

it.each([
  ['plain text', 'bash: mdsync: command not found', 200, '"bash: mdsync: command not found"'],
  ['line ends, tabs, quotes, backslashes', 'a\r\n\t"b"\\', 200, '"a\\r\\n\\t\\"b\\"\\\\"'],
  ['escape sequences and C1 controls', '\x1b]0;owned\x07\x9b2J', 200, '"\\x1b]0;owned\\x07\\x9b2J"'],
  ['line separators and bidirectional overrides', 'a\u2028b\u202ec', 200, '"a\\u2028b\\u202ec"'],
  ['letters beyond ASCII as they are', 'Befehl nicht gefunden: überall', 200, '"Befehl nicht gefunden: überall"'],
  ['cut to the bound, never inside a character', `${'x'.repeat(9)}😀😀`, 10, `"${'x'.repeat(9)}😀…"`],
])('%s', (_, text, max, shown) => {
  expect(quoted(text, max)).toBe(shown);
});
