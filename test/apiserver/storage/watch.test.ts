import { setImmediate as nextTick } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import type { WatchEvent, Watcher } from '../../../src/apiserver/storage/index.js';
import { errorCode, obj, take, unwrap, useTempStores } from './helpers.js';

const P = '/registry/core/pods/default/';

/** Consumes a watcher until it sees `stopKey` (or ends), yielding to the loop now and then. */
async function collectUntil(w: Watcher, stopKey: string): Promise<number[]> {
  const revs: number[] = [];
  for await (const ev of w) {
    revs.push(ev.object.modRevision);
    if (ev.object.key === stopKey) break;
    if (revs.length % 7 === 0) await nextTick();
  }
  return revs;
}

describe('storage watch', () => {
  const t = useTempStores();

  it('storage — watch delivers ADDED, MODIFIED with previous, DELETED with the delete revision', async () => {
    const s = t.open();
    const w = unwrap(s.watch(P, { fromRevision: 0 }));
    unwrap(s.create(`${P}a`, obj('a', { v: 1 })));
    unwrap(s.update(`${P}a`, obj('a', { v: 2 })));
    unwrap(s.create('/registry/core/pods/other/x', obj('x'))); // outside the prefix
    unwrap(s.delete(`${P}a`));
    const evs = await take(w, 3);
    expect(evs.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(evs[1]).toMatchObject({
      object: { modRevision: 2, createRevision: 1, value: obj('a', { v: 2 }) },
      previous: { modRevision: 1, value: obj('a', { v: 1 }) },
    });
    expect(evs[2]).toMatchObject({
      object: { modRevision: 4, createRevision: 1, value: obj('a', { v: 2 }) },
    });
    expect(w.progressRevision).toBe(4);
    w.close();
  });

  it('storage — replayed events have the same shape as live ones', async () => {
    const s = t.open();
    unwrap(s.create(`${P}a`, obj('a', { v: 1 })));
    const live = unwrap(s.watch(P, { fromRevision: 1 }));
    unwrap(s.update(`${P}a`, obj('a', { v: 2 })));
    unwrap(s.delete(`${P}a`));
    unwrap(s.create(`${P}a`, obj('a', { v: 3 })));
    const replay = unwrap(s.watch(P, { fromRevision: 1 }));
    const a: WatchEvent[] = await take(live, 3);
    const b: WatchEvent[] = await take(replay, 3);
    expect(b).toEqual(a);
    expect(a.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED', 'ADDED']);
  });

  it('storage — replay then live under concurrent writes: no gap, no duplicate, in order', async () => {
    // A small page makes replay take many steps while writes keep committing.
    const s = t.open(undefined, { watchPageSize: 5, synchronous: 'NORMAL' });
    const total = 600;
    const STOP = `${P}zz-end`;
    const keyOf = (i: number): string => (i % 3 === 0 ? `/registry/other/${i % 17}` : `${P}p${i % 23}`);
    const expected = new Map<number, string>(); // revision -> key, for keys under P
    const live = new Set<string>();
    let i = 0;
    const writeOne = (): void => {
      const key = keyOf(i);
      const r = live.has(key)
        ? i % 5 === 0
          ? s.delete(key)
          : s.update(key, obj(key, { i }))
        : s.create(key, obj(key, { i }));
      const v = unwrap(r);
      if (i % 5 === 0 && live.has(key)) live.delete(key);
      else live.add(key);
      if (key.startsWith(P)) expected.set(v.modRevision, key);
      i++;
    };
    for (let k = 0; k < 100; k++) writeOne();

    // Watchers start at different points while the writer is running.
    const watchers: { from: number; done: Promise<number[]> }[] = [];
    const writer = (async () => {
      for (let round = 1; i < total; round++) {
        for (let k = 0; k < 3 && i < total; k++) writeOne();
        if (round % 20 === 0) {
          const from = s.currentRevision() - 50;
          watchers.push({ from, done: collectUntil(unwrap(s.watch(P, { fromRevision: from })), STOP) });
        }
        await nextTick();
      }
    })();
    const first = unwrap(s.watch(P, { fromRevision: 0 }));
    const firstDone = collectUntil(first, STOP);
    await writer;
    const last = unwrap(s.create(STOP, obj('end'))).modRevision;
    expected.set(last, STOP);
    const all = [{ from: 0, done: firstDone }, ...watchers];
    expect(all.length).toBeGreaterThan(5);
    for (const w of all) {
      const revs = await w.done;
      const want = [...expected.keys()].filter((r) => r > w.from && r <= last);
      expect(revs).toEqual(want);
    }
  });

  it('storage — a slow watcher is closed with SLOW; writers and a fast watcher are unaffected', async () => {
    const s = t.open();
    const slow = unwrap(s.watch(P, { fromRevision: 0, maxBuffered: 10 }));
    const fast = unwrap(s.watch(P, { fromRevision: 0, maxBuffered: 10 }));
    const fastEvents: number[] = [];
    const fastDone = (async () => {
      for await (const ev of fast) {
        fastEvents.push(ev.object.modRevision);
        if (ev.object.modRevision === 50) break;
      }
    })();
    for (let k = 0; k < 50; k++) {
      unwrap(s.create(`${P}p${k}`, obj(`p${k}`)));
      await nextTick(); // the fast consumer keeps up, the slow one never reads
    }
    await fastDone;
    expect(fastEvents).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    expect(slow.closedReason).toBe('SLOW');
    expect(s.currentRevision()).toBe(50);
    // What the slow one had buffered is a gap-free prefix; then iteration ends.
    const got: number[] = [];
    for await (const ev of slow) got.push(ev.object.modRevision);
    expect(got).toEqual(Array.from({ length: 10 }, (_, k) => k + 1));
    expect(fast.closedReason).toBe('CLOSED'); // break → return() → close()
  });

  it('storage — watch from a compacted revision is COMPACTED; a replaying watcher overtaken by compaction is SLOW', async () => {
    const s = t.open(undefined, { watchPageSize: 2 });
    for (let k = 0; k < 10; k++) unwrap(s.create(`${P}p${k}`, obj(`p${k}`)));
    const replaying = unwrap(s.watch(P, { fromRevision: 0 }));
    expect(await take(replaying, 1)).toHaveLength(1);
    s.compact(6);
    expect(errorCode(s.watch(P, { fromRevision: 5 }))).toBe('COMPACTED');
    const ok = unwrap(s.watch(P, { fromRevision: 6 }));
    expect((await take(ok, 4)).map((e) => e.object.modRevision)).toEqual([7, 8, 9, 10]);
    expect(replaying.closedReason).toBe('SLOW');
    ok.close();
  });

  it('storage — a backlog longer than the buffer is replayed page by page, not closed as SLOW', async () => {
    const s = t.open(undefined, { synchronous: 'NORMAL' });
    for (let k = 0; k < 50; k++) unwrap(s.create(`${P}p${k}`, obj(`p${k}`)));
    const w = unwrap(s.watch(P, { fromRevision: 0, maxBuffered: 10 }));
    const evs = await take(w, 50);
    expect(evs.map((e) => e.object.modRevision)).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    expect(w.closedReason).toBeUndefined();
    unwrap(s.create(`${P}live`, obj('live')));
    expect((await take(w, 1))[0]!.object.key).toBe(`${P}live`);
    w.close();
  });

  it('storage — watch from a future revision skips events up to it', async () => {
    const s = t.open();
    unwrap(s.create(`${P}a`, obj('a')));
    const w = unwrap(s.watch(P, { fromRevision: 3 }));
    unwrap(s.update(`${P}a`, obj('a', { v: 2 }))); // 2
    unwrap(s.update(`${P}a`, obj('a', { v: 3 }))); // 3
    unwrap(s.update(`${P}a`, obj('a', { v: 4 }))); // 4
    expect((await take(w, 1)).map((e) => e.object.modRevision)).toEqual([4]);
    w.close();
  });

  it('storage — close() ends a pending iteration; closing the store closes every watcher', async () => {
    const s = t.open();
    const w1 = unwrap(s.watch(P, { fromRevision: 0 }));
    const pending = w1[Symbol.asyncIterator]().next();
    w1.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(w1.closedReason).toBe('CLOSED');

    const w2 = unwrap(s.watch(P, { fromRevision: 0 }));
    const pending2 = w2[Symbol.asyncIterator]().next();
    s.close();
    expect(await pending2).toEqual({ done: true, value: undefined });
    expect(w2.closedReason).toBe('CLOSED');
    expect(errorCode(s.watch(P, { fromRevision: 0 }))).toBe('CLOSED');
  });
});
