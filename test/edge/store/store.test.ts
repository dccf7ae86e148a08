import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeStore, EdgeStoreError, type StoreChange } from '../../../src/edge/store/index.js';
import { resourceVersion, uid, type ObjectKey, type SyncBody } from '../../../src/protocol/index.js';

const cm: ObjectKey = { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cfg' };
const pod: ObjectKey = { group: '', version: 'v1', kind: 'Pod', namespace: 'ns', name: 'web' };
const upsert = (seq: number, rv: string, u = 'u1', key = cm): SyncBody => ({
  kind: 'sync',
  op: 'upsert',
  seq,
  key,
  uid: uid(u),
  resourceVersion: resourceVersion(rv),
  object: { metadata: { name: key.name, resourceVersion: rv }, data: { rv } },
});

let dir: string;
let store: EdgeStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-store-'));
  store = new EdgeStore({ path: join(dir, 'edge.db') });
  store.open();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('edge store', () => {
  it('edge store — opens with a 512 KiB SQLite page cache, not the 16 MB build default (edge RSS grew with the store)', () => {
    expect(store.database.pragma('cache_size', { simple: true })).toBe(-512);
  });

  it('edge store — applies upserts, reports a resend of the held version as duplicate', () => {
    expect(store.applySync(upsert(1, '10'))).toBe('applied');
    expect(store.applySync(upsert(2, '10'))).toBe('duplicate');
    expect(store.applySync(upsert(3, '11'))).toBe('applied');
    expect(store.get(cm)?.resourceVersion).toBe('11');
    expect(store.inventory()).toEqual([{ key: cm, uid: 'u1', resourceVersion: '11' }]);
  });

  it('edge store — a delete removes only the incarnation it names', () => {
    store.applySync(upsert(1, '10', 'new'));
    const del = (u: string): SyncBody => ({
      kind: 'sync',
      op: 'delete',
      seq: 2,
      key: cm,
      uid: uid(u),
      resourceVersion: resourceVersion('9'),
    });
    expect(store.applySync(del('old'))).toBe('absent');
    expect(store.get(cm)).toBeDefined();
    expect(store.applySync(del('new'))).toBe('applied');
    expect(store.get(cm)).toBeUndefined();
    expect(store.applySync(del('new'))).toBe('absent');
  });

  it('edge store — notifies committed changes with a monotonic local revision', () => {
    const seen: StoreChange[] = [];
    store.onChange((c) => seen.push(c));
    store.applySync(upsert(1, '10'));
    store.applySync(upsert(2, '10'));
    store.applySync({
      kind: 'sync',
      op: 'delete',
      seq: 3,
      key: cm,
      uid: uid('u1'),
      resourceVersion: resourceVersion('10'),
    });
    expect(seen.map((c) => c.type)).toEqual(['upsert', 'delete']);
    const revs = seen.map((c) => (c.type === 'upsert' ? c.object.localRev : c.localRev));
    expect(revs[1]).toBeGreaterThan(revs[0]!);
  });

  it('edge store — the outbox coalesces by object; a late ack of a superseded item removes nothing', () => {
    const first = store.enqueue(pod, { type: 'podStatus', payload: { phase: 'Pending' } });
    const [sent] = store.pending(10);
    expect(sent?.id).toBe(first);
    const second = store.enqueue(pod, { type: 'podStatus', payload: { phase: 'Running' } });
    expect(store.outboxDepth()).toBe(1);
    expect(store.settle(first)).toBe(false);
    expect(store.pending(10)).toMatchObject([{ id: second, write: { payload: { phase: 'Running' } } }]);
    expect(store.settle(second)).toBe(true);
    expect(store.outboxDepth()).toBe(0);
  });

  it('edge store — events are never coalesced; pending keeps order and skips in-flight ids', () => {
    const a = store.enqueue(pod, { type: 'event', payload: { reason: 'A' } });
    const b = store.enqueue(pod, { type: 'event', payload: { reason: 'B' } });
    expect(store.pending(10).map((i) => i.id)).toEqual([a, b]);
    expect(store.pending(10, new Set([a])).map((i) => i.id)).toEqual([b]);
  });

  it('edge store — everything survives close and reopen, and the local revision stays monotonic', () => {
    store.applySync(upsert(1, '10'));
    store.applySync({
      kind: 'sync',
      op: 'delete',
      seq: 2,
      key: cm,
      uid: uid('u1'),
      resourceVersion: resourceVersion('10'),
    });
    const rev = store.revision;
    store.enqueue(pod, { type: 'podStatus', payload: { phase: 'Running' } });
    store.setMeta('verdict', 'Healthy');
    store.close();
    store.open();
    expect(store.revision).toBe(rev);
    expect(store.outboxDepth()).toBe(1);
    expect(store.getMeta('verdict')).toBe('Healthy');
  });

  it('edge store — a file that is not a database is refused with STORE_CORRUPT', async () => {
    store.close();
    const { writeFileSync } = await import('node:fs');
    const bad = join(dir, 'bad.db');
    writeFileSync(bad, 'this is not sqlite'.repeat(100));
    const s = new EdgeStore({ path: bad });
    expect(() => {
      s.open();
    }).toThrow(EdgeStoreError);
    try {
      s.open();
    } catch (e) {
      expect((e as EdgeStoreError).code).toBe('STORE_CORRUPT');
    }
    store.open();
  });

  it('edge store — SIGKILL in the middle of writes loses no committed change and leaves the file consistent', async () => {
    store.close();
    const path = join(dir, 'burst.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'burst.ts'), path],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let lastAcked = 0;
    let buf = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) lastAcked = Number(l);
        if (lastAcked >= 300 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => {
      child.on('exit', r);
    });
    const s = new EdgeStore({ path });
    s.open();
    expect(s.integrityOk()).toBe(true);
    // one process (no npx wrapper), so SIGKILL really kills the writer
    // every acknowledged seq is present: the object it wrote holds that seq or a later one
    const latest = Math.max(
      ...s.list({ group: '', kind: 'ConfigMap', namespace: 'ns' }).map((o) => Number(o.resourceVersion)),
    );
    expect(latest).toBeGreaterThanOrEqual(lastAcked);
    const owner = s.get({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      namespace: 'ns',
      name: `cm${lastAcked % 50}`,
    });
    expect(Number(owner?.resourceVersion)).toBeGreaterThanOrEqual(lastAcked);
    expect(s.outboxDepth()).toBe(7);
    s.close();
  });
});
