import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { EdgeSession, Hub } from '../../../src/cloud/hub/index.js';
import type { KubeClient } from '../../../src/cloud/kube/index.js';
import { SyncController } from '../../../src/cloud/sync/index.js';
import { metricValue } from '../../support/metrics.js';
import { createRegistry, silentLogger, type Registry } from '../../../src/common/index.js';
import {
  keyId,
  nodeName,
  type Body,
  type InventoryItem,
  type SessionSettings,
} from '../../../src/protocol/index.js';

type Verb = 'add' | 'update' | 'delete';

/** The informer surface the controller uses (on, start, stop, get), by hand. */
class FakeInformer {
  private readonly objects = new Map<string, KubernetesObject>();
  private readonly handlers: Record<Verb, ((o: KubernetesObject) => void)[]> = {
    add: [],
    update: [],
    delete: [],
  };
  on(verb: Verb, cb: (o: KubernetesObject) => void): void {
    this.handlers[verb].push(cb);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  get(name: string, namespace?: string): KubernetesObject | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }
  /** As client-node's ListWatch: the cache holds the object before the handlers run. */
  add(o: KubernetesObject): void {
    this.objects.set(`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`, o);
    for (const h of this.handlers.add) h(o);
  }
}

/** The session surface the send path uses, recording what is sent. */
class FakeSession {
  readonly sent: Body[] = [];
  readonly isOpen = true;
  readonly buffered = 0;
  constructor(readonly node: ReturnType<typeof nodeName>) {}
  send(b: Body): boolean {
    this.sent.push(b);
    return true;
  }
  close(): void {
    throw new Error('not closed in this test');
  }
}

const settings: SessionSettings = {
  keepaliveMs: 15_000,
  missedPongLimit: 3,
  windowSize: 64,
  maxFrameBytes: 1 << 20,
  inventoryChunk: 1000,
};

/** A SyncController over fake informers and sessions, each session opened with an empty inventory. */
async function started(
  sessions: FakeSession[],
): Promise<{ sync: SyncController; informers: Map<string, FakeInformer>; registry: Registry }> {
  const informers = new Map<string, FakeInformer>();
  const kube = {
    informer: (r: string) => {
      const i = new FakeInformer();
      informers.set(r, i);
      return i;
    },
  } as unknown as KubeClient;
  const hub = {
    settings,
    maxBufferedBytes: 1 << 20,
    session: (n: string) => sessions.find((f) => f.node === n),
    offer: () => undefined,
  } as unknown as Hub;
  const registry = createRegistry();
  const sync = new SyncController(kube, hub, silentLogger(), registry);
  await sync.start();
  for (const f of sessions) {
    const s = f as unknown as EdgeSession;
    sync.sessionOpened(s);
    const none: InventoryItem[] = [];
    sync.message(s, { v: 1, id: 'i', ts: 0, kind: 'inventory', chunk: 0, last: true, items: none } as never);
  }
  return { sync, informers, registry };
}

describe('cloud/sync send path (issue 12)', () => {
  it('sync — a watched change is sent to a connected edge within the watch callback, not a later event-loop turn', async () => {
    const node = nodeName('edge-1');
    const session = new FakeSession(node);
    const { sync, informers } = await started([session]);
    try {
      const before = session.sent.length;
      informers.get('configmaps')?.add({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { namespace: 'ns', name: 'cfg', uid: 'u-cfg', resourceVersion: '5' },
      });
      informers.get('pods')?.add({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: 'ns', name: 'p', uid: 'u-p', resourceVersion: '6' },
        spec: {
          nodeName: node,
          containers: [{ name: 'c', image: 'i' }],
          volumes: [{ name: 'v', configMap: { name: 'cfg' } }],
        },
      } as KubernetesObject);
      // no await between the watch event and this check: the send happened inside the callback
      const upserts = session.sent
        .slice(before)
        .flatMap((b) => (b.kind === 'sync' && b.op === 'upsert' ? [keyId(b.key)] : []));
      expect(upserts).toContain(keyId({ group: '', version: 'v1', kind: 'Pod', namespace: 'ns', name: 'p' }));
      expect(upserts).toContain(
        keyId({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cfg' }),
      );
    } finally {
      await sync.stop();
    }
  });

  it('sync — queue depth is exported per node only while that node has a backlog, with fleet totals beside it', async () => {
    const busy = new FakeSession(nodeName('edge-busy'));
    const idle = new FakeSession(nodeName('edge-idle'));
    const { sync, informers, registry } = await started([busy, idle]);
    try {
      informers.get('pods')?.add({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: 'ns', name: 'p', uid: 'u-p', resourceVersion: '6' },
        spec: { nodeName: busy.node, containers: [{ name: 'c', image: 'i' }] },
      } as KubernetesObject);
      // sent, not acked: the busy node has a backlog, the idle one none
      const text = await registry.metrics();
      const series = text.split('\n').filter((l) => l.startsWith('tether_sync_queue_depth{'));
      expect(series).toEqual(['tether_sync_queue_depth{node="edge-busy"} 1']);
      expect(await metricValue(registry, 'tether_sync_backlogged_nodes')).toBe(1);
      expect(await metricValue(registry, 'tether_sync_queued_objects')).toBe(1);
    } finally {
      await sync.stop();
    }
  });
});
