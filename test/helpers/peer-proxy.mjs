#!/usr/bin/env node
// Stands in for ssh like fake-ssh.mjs and sits between mdsync and the real `mdsync serve` it starts:
// frames pass through unchanged except what MODE alters (`-e "node peer-proxy.mjs MODE"`):
//   old                    a server from before `changes`, `prepare` and `place`: hello announces
//                          none of folder-changes, prepare, packed-placed, packed-deliveries,
//                          staged-folders, staged-contents and linked-copies, and any of those requests ends the
//                          session as it would there
//   unpacked               a server from before `placePacked`: hello does not announce
//                          packed-deliveries, staged-folders nor staged-contents, and those requests end the session
//   unstaged               a server from before staged folders: hello does not announce staged-folders
//                          nor staged-contents; `publishFolder`, `stageFolder`, or `createFolder`
//                          with `staged`, ends the session
//   uncontents             a server from before `stageFolder`: hello does not announce staged-contents,
//                          and `stageFolder` ends the session
//   changes:<alteration>   the real answer to `changes`, altered (see ALTER) by a hostile far side
//   place:<alteration>     the real answer to `place` or `placePacked`, altered (see ALTER_PLACE) by a hostile far side
//   record:<file>          frames unchanged; each request's method (with its folders for `prepare`,
//                          `createFolder`, `stageFolder` and `publishFolder`) appended to <file>, one JSON line each
import { appendFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
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

/** Ways a hostile far side may bend a real answer to `place` (for at least one message). */
const ALTER_PLACE = {
  'short-hashes': (a) => { a.hashes = a.hashes.subarray(0, a.hashes.length - 1); },
  'existed-2': (a) => { a.existed[0] = 2; },
  'out-of-range': (a) => { a.others.push({ at: a.existed.length }); },
  'named-twice': (a) => { a.others.push({ at: 0, guid: 'one' }, { at: 0, guid: 'other' }); },
  'evil-guid': (a) => { a.others.push({ at: 0, guid: '../x' }); },
};

const frame = (value) => {
  const body = encode(value);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
};

/** Calls `onFrame(decoded, raw)` for each whole frame of a byte stream. */
function frames(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const raw = pending.subarray(0, 4 + pending.readUInt32BE(0));
      pending = pending.subarray(raw.length);
      onFrame(decode(raw.subarray(4)), raw);
    }
  };
}

function fail(why) {
  process.stderr.write(`${why}\n`);
  process.exit(1);
}

const record = mode.startsWith('record:') ? mode.slice('record:'.length) : undefined;
const known = mode === 'old' || mode === 'unpacked' || mode === 'unstaged' || mode === 'uncontents' || record || (mode.startsWith('changes:') && Object.hasOwn(ALTER, mode.slice('changes:'.length)))
  || (mode.startsWith('place:') && Object.hasOwn(ALTER_PLACE, mode.slice('place:'.length)));
if (!known) fail(`peer-proxy: unknown mode ${mode}`);
/** What a server from before them does not announce, and the requests it does not know. */
const NEWER = {
  uncontents: ['staged-contents'],
  unstaged: ['staged-folders', 'staged-contents'],
  unpacked: ['packed-deliveries', 'staged-folders', 'staged-contents'],
  old: ['folder-changes', 'prepare', 'packed-placed', 'packed-deliveries', 'staged-folders', 'staged-contents', 'linked-copies'],
}[mode] ?? [];
const NEWER_REQUESTS = {
  uncontents: ['stageFolder'],
  unstaged: ['publishFolder', 'stageFolder'],
  unpacked: ['placePacked', 'publishFolder', 'stageFolder'],
  old: ['changes', 'prepare', 'place', 'placePacked', 'publishFolder', 'stageFolder'],
}[mode] ?? [];
const older = NEWER.length > 0;

const server = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'inherit'] });
const asked = new Map();

/** A request as the record mode logs it: its method, with the folders it names where it names any. */
function recorded(method, args) {
  if (method === 'prepare') return [method, args.folders];
  if (method === 'createFolder') return [method, [args.folder, args.staged ? 'staged' : 'in place']];
  if (method === 'publishFolder' || method === 'stageFolder') return [method, [args.folder]];
  return [method];
}

/** The proxy reads plain frames only: neither side is told the other reads deflated ones. */
const plainOnly = (capabilities) => capabilities.filter((c) => !c.startsWith('deflate'));

process.stdin.on('data', frames((value, raw) => {
  if (Array.isArray(value) && value[0] === REQUEST) {
    if (older && NEWER_REQUESTS.includes(value[2])) fail(`mdsync serve: protocol error: unknown message type "${value[2]}"`);
    if (older && value[2] === 'createFolder' && Object.hasOwn(value[3], 'staged')) fail('mdsync serve: protocol error: createFolder.staged: unexpected field');
    if (record) appendFileSync(record, `${JSON.stringify(recorded(value[2], value[3]))}\n`);
    asked.set(value[1], value[2]);
    if (value[2] === 'hello') {
      value[3].capabilities = plainOnly(value[3].capabilities);
      server.stdin.write(frame(value));
      return;
    }
  }
  server.stdin.write(raw);
}));
process.stdin.on('end', () => server.stdin.end());

server.stdout.on('data', frames((value, raw) => {
  const method = Array.isArray(value) && value[0] === ANSWER ? asked.get(value[1]) : undefined;
  if (method === 'hello') {
    value[2].capabilities = plainOnly(value[2].capabilities).filter((c) => !older || !NEWER.includes(c));
    process.stdout.write(frame(value));
  } else if (method === 'changes' && mode.startsWith('changes:')) {
    if (!value[2] || value[2].changed.length === 0) fail(`peer-proxy: no changed entry to alter (answer ${JSON.stringify(value[2])})`);
    ALTER[mode.slice('changes:'.length)](value[2]);
    process.stdout.write(frame(value));
  } else if ((method === 'place' || method === 'placePacked') && mode.startsWith('place:')) {
    ALTER_PLACE[mode.slice('place:'.length)](value[2]);
    process.stdout.write(frame(value));
  } else {
    process.stdout.write(raw);
  }
}));
server.on('exit', (code, signal) => process.stdout.write('', () => process.exit(code ?? (signal ? 128 : 1))));
