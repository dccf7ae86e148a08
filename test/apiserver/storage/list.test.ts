import { describe, expect, it } from 'vitest';

import type { SqliteStorage } from '../../../src/apiserver/storage/index.js';
import { errorCode, obj, unwrap, useTempStores } from './helpers.js';

const P = '/registry/core/pods/default/';

function seed(s: SqliteStorage, n: number): void {
  for (let i = 0; i < n; i++) unwrap(s.create(`${P}p${String(i).padStart(3, '0')}`, obj(`p${i}`)));
}

describe('storage list', () => {
  const t = useTempStores();

  it('storage — list returns keys under the prefix only, in key order', () => {
    const s = t.open();
    seed(s, 3);
    unwrap(s.create('/registry/core/pods/default0/x', obj('x'))); // shares the string prefix minus '/'
    unwrap(s.create('/registry/core/pods/kube-system/y', obj('y')));
    unwrap(s.create('/registry/core/podsx/default/z', obj('z')));
    const r = unwrap(s.list(P));
    expect(r.items.map((i) => i.key)).toEqual([`${P}p000`, `${P}p001`, `${P}p002`]);
    expect(r.revision).toBe(6);
    expect(r.continue).toBeUndefined();
    expect(unwrap(s.list('/registry/core/pods/')).items).toHaveLength(5);
    expect(unwrap(s.list('')).items).toHaveLength(6);
    expect(s.count(P)).toBe(3);
  });

  it('storage — paging with a write between pages still reflects the first snapshot', () => {
    const s = t.open();
    seed(s, 10);
    const p1 = unwrap(s.list(P, { limit: 4 }));
    expect(p1.items.map((i) => i.key)).toEqual([`${P}p000`, `${P}p001`, `${P}p002`, `${P}p003`]);
    expect(p1.revision).toBe(10);
    expect(p1.remainingItemCount).toBe(6);
    expect(p1.continue).toBeDefined();

    // Writes between pages: change, delete and add keys on the not-yet-listed side.
    unwrap(s.update(`${P}p005`, obj('p5', { changed: true })));
    unwrap(s.delete(`${P}p006`));
    unwrap(s.create(`${P}p0045`, obj('new')));

    const p2 = unwrap(s.list(P, { limit: 4, continue: p1.continue! }));
    expect(p2.revision).toBe(10);
    expect(p2.items.map((i) => i.key)).toEqual([`${P}p004`, `${P}p005`, `${P}p006`, `${P}p007`]);
    expect(p2.items[1]!.value).toEqual(obj('p5'));
    expect(p2.items[1]!.modRevision).toBe(6);
    expect(p2.remainingItemCount).toBe(2);

    const p3 = unwrap(s.list(P, { limit: 4, continue: p2.continue! }));
    expect(p3.items.map((i) => i.key)).toEqual([`${P}p008`, `${P}p009`]);
    expect(p3.continue).toBeUndefined();
    expect(p3.remainingItemCount).toBeUndefined();

    // The latest state has the writes.
    const now = unwrap(s.list(P));
    expect(now.revision).toBe(13);
    expect(now.items.map((i) => i.key)).toContain(`${P}p0045`);
    expect(now.items.map((i) => i.key)).not.toContain(`${P}p006`);
  });

  it('storage — list at an old revision reconstructs that state from the log', () => {
    const s = t.open();
    unwrap(s.create(`${P}a`, obj('a', { v: 1 }))); // 1
    unwrap(s.create(`${P}b`, obj('b'))); // 2
    unwrap(s.update(`${P}a`, obj('a', { v: 2 }))); // 3
    unwrap(s.delete(`${P}b`)); // 4
    unwrap(s.create(`${P}c`, obj('c'))); // 5
    unwrap(s.create(`${P}b`, obj('b', { again: true }))); // 6

    const at = (rev: number): unknown =>
      unwrap(s.list(P, { revision: rev })).items.map((i) => [
        i.key.slice(P.length),
        i.modRevision,
        i.createRevision,
      ]);
    expect(at(1)).toEqual([['a', 1, 1]]);
    expect(at(2)).toEqual([
      ['a', 1, 1],
      ['b', 2, 2],
    ]);
    expect(at(3)).toEqual([
      ['a', 3, 1],
      ['b', 2, 2],
    ]);
    expect(at(4)).toEqual([['a', 3, 1]]);
    expect(at(5)).toEqual([
      ['a', 3, 1],
      ['c', 5, 5],
    ]);
    expect(at(6)).toEqual([
      ['a', 3, 1],
      ['b', 6, 6],
      ['c', 5, 5],
    ]);
    expect(unwrap(s.list(P, { revision: 3 })).revision).toBe(3);
    expect(unwrap(s.list(P, { revision: 3 })).items[0]!.value).toEqual(obj('a', { v: 2 }));
    // Paging at an old revision.
    const p1 = unwrap(s.list(P, { revision: 2, limit: 1 }));
    expect(p1.remainingItemCount).toBe(1);
    const p2 = unwrap(s.list(P, { limit: 1, continue: p1.continue! }));
    expect(p2.items.map((i) => i.key)).toEqual([`${P}b`]);
    expect(p2.revision).toBe(2);
  });

  it('storage — a revision above the current one reads the current state', () => {
    const s = t.open();
    seed(s, 2);
    const r = unwrap(s.list(P, { revision: 99 }));
    expect(r.revision).toBe(2);
    expect(r.items).toHaveLength(2);
  });

  it('storage — malformed or forged continue tokens are INVALID_CONTINUE', () => {
    const s = t.open();
    seed(s, 3);
    expect(errorCode(s.list(P, { continue: 'not base64!' }))).toBe('INVALID_CONTINUE');
    expect(errorCode(s.list(P, { continue: Buffer.from('{"x":1}').toString('base64url') }))).toBe(
      'INVALID_CONTINUE',
    );
    const future = Buffer.from(JSON.stringify({ v: 'tether.storage/v1', rv: 50, start: 'p000' })).toString(
      'base64url',
    );
    expect(errorCode(s.list(P, { continue: future }))).toBe('INVALID_CONTINUE');
  });

  it('storage — a continue token whose snapshot was compacted is COMPACTED', () => {
    const s = t.open();
    seed(s, 5);
    const p1 = unwrap(s.list(P, { limit: 2 }));
    unwrap(s.update(`${P}p004`, obj('p4', { v: 2 })));
    s.compact(s.currentRevision());
    expect(errorCode(s.list(P, { limit: 2, continue: p1.continue! }))).toBe('COMPACTED');
    expect(errorCode(s.list(P, { revision: 3 }))).toBe('COMPACTED');
    // The latest state is intact after compaction.
    expect(unwrap(s.list(P)).items.map((i) => i.modRevision)).toEqual([1, 2, 3, 4, 6]);
  });
});
