// Folders on disk ⇄ canonical names, in both layouts; listing and detecting them in real temp dirs.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorOf } from '../../helpers/errors.js';
import { detectLayout, dirToFolderMaildirPP, folderToDir, listFolderDirs, validateFolderName } from '../../../src/local/layout.js';
import type { Layout } from '../../../src/model.js';

describe('folderToDir', () => {
  const rows: { name: string; layout: Layout; dir: string }[] = [
    { name: 'INBOX', layout: 'maildir++', dir: '' },
    { name: 'INBOX', layout: 'fs', dir: '' },
    { name: 'A', layout: 'maildir++', dir: '.A' },
    { name: 'A', layout: 'fs', dir: 'A' },
    { name: 'A/B', layout: 'maildir++', dir: '.A.B' },
    { name: 'A/B', layout: 'fs', dir: 'A/B' },
    { name: 'Archive/2024/Q1', layout: 'maildir++', dir: '.Archive.2024.Q1' },
    { name: 'Archive/2024/Q1', layout: 'fs', dir: 'Archive/2024/Q1' },
    // Modified UTF-7 per component, "/" never encoded.
    { name: 'Entwürfe/台北', layout: 'maildir++', dir: '.Entw&APw-rfe.&U,BTFw-' },
    { name: 'Entwürfe/台北', layout: 'fs', dir: 'Entw&APw-rfe/&U,BTFw-' },
    { name: 'Tom & Jerry', layout: 'maildir++', dir: '.Tom &- Jerry' },
    // A child of INBOX is an ordinary name.
    { name: 'INBOX/Sub', layout: 'maildir++', dir: '.INBOX.Sub' },
    // "cur" is only reserved where folders are directories of directories.
    { name: 'cur', layout: 'maildir++', dir: '.cur' },
    // A "." is fine in the fs layout except at the start of a component.
    { name: 'v1.2', layout: 'fs', dir: 'v1.2' },
  ];
  it.each(rows)('$name in $layout is "$dir"', ({ name, layout, dir }) => {
    expect(folderToDir(name, layout)).toBe(dir);
  });

  it('round-trips Maildir++ directory names through dirToFolderMaildirPP', () => {
    for (const { name, layout, dir } of rows) {
      if (layout === 'maildir++' && name !== 'INBOX') expect(dirToFolderMaildirPP(dir)).toBe(name);
    }
  });

  const unrepresentable: { name: string; layout: Layout; message: string }[] = [
    { name: 'a.b', layout: 'maildir++', message: 'folder "a.b" cannot exist in a Maildir++ tree: "." inside a name' },
    { name: 'Work/v1.2', layout: 'maildir++', message: 'folder "Work/v1.2" cannot exist in a Maildir++ tree: "." inside a name' },
    { name: 'cur', layout: 'fs', message: 'folder "cur" cannot exist in an fs-layout tree: "cur" is reserved' },
    { name: 'A/new', layout: 'fs', message: 'folder "A/new" cannot exist in an fs-layout tree: "new" is reserved' },
    { name: 'tmp/A', layout: 'fs', message: 'folder "tmp/A" cannot exist in an fs-layout tree: "tmp" is reserved' },
    { name: '.hidden', layout: 'fs', message: 'folder ".hidden" cannot exist in an fs-layout tree: ".hidden" is reserved' },
  ];
  it.each(unrepresentable)('refuses $name in $layout, naming the folder', ({ name, layout, message }) => {
    const err = errorOf(() => folderToDir(name, layout));
    expect(err.code).toBe('BAD_FOLDER');
    expect(err.message).toBe(message);
  });
});

