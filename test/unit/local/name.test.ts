// Maildir file names: base (GUID), `,S=` size, `:2,` info with flags, keyword letters and the rest.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { formatName, freshGuid, guidLengthIn, guidOfName, infoMayHold, parseName, printableName, unsyncableName, SEPARATORS, type ParsedName, type Separator } from '../../../src/local/name.js';

const BASE = '1600000000.M123P456.host';

describe('parseName', () => {
  const rows: { name: string; preferred?: Separator; want: ParsedName }[] = [
    { name: BASE, want: { guid: BASE, flags: '', keywordLetters: '' } },
    { name: `${BASE},S=1234`, want: { guid: `${BASE},S=1234`, flags: '', keywordLetters: '', size: 1234 } },
    { name: `${BASE},S=1234,W=1260:2,S`, want: { guid: `${BASE},S=1234,W=1260`, flags: 'S', keywordLetters: '', separator: ':', size: 1234 } },
    { name: `${BASE},W=1260,S=99:2,`, want: { guid: `${BASE},W=1260,S=99`, flags: '', keywordLetters: '', separator: ':', size: 99 } },
    // `,S=` must be a whole field: digits up to the next comma or the end.
    { name: `${BASE},S=12x:2,S`, want: { guid: `${BASE},S=12x`, flags: 'S', keywordLetters: '', separator: ':' } },
    { name: `${BASE},S=12x,S=34:2,S`, want: { guid: `${BASE},S=12x,S=34`, flags: 'S', keywordLetters: '', separator: ':', size: 34 } },
    { name: `${BASE},S=,W=5:2,S`, want: { guid: `${BASE},S=,W=5`, flags: 'S', keywordLetters: '', separator: ':' } },
    { name: `${BASE}:2,FS`, want: { guid: BASE, flags: 'FS', keywordLetters: '', separator: ':' } },
    // Flags come back sorted and without repeats; keyword letters are kept apart from flags.
    { name: `${BASE}:2,SRF`, want: { guid: BASE, flags: 'FRS', keywordLetters: '', separator: ':' } },
    { name: `${BASE}:2,cSaF`, want: { guid: BASE, flags: 'FS', keywordLetters: 'ac', separator: ':' } },
    { name: `${BASE}:2,SS`, want: { guid: BASE, flags: 'S', keywordLetters: '', separator: ':' } },
    // Unknown uppercase flags are flags, preserved.
    { name: `${BASE}:2,SXZ`, want: { guid: BASE, flags: 'SXZ', keywordLetters: '', separator: ':' } },
    // Anything after a second comma is kept verbatim, leading comma included.
    { name: `${BASE}:2,FS,M=abc`, want: { guid: BASE, flags: 'FS', keywordLetters: '', separator: ':', infoRest: ',M=abc' } },
    { name: `${BASE}:2,a,x,y`, want: { guid: BASE, flags: '', keywordLetters: 'a', separator: ':', infoRest: ',x,y' } },
    // Filesystems without ":" use "!" or ";"; a name from another system is still understood.
    { name: `${BASE}!2,S`, want: { guid: BASE, flags: 'S', keywordLetters: '', separator: '!' } },
    { name: `${BASE};2,RS`, want: { guid: BASE, flags: 'RS', keywordLetters: '', separator: ';' } },
    { name: `${BASE}!2,S`, preferred: '!', want: { guid: BASE, flags: 'S', keywordLetters: '', separator: '!' } },
    { name: `${BASE}:2,S`, preferred: ';', want: { guid: BASE, flags: 'S', keywordLetters: '', separator: ':' } },
    // A "!" inside the base is not the separator when the info uses ":".
    { name: 'a!b:2,S', want: { guid: 'a!b', flags: 'S', keywordLetters: '', separator: ':' } },
    // Info that is not "2," (experimental semantics): kept opaque, flags unknown.
    { name: `${BASE}:1,xyz`, want: { guid: BASE, flags: '', keywordLetters: '', separator: ':', opaqueInfo: '1,xyz' } },
    { name: `${BASE}!1,xyz`, preferred: '!', want: { guid: BASE, flags: '', keywordLetters: '', separator: '!', opaqueInfo: '1,xyz' } },
    // A separator at position 0 is not an info separator: the whole name is the base.
    { name: ':2,S', want: { guid: ':2,S', flags: '', keywordLetters: '' } },
  ];
  it.each(rows)('$name (preferred $preferred)', ({ name, preferred, want }) => {
    expect(parseName(name, preferred)).toEqual(want);
  });

  // Scans key files by guidOfName and parse a name only when asked: both must find the same GUID.
  it.each(rows)('guidOfName finds the GUID parseName finds in $name (preferred $preferred)', ({ name, preferred, want }) => {
    expect(guidOfName(name, preferred)).toBe(want.guid);
  });

  // A keyword letter named since a listing is looked for with infoMayHold before any parse: it
  // must never miss a letter parseName finds, and it leaves out names that hold none.
  it.each(rows)('infoMayHold sees every keyword letter parseName finds in $name (preferred $preferred)', ({ name, preferred, want }) => {
    for (const letter of 'abcdefghijklmnopqrstuvwxyz') {
      if (want.keywordLetters.includes(letter)) expect(infoMayHold(name, `${letter}z`, preferred)).toBe(true);
    }
    if (want.keywordLetters === '' && want.opaqueInfo === undefined && want.infoRest === undefined) expect(infoMayHold(name, 'abcdefghijklmnopqrstuvwxyz', preferred)).toBe(false);
  });

  const bad = ['', 'cur/1.M1.host', '../x', 'x\0y', 'x'.repeat(256)];
  it.each(bad)('rejects %j with code BAD_NAME', (name) => {
    const err = errorOf(() => parseName(name));
    expect(err.code).toBe('BAD_NAME');
    expect(err.message).toBe(`not a Maildir file name: ${JSON.stringify(name)}`);
  });

  it('accepts a name of exactly 255 characters', () => {
    const name = 'x'.repeat(251) + ':2,S';
    expect(parseName(name)).toEqual({ guid: 'x'.repeat(251), flags: 'S', keywordLetters: '', separator: ':' });
  });
});

