// An Agent decorator that records every call a run makes and fails the N-th: the runner's error
// and crash paths (a disk full, a far side gone mid-run) taken without a process or a disk.

import { MdsyncError } from '../../src/errors.js';
import type { Agent } from '../../src/sync/agent.js';

export interface Call {
  method: string;
  /** The folder a call names, where its first argument is one. */
  folder?: string;
}

/** Calls that never fail here: the run's frame (identity, lock), not its work. */
const FRAME = new Set(['hello', 'lock', 'unlock', 'close', 'drainWarnings', 'traffic', 'prefetch', 'prepare', 'release']);

export class InjectedFailure extends MdsyncError {
  constructor(readonly call: number, readonly method: string) {
    super('IO', `injected failure at call ${call} (${method})`);
  }
}

/**
 * Wraps `agent`: each call of the run's work is pushed on `trace.calls` (both sides of a run may
 * share one trace, counting their calls together), and the `failAt`-th (1-based) fails as a disk
 * or a lost far side would, having done nothing.
 */
export function tracingAgent(agent: Agent, trace: { calls: Call[]; failAt?: number }): Agent {
  return new Proxy(agent, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (FRAME.has(prop)) return fn.bind(target);
      return (...args: unknown[]): unknown => {
        const call: Call = { method: prop };
        if (typeof args[0] === 'string') call.folder = args[0];
        trace.calls.push(call);
        if (trace.calls.length === trace.failAt) {
          const err = new InjectedFailure(trace.calls.length, prop);
          if (prop === 'read') {
            return (async function* () {
              throw err;
            })();
          }
          return Promise.reject(err);
        }
        return fn.apply(target, args);
      };
    },
  });
}
