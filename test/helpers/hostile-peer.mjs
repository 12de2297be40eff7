#!/usr/bin/env node
// Plays a broken or hostile `mdsync serve` for tests: `-e "node hostile-peer.mjs MODE"`; host and command are ignored.
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { decode, encode } from '@msgpack/msgpack';

const mode = process.argv[2];
const frame = (value) => {
  const body = encode(value);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
};
const hello = { protocol: 3, minor: 0, program: 'mdsync 0.1.0', id: '1:2', layout: 'maildir++', root: '/srv/mail' };
const digest = '0'.repeat(32);

/** The far side offers one message in INBOX, described by `entry`. */
function offer(method, entry, args) {
  if (method === 'hello') return hello;
  // As `deliver` answers: each message's SHA-256 as 32 bytes, none there before, none renamed.
  if (method === 'deliver') return { hashes: Buffer.concat(args.data.map((d) => createHash('sha256').update(d).digest())), existed: new Uint8Array(args.data.length), others: [] };
  if (method === 'listFolders') return { folders: [['INBOX', digest, 1, '', null, null, null]], subscriptions: [] };
  if (method === 'manifest') return { digest, total: 1, entries: [entry] };
  return null;
}

function answer(id, method, args) {
  switch (mode) {
    case 'version': return method === 'hello' ? { ...hello, protocol: 99, program: 'mdsync 9.0.0' } : null;
    case 'escape-root': return method === 'hello' ? { ...hello, root: '/srv/\u001b]0;owned\u0007\u001b[2Jmail' } : null;
    case 'escape-id': return method === 'hello' ? { ...hello, id: '1:2\u001b[1A\r' } : null;
    case 'evil-folder': return method === 'listFolders' ? { folders: [['INBOX', digest, 0, '', null, null, null], ['../../etc', digest, 1, '', null, null, null]], subscriptions: [] } : method === 'hello' ? hello : null;
    case 'evil-guid':
      if (method === 'hello') return hello;
      if (method === 'listFolders') return { folders: [['INBOX', digest, 1, '', null, null, null]], subscriptions: [] };
      if (method === 'manifest') return { digest, total: 1, entries: [['../../../tmp/x', 'S', [], 'cur', null, null, null, null, null]] };
      return null;
    case 'nul-keyword':
      if (method === 'hello') return hello;
      if (method === 'listFolders') return { folders: [['INBOX', digest, 1, '', null, null, null]], subscriptions: [] };
      if (method === 'manifest') return { digest, total: 1, entries: [['1.M1.h', 'S', ['a\u0000b'], 'cur', null, null, null, null, null]] };
      return null;
    case 'absolute-folder': return method === 'listFolders' ? { folders: [['INBOX', digest, 0, '', null, null, null], ['/etc', digest, 1, '', null, null, null]], subscriptions: [] } : method === 'hello' ? hello : null;
    case 'nul-guid': return offer(method, ['1.M1.h\u0000x', 'S', [], 'cur', 5, null, null, null, null], args);
    case 'mark-guid': return offer(method, ['a:2,F', '', [], 'new', 5, null, null, null, null], args);
    case 'negative-size': return offer(method, ['1.M1.h', 'S', [], 'cur', -1, null, null, null, null], args);
    case 'huge-size':
      if (method === 'read') return [{ guid: '1.M1.h', stream: 1, size: 2 ** 50, mtime: 1600000000, hash: 'ab'.repeat(32) }];
      return offer(method, ['1.M1.h', 'S', [], 'cur', 10, null, null, null, null], args);
    case 'lying-size':
      if (method === 'read') return [{ guid: '1.M1.h', stream: 1, size: 10, mtime: 1600000000, hash: 'ab'.repeat(32) }];
      if (method === 'readChunk') return new Uint8Array(4096).fill(120);
      return offer(method, ['1.M1.h', 'S', [], 'cur', 10, null, null, null, null], args);
    case 'unknown-type': return undefined;
    default: return method === 'hello' ? hello : null;
  }
}

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  for (;;) {
    if (pending.length < 4) break;
    // The top bit: a deflated frame (frame.ts), as mdsync sends its larger requests.
    const head = pending.readUInt32BE(0);
    const length = head & 0x7fffffff;
    if (pending.length < 4 + length) break;
    const body = pending.subarray(4, 4 + length);
    const value = decode(length === head ? body : inflateRawSync(body));
    pending = pending.subarray(4 + length);
    if (!Array.isArray(value) || value[0] !== 0) continue;
    const [, id, method, args] = value;
    switch (mode) {
      case 'garbage': process.stdout.write(Buffer.from('\x00\x00\x00\x05\xc1\xc1\xc1\xc1\xc1 random junk')); break;
      case 'huge': process.stdout.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])); break;
      case 'truncated': process.stdout.write(frame([1, id, hello]).subarray(0, 20), () => process.exit(0)); break;
      case 'silent': break;
      case 'unknown-type': process.stdout.write(frame([9, id, 'surprise'])); break;
      case 'old-server':
        // What a server of protocol 2 answers a hello without its "capabilities", then it ends the session.
        process.stdout.write(frame([2, id, 'PROTOCOL', 'protocol error: hello: missing field "capabilities"']), () => process.exit(1));
        break;
      case 'escape-error':
        process.stdout.write(method === 'hello' ? frame([1, id, hello]) : frame([2, id, 'IO', 'disk \u001b]0;owned\u0007\u001b[2Jfailed\r']));
        break;
      case 'dies-midway':
        if (method === 'hello') process.stdout.write(frame([1, id, hello]));
        else { process.stderr.write('remote: out of memory\n'); process.exit(137); }
        break;
      case 'bye-early':
        // An orderly goodbye while the client still waits for its answer.
        process.stdout.write(method === 'hello' ? frame([1, id, hello]) : frame([3]));
        break;
      case 'crash': process.stderr.write('remote: something went wrong\n'); process.exit(3); break;
      case 'not-found': process.stderr.write('sh: 1: mdsync: not found\n'); process.exit(127); break;
      default: process.stdout.write(frame([1, id, answer(id, method, args)]));
    }
  }
});
process.stdin.on('end', () => process.exit(0));