describe('formatName', () => {
  const rows: { parts: Parameters<typeof formatName>[0]; sep: Separator; location: 'new' | 'cur'; want: string }[] = [
    // MDAs deliver into new/ with a bare name; mdsync does the same for a message with no flags.
    { parts: { guid: BASE, flags: '', keywordLetters: '' }, sep: ':', location: 'new', want: BASE },
    { parts: { guid: BASE, flags: '', keywordLetters: '' }, sep: ':', location: 'cur', want: `${BASE}:2,` },
    { parts: { guid: BASE, flags: 'S', keywordLetters: '' }, sep: ':', location: 'new', want: `${BASE}:2,S` },
    // Flags and keyword letters together, in ASCII order (uppercase before lowercase).
    { parts: { guid: BASE, flags: 'SF', keywordLetters: 'ca' }, sep: ':', location: 'cur', want: `${BASE}:2,FSac` },
    { parts: { guid: BASE, flags: 'S', keywordLetters: '' }, sep: '!', location: 'cur', want: `${BASE}!2,S` },
    { parts: { guid: BASE, flags: 'S', keywordLetters: '' }, sep: ';', location: 'cur', want: `${BASE};2,S` },
    { parts: { guid: BASE, flags: 'S', keywordLetters: '', infoRest: ',M=1' }, sep: ':', location: 'cur', want: `${BASE}:2,S,M=1` },
    // The rest keeps a new/ file from losing its info.
    { parts: { guid: BASE, flags: '', keywordLetters: '', infoRest: ',M=1' }, sep: ':', location: 'new', want: `${BASE}:2,,M=1` },
    { parts: { guid: BASE, flags: '', keywordLetters: '', opaqueInfo: '1,xyz' }, sep: ':', location: 'cur', want: `${BASE}:1,xyz` },
    // Setting a flag on an opaque-info file replaces the info with standard `2,` info.
    { parts: { guid: BASE, flags: 'S', keywordLetters: '', opaqueInfo: '1,xyz' }, sep: ':', location: 'cur', want: `${BASE}:2,S` },
  ];
  it.each(rows)('$want', ({ parts, sep, location, want }) => {
    expect(formatName(parts, sep, location)).toBe(want);
  });
});

