#!/usr/bin/env node
// Stands in for ssh like fake-ssh.mjs and sits between mdsync and the real `mdsync serve` it starts:
// frames pass through unchanged except what MODE alters (`-e "node peer-proxy.mjs MODE"`):
//   changes:<alteration>   the real answer to `changes`, altered (see ALTER) by a hostile far side
//   place:<alteration>     the real answer to `deliver`, altered (see ALTER_PLACE) by a hostile far side
//   record:<file>          frames unchanged; each request's method (with its folders for `prepare`,
//                          `createFolder`, `stageFolder` and `publishFolder`) appended to <file>, one JSON line each
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { decode, encode } from '@msgpack/msgpack';

const mode = process.argv[2];
const command = process.argv[process.argv.length - 1];
const REQUEST = 0;
const ANSWER = 1;

/** Ways a hostile far side may bend a real answer to `changes` (it holds at least one changed entry). */
const ALTER = {
  'evil-guid': (a) => { a.changed[0][0] = '../x'; },
  'slash-gone': (a) => { a.gone.push('cur/x'); },
  'tmp-location': (a) => { a.changed[0][3] = 'tmp'; },
  'bad-hash': (a) => { a.changed[0][7] = 'not a hash'; },
  'changed-and-gone': (a) => { a.gone.push(a.changed[0][0]); },
};

/** Ways a hostile far side may bend a real answer to `deliver` (for at least one message). */
const ALTER_PLACE = {
  'short-hashes': (a) => { a.hashes = a.hashes.subarray(0, a.hashes.length - 1); },
  'existed-2': (a) => { a.existed[0] = 2; },
  'out-of-range': (a) => { a.others.push({ at: a.existed.length }); },
  'named-twice': (a) => { a.others.push({ at: 0, guid: 'one' }, { at: 0, guid: 'other' }); },
  'evil-guid': (a) => { a.others.push({ at: 0, guid: '../x' }); },
};

const DEFLATED = 0x80000000;

/** A value as a plain frame: a peer reads a plain frame whether or not it deflates its own. */
const frame = (value) => {
  const body = encode(value);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
};

/** Calls `onFrame(decoded, raw)` for each whole frame of a byte stream, deflated (frame.ts) or not. */
function frames(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 4) return;
      const head = pending.readUInt32BE(0);
      const length = (head & DEFLATED) !== 0 ? head - DEFLATED : head;
      if (pending.length < 4 + length) return;
      const raw = pending.subarray(0, 4 + length);
      pending = pending.subarray(raw.length);
      const body = raw.subarray(4);
      onFrame(decode(length === head ? body : inflateRawSync(body)), raw);
    }
  };
}

function fail(why) {
  process.stderr.write(`${why}\n`);
  process.exit(1);
}

const record = mode.startsWith('record:') ? mode.slice('record:'.length) : undefined;
const known = record || (mode.startsWith('changes:') && Object.hasOwn(ALTER, mode.slice('changes:'.length)))
  || (mode.startsWith('place:') && Object.hasOwn(ALTER_PLACE, mode.slice('place:'.length)));
if (!known) fail(`peer-proxy: unknown mode ${mode}`);
const server = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] });
const asked = new Map();

/** A request as the record mode logs it: its method, with the folders it names where it names any. */
function recorded(method, args) {
  if (method === 'prepare') return [method, args.folders];
  if (method === 'createFolder') return [method, [args.folder, args.staged ? 'staged' : 'in place']];
  if (method === 'publishFolder' || method === 'stageFolder') return [method, [args.folder]];
  return [method];
}

process.stdin.on('data', frames((value, raw) => {
  if (Array.isArray(value) && value[0] === REQUEST) {
    if (record) appendFileSync(record, `${JSON.stringify(recorded(value[2], value[3]))}\n`);
    asked.set(value[1], value[2]);
  }
  server.stdin.write(raw);
}));
process.stdin.on('end', () => server.stdin.end());

server.stdout.on('data', frames((value, raw) => {
  const method = Array.isArray(value) && value[0] === ANSWER ? asked.get(value[1]) : undefined;
  if (method === 'changes' && mode.startsWith('changes:')) {
    if (!value[2] || value[2].changed.length === 0) fail(`peer-proxy: no changed entry to alter (answer ${JSON.stringify(value[2])})`);
    ALTER[mode.slice('changes:'.length)](value[2]);
    process.stdout.write(frame(value));
  } else if (method === 'deliver' && mode.startsWith('place:')) {
    ALTER_PLACE[mode.slice('place:'.length)](value[2]);
    process.stdout.write(frame(value));
  } else {
    process.stdout.write(raw);
  }
}));
server.on('exit', (code, signal) => process.stdout.write('', () => process.exit(code ?? (signal ? 128 : 1))));
