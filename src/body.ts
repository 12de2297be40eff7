// Message bodies, whole or streamed: their size, and a stream consumed with a running hash.

import { createHash } from 'node:crypto';
import type { Body, BodyStream } from './model.js';

/** Bodies above this travel as a stream of chunks of at most this size. */
export const BODY_CHUNK = 1024 * 1024;

export function isStream(body: Body): body is BodyStream {
  return !(body instanceof Uint8Array);
}

export function bodySize(body: Body): number {
  return isStream(body) ? body.size : body.length;
}

/** Reads a body to its end, returning its SHA-256; whole bodies are hashed in one go. */
export async function hashBody(body: Body): Promise<string> {
  const hash = createHash('sha256');
  if (isStream(body)) {
    for await (const chunk of body.chunks) hash.update(chunk);
  } else {
    hash.update(body);
  }
  return hash.digest('hex');
}
