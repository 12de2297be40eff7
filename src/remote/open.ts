// Reaches a remote endpoint: starts `mdsync serve` over ssh2 or an ssh command and says hello.

import { MdsyncError } from '../errors.js';
import { DEFAULT_TIMEOUT_S } from '../protocol/limits.js';
import { RemoteAgent } from '../protocol/remote-agent.js';
import type { Transport } from './transport.js';
import type { OpenRequest } from '../protocol/hello.js';
import { startCommand } from './command-transport.js';
import { describeEndpoint, type Endpoint } from './endpoint.js';
import { shellQuote } from './shell-words.js';

export interface RemoteOptions {
  /** `-e`: an ssh-like command instead of the built-in client. */
  sshCommand?: string;
  /** `--remote-path`: how the far side's shell starts mdsync (a command prefix, like rsync's --rsync-path). */
  remotePath?: string;
  identities?: string[];
  acceptNewHostKey?: boolean;
  timeoutMs?: number;
  /** `-z`: message bodies deflated on the wire too. */
  compress?: boolean;
}

export function remoteCommand(remotePath: string, path: string): string {
  return `${remotePath} serve --root ${shellQuote(path)}`;
}

// The ssh2 client is loaded only when used: local runs and `-e` runs start faster without it.
export async function openRemote(endpoint: Extract<Endpoint, { kind: 'remote' }>, options: RemoteOptions, open: OpenRequest): Promise<RemoteAgent> {
  const remotePath = options.remotePath ?? 'mdsync';
  if (remotePath.trim() === '') throw new MdsyncError('USAGE', '--remote-path is empty');
  const command = remoteCommand(remotePath, endpoint.path);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_S * 1000;
  const target = { host: endpoint.host, user: endpoint.user, port: endpoint.port, remoteCommand: command, root: endpoint.path };
  const transport: Transport = options.sshCommand !== undefined
    ? startCommand(options.sshCommand, target)
    : await (await import('./ssh2-transport.js')).startSsh2({ ...target, identities: options.identities ?? [], acceptNewHostKey: options.acceptNewHostKey ?? false, timeoutMs, remotePath });
  return RemoteAgent.connect(transport, describeEndpoint(endpoint), open, timeoutMs, options.compress ?? false);
}
