import { describe, expect, it } from 'vitest';
import { NodeQueue, type Desired } from '../../../src/cloud/sync/node-queue.js';
import { configMapKey } from '../../../src/cloud/sync/ownership.js';
import {
  keyId,
  nodeName,
  resourceVersion,
  uid,
  type ObjectKey,
  type ObjectKeyId,
  type SyncBody,
} from '../../../src/protocol/index.js';

/** A tiny "API server": the current state of each object, by key. */
class World {
  readonly objects = new Map<ObjectKeyId, Desired>();
  private rv = 100;
  set(key: ObjectKey, u = 'u1'): Desired {
    const d: Desired = {
      uid: uid(u),
      resourceVersion: resourceVersion(String(++this.rv)),
      object: { v: this.rv },
    };
    this.objects.set(keyId(key), d);
    return d;
  }
  remove(key: ObjectKey): void {
    this.objects.delete(keyId(key));
  }
  resolve = (key: ObjectKey): Desired | undefined => this.objects.get(keyId(key));
}

const opts = { window: 4, stallTimeoutMs: 1000 };
const cm = (n: number): ObjectKey => configMapKey('default', `cm${n}`);
const ackAll = (q: NodeQueue, sent: SyncBody[]): void => {
  for (const s of sent) expect(q.ack(s.seq)).toBe(true);
};

describe('cloud sync — node queue', () => {
  it('node queue — sends nothing until the inventory arrives', () => {
    const w = new World();
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    w.set(cm(1));
    q.markDirty(cm(1));
    expect(q.take(0)).toEqual([]);
    q.applyInventory([], [cm(1)]);
    expect(q.take(0).map((s) => s.op)).toEqual(['upsert']);
  });

  it('node queue — coalesces many changes of one object into its latest version', () => {
    const w = new World();
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], []);
    let last!: Desired;
    for (let i = 0; i < 50; i++) {
      last = w.set(cm(1));
      q.markDirty(cm(1));
    }
    const sent = q.take(0);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ op: 'upsert', resourceVersion: last.resourceVersion });
  });

  it('node queue — one version per object in flight; the newer one goes after the ack', () => {
    const w = new World();
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], []);
    w.set(cm(1));
    q.markDirty(cm(1));
    const first = q.take(0);
    const newer = w.set(cm(1));
    q.markDirty(cm(1));
    expect(q.take(1)).toEqual([]);
    ackAll(q, first);
    const second = q.take(2);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ resourceVersion: newer.resourceVersion });
  });

  it('node queue — the window bounds messages in flight', () => {
    const w = new World();
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    const keys = Array.from({ length: 10 }, (_, i) => cm(i));
    for (const k of keys) w.set(k);
    q.applyInventory([], keys);
    const a = q.take(0);
    expect(a).toHaveLength(4);
    expect(q.take(0)).toHaveLength(0);
    ackAll(q, a.slice(0, 2));
    expect(q.take(0)).toHaveLength(2);
  });

  it('node queue — inventory diff: nothing the edge holds is re-sent, newer objects are, stale ones deleted', () => {
    const w = new World();
    const same = w.set(cm(1));
    const newer = w.set(cm(2));
    w.set(cm(3)); // new, edge lacks it
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory(
      [
        { key: cm(1), uid: same.uid, resourceVersion: same.resourceVersion },
        { key: cm(2), uid: newer.uid, resourceVersion: resourceVersion('1') },
        { key: cm(4), uid: uid('gone'), resourceVersion: resourceVersion('7') }, // no longer belongs
      ],
      [cm(1), cm(2), cm(3)],
    );
    const sent = q.take(0);
    const byName = Object.fromEntries(sent.map((s) => [s.key.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['cm2', 'cm3', 'cm4']);
    expect(byName['cm2']).toMatchObject({ op: 'upsert', resourceVersion: newer.resourceVersion });
    expect(byName['cm4']).toMatchObject({ op: 'delete', uid: 'gone' });
    expect(q.counters.redundant).toBe(0);
  });

  it('node queue — an object recreated with a new uid is sent even when the version string matches', () => {
    const w = new World();
    const d = w.set(cm(1), 'new-uid');
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([{ key: cm(1), uid: uid('old-uid'), resourceVersion: d.resourceVersion }], [cm(1)]);
    expect(q.take(0)).toMatchObject([{ op: 'upsert', uid: 'new-uid' }]);
  });

  it('node queue — nothing is resent on a live connection; the wait of the oldest unacked message is reported', () => {
    const w = new World();
    w.set(cm(1));
    w.set(cm(2));
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], [cm(1), cm(2)]);
    const sent = q.take(0);
    expect(sent).toHaveLength(2);
    expect(q.take(5000)).toEqual([]); // an ordered, reliable link: a resend could only duplicate
    expect(q.stalledFor(5000)).toBe(5000);
    expect(q.ack(sent[0]!.seq)).toBe(true);
    expect(q.ack(sent[1]!.seq)).toBe(true);
    expect(q.stalledFor(6000)).toBe(0);
  });

  it('node queue — a disconnect returns in-flight objects to the queue; acks from the old link are ignored', () => {
    const w = new World();
    w.set(cm(1));
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], [cm(1)]);
    const [old] = q.take(0);
    q.disconnected();
    expect(q.take(0)).toEqual([]);
    q.applyInventory([], [cm(1)]);
    const [again] = q.take(0);
    expect(again?.seq).not.toBe(old?.seq);
    expect(q.ack(old!.seq)).toBe(false);
    expect(q.ack(again!.seq)).toBe(true);
  });

  it('node queue — a deleted object is deleted on the edge once, then forgotten', () => {
    const w = new World();
    w.set(cm(1));
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], [cm(1)]);
    ackAll(q, q.take(0));
    w.remove(cm(1));
    q.markDirty(cm(1));
    const del = q.take(0);
    expect(del).toMatchObject([{ op: 'delete' }]);
    ackAll(q, del);
    q.markDirty(cm(1));
    expect(q.take(0)).toEqual([]);
    expect(q.heldCount).toBe(0);
  });

  it('node queue — memory is bounded by objects, not changes, while the edge is offline', () => {
    const w = new World();
    const q = new NodeQueue(nodeName('n1'), opts, w.resolve);
    q.applyInventory([], []);
    q.disconnected();
    for (let i = 0; i < 10_000; i++) {
      w.set(cm(i % 10));
      q.markDirty(cm(i % 10));
    }
    expect(q.depth).toBe(10);
  });
});
