import { describe, expect, it } from 'vitest';
import { emptyPlan, type Plan } from '../../../src/sync/plan.js';
import { stateAfterRun, uidValidityAfter, type AfterRun } from '../../../src/sync/state/after-run.js';
import type { StateFolder, StateMessage, SyncState } from '../../../src/sync/state.js';

const rec = (guid: string, flags = 'S'): StateMessage => ({ hash: `h-${guid}`, a: { guid, flags, keywords: [], location: 'cur' }, b: { guid, flags, keywords: [], location: 'cur' } });
const folder = (...messages: StateMessage[]): StateFolder => ({ onA: true, onB: true, messages });
const guids = (sf: StateFolder | undefined): string[] => (sf?.messages ?? []).map((m) => m.a?.guid ?? m.b?.guid ?? '').sort();

function old(): SyncState {
  return {
    version: 2, idA: 'A', idB: 'B', subscriptions: ['INBOX'],
    folders: { INBOX: folder(rec('1'), rec('2')), Other: folder(rec('o')), Quiet: { ...folder(rec('q')), uidValidity: { a: 5, b: 5 } } },
  };
}

function input(over: Partial<AfterRun> = {}): AfterRun {
  const plan: Plan = emptyPlan('sync');
  plan.folderPresence = { INBOX: { a: true, b: true }, New: { a: true, b: true } };
  plan.keep = { INBOX: [rec('1', 'FS')] };
  plan.subscriptionsAfter = ['INBOX', 'New'];
  return {
    ids: { idA: 'A', idB: 'B' }, old: old(), plan, include: (n) => n !== 'Other', quiet: new Set(['Quiet']), narrowed: new Map(),
    placed: { INBOX: [rec('3')], New: [rec('n')] }, sealed: new Map(), unpublished: () => false,
    validityAfter: () => ({}), ...over,
  };
}

describe('stateAfterRun', () => {
  it('at the end: what the plan keeps and what was placed; folders not looked at and quiet ones as they were', () => {
    const state = stateAfterRun(input(), true);
    expect(state.provisional).toBeUndefined();
    expect(guids(state.folders.INBOX)).toEqual(['1', '3']);
    expect(state.folders.INBOX?.messages.find((m) => m.a?.guid === '1')?.a?.flags).toBe('FS');
    expect(guids(state.folders.New)).toEqual(['n']);
    expect(guids(state.folders.Other)).toEqual(['o']);
    expect(guids(state.folders.Quiet)).toEqual(['q']);
    expect(state.subscriptions).toEqual(['INBOX', 'New']);
  });

  it('at a checkpoint: the old records less those a placed one supersedes, the old subscriptions, marked provisional', () => {
    const placed = { INBOX: [rec('2', 'FS'), rec('3')], New: [rec('n')] };
    const state = stateAfterRun(input({ placed }), false);
    expect(state.provisional).toBe(true);
    // 1 as it was (its flag change is not done yet), 2 as placed, 3 new.
    expect(guids(state.folders.INBOX)).toEqual(['1', '2', '3']);
    expect(state.folders.INBOX?.messages.find((m) => m.a?.guid === '1')?.a?.flags).toBe('S');
    expect(state.folders.INBOX?.messages.find((m) => m.a?.guid === '2')?.a?.flags).toBe('FS');
    expect(state.subscriptions).toEqual(['INBOX']);
  });

  it('a checkpoint leaves out a folder still built aside: no saved state names files no reader can see yet', () => {
    const state = stateAfterRun(input({ unpublished: (f) => f === 'New' }), false);
    expect(state.folders.New).toBeUndefined();
    expect(guids(state.folders.INBOX)).toEqual(['1', '2', '3']);
    // Published, the same checkpoint records it.
    expect(guids(stateAfterRun(input(), false).folders.New)).toEqual(['n']);
  });

  it('a folder sealed during the run is taken as sealed', () => {
    const sealed = folder(rec('s1'), rec('s2'));
    const state = stateAfterRun(input({ sealed: new Map([['New', sealed]]) }), true);
    expect(state.folders.New).toBe(sealed);
  });

  it('UIDVALIDITY: a quiet folder gets the value after the run at the end, keeps the old one at a checkpoint', () => {
    const validityAfter = (f: string): Partial<Record<'a' | 'b', number>> => (f === 'Quiet' ? { a: 7, b: 7 } : f === 'INBOX' ? { a: 9 } : {});
    const end = stateAfterRun(input({ validityAfter }), true);
    expect(end.folders.Quiet?.uidValidity).toEqual({ a: 7, b: 7 });
    expect(end.folders.INBOX?.uidValidity).toEqual({ a: 9 });
    expect(end.folders.New?.uidValidity).toBeUndefined();
    const mid = stateAfterRun(input({ validityAfter }), false);
    expect(mid.folders.Quiet?.uidValidity).toEqual({ a: 5, b: 5 });
    expect(mid.folders.INBOX?.uidValidity).toBeUndefined();
  });
});

describe('uidValidityAfter', () => {
  it("is as listed, but a backup's replica has the source's where its uidlist was copied", () => {
    const after = uidValidityAfter({ a: new Map([['INBOX', 1], ['Work', 2]]), b: new Map([['INBOX', 10], ['Work', 20]]) }, ['Work']);
    expect(after('INBOX')).toEqual({ a: 1, b: 10 });
    expect(after('Work')).toEqual({ a: 2, b: 2 });
    expect(after('Gone')).toEqual({});
  });
});
