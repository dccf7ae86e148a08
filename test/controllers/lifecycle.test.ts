/**
 * Garbage collection (kubectl delete --cascade=background|foreground|orphan), namespace deletion,
 * and node lifecycle (lease lapse → Unknown + taints; edge pods never evicted) against the real
 * embedded API server and the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { addNode, getNode, kc, kubectl, listPods, startCluster, until, type Cluster } from './support.js';

let c: Cluster;

beforeAll(async () => {
  // A short grace period so lease lapses happen within the test.
  c = await startCluster({
    nodeLifecycle: { gracePeriodSeconds: 2, monitorPeriodSeconds: 0.5, defaultTolerationSeconds: 1 },
  });
  await addNode(c.kube, 'n1', {}, c.kubelet);
  await addNode(c.kube, 'n2', {}, c.kubelet);
});
afterAll(async () => {
  await c.stop();
});

async function exists(path: string): Promise<boolean> {
  try {
    await c.kube.request('GET', path);
    return true;
  } catch {
    return false;
  }
}
const live = (pods: V1Pod[]): V1Pod[] => pods.filter((p) => p.metadata?.deletionTimestamp == null);

async function deployed(ns: string, name: string, replicas: number): Promise<void> {
  await kc(c.server, [
    '-n',
    ns,
    'create',
    'deployment',
    name,
    '--image=localhost:5000/tether/shell:1',
    `--replicas=${replicas}`,
  ]);
  await kc(c.server, ['-n', ns, 'rollout', 'status', `deployment/${name}`, '--timeout=30s']);
}
async function rsOf(ns: string, app: string): Promise<V1ReplicaSet[]> {
  const l = (await c.kube.request(
    'GET',
    `/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=app%3D${app}`,
  )) as {
    items: V1ReplicaSet[];
  };
  return l.items;
}

describe('controllers/garbagecollector', () => {
  it('gc — kubectl delete --cascade=background removes the ReplicaSets and pods', async () => {
    await kc(c.server, ['create', 'namespace', 'gc1']);
    await deployed('gc1', 'bg', 2);
    await kc(c.server, ['-n', 'gc1', 'delete', 'deployment', 'bg', '--cascade=background']);
    await until('rs gone', async () => ((await rsOf('gc1', 'bg')).length === 0 ? true : undefined));
    await until('pods gone', async () =>
      (await listPods(c.kube, 'gc1', 'app=bg')).length === 0 ? true : undefined,
    );
  });

  it('gc — kubectl delete --cascade=foreground waits for the dependents, then the owner goes', async () => {
    await deployed('gc1', 'fg', 2);
    const r = await kubectl(c.server, [
      '-n',
      'gc1',
      'delete',
      'deployment',
      'fg',
      '--cascade=foreground',
      '--wait=true',
      '--timeout=30s',
    ]);
    expect(r.code).toBe(0);
    // --wait returned: the owner is gone, and foreground means its dependents went first.
    expect(await exists('/apis/apps/v1/namespaces/gc1/deployments/fg')).toBe(false);
    expect(await rsOf('gc1', 'fg')).toHaveLength(0);
    expect(await listPods(c.kube, 'gc1', 'app=fg')).toHaveLength(0);
  });

  it('gc — kubectl delete --cascade=orphan keeps the ReplicaSet and pods, without the owner reference', async () => {
    await deployed('gc1', 'or', 2);
    await kc(c.server, [
      '-n',
      'gc1',
      'delete',
      'deployment',
      'or',
      '--cascade=orphan',
      '--wait=true',
      '--timeout=30s',
    ]);
    expect(await exists('/apis/apps/v1/namespaces/gc1/deployments/or')).toBe(false);
    const rss = await rsOf('gc1', 'or');
    expect(rss).toHaveLength(1);
    expect(rss[0]?.metadata?.ownerReferences ?? []).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(live(await listPods(c.kube, 'gc1', 'app=or'))).toHaveLength(2);
    // The orphaned ReplicaSet still owns its pods; deleting it in the background takes them.
    await kc(c.server, ['-n', 'gc1', 'delete', 'rs', rss[0]?.metadata?.name ?? '']);
    await until('orphaned pods gone', async () =>
      (await listPods(c.kube, 'gc1', 'app=or')).length === 0 ? true : undefined,
    );
  });
});

describe('controllers/garbagecollector restart', () => {
  it('gc — owners and dependents that existed before the controllers (re)started are handled', async () => {
    await c.controllers.stop();
    await kc(c.server, ['create', 'namespace', 'gc2']);
    await kc(c.server, ['-n', 'gc2', 'create', 'configmap', 'owner']);
    const owner = (await c.kube.request('GET', '/api/v1/namespaces/gc2/configmaps/owner')) as {
      metadata: { uid: string };
    };
    const ref = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'owner',
      uid: owner.metadata.uid,
      blockOwnerDeletion: true,
    };
    for (const name of ['kept', 'gone'])
      await c.kube.core.createNamespacedConfigMap({
        namespace: 'gc2',
        body: { metadata: { name, ownerReferences: [ref] }, data: { a: 'b' } },
      });
    // A dependent whose owner vanished while no controller ran.
    await c.kube.core.createNamespacedConfigMap({
      namespace: 'gc2',
      body: {
        metadata: {
          name: 'stray',
          ownerReferences: [{ ...ref, name: 'never', uid: '00000000-0000-0000-0000-000000000000' }],
        },
      },
    });
    await c.controllers.start();
    await until('stray collected', async () =>
      (await exists('/api/v1/namespaces/gc2/configmaps/stray')) ? undefined : true,
    );
    await kc(c.server, [
      '-n',
      'gc2',
      'delete',
      'configmap',
      'owner',
      '--cascade=orphan',
      '--wait=true',
      '--timeout=20s',
    ]);
    const kept = (await c.kube.request('GET', '/api/v1/namespaces/gc2/configmaps/kept')) as {
      metadata: { ownerReferences?: unknown[] };
    };
    expect(kept.metadata.ownerReferences ?? []).toHaveLength(0);
    expect(await exists('/api/v1/namespaces/gc2/configmaps/gone')).toBe(true);
  });
});

describe('controllers/namespace', () => {
  it('namespace — kubectl delete namespace removes its contents, then the namespace', async () => {
    await kc(c.server, ['create', 'namespace', 'doomed']);
    await deployed('doomed', 'app', 2);
    await kc(c.server, ['-n', 'doomed', 'create', 'configmap', 'cfg', '--from-literal=a=b']);
    const r = await kubectl(c.server, ['delete', 'namespace', 'doomed', '--wait=true', '--timeout=40s']);
    expect(r.code).toBe(0);
    expect(await exists('/api/v1/namespaces/doomed')).toBe(false);
    expect(await exists('/api/v1/namespaces/doomed/configmaps/cfg')).toBe(false);
    const pods = (await c.kube.request('GET', '/api/v1/pods')) as { items: V1Pod[] };
    expect(pods.items.filter((p) => p.metadata?.namespace === 'doomed')).toHaveLength(0);
  });
});

describe('controllers/nodelifecycle', () => {
  it('nodelifecycle — a lapsed lease makes Ready Unknown with upstream reason, message and taints; back on renew', async () => {
    await addNode(c.kube, 'quiet', {}, c.kubelet);
    c.kubelet.leaseNodes.delete('quiet');
    const node = await until('quiet Unknown', async () => {
      const n = await getNode(c.kube, 'quiet');
      return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown' &&
        (n.spec?.taints ?? []).length === 2
        ? n
        : undefined;
    });
    expect(node.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
    expect((node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort()).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    const get = await kc(c.server, ['get', 'node', 'quiet']);
    expect(get).toMatch(/quiet\s+NotReady/);
    // The kubelet comes back: it posts Ready=True; the taints go.
    c.kubelet.leaseNodes.add('quiet');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await c.kube.request(
      'PATCH',
      '/api/v1/nodes/quiet/status',
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      },
      'application/merge-patch+json',
    );
    await until('taints removed', async () =>
      ((await getNode(c.kube, 'quiet')).spec?.taints ?? []).length === 0 ? true : undefined,
    );
  });

  it('nodelifecycle — pods on a silent edge node are never evicted; on a cloud node they are', async () => {
    await kc(c.server, ['create', 'namespace', 'nl']);
    await addNode(c.kube, 'edge1', { labels: { 'node-role.kubernetes.io/edge': '' } }, c.kubelet);
    await addNode(c.kube, 'cloud1', {}, c.kubelet);
    const mk = (name: string, node: string): V1Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'nl' },
      spec: {
        nodeName: node,
        containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }],
        // Tolerated for 1 s only (the API server's DefaultTolerationSeconds would give 300 s).
        tolerations: [
          {
            key: 'node.kubernetes.io/unreachable',
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 1,
          },
        ],
      },
    });
    await c.kube.core.createNamespacedPod({ namespace: 'nl', body: mk('on-edge', 'edge1') });
    await c.kube.core.createNamespacedPod({ namespace: 'nl', body: mk('on-cloud', 'cloud1') });
    await until('both running', async () =>
      live(await listPods(c.kube, 'nl')).filter((p) => p.status?.phase === 'Running').length === 2
        ? true
        : undefined,
    );
    // Both nodes go silent (and their kubelet too, so nothing finishes the deletions).
    c.kubelet.leaseNodes.delete('edge1');
    c.kubelet.leaseNodes.delete('cloud1');
    c.kubelet.nodes = new Set(['n1', 'n2', 'quiet']);
    // The cloud pod is evicted once the taint is 1 s old.
    await until('cloud pod evicted', async () => {
      const p = (await c.kube.request('GET', '/api/v1/namespaces/nl/pods/on-cloud')) as V1Pod;
      return p.metadata?.deletionTimestamp != null ? true : undefined;
    });
    const edge: V1Node = await getNode(c.kube, 'edge1');
    expect(edge.spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort()).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    // Give the taint manager several more periods: the edge pod stays.
    await new Promise((r) => setTimeout(r, 3000));
    const onEdge = (await c.kube.request('GET', '/api/v1/namespaces/nl/pods/on-edge')) as V1Pod;
    expect(onEdge.metadata?.deletionTimestamp).toBeUndefined();
    c.kubelet.nodes = undefined;
  });
});
