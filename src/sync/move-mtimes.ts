// A move's arrival time: the copy a side makes of its own file takes the mtime the message has on the side it came from.

import type { CopyRequest } from '../model.js';
import type { Agent } from './agent.js';
import type { Copy } from './plan.js';

/**
 * The requests of copies into one folder, each with the mtime its message has on the sending side
 * (`from`, where it is named as the copy will be). A client that moved a message by writing a new
 * file gave it a new arrival date there; a link to the old file would keep the old one. A far side
 * that cannot tell, or a message gone meanwhile, leaves the request as it was (the file's own mtime).
 */
export async function withSourceMtimes(from: Agent, copies: readonly Copy[]): Promise<CopyRequest[]> {
  const requests = copies.map((c) => c.request);
  const first = copies[0];
  if (!from.mtimes || !first) return requests;
  const mtimes = await from.mtimes(first.folder, requests.map((r) => r.guid));
  return requests.map((r, i) => {
    const mtime = mtimes[i];
    return mtime === null || mtime === undefined ? r : { ...r, mtime };
  });
}
