// Catches what a synchronous call throws, checking its class, so a test can assert code and text.

import { expect } from 'vitest';
import { MdsyncError } from '../../src/errors.js';

export function errorOf<E extends Error = MdsyncError>(fn: () => unknown, type: abstract new (...args: never[]) => E = MdsyncError as unknown as abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}
