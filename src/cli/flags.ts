// The flags of sync, backup and batch as commander hands them over, and the remote options they name.

import { DEFAULT_TIMEOUT_S } from '../protocol/limits.js';
import type { RemoteOptions } from '../remote/open.js';
import { parsePositiveInt } from './options.js';

export interface CommonOptions {
  dryRun?: boolean;
  checksum?: boolean;
  folder: string[];
  exclude: string[];
  maxDelete?: string;
  force?: boolean;
  stateDir?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  progress?: boolean;
  layout?: string;
  separator?: string;
  jobs?: string;
  oneWay?: boolean;
  mkpath?: boolean;
}

export interface RemoteFlags {
  sshCommand?: string;
  remotePath?: string;
  identity: string[];
  acceptNewHostKey?: boolean;
  timeout?: string;
  compress?: boolean;
}

export function remoteOptions(flags: RemoteFlags): RemoteOptions {
  return {
    sshCommand: flags.sshCommand,
    remotePath: flags.remotePath,
    identities: flags.identity,
    acceptNewHostKey: flags.acceptNewHostKey,
    timeoutMs: parsePositiveInt('--timeout', flags.timeout ?? String(DEFAULT_TIMEOUT_S)) * 1000,
    compress: flags.compress ?? false,
  };
}