describe('parseName ⇄ formatName', () => {
  const names: { name: string; location: 'new' | 'cur'; sep: Separator }[] = [
    { name: BASE, location: 'new', sep: ':' },
    { name: `${BASE},S=1234`, location: 'new', sep: ':' },
    { name: `${BASE},S=1234,W=1260:2,`, location: 'cur', sep: ':' },
    { name: `${BASE},S=1234:2,FRS`, location: 'cur', sep: ':' },
    { name: `${BASE}:2,FSXab`, location: 'cur', sep: ':' },
    { name: `${BASE}:2,S,M=abc,def`, location: 'cur', sep: ':' },
    { name: `${BASE}!2,DT`, location: 'cur', sep: '!' },
    { name: `${BASE};2,Pz`, location: 'cur', sep: ';' },
    { name: `${BASE}:1,xyz`, location: 'cur', sep: ':' },
    { name: `${BASE}:2,S`, location: 'new', sep: ':' },
  ];
  it.each(names)('$name in $location/ survives a round trip', ({ name, location, sep }) => {
    const p = parseName(name, sep);
    expect(formatName(p, p.separator ?? sep, location)).toBe(name);
  });

  it('normalises flag order on the way back', () => {
    const p = parseName(`${BASE}:2,cSRa`);
    expect(formatName(p, ':', 'cur')).toBe(`${BASE}:2,RSac`);
  });
});

describe('freshGuid', () => {
  const SHAPE = /^(\d+)\.M(\d+)P(\d+)Q(\d+)\.([^/:!;]+),S=(\d+)$/;

  it('has the Maildir shape <sec>.M<usec>P<pid>Q<n>.<host>,S=<size>', () => {
    const now = 1_700_000_000_123;
    const guid = freshGuid(4321, 'mail.example.org', now);
    const m = SHAPE.exec(guid);
    expect(m).not.toBeNull();
    const [, sec, usec, pid, , host, size] = m as RegExpExecArray;
    expect(sec).toBe('1700000000');
    expect(Number(usec)).toBeGreaterThanOrEqual(123_000);
    expect(Number(usec)).toBeLessThan(124_000);
    expect(Number(pid)).toBe(process.pid);
    expect(host).toBe('mail.example.org');
    expect(size).toBe('4321');
    expect(parseName(guid)).toEqual({ guid, flags: '', keywordLetters: '', size: 4321 });
  });

  it('escapes "/" and ":" in the host and replaces the other separators', () => {
    const guid = freshGuid(1, 'h/o:s!t;x', 1_700_000_000_000);
    expect(guid.endsWith('.h\\057o\\072s_t_x,S=1')).toBe(true);
    expect(parseName(`${guid}:2,S`)).toEqual({ guid, flags: 'S', keywordLetters: '', separator: ':', size: 1 });
  });

  it('never returns the same name twice in one process, even in the same millisecond', () => {
    const now = 1_700_000_000_000;
    const names = new Set(Array.from({ length: 1000 }, () => freshGuid(10, 'h', now)));
    expect(names.size).toBe(1000);
  });
});

