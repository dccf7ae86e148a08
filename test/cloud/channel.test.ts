import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelHarness, eventually, podManifest, type Cloud, type Edge } from '../support/channel.js';

const cmKey = (name: string) => ({ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'default', name });
const podKey = (name: string) => ({ group: '', version: 'v1', kind: 'Pod', namespace: 'default', name });

describe('channel — in-process cloud and edges over mTLS', () => {
  const h = new ChannelHarness();
  let cloud: Cloud;
  let a: Edge;
  let b: Edge;

  beforeAll(async () => {
    await h.start();
    cloud = await h.startCloud();
    a = await h.startEdge('edge-a');
    b = await h.startEdge('edge-b');
    await eventually(() => cloud.hub.sessionCount === 2, 'both edges connected');
  });
  afterAll(async () => {
    await h.stop();
  });

  it('channel — a pod bound to a node and the ConfigMap it uses reach that node only', async () => {
    await h.core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'cfg-a' }, data: { k: 'v1' } },
    });
    await h.core.createNamespacedPod({
      namespace: 'default',
      body: podManifest('pod-a', 'edge-a', {
        volumes: [{ name: 'v', configMap: { name: 'cfg-a' } }],
      }),
    });
    await eventually(
      () => a.store.get(podKey('pod-a')) && a.store.get(cmKey('cfg-a')),
      'pod and configmap on edge-a',
    );
    expect(b.store.get(podKey('pod-a'))).toBeUndefined();
    expect(b.store.get(cmKey('cfg-a'))).toBeUndefined();
  });

  it('channel — a ConfigMap change reaches the node; deleting the pod deletes the pod and the ConfigMap there', async () => {
    await h.core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'cfg-a', body: { data: { k: 'v2' } } },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/merge-patch+json',
      ),
    );
    await eventually(
      () => (a.store.get(cmKey('cfg-a'))?.object as any)?.data?.k === 'v2',
      'configmap update on edge-a',
    );
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'pod-a', gracePeriodSeconds: 0 });
    await eventually(
      () => !a.store.get(podKey('pod-a')) && !a.store.get(cmKey('cfg-a')),
      'pod and configmap gone from edge-a',
    );
  });

  it('channel — pod status written to the edge outbox reaches the API server and leaves the outbox', async () => {
    const created = await h.core.createNamespacedPod({
      namespace: 'default',
      body: podManifest('pod-s', 'edge-b'),
    });
    await eventually(() => b.store.get(podKey('pod-s')), 'pod-s on edge-b');
    b.store.enqueue(
      podKey('pod-s'),
      { type: 'podStatus', payload: { phase: 'Running', podIP: '10.88.0.9' } },
      created.metadata!.uid as never,
    );
    b.link.kick();
    await eventually(
      async () =>
        (await h.core.readNamespacedPodStatus({ namespace: 'default', name: 'pod-s' })).status?.phase ===
        'Running',
      'status in the API',
    );
    await eventually(() => b.store.outboxDepth() === 0, 'outbox drained');
  });

  it('channel — a node cannot write the status of another node’s pod', async () => {
    const created = await h.core.createNamespacedPod({
      namespace: 'default',
      body: podManifest('pod-x', 'edge-b'),
    });
    a.store.enqueue(
      podKey('pod-x'),
      { type: 'podStatus', payload: { phase: 'Failed' } },
      created.metadata!.uid as never,
    );
    a.link.kick();
    await eventually(
      () => a.store.outboxDepth() === 0 && a.link.counters.statusRejected > 0,
      'refused and dropped',
    );
    const pod = await h.core.readNamespacedPodStatus({ namespace: 'default', name: 'pod-x' });
    expect(pod.status?.phase).not.toBe('Failed');
  });

  it('channel — nothing is re-sent after a reconnect when nothing changed', async () => {
    const before = a.link.counters.applied;
    a.link.dropConnection();
    await eventually(() => a.link.counters.connects >= 2 && a.link.state === 'online', 'edge-a reconnected');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.link.counters.applied).toBe(before);
    expect(a.link.counters.duplicates).toBe(0);
  });
});
