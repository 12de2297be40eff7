// Text from outside (a far side's stderr, bytes a remote shell printed) quoted for a one-line message.

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/**
 * `text` in double quotes on one line, at most `max` characters of it (then "…"): line ends, tabs,
 * quotes and backslashes escaped as in JSON, every other control character (C0, DEL, C1, line
 * separators, bidirectional overrides) as \xNN or \uNNNN, so nothing of it drives the terminal.
 */
export function quoted(text: string, max = 200): string {
  const chars = Array.from(text);
  const kept = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  const escaped = kept.replace(/[\x00-\x1f\x7f-\x9f"\\\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return ESCAPES[c] ?? (code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`);
  });
  return `"${escaped}"`;
}
