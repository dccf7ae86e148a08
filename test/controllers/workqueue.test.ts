/** The rate-limited work queue: dedup, one worker per key, per-key exponential back-off. */
import { describe, expect, it } from 'vitest';
import {
  WorkQueue,
  scaledValue,
  templateHash,
  equalIgnoreHash,
  parseQuantity,
} from '../../src/controllers/index.js';

describe('controllers/workqueue', () => {
  it('workqueue — a key queued twice is handed out once', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    q.done('a');
    q.done('b');
    expect(q.length).toBe(0);
    q.shutdown();
    expect(await q.get()).toBeUndefined();
  });

  it('workqueue — a key re-added while in flight comes back only after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');
    expect(q.length).toBe(0); // not handed to a second worker while processing
    q.done('a');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.shutdown();
  });

  it('workqueue — failures back off exponentially per key and forget resets', async () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
    expect(q.addRateLimited('a')).toBe(10);
    expect(q.addRateLimited('a')).toBe(20);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.addRateLimited('a')).toBe(40);
    expect(q.addRateLimited('b')).toBe(10);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
    expect(q.length).toBe(0); // delayed, not queued yet
    expect(await q.get()).toBe('a');
    q.shutdown();
  });

  it('workqueue — addAfter keeps the earliest pending delay', async () => {
    const q = new WorkQueue();
    q.addAfter('x', 10_000);
    q.addAfter('x', 5);
    expect(await q.get()).toBe('x');
    q.shutdown();
  });
});

describe('controllers/util', () => {
  it('util — int-or-percent rounds like upstream (surge up, unavailable down)', () => {
    expect(scaledValue('25%', 10, true, 0)).toBe(3);
    expect(scaledValue('25%', 10, false, 0)).toBe(2);
    expect(scaledValue(undefined, 4, true, '25%')).toBe(1);
    expect(scaledValue(2, 10, true, '25%')).toBe(2);
  });

  it('util — template hash ignores pod-template-hash and key order; differs on content', () => {
    const a = {
      metadata: { labels: { app: 'x', 'pod-template-hash': 'zzz' } },
      spec: { containers: [{ name: 'c', image: 'i:1' }] },
    };
    const b = { spec: { containers: [{ image: 'i:1', name: 'c' }] }, metadata: { labels: { app: 'x' } } };
    expect(templateHash(a)).toBe(templateHash(b));
    expect(templateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(equalIgnoreHash(a, b)).toBe(true);
    const c = { ...b, spec: { containers: [{ name: 'c', image: 'i:2' }] } };
    expect(templateHash(c)).not.toBe(templateHash(b));
    expect(templateHash(b, 1)).not.toBe(templateHash(b));
  });

  it('util — quantities parse like resource.Quantity', () => {
    expect(parseQuantity('500m')).toBeCloseTo(0.5);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('2k')).toBe(2000);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('3')).toBe(3);
    expect(Number.isNaN(parseQuantity('x1'))).toBe(true);
  });
});
