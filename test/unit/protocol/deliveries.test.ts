// Deliveries packed for `deliver`: what the far side unpacks is what was packed, through
// msgpack and the request's checks, and a request whose fields disagree is refused by name.

import { encode, decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MdsyncError } from '../../../src/errors.js';
import { deliveriesFromWire, packDeliveries, type WireDelivery } from '../../../src/protocol/deliveries.js';
import { METHODS } from '../../../src/protocol/messages.js';

type Item = WireDelivery;
const items: Item[] = [
  { guid: '1600000001.M1P1.host,S=2', mtime: 1600000000123, flags: 'FS', keywords: ['$Label1', 'work'], location: 'cur', data: Buffer.from('hi') },
  { guid: '1600000002.M2P1.host', mtime: 0, flags: '', keywords: [], location: 'new', data: new Uint8Array(0) },
  { guid: '1600000003.M3P1.host', mtime: 1700000000000, flags: 'S', keywords: [], location: 'cur', data: Buffer.from('third'), infoRest: ',W=5' },
];

/** As the far side gets it: through msgpack and the request's field checks, then unpacked. */
function overTheWire(packed: unknown): ReturnType<typeof deliveriesFromWire> {
  return deliveriesFromWire(METHODS.deliver.args(decode(encode(packed)), 'deliver'));
}

describe('packed deliveries', () => {
  it('unpack to every field packed, in order, bodies byte for byte', () => {
    const out = overTheWire(packDeliveries('INBOX', items));
    expect(out.map(({ data, ...meta }) => ({ ...meta, data: Buffer.from(data as Uint8Array).toString() }))).toEqual(
      items.map(({ data, ...meta }) => ({ ...meta, data: Buffer.from(data).toString() })),
    );
  });

  it('carry no batch at all as empty texts and lists', () => {
    const packed = packDeliveries('INBOX', []);
    expect(packed).toMatchObject({ guids: '', flags: '', locations: '', data: [] });
    expect(overTheWire(packed)).toEqual([]);
  });

  it('are refused where a GUID holds a line break, before anything is sent', () => {
    expect(() => packDeliveries('INBOX', [{ ...items[1] as Item, guid: 'a\nb' }])).toThrow(MdsyncError);
    expect(() => packDeliveries('INBOX', [{ ...items[1] as Item, guid: 'a\nb' }])).toThrow(/cannot send message "a\\nb".*a line break in its name/);
  });

  const good = (): Record<string, unknown> => ({ ...packDeliveries('INBOX', items) });
  it.each([
    ['a GUID line short', { guids: '1600000001.M1P1.host,S=2\n1600000002.M2P1.host' }, /deliver\.guids: expected 3 lines \(one a message\), got 2/],
    ['an empty GUID text for messages', { guids: '' }, /deliver\.guids: expected 3 lines \(one a message\), got 1/],
    ['a GUID leading out of the folder', { guids: '../x\n1600000002.M2P1.host\n1600000003.M3P1.host' }, /deliver\.guids\[0\]: GUID "\.\.\/x" contains "\/"/],
    ['a hidden GUID', { guids: '1600000001.M1P1.host,S=2\n.hidden\n1600000003.M3P1.host' }, /deliver\.guids\[1\]: GUID "\.hidden" starts with "\."/],
    ['a flags line too many', { flags: 'FS\n\nS\nS' }, /deliver\.flags: expected 3 lines \(one a message\), got 4/],
    ['a keyword letter among the flags', { flags: 'FS\na\nS' }, /deliver\.flags\[1\]: bad flags "a"/],
    ['a location letter short', { locations: 'cn' }, /deliver\.locations: expected 3 letters \(one a message\), got 2/],
    ['a location that is tmp', { locations: 'cnt' }, /deliver\.locations\[2\]: expected c or n, got "t"/],
    ['an mtime too many', { mtimes: [1, 2, 3, 4] }, /deliver\.mtimes: expected 3 entries \(one a message\), got 4/],
    ['a keyword list short', { keywords: [[], []] }, /deliver\.keywords: expected 3 entries \(one a message\), got 2/],
    ['an info rest with "/"', { infoRest: [null, null, ',W=5/..'] }, /deliver\.infoRest\[2\]: bad info ",W=5\/\.\."/],
    ['a negative mtime', { mtimes: [1, -2, 3] }, /deliver\.mtimes\[1\]: expected a whole number/],
    ['a body that is text', { data: ['hi', new Uint8Array(0), new Uint8Array(1)] }, /deliver\.data\[0\]: expected bytes/],
  ])('are refused with %s, the field named', (_what, bent, text) => {
    const err = ((): unknown => {
      try {
        overTheWire({ ...good(), ...bent });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MdsyncError);
    expect((err as MdsyncError).code).toBe('PROTOCOL');
    expect((err as Error).message).toMatch(text);
  });
});
