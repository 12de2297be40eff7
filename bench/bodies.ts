// Where the corpus's message bytes come from: real SpamAssassin mail, or generated messages (normal or small).

import { MessageFactory } from './message.js';
import type { Rng } from './rng.js';
import { messageIdDomain, spamAssassinMessages, withMessageId } from './spamassassin.js';

export type BodyKind = 'spamassassin' | 'synthetic' | 'small';

/** The bytes of the next message; `serial` is unique within a corpus and the changes applied to it. */
export type MessageSource = (time: number, serial: number) => Buffer;

/** Sizes 1–30 KB (log-uniform: most are small), 1.5 % larger ones with an attachment, up to 200 KB. */
export function randomSize(rng: Rng): number {
  return rng.chance(0.015) ? rng.logUniform(40_000, 200_000) : rng.logUniform(1024, 30_000);
}

/**
 * SpamAssassin messages are dealt in a seeded order, cycling through the corpus; each copy gets a
 * fresh Message-ID (the serial makes it unique), every other byte is the original's.
 */
function spamAssassinSource(rng: Rng): MessageSource {
  const pool = spamAssassinMessages();
  const order = rng.shuffle(pool.map((_, i) => i));
  let dealt = 0;
  return (_time, serial) => {
    const original = pool[order[dealt++ % order.length] as number] as Buffer;
    const domain = messageIdDomain(original) ?? 'mail.example.org';
    return withMessageId(original, `${rng.hex(16)}.${serial}@${domain}`);
  };
}

export function messageSource(kind: BodyKind, rng: Rng): MessageSource {
  if (kind === 'spamassassin') return spamAssassinSource(rng);
  const factory = new MessageFactory(rng);
  const size = kind === 'small' ? (): number => rng.range(1000, 2000) : (): number => randomSize(rng);
  return (time, serial) => factory.build({ time, size: size(), serial, crlf: rng.chance(0.02) });
}
