// A large folder changed on a served far side: only its changes travel, and an older far side still syncs.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonOf } from '../helpers/cli.js';
import { removeDir, tempDir } from '../helpers/maildir.js';
import { cliVia, proxyTransport, serveTransport } from '../helpers/transports.js';
import { MANIFEST_FLOOR, changeFarSide, changesSuite, expectChangesApplied, files } from './changes.suite.js';

changesSuite(serveTransport);

describe('an older far side, which does not announce folder-changes', () => {
  const old = proxyTransport('old');
  let work: string;

  beforeEach(async () => {
    work = await tempDir();
  });

  afterEach(async () => {
    await removeDir(work);
  });

  it('is never asked for changes, sends its manifest, and syncs as before', async () => {
    const { a, b, second } = await changeFarSide(work, 'pair', old, old);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    await expectChangesApplied(work, old, a, b);
    expect(jsonOf(second).wire.b?.received).toBeGreaterThan(MANIFEST_FLOOR);
    const again = await cliVia(old, work)(['sync', a, old.endpoint(b), '--json']);
    expect(again.code).toBe(0);
    expect(jsonOf(again).bytes).toBe(0);
    expect(await files(b)).toEqual(await files(a));
  });

  it('takes over a pair last synced with a recent far side', async () => {
    const { a, b, second } = await changeFarSide(work, 'pair', serveTransport, old);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    await expectChangesApplied(work, old, a, b);
  });
});
