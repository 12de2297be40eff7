// A far side's answer to `changes`, checked beyond its fields' types: each message named once, one page at most.

import { MdsyncError } from '../errors.js';
import type { FolderChanges } from '../model.js';
import { MANIFEST_PAGE } from './limits.js';
import { entryFromWire, type Result } from './messages.js';

/** The changes `label` told for `folder`, or a PROTOCOL error naming the field that cannot be right. */
export function changesFromWire(answer: NonNullable<Result<'changes'>>, label: string, folder: string): FolderChanges {
  const fail = (field: string, why: string): never => {
    throw new MdsyncError('PROTOCOL', `${label}: protocol error: answer to changes.${field} (folder ${JSON.stringify(folder)}): ${why}`);
  };
  const count = answer.changed.length + answer.gone.length;
  if (count > MANIFEST_PAGE) fail('changed', `${count} messages changed and gone, more than the ${MANIFEST_PAGE} one answer may hold`);
  // A message both changed and gone (or told twice) would be planned twice, once each way.
  const seen = new Map<string, string>();
  const once = (guid: string, field: string): void => {
    const first = seen.get(guid);
    if (first !== undefined) fail(field, `GUID ${JSON.stringify(guid)} is also in changes.${first}`);
    seen.set(guid, field);
  };
  answer.changed.forEach(([guid], i) => once(guid, `changed[${i}]`));
  answer.gone.forEach((guid, i) => once(guid, `gone[${i}]`));
  const changes: FolderChanges = { changed: answer.changed.map(entryFromWire), gone: answer.gone };
  if (answer.skipped !== undefined && answer.skipped.length > 0) changes.skipped = answer.skipped;
  return changes;
}
