// Turns endpoint strings into Agents. Local paths become an in-process LocalAgent.

import type { Layout } from '../model.js';
import { LocalAgent } from '../local/agent.js';
import type { Separator } from '../local/name.js';
import { describeEndpoint, parseEndpoint, type Endpoint } from '../remote/endpoint.js';
import type { Agent } from '../sync/agent.js';
import type { RemoteOptions } from '../remote/open.js';

export interface OpenOptions {
  create: boolean;
  /** With `create`: the missing parent directories too (`--mkpath`). */
  mkpath?: boolean;
  /** The run only reads this side (a backup's source): it must be a Maildir, and is read without its lock where it cannot be written. */
  readOnly?: boolean;
  layout?: Layout;
  defaultLayout?: Layout;
  separator?: Separator;
  /** The caller reads FolderSummary.partial: a folder that never holds still is listed partially, not failed. */
  partialListings?: boolean;
}

export function endpointKey(text: string): string {
  return describeEndpoint(parseEndpoint(text));
}

let remoteCode: Promise<typeof import('../remote/open.js')> | undefined;

/** The code that reaches a far side: loaded for a remote side only (the protocol and its codec would lengthen a local run's start-up). */
function loadRemoteCode(): Promise<typeof import('../remote/open.js')> {
  remoteCode ??= import('../remote/open.js');
  return remoteCode;
}

/** Loads what opening this endpoint needs, so that opening it later waits for no module. */
export async function loadEndpointCode(text: string): Promise<void> {
  if (parseEndpoint(text).kind === 'remote') await loadRemoteCode();
}

/** A local path stays in-process; a remote one is served by `mdsync serve` at the far end. */
export interface OpenedAgent {
  agent: Agent & { layout?: Layout };
  endpoint: Endpoint;
}

export async function openAgent(text: string, options: OpenOptions, remote: RemoteOptions = {}): Promise<OpenedAgent> {
  const endpoint = parseEndpoint(text);
  if (endpoint.kind === 'remote') {
    const { create, mkpath, readOnly, layout, defaultLayout, separator, partialListings } = options;
    const { openRemote } = await loadRemoteCode();
    const agent = await openRemote(endpoint, remote, { create, mkpath, readOnly, layout, defaultLayout, separator, partialListings });
    return { agent, endpoint };
  }
  const agent = await LocalAgent.open(endpoint.path, options);
  return { agent, endpoint };
}
