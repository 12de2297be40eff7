// dovecot-uidlist reading: v3 and Courier v1 headers, records, preserved fields, errors naming file and line.

import { describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { formatUidlist, parseUidlist } from '../../../src/local/uidlist.js';

const PATH = '/mail/.Work/dovecot-uidlist';

describe('parseUidlist', () => {
  it('reads a v3 header, records and their extension fields', () => {
    const text = [
      '3 V1700000000 N42 G4a3e1c6d0b7a5f65a30100004cbd0d3c',
      '1 :1600000000.M1P1.host,S=100',
      '7 G0123abcd W130 :1600000001.M2P1.host,S=120',
      '',
      '41 :1600000002.M3P1.host',
      '',
    ].join('\n');
    const list = parseUidlist(text, PATH);
    expect(list.version).toBe(3);
    expect(list.uidValidity).toBe(1700000000);
    expect(list.nextUid).toBe(42);
    expect(list.headerExtra).toEqual(['G4a3e1c6d0b7a5f65a30100004cbd0d3c']);
    expect([...list.records]).toEqual([
      ['1600000000.M1P1.host,S=100', { uid: 1, fields: [] }],
      ['1600000001.M2P1.host,S=120', { uid: 7, fields: ['G0123abcd', 'W130'] }],
      ['1600000002.M3P1.host', { uid: 41, fields: [] }],
    ]);
  });

  it('keys v3 records by base name when the line holds the full file name', () => {
    const list = parseUidlist('3 V1 N3\n1 :a.host:2,S\n2 :b.host!2,FS\n', PATH);
    expect([...list.records.keys()]).toEqual(['a.host', 'b.host']);
  });

  it('reads a Courier v1 file (positional header, "uid name" lines)', () => {
    const list = parseUidlist('1 1234567890 5\n1 1600000000.M1P1.host:2,S\n4 1600000001.M2P1.host\n', PATH);
    expect(list).toEqual({
      version: 1,
      uidValidity: 1234567890,
      nextUid: 5,
      headerExtra: [],
      records: new Map([
        ['1600000000.M1P1.host', { uid: 1, fields: [] }],
        ['1600000001.M2P1.host', { uid: 4, fields: [] }],
      ]),
    });
  });

  const bad: { text: string; line: number; why: string }[] = [
    { text: '', line: 1, why: 'unsupported version' },
    { text: '2 V1 N1\n', line: 1, why: 'unsupported version' },
    { text: '3 Vabc N1\n', line: 1, why: 'bad UIDVALIDITY or NEXTUID' },
    { text: '3 V1 N1x\n', line: 1, why: 'bad UIDVALIDITY or NEXTUID' },
    { text: '1 x 5\n', line: 1, why: 'bad UIDVALIDITY or NEXTUID' },
    { text: '3 V1 N5\n1 :a\n2 b\n', line: 3, why: 'no " :" before the file name' },
    { text: '3 V1 N5\n1 :a\n\nx :b\n', line: 4, why: 'bad UID' },
    { text: '3 V1 N5\n0 :a\n', line: 2, why: 'bad UID' },
    { text: '3 V1 N5\n-3 :a\n', line: 2, why: 'bad UID' },
    { text: '1 1 5\nabc name\n', line: 2, why: 'bad UID' },
  ];
  it.each(bad)('rejects line $line ($why) with BAD_UIDLIST naming file and line', ({ text, line, why }) => {
    const err = errorOf(() => parseUidlist(text, PATH));
    expect(err.code).toBe('BAD_UIDLIST');
    expect(err.message).toBe(`${PATH} line ${line}: ${why}`);
  });

  // A v1 line with no space has no file name; slicing at indexOf(' ') = -1 would read "12" as
  // UID 1 of a file named "12".
  it('rejects a v1 record line that has no file name', () => {
    const err = errorOf(() => parseUidlist('1 1 5\n12\n', PATH));
    expect(err.code).toBe('BAD_UIDLIST');
    expect(err.message).toBe(`${PATH} line 2: no file name after the UID`);
  });
});

describe('formatUidlist', () => {
  it('writes v3 in UID order, keeping header and record fields, and reads back equal', () => {
    const text = '3 V1700000000 N42 G4a3e1c6d\n7 G0123abcd W130 :1600000001.M2P1.host,S=120\n1 :1600000000.M1P1.host,S=100\n';
    const list = parseUidlist(text, PATH);
    const written = formatUidlist(list);
    expect(written).toBe('3 V1700000000 N42 G4a3e1c6d\n1 :1600000000.M1P1.host,S=100\n7 G0123abcd W130 :1600000001.M2P1.host,S=120\n');
    expect(parseUidlist(written, PATH)).toEqual(list);
  });

  it('turns a Courier-style v1 list into v3 with the same UIDVALIDITY, NEXTUID and UIDs', () => {
    const list = parseUidlist('1 1234 9\n3 1600000000.M1P1.host:2,S\n8 1600000001.M2P1.host\n', PATH);
    expect(formatUidlist(list)).toBe('3 V1234 N9\n3 :1600000000.M1P1.host\n8 :1600000001.M2P1.host\n');
  });
});
