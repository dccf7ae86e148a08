import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { SqliteStorage, StorageCompactor, type Compactable } from '../../../src/apiserver/storage/index.js';
import { errorCode, obj, unwrap, useTempStores } from './helpers.js';

const P = '/registry/apps/deployments/';

/** Deterministic pseudo-random writes over a few keys; returns the list answer at every revision. */
function randomHistory(s: SqliteStorage, seed: number, writes: number): Map<number, unknown> {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
  const snapshots = new Map<number, unknown>();
  for (let k = 0; k < writes; k++) {
    const key = `${P}d${rnd(8)}`;
    const r =
      s.get(key) === undefined
        ? s.create(key, obj(key, { k }))
        : rnd(3) === 0
          ? s.delete(key)
          : s.update(key, obj(key, { k }));
    unwrap(r);
    snapshots.set(s.currentRevision(), summary(s, s.currentRevision()));
  }
  return snapshots;
}

function summary(s: SqliteStorage, revision: number): unknown {
  return unwrap(s.list(P, { revision })).items.map((i) => [i.key, i.modRevision, i.createRevision, i.value]);
}

describe('storage compaction', () => {
  const t = useTempStores();

  it('storage — after compact(C) every revision >= C still lists exactly as before', () => {
    for (const [seed, batch] of [
      [1, 10_000],
      [7, 3],
      [42, 1],
    ] as const) {
      const s = t.open(undefined, { synchronous: 'NORMAL', compactBatch: batch });
      const before = randomHistory(s, seed, 120);
      const c = 70;
      s.compact(c);
      expect(s.compactedRevision()).toBe(c);
      for (const [rev, want] of before) {
        if (rev < c) expect(errorCode(s.list(P, { revision: rev }))).toBe('COMPACTED');
        else expect(summary(s, rev)).toEqual(want);
      }
    }
  });

  it('storage — compaction keeps only the latest row of live keys at or below C', () => {
    const path = join(t.dir(), 'db');
    const s = SqliteStorage.open(path, { synchronous: 'NORMAL' });
    unwrap(s.create(`${P}a`, obj('a'))); // 1
    unwrap(s.update(`${P}a`, obj('a', { v: 2 }))); // 2
    unwrap(s.create(`${P}b`, obj('b'))); // 3
    unwrap(s.delete(`${P}b`)); // 4
    unwrap(s.update(`${P}a`, obj('a', { v: 3 }))); // 5
    unwrap(s.create(`${P}c`, obj('c'))); // 6
    s.compact(4);
    s.compact(2); // older than the watermark: a no-op
    expect(s.compactedRevision()).toBe(4);
    s.close();
    const raw = new Database(path);
    const revs = raw.prepare('SELECT revision FROM kv ORDER BY revision').pluck().all();
    const watermark = raw.prepare(`SELECT value FROM meta WHERE name = 'compact_revision'`).pluck().get();
    raw.close();
    // 1 superseded by 2; b's create and tombstone gone; 2 kept (a's latest at 4, still needed as 5's previous).
    expect(revs).toEqual([2, 5, 6]);
    expect(watermark).toBe(4);
  });

  it('storage — a watch right at the watermark still gets MODIFIED with its previous value', async () => {
    const s = t.open(undefined, { synchronous: 'NORMAL' });
    unwrap(s.create(`${P}a`, obj('a', { v: 1 }))); // 1
    unwrap(s.update(`${P}a`, obj('a', { v: 2 }))); // 2
    unwrap(s.update(`${P}a`, obj('a', { v: 3 }))); // 3
    s.compact(2);
    const w = unwrap(s.watch(P, { fromRevision: 2 }));
    const it = w[Symbol.asyncIterator]();
    const ev = await it.next();
    expect(ev.value).toMatchObject({
      type: 'MODIFIED',
      previous: { modRevision: 2, value: obj('a', { v: 2 }) },
    });
    w.close();
  });

  it('storage — the compactor keeps the last N revisions, in steps', async () => {
    const registry = new Registry();
    const s = t.open(undefined, { synchronous: 'NORMAL' }, { registry });
    for (let k = 0; k < 30; k++) unwrap(s.create(`${P}x${k}`, obj(`x${k}`)));
    const c = new StorageCompactor(s, { keepRevisions: 10, stepRevisions: 3 });
    expect(await c.tick()).toBe(20);
    expect(s.compactedRevision()).toBe(20);
    expect(await c.tick()).toBe(20); // nothing new: no change
    // 3, 6, …, 18, 20: seven steps, the event loop free between them.
    expect(await registry.metrics()).toMatch(/tether_apiserver_storage_compactions_total 7/);
  });

  it('storage — the compactor keeps the last T of history (upstream 5-minute rule)', async () => {
    let now = 1_000_000;
    const fake: Compactable & { rev: number; compactedTo: number[] } = {
      rev: 0,
      compactedTo: [],
      currentRevision() {
        return this.rev;
      },
      compactedRevision() {
        return this.compactedTo.at(-1) ?? 0;
      },
      compact(r) {
        this.compactedTo.push(r);
      },
    };
    const c = new StorageCompactor(fake, { keepMs: 300_000 }, { now: () => now });
    fake.rev = 100;
    expect(await c.tick()).toBe(0); // no sample is 5 minutes old yet
    now += 200_000;
    fake.rev = 150;
    expect(await c.tick()).toBe(0);
    now += 100_000; // the first sample (rev 100) is now exactly 5 minutes old
    fake.rev = 170;
    expect(await c.tick()).toBe(100);
    now += 300_000;
    fake.rev = 400;
    expect(await c.tick()).toBe(170);
    expect(fake.compactedTo).toEqual([100, 170]);
  });

  it('storage — the compactor runs on its interval and stop() ends it', async () => {
    const s = t.open(undefined, { synchronous: 'NORMAL' });
    for (let k = 0; k < 5; k++) unwrap(s.create(`${P}x${k}`, obj(`x${k}`)));
    const c = new StorageCompactor(s, { intervalMs: 20, keepRevisions: 2 });
    await c.start();
    for (let k = 0; k < 100 && s.compactedRevision() === 0; k++) await delay(10);
    expect(s.compactedRevision()).toBe(3);
    await c.stop();
    for (let k = 0; k < 5; k++) unwrap(s.create(`${P}y${k}`, obj(`y${k}`)));
    await delay(80);
    expect(s.compactedRevision()).toBe(3);
  });

  it('storage — compactor config is validated', () => {
    const s = t.open(undefined, { synchronous: 'NORMAL' });
    expect(() => new StorageCompactor(s, { intervalMs: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
