// Turns endpoint strings into Agents. Local paths become an in-process LocalAgent.

import { MdsyncError } from '../errors.js';
import type { Layout } from '../model.js';
import { LocalAgent } from '../local/agent.js';
import type { Separator } from '../local/name.js';
import { describeEndpoint, parseEndpoint, type Endpoint } from '../remote/endpoint.js';
import type { Agent } from '../sync/agent.js';

export interface OpenOptions {
  create: boolean;
  layout?: Layout;
  defaultLayout?: Layout;
  separator?: Separator;
}

export function endpointKey(text: string): string {
  return describeEndpoint(parseEndpoint(text));
}

export async function openAgent(text: string, options: OpenOptions): Promise<{ agent: Agent & { layout?: Layout }; endpoint: Endpoint }> {
  const endpoint = parseEndpoint(text);
  if (endpoint.kind === 'remote') {
    throw new MdsyncError('USAGE', `${text}: remote endpoints (SSH) are not available in this version; use a local path`);
  }
  const agent = await LocalAgent.open(endpoint.path, options);
  return { agent, endpoint };
}
