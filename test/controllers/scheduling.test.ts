/**
 * The scheduler and the DaemonSet controller against the real embedded API server: nodeSelector on
 * kubernetes.io/arch, an extended resource only one node has, FailedScheduling with upstream's
 * message, taints, and a DaemonSet across three nodes following nodes as they join and leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreV1Event, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { fitErrorMessage, filterNode } from '../../src/controllers/index.js';
import { addNode, kc, listPods, startCluster, until, type Cluster } from './support.js';

let c: Cluster;
const ns = 'sched';

beforeAll(async () => {
  c = await startCluster();
  await addNode(c.kube, 'amd1', {}, c.kubelet);
  await addNode(c.kube, 'arm1', { labels: { 'kubernetes.io/arch': 'arm64' } }, c.kubelet);
  await addNode(
    c.kube,
    'gpu1',
    {
      labels: { 'node-role.kubernetes.io/edge': '' },
      allocatable: { 'nvidia.com/gpu': '1', 'tether.dev/fpga': '2' },
    },
    c.kubelet,
  );
  await kc(c.server, ['create', 'namespace', ns]);
});
afterAll(async () => {
  await c.stop();
});

function pod(name: string, spec: Partial<V1Pod['spec']> = {}, resources?: Record<string, string>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'localhost:5000/tether/shell:1',
          ...(resources !== undefined ? { resources: { limits: resources, requests: resources } } : {}),
        },
      ],
      ...spec,
    },
  };
}
async function create(p: V1Pod): Promise<void> {
  await c.kube.core.createNamespacedPod({ namespace: ns, body: p });
}
async function nodeOf(name: string): Promise<string> {
  return until(`${name} bound`, async () => {
    const p = (await c.kube.request('GET', `/api/v1/namespaces/${ns}/pods/${name}`)) as V1Pod;
    return p.spec?.nodeName !== undefined && p.spec.nodeName !== '' ? p.spec.nodeName : undefined;
  });
}
async function failedScheduling(name: string): Promise<CoreV1Event> {
  return until(`FailedScheduling for ${name}`, async () => {
    const l = (await c.kube.request('GET', `/api/v1/namespaces/${ns}/events`)) as { items: CoreV1Event[] };
    return l.items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === name);
  });
}

describe('controllers/scheduler', () => {
  it('scheduler — nodeSelector on kubernetes.io/arch picks the arm64 node', async () => {
    await create(pod('arm', { nodeSelector: { 'kubernetes.io/arch': 'arm64' } }));
    expect(await nodeOf('arm')).toBe('arm1');
    const ev = await until('Scheduled event', async () => {
      const l = (await c.kube.request('GET', `/api/v1/namespaces/${ns}/events`)) as { items: CoreV1Event[] };
      return l.items.find((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'arm');
    });
    expect(ev.message).toBe(`Successfully assigned ${ns}/arm to arm1`);
    expect(ev.source?.component).toBe('default-scheduler');
  });

  it('scheduler — a pod requesting an extended resource lands on the only node that has it; a second one waits with upstream message', async () => {
    await create(pod('gpu-a', {}, { 'nvidia.com/gpu': '1' }));
    expect(await nodeOf('gpu-a')).toBe('gpu1');
    await create(pod('gpu-b', {}, { 'nvidia.com/gpu': '1' }));
    const ev = await failedScheduling('gpu-b');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(
      '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    const p = (await c.kube.request('GET', `/api/v1/namespaces/${ns}/pods/gpu-b`)) as V1Pod;
    expect(p.status?.conditions?.find((x) => x.type === 'PodScheduled')).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
    });
    // kubectl describe shows it the way users know it.
    const desc = await kc(c.server, ['-n', ns, 'describe', 'pod', 'gpu-b']);
    expect(desc).toContain('FailedScheduling');
    // Freeing the GPU lets the waiting pod in (retried on the deletion, not only on back-off).
    await c.kube.core.deleteNamespacedPod({ name: 'gpu-a', namespace: ns });
    expect(await nodeOf('gpu-b')).toBe('gpu1');
  });

  it('scheduler — node affinity and a taint give a per-node breakdown in FailedScheduling', async () => {
    await create(
      pod('picky', {
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'tether.dev/fpga-slots', operator: 'Gt', values: ['1'] }] },
              ],
            },
          },
        },
      }),
    );
    const ev = await failedScheduling('picky');
    expect(ev.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
    // A label that satisfies both makes it schedulable: node updates retry waiting pods.
    await kc(c.server, ['label', 'node', 'arm1', 'tether.dev/fpga-slots=4']);
    expect(await nodeOf('picky')).toBe('arm1');

    await kc(c.server, ['taint', 'node', 'amd1', 'dedicated=infra:NoSchedule']);
    await kc(c.server, ['cordon', 'arm1']);
    await create(pod('fpga', {}, { 'tether.dev/fpga': '3' }));
    const ev2 = await failedScheduling('fpga');
    expect(ev2.message).toBe(
      '0/3 nodes are available: 1 Insufficient tether.dev/fpga, 1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    await kc(c.server, ['uncordon', 'arm1']);
    await kc(c.server, ['taint', 'node', 'amd1', 'dedicated-']);
  });

  it('scheduler — required affinity operators and tolerations, as pure filters', () => {
    const node: V1Node = {
      metadata: { name: 'n', labels: { zone: 'a', slots: '4' } },
      spec: { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }] },
      status: { allocatable: { cpu: '2', memory: '1Gi', pods: '2' } },
    };
    const p = (expr: object, tolerations: object[] = [{ key: 'k', operator: 'Exists' }]): V1Pod => ({
      spec: {
        containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '500m', memory: '256Mi' } } }],
        tolerations,
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [expr] }],
            },
          },
        },
      } as NonNullable<V1Pod['spec']>,
    });
    const fits = (pp: V1Pod, used = new Map<string, number>(), pods = 0): boolean =>
      filterNode(pp, node, used, pods) === undefined;
    expect(fits(p({ key: 'zone', operator: 'In', values: ['a', 'b'] }))).toBe(true);
    expect(fits(p({ key: 'zone', operator: 'NotIn', values: ['a'] }))).toBe(false);
    expect(fits(p({ key: 'zone', operator: 'Exists' }))).toBe(true);
    expect(fits(p({ key: 'gpu', operator: 'DoesNotExist' }))).toBe(true);
    expect(fits(p({ key: 'slots', operator: 'Gt', values: ['3'] }))).toBe(true);
    expect(fits(p({ key: 'slots', operator: 'Lt', values: ['4'] }))).toBe(false);
    expect(fits(p({ key: 'zone', operator: 'Exists' }, []))).toBe(false);
    expect(fits(p({ key: 'zone', operator: 'Exists' }), new Map([['cpu', 1600]]))).toBe(false);
    expect(fits(p({ key: 'zone', operator: 'Exists' }), new Map(), 2)).toBe(false);
    expect(
      fitErrorMessage(2, [
        { reasons: ['Insufficient cpu', 'Insufficient memory'], unresolvable: false },
        { reasons: ['Insufficient cpu'], unresolvable: false },
      ]),
    ).toBe(
      '0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
  });
});

describe('controllers/daemonset', () => {
  const dsBody = (image: string): V1DaemonSet => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: ns },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image }] } },
    },
  });
  const agents = async (): Promise<V1Pod[]> =>
    (await listPods(c.kube, ns, 'app=agent')).filter((p) => p.metadata?.deletionTimestamp == null);

  it('daemonset — one pod on each of three nodes, status as kubectl reads it', async () => {
    await c.kube.apps.createNamespacedDaemonSet({
      namespace: ns,
      body: dsBody('localhost:5000/tether/shell:1'),
    });
    const out = await kc(c.server, ['-n', ns, 'rollout', 'status', 'ds/agent', '--timeout=30s']);
    expect(out).toContain('daemon set "agent" successfully rolled out');
    const pods = await agents();
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(['amd1', 'arm1', 'gpu1']);
    const ds = (await c.kube.request(
      'GET',
      `/apis/apps/v1/namespaces/${ns}/daemonsets/agent`,
    )) as V1DaemonSet;
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 3,
      numberReady: 3,
      numberAvailable: 3,
      updatedNumberScheduled: 3,
      numberMisscheduled: 0,
    });
    const table = await kc(c.server, ['-n', ns, 'get', 'ds', 'agent']);
    expect(table).toMatch(/agent\s+3\s+3\s+3\s+3\s+3/);
  });

  it('daemonset — follows nodes joining and leaving', async () => {
    await addNode(c.kube, 'late1', {}, c.kubelet);
    await until('pod on late1', async () =>
      (await agents()).some((p) => p.spec?.nodeName === 'late1') ? true : undefined,
    );
    await c.kube.core.deleteNode({ name: 'late1' });
    c.kubelet.leaseNodes.delete('late1');
    await until('pod on late1 gone', async () =>
      (await listPods(c.kube, ns, 'app=agent')).every((p) => p.spec?.nodeName !== 'late1') ? true : undefined,
    );
    expect((await agents()).map((p) => p.spec?.nodeName).sort()).toEqual(['amd1', 'arm1', 'gpu1']);
  });

  it('daemonset — RollingUpdate replaces pods at most maxUnavailable at a time', async () => {
    let minAvailable = 99;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ready = (await agents()).filter((p) =>
          p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
        );
        minAvailable = Math.min(minAvailable, ready.length);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await kc(c.server, ['-n', ns, 'set', 'image', 'ds/agent', 'agent=localhost:5000/tether/shell:2']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'ds/agent', '--timeout=30s']);
    sampling = false;
    await sampler;
    const pods = await agents();
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.spec?.containers[0]?.image === 'localhost:5000/tether/shell:2')).toBe(true);
    expect(minAvailable).toBeGreaterThanOrEqual(2);
  });
});
