// dovecot-keywords: a folder's map of keyword letters (a–z, index 0–25) to keyword names.

import { MdsyncError } from '../errors.js';

export const MAX_KEYWORDS = 26;

export class KeywordMap {
  private readonly names: (string | undefined)[] = [];
  private dirty = false;
  /**
   * The names of each set of letters asked for, one array per set: a folder's files carry few
   * sets, and its entries then share them (frozen, so none is changed for all).
   */
  private readonly named = new Map<string, string[]>();

  static parse(text: string, path: string): KeywordMap {
    const map = new KeywordMap();
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      const m = /^(\d+) (.+)$/.exec(line);
      const index = m ? Number(m[1]) : -1;
      if (!m || index >= MAX_KEYWORDS || !isValidKeyword(m[2] as string)) {
        // The line is not quoted: whatever the file holds must not travel in an error.
        throw new MdsyncError('BAD_KEYWORDS', `${path} line ${i + 1}: not "<0-25> <keyword>"; fix or remove that line`);
      }
      map.names[index] = m[2];
    }
    return map;
  }

  /** The keyword a letter (a–z) names, if any. */
  nameOf(letter: string): string | undefined {
    return this.names[letter.charCodeAt(0) - 97];
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  get changed(): boolean {
    return this.dirty;
  }

  /** The file's text with every letter given out so far. */
  takeChanges(): string {
    this.dirty = false;
    return this.format();
  }

  /** Keyword names for a file's letters; letters with no name are reported through `unknown`. */
  namesFor(letters: string, unknown: (letter: string) => void): string[] {
    const known = this.named.get(letters);
    if (known) return known;
    const out: string[] = [];
    let whole = true;
    for (const letter of letters) {
      const name = this.nameOf(letter);
      if (name === undefined) {
        unknown(letter);
        whole = false;
      } else {
        out.push(name);
      }
    }
    const names = Object.freeze(out.sort()) as string[];
    // Letters without a name are reported for each file that carries them: never kept.
    if (whole) this.named.set(letters, names);
    return names;
  }

  /** Letters for names, assigning free letters to new names; names past the 26th are returned as dropped. */
  lettersFor(names: string[]): { letters: string; dropped: string[] } {
    let letters = '';
    const dropped: string[] = [];
    for (const name of names) {
      let index = this.names.indexOf(name);
      if (index < 0) {
        index = this.freeIndex();
        if (index < 0) {
          dropped.push(name);
          continue;
        }
        this.names[index] = name;
        this.dirty = true;
        this.named.clear();
      }
      letters += String.fromCharCode(97 + index);
    }
    return { letters: [...letters].sort().join(''), dropped };
  }

  /** The lowest unused letter index (a hole left by a removed name first), or -1 when all 26 are taken. */
  private freeIndex(): number {
    // indexOf(undefined) skips the holes of a sparse array, so look at each slot.
    for (let i = 0; i < MAX_KEYWORDS; i++) if (this.names[i] === undefined) return i;
    return -1;
  }

  /** Letters of the names this folder already knows (others cannot be on any file here). */
  knownLetters(names: string[]): string {
    let out = '';
    for (const name of names) {
      const index = this.names.indexOf(name);
      if (index >= 0) out += String.fromCharCode(97 + index);
    }
    return out;
  }

  format(): string {
    return this.names.map((name, i) => (name === undefined ? '' : `${i} ${name}\n`)).join('');
  }
}

/** An IMAP atom: no spaces, controls, or list/quote specials (RFC 3501 flag-keyword). */
export function isValidKeyword(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[\x00-\x20\x7f(){%*"\\\]]/.test(name);
}
