// Deliveries as `deliver` sends them: the GUIDs of a batch as one text, one per line (a GUID
// holds no control character), its flags likewise, its locations one letter each; mtimes,
// keywords, the rest of each name's info and the bodies as lists. A map a message, each field
// checked under a path of its own, cost the far side's main thread more than the copy's own work
// and left a short string per field as garbage; three long texts split at once
// (docs/performance.md, "On the wire").

import { MdsyncError } from '../errors.js';
import type { Delivery } from '../model.js';
import { flags as flagsCheck, guid as guidCheck, invalid } from './check.js';
import type { Args } from './messages.js';

type Packed = Args<'deliver'>;
/** One delivery before packing: a message's name parts and mtime, and its whole body. */
export type WireDelivery = Omit<Args<'upload'>['item'], 'size'> & { data: Uint8Array };

const SEPARATOR = '\n';

/** One batch of deliveries, packed. Refused (PROTOCOL) for a GUID or flags no far side would take. */
export function packDeliveries(folder: string, items: WireDelivery[]): Packed {
  for (const item of items) {
    // The far side refuses a control character in either; here it would also cut the lines wrong.
    if (item.guid.includes(SEPARATOR) || item.flags.includes(SEPARATOR)) {
      throw new MdsyncError('PROTOCOL', `cannot send message ${JSON.stringify(item.guid)} (flags ${JSON.stringify(item.flags)}): a line break in its name`);
    }
  }
  return {
    folder,
    guids: items.map((i) => i.guid).join(SEPARATOR),
    flags: items.map((i) => i.flags).join(SEPARATOR),
    locations: items.map((i) => (i.location === 'new' ? 'n' : 'c')).join(''),
    mtimes: items.map((i) => i.mtime),
    keywords: items.map((i) => i.keywords),
    infoRest: items.map((i) => i.infoRest ?? null),
    data: items.map((i) => i.data),
  };
}

/**
 * The deliveries of a packed batch (its lists already checked item by item with the request),
 * each line checked as its field is checked elsewhere; PROTOCOL naming the field otherwise.
 */
export function deliveriesFromWire(packed: Packed): Delivery[] {
  const n = packed.data.length;
  const lines = (field: 'guids' | 'flags'): string[] => {
    // No messages: an empty text, which split would make one empty line.
    const out = n === 0 && packed[field] === '' ? [] : packed[field].split(SEPARATOR);
    if (out.length !== n) invalid(`deliver.${field}`, `expected ${n} lines (one a message), got ${out.length}`);
    return out;
  };
  const guids = lines('guids');
  const flags = lines('flags');
  for (const field of ['mtimes', 'keywords', 'infoRest'] as const) {
    if (packed[field].length !== n) invalid(`deliver.${field}`, `expected ${n} entries (one a message), got ${packed[field].length}`);
  }
  if (packed.locations.length !== n) invalid('deliver.locations', `expected ${n} letters (one a message), got ${packed.locations.length}`);
  return guids.map((g, i): Delivery => {
    const letter = packed.locations.charAt(i);
    if (letter !== 'c' && letter !== 'n') invalid(`deliver.locations[${i}]`, `expected c or n, got ${JSON.stringify(letter)}`);
    const item: Delivery = {
      guid: guidCheck(g, `deliver.guids[${i}]`),
      flags: flagsCheck(flags[i], `deliver.flags[${i}]`),
      location: letter === 'n' ? 'new' : 'cur',
      mtime: packed.mtimes[i] as number,
      keywords: packed.keywords[i] as string[],
      data: packed.data[i] as Uint8Array,
    };
    const rest = packed.infoRest[i];
    if (rest !== null && rest !== undefined) item.infoRest = rest;
    return item;
  });
}