describe('validateFolderName', () => {
  const bad: { name: string; why: string }[] = [
    { name: '', why: 'empty' },
    { name: '..', why: 'empty, "." or ".." component' },
    { name: 'A/../B', why: 'empty, "." or ".." component' },
    { name: 'A/./B', why: 'empty, "." or ".." component' },
    { name: 'A//B', why: 'empty, "." or ".." component' },
    { name: '/etc', why: 'leading or trailing "/"' },
    { name: 'A/', why: 'leading or trailing "/"' },
    { name: 'A\0B', why: 'control character' },
    { name: 'A\nB', why: 'control character' },
    { name: 'A\x1fB', why: 'control character' },
    { name: 'A\x7fB', why: 'control character' },
    { name: 'x'.repeat(1025), why: 'too long' },
  ];
  it.each(bad)('rejects $name: $why', ({ name, why }) => {
    const err = errorOf(() => validateFolderName(name));
    expect(err.code).toBe('BAD_FOLDER');
    expect(err.message).toBe(`invalid folder name ${JSON.stringify(name)}: ${why}`);
  });

  it.each(['INBOX', 'A', 'A/B', 'Entwürfe', 'a.b', '..a', 'x'.repeat(1024), 'with space'])('accepts %j', (name) => {
    expect(() => validateFolderName(name)).not.toThrow();
  });

  it('is applied by folderToDir before anything else', () => {
    expect(errorOf(() => folderToDir('A/../../etc', 'fs')).message).toBe('invalid folder name "A/../../etc": empty, "." or ".." component');
  });

  it('is applied to decoded Maildir++ directory names', () => {
    // "&AAo-" is a newline: a valid encoding of an invalid name.
    expect(errorOf(() => dirToFolderMaildirPP('.A&AAo-B')).message).toBe('invalid folder name "A\\nB": control character');
    expect(errorOf(() => dirToFolderMaildirPP('.A..B')).code).toBe('BAD_FOLDER');
  });
});

describe('on disk', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mdsync-layout-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function maildir(dir: string): Promise<void> {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, dir, sub), { recursive: true });
  }

  it('lists Maildir++ folders, INBOX first, sorted, and warns about names it cannot decode', async () => {
    await maildir('');
    await maildir('.Sent');
    await maildir('.Archive');
    await maildir('.Archive.2024');
    await maildir('.Entw&APw-rfe');
    await maildir('.&bad');
    await writeFile(join(root, '.file-not-dir'), '');
    await writeFile(join(root, 'subscriptions'), 'V\t2\n\n');
    const warnings: string[] = [];
    const found = await listFolderDirs(root, 'maildir++', (w) => warnings.push(w));
    expect(found).toEqual([
      { name: 'Archive', dir: '.Archive' },
      { name: 'Archive/2024', dir: '.Archive.2024' },
      { name: 'Entwürfe', dir: '.Entw&APw-rfe' },
      { name: 'INBOX', dir: '' },
      { name: 'Sent', dir: '.Sent' },
    ]);
    expect(warnings).toEqual(['skipping folder directory .&bad: folder name "&bad" is not valid modified UTF-7: an unterminated "&" sequence']);
  });

  it('lists fs folders at any depth, only where cur/ exists, and skips hidden and reserved names', async () => {
    await maildir('');
    await maildir('Work');
    await maildir('Work/Clients');
    await mkdir(join(root, 'Parent', 'Child', 'cur'), { recursive: true });
    await maildir('.hidden');
    await maildir('&U,BTFw-');
    await maildir('Bad&');
    const warnings: string[] = [];
    const found = await listFolderDirs(root, 'fs', (w) => warnings.push(w));
    expect(found).toEqual([
      { name: 'INBOX', dir: '' },
      { name: 'Parent/Child', dir: 'Parent/Child' },
      { name: 'Work', dir: 'Work' },
      { name: 'Work/Clients', dir: 'Work/Clients' },
      { name: '台北', dir: '&U,BTFw-' },
    ]);
    expect(warnings).toEqual(['skipping folder directory Bad&: folder name "Bad&" is not valid modified UTF-7: an unterminated "&" sequence']);
  });

  it('detects Maildir++ by a .X folder with cur/', async () => {
    await maildir('');
    await maildir('.Sent');
    expect(await detectLayout(root)).toBe('maildir++');
  });

  it('detects fs by a plain folder with cur/', async () => {
    await maildir('');
    await maildir('Sent');
    expect(await detectLayout(root)).toBe('fs');
  });

  it('cannot tell from a root holding only INBOX, or only dot-directories without cur/', async () => {
    await maildir('');
    await mkdir(join(root, '.config'));
    await mkdir(join(root, 'notes'));
    expect(await detectLayout(root)).toBeUndefined();
  });

  it('says undefined for a missing root', async () => {
    expect(await detectLayout(join(root, 'missing'))).toBeUndefined();
  });

  it('prefers Maildir++ when both kinds are present', async () => {
    await maildir('Plain');
    await maildir('.Dotted');
    expect(await detectLayout(root)).toBe('maildir++');
  });
});
