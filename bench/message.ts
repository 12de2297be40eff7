// Builds realistic RFC 5322 messages (headers, quoted replies, signatures, attachments) from a seeded Rng.

import type { Rng } from './rng.js';

const WORDS = (
  'the of and to in is for on that with as this be are we by it from at or you will your have not can all new ' +
  'meeting report budget project review draft schedule invoice customer server update release notes quarter ' +
  'deadline proposal contract attached please thanks regards team friday monday office travel agenda minutes ' +
  'question answer issue ticket deploy backup storage network latency mailbox folder archive policy security ' +
  'password account access support request change approved pending shipment order delivery payment summary ' +
  'figures results analysis planning workshop conference slides document version comments feedback follow up ' +
  'tomorrow next week morning afternoon evening call details information available attendees location room ' +
  'café naïve Grüße señor déjà façade résumé über Zürich København'
).split(' ');

const PEOPLE = [
  'Alice Martin', 'Bruno Keller', 'Chloé Dubois', 'David Chen', 'Eva Lindqvist', 'Farid Haddad', 'Grace Okafor',
  'Hiro Tanaka', 'Ines Moreau', 'Jonas Weber', 'Katarzyna Nowak', 'Luis García', 'Maya Patel', 'Niels Jensen',
  'Olga Ivanova', 'Pedro Santos', 'Quinn Murphy', 'Rosa Bianchi', 'Sven Olsen', 'Tomás Novák',
];
const DOMAINS = ['example.com', 'example.net', 'corp.example', 'lists.example.org', 'mail.example.co.uk', 'shop.example'];
const ME = 'Robin Meyer <robin@example.org>';
const ME_ADDR = 'robin@example.org';

export interface MessageSpec {
  /** Arrival time in seconds since the epoch (the Received date). */
  time: number;
  /** Approximate size of the whole message in bytes. */
  size: number;
  /** A number unique within the corpus, used in the Message-ID. */
  serial: number;
  /** CRLF line endings instead of LF. */
  crlf: boolean;
}

export function rfc5322Date(seconds: number): string {
  return new Date(seconds * 1000).toUTCString().replace('GMT', '+0000');
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function address(name: string, domain: string): string {
  const local = name.normalize('NFD').replace(/[^\x20-\x7e]/g, '').toLowerCase().replace(' ', '.');
  return `${local}@${domain}`;
}

export class MessageFactory {
  private readonly paragraphs: string[] = [];

  constructor(private readonly rng: Rng) {
    for (let i = 0; i < 400; i++) {
      const sentences: string[] = [];
      const count = rng.range(2, 7);
      for (let s = 0; s < count; s++) {
        const words: string[] = [];
        const length = rng.range(6, 22);
        for (let w = 0; w < length; w++) words.push(rng.pick(WORDS));
        const sentence = words.join(' ');
        sentences.push(sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.');
      }
      this.paragraphs.push(wrap(sentences.join(' '), 72));
    }
  }

  private subject(): string {
    const words: string[] = [];
    for (let i = 0, n = this.rng.range(2, 7); i < n; i++) words.push(this.rng.pick(WORDS.slice(20, 140)));
    const text = words.join(' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  private headers(spec: MessageSpec, extra: string[]): { lines: string[]; from: string } {
    const rng = this.rng;
    const name = rng.pick(PEOPLE);
    const domain = rng.pick(DOMAINS);
    const from = address(name, domain);
    const reply = rng.chance(0.3);
    const list = domain.startsWith('lists.') ? `<team-${rng.range(1, 9)}.${domain}>` : undefined;
    const relayId = rng.hex(10).toUpperCase();
    const lines = [
      `Return-Path: <${list ? `bounces+${rng.hex(8)}@${domain}` : from}>`,
      `Delivered-To: ${ME_ADDR}`,
      `Received: from mx${rng.range(1, 4)}.${domain} (mx.${domain} [198.51.100.${rng.range(2, 254)}])`,
      `\tby mail.example.org (Postfix) with ESMTPS id ${relayId}`,
      `\tfor <${ME_ADDR}>; ${rfc5322Date(spec.time)}`,
    ];
    if (rng.chance(0.5)) {
      lines.push(
        `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=s${rng.range(1, 3)};`,
        `\th=from:to:subject:date:message-id; bh=${Buffer.from(rng.hex(32), 'hex').toString('base64')};`,
        `\tb=${Buffer.from(rng.hex(96), 'hex').toString('base64')}`,
      );
    }
    lines.push(
      `Message-ID: <${rng.hex(16)}.${spec.serial}@${domain}>`,
      `Date: ${rfc5322Date(spec.time - rng.range(2, 900))}`,
      `From: ${name.normalize('NFD').replace(/[^\x20-\x7e]/g, '')} <${from}>`,
      `To: ${ME}`,
    );
    if (rng.chance(0.2)) lines.push(`Cc: ${address(rng.pick(PEOPLE), rng.pick(DOMAINS))}`);
    lines.push(`Subject: ${reply ? 'Re: ' : ''}${this.subject()}`);
    if (reply) {
      const parent = `<${rng.hex(16)}@${rng.pick(DOMAINS)}>`;
      lines.push(`In-Reply-To: ${parent}`, `References: ${parent}`);
    }
    if (list) lines.push(`List-Id: Team list ${list}`, `List-Unsubscribe: <mailto:leave@${domain}>`);
    lines.push('MIME-Version: 1.0', ...extra);
    return { lines, from: name };
  }

  private textBody(target: number, sender: string): string {
    const parts: string[] = [];
    let size = 0;
    const quoting = this.rng.chance(0.3);
    while (size < target) {
      let p = this.rng.pick(this.paragraphs);
      if (quoting && this.rng.chance(0.4)) p = p.split('\n').map((l) => `> ${l}`).join('\n');
      parts.push(p);
      size += Buffer.byteLength(p) + 2;
    }
    parts.push(`-- \n${sender}`);
    return parts.join('\n\n') + '\n';
  }

  build(spec: MessageSpec): Buffer {
    const rng = this.rng;
    const large = spec.size > 40_000;
    let text: string;
    if (!large) {
      const { lines, from } = this.headers(spec, ['Content-Type: text/plain; charset=UTF-8; format=flowed', 'Content-Transfer-Encoding: 8bit']);
      const head = lines.join('\n') + '\n\n';
      text = head + this.textBody(Math.max(200, spec.size - Buffer.byteLength(head)), from);
    } else {
      const boundary = `----=_Part_${rng.hex(12)}`;
      const { lines, from } = this.headers(spec, [`Content-Type: multipart/mixed; boundary="${boundary}"`]);
      const body = this.textBody(rng.range(500, 3000), from);
      const file = `${rng.pick(['report', 'scan', 'slides', 'invoice', 'photo'])}-${rng.range(1, 999)}.${rng.pick(['pdf', 'jpg', 'zip'])}`;
      const rawSize = Math.max(1024, Math.floor(((spec.size - 2000 - Buffer.byteLength(body)) * 3) / 4 * (76 / 77)));
      const b64 = rng.bytes(rawSize).toString('base64').replace(/.{76}/g, '$&\n');
      text = [
        lines.join('\n'), '', 'This is a multi-part message in MIME format.', '', `--${boundary}`,
        'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: 8bit', '', body,
        `--${boundary}`, `Content-Type: application/octet-stream; name="${file}"`, 'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="${file}"`, '', b64.endsWith('\n') ? b64 : b64 + '\n',
        `--${boundary}--`, '',
      ].join('\n');
    }
    return Buffer.from(spec.crlf ? text.replace(/\n/g, '\r\n') : text, 'utf8');
  }
}