describe('unsyncableName', () => {
  const problem = (name: string, sep: Separator = ':'): string | undefined => unsyncableName(name, guidOfName(name, sep), sep);
  const rows: { name: string; sep?: Separator; want: RegExp | undefined }[] = [
    { name: `${BASE}:2,S`, want: undefined },
    { name: BASE, want: undefined },
    { name: `${BASE}!2,S`, want: undefined },
    { name: `${BASE}:2,S,M=x:y`, want: undefined },
    { name: `${BASE}:2,S`, sep: '!', want: undefined },
    // Bare, the part after ":" is info of its own: the base name holds no ":".
    { name: `${BASE}:foo`, want: undefined },
    { name: `${BASE}:2,S:2,`, want: /base name holds ":2,"/ },
    { name: `${BASE}!2,F:2,`, want: /base name holds "!2,"/ },
    { name: `${BASE};2,T:2,S`, want: /base name holds ";2,"/ },
    { name: `${BASE}!2,S!2,`, sep: '!', want: /base name holds "!2,"/ },
    { name: `${BASE}:2,S:2,`, sep: '!', want: /base name holds ":2,"/ },
    // Bare in new/, "a:x" reads back as message "a".
    { name: 'a:x:2,S', want: /base name holds ":"/ },
    { name: 'a:x:y', want: /base name holds ":"/ },
    { name: 'a!x!2,S', sep: '!', want: /base name holds "!"/ },
    { name: 'a!x:2,S', want: undefined },
    { name: `${BASE}\n:2,S`, want: /control character/ },
    { name: `${BASE}\t`, want: /control character/ },
    { name: `${BASE}\x7f:2,S`, want: /control character/ },
    { name: `${BASE}:2,S\r`, want: /control character/ },
    { name: `${BASE}:2,S T`, want: /flags are not 64 or fewer printable ASCII/ },
    { name: `${BASE}:2,S\u00e9`, want: /flags are not 64 or fewer printable ASCII/ },
    { name: `${BASE}:2,S,\u00e9`, want: undefined },
    // 66 different flag letters: all of printable ASCII but ",", "/" and the keyword letters.
    { name: `${BASE}:2,${String.fromCharCode(...Array.from({ length: 94 }, (_, i) => 0x21 + i)).replace(/[,/a-z]/g, '')}`, want: /flags are not 64/ },
    { name: `${BASE}:2,${'S'.repeat(100)}`, want: undefined },
    { name: 'x'.repeat(256), want: /not a Maildir file name/ },
  ];
  it.each(rows)('$name (separator $sep)', ({ name, sep, want }) => {
    const got = problem(name, sep);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });

  // Every short name of separators, marks and letters: a name kept reads back as itself in every
  // form a side may write it (bare in new/, with flags, with its own or the run's separator).
  it.each(SEPARATORS)('every name it keeps round-trips (separator %s)', (sep) => {
    const pieces = [':', '!', ';', ':2,', '!2,', ';2,', '2,', 'S', 'a'];
    let names = ['X'];
    let kept = 0;
    for (let length = 1; length <= 4; length++) {
      names = names.flatMap((n) => pieces.map((c) => n + c));
      for (const name of names) {
        if (problem(name, sep) !== undefined) continue;
        kept++;
        const p = parseName(name, sep);
        const forms: [string, string][] = [
          [formatName({ guid: p.guid, flags: '', keywordLetters: '' }, sep, 'new'), ''],
          [formatName({ guid: p.guid, flags: 'S', keywordLetters: 'a' }, sep, 'cur'), 'S'],
          [formatName({ guid: p.guid, flags: p.flags, keywordLetters: p.keywordLetters, infoRest: p.infoRest }, sep, 'cur'), p.flags],
          [formatName({ guid: p.guid, flags: 'FS', keywordLetters: '', infoRest: p.infoRest, opaqueInfo: p.opaqueInfo }, p.separator ?? sep, 'cur'), 'FS'],
          [formatName({ guid: p.guid, flags: '', keywordLetters: '', opaqueInfo: p.opaqueInfo }, p.separator ?? sep, 'new'), ''],
        ];
        for (const [written, flags] of forms) {
          const back = parseName(written, sep);
          expect({ name, written, guid: back.guid, flags: back.flags }).toEqual({ name, written, guid: p.guid, flags });
        }
      }
    }
    expect(kept).toBeGreaterThan(500);
  });
});

describe('printableName', () => {
  it('shows control characters and the backslash as \\xNN, the rest as it is', () => {
    expect(printableName('a\nb\tc\x7fd\\e\u0085f\u2028g\u00e9')).toBe('a\\x0ab\\x09c\\x7fd\\x5ce\\x85f\\u2028g\u00e9');
  });
});

describe('guidLengthIn', () => {
  it("finds the GUID guidOfName finds, of a name among others joined in one string", () => {
    const part = fc.array(fc.constantFrom('a', '1', '.', ',', ':', '!', ';', '2', 'S', ':2,', '!2,', ';2,'), { minLength: 1, maxLength: 12 }).map((p) => p.join(''));
    fc.assert(fc.property(part, part, part, fc.constantFrom(...SEPARATORS), (before, name, after, preferred) => {
      const text = `${before}\0${name}\0${after}\0`;
      const from = before.length + 1;
      expect(guidLengthIn(text, from, from + name.length, preferred)).toBe(guidOfName(name, preferred).length);
    }), { numRuns: 2000 });
  });
});
