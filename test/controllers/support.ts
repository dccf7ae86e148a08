/**
 * Shared parts of the controller tests: a real embedded API server, the real controllers talking
 * to it through its kubeconfig, registered test Nodes, and a fake kubelet that plays the node
 * agent (marks bound pods Running+Ready through the status subresource, finishes graceful
 * deletions, renews node Leases).
 */
import { KubeConfig, type V1Node, type V1Pod, type V1Taint } from '@kubernetes/client-node';
import { createLogger, silentLogger, createRegistry, errorMessage } from '../../src/common/index.js';
import {
  ControlPlaneControllers,
  InformerFactory,
  Kube,
  type ControlPlaneConfigInput,
} from '../../src/controllers/index.js';
import { startTestServer, type TestServer } from '../apiserver/harness.js';

export { kc, kubectl, type TestServer } from '../apiserver/harness.js';

export interface Cluster {
  server: TestServer;
  kube: Kube;
  controllers: ControlPlaneControllers;
  kubelet: FakeKubelet;
  stop(): Promise<void>;
}

export async function startCluster(config: Partial<ControlPlaneConfigInput> = {}): Promise<Cluster> {
  // NORMAL sync: the same SQLite code path, without an fsync per write (tests are about behaviour).
  const server = await startTestServer({ storage: { synchronous: 'NORMAL' } });
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const kube = new Kube(kc);
  const controllers = new ControlPlaneControllers(
    { kubeconfigPath: server.kubeconfigPath, ...config },
    {
      logger:
        process.env['TETHER_TEST_LOG'] !== undefined
          ? createLogger({ level: process.env['TETHER_TEST_LOG'] })
          : silentLogger(),
      registry: createRegistry(),
    },
  );
  await controllers.start();
  const kubelet = new FakeKubelet(kube);
  await kubelet.start();
  return {
    server,
    kube,
    controllers,
    kubelet,
    stop: async () => {
      await kubelet.stop();
      await controllers.stop();
      await server.stop();
    },
  };
}

export interface NodeSpec {
  labels?: Record<string, string>;
  allocatable?: Record<string, string>;
  taints?: V1Taint[];
  unschedulable?: boolean;
}

/** Registers a Node with capacity/allocatable and a Ready condition, as a kubelet would. */
export async function addNode(
  kube: Kube,
  name: string,
  spec: NodeSpec = {},
  kubelet?: FakeKubelet,
): Promise<void> {
  const allocatable = {
    cpu: '4',
    memory: '8Gi',
    pods: '110',
    'ephemeral-storage': '50Gi',
    ...spec.allocatable,
  };
  await kube.core.createNode({
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          ...spec.labels,
        },
      },
      spec: {
        ...(spec.taints !== undefined ? { taints: spec.taints } : {}),
        ...(spec.unschedulable === true ? { unschedulable: true } : {}),
      },
    },
  });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kube.request(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        capacity: allocatable,
        allocatable,
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
  if (kubelet !== undefined) {
    kubelet.leaseNodes.add(name);
    await kubelet.renewLeases();
  }
}

/**
 * The kubelet's part, faked: bound pods become Running and Ready; pods being deleted are
 * removed (grace 0, only that incarnation); Leases of `leaseNodes` are renewed.
 */
export class FakeKubelet {
  private readonly informers: InformerFactory;
  private readonly timers = new Set<NodeJS.Timeout>();
  private interval: NodeJS.Timeout | undefined;
  private readonly done = new Set<string>();
  /** Nodes whose pods this kubelet runs (all when undefined). */
  nodes: Set<string> | undefined;
  readonly leaseNodes = new Set<string>();
  /** Pods (uid) not to mark ready, e.g. to stall a rollout. */
  holdReady: (pod: V1Pod) => boolean = () => false;
  stopped = false;

  constructor(private readonly kube: Kube) {
    this.informers = new InformerFactory(kube, silentLogger());
  }

  async start(): Promise<void> {
    const pods = this.informers.get<V1Pod>('pods');
    const handle = (p: V1Pod): void => {
      this.handle(p);
    };
    pods.on('add', handle);
    pods.on('update', handle);
    await this.informers.start();
    this.interval = setInterval(() => {
      for (const p of pods.list()) this.handle(p);
      // Real kubelets renew every 10 s; every second keeps the tests' 2 s grace period safe on a
      // loaded machine (a lapse taints the nodes and marks their pods NotReady).
      void this.renewLeases();
    }, 1000);
    this.interval.unref();
  }

  private handle(p: V1Pod): void {
    if (this.stopped) return;
    const node = p.spec?.nodeName ?? '';
    if (node === '' || (this.nodes !== undefined && !this.nodes.has(node))) return;
    const m = p.metadata ?? {};
    const uid = m.uid ?? '';
    if (m.deletionTimestamp != null) {
      if (this.done.has(`del:${uid}`)) return;
      this.done.add(`del:${uid}`);
      this.later(`del:${uid}`, () =>
        this.kube.core.deleteNamespacedPod({
          name: m.name ?? '',
          namespace: m.namespace ?? '',
          gracePeriodSeconds: 0,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        }),
      );
      return;
    }
    if (p.status?.phase === 'Running' || this.done.has(`run:${uid}`) || this.holdReady(p)) return;
    this.done.add(`run:${uid}`);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.later(`run:${uid}`, () =>
      this.kube.request(
        'PATCH',
        `/api/v1/namespaces/${m.namespace ?? ''}/pods/${m.name ?? ''}/status`,
        {
          status: {
            phase: 'Running',
            hostIP: '127.0.0.1',
            podIP: '10.0.0.1',
            startTime: now,
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'True', lastTransitionTime: now },
            ],
          },
        },
        'application/merge-patch+json',
      ),
    );
  }

  /** Runs a write off the event path; a failure lets the periodic pass try again. */
  private later(key: string, op: () => Promise<unknown>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      op().catch(() => {
        // Not found is final; anything else is retried by the periodic pass.
        this.done.delete(key);
      });
    }, 0);
    this.timers.add(t);
  }

  private renewing = false;

  /** Renews every lease once; a pass still running makes the next one a no-op (no pile-up). */
  async renewLeases(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.renewAll();
    } finally {
      this.renewing = false;
    }
  }

  private async renewAll(): Promise<void> {
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    for (const node of this.leaseNodes) {
      try {
        await this.kube.request(
          'PUT',
          `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`,
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: node, namespace: 'kube-node-lease' },
            spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: now },
          },
        );
      } catch {
        // A missing kube-node-lease namespace or a conflict: the next tick tries again.
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval !== undefined) clearInterval(this.interval);
    for (const t of this.timers) clearTimeout(t);
    await this.informers.stop();
  }
}

/** Polls `f` until it returns a value other than undefined/false, or fails after `ms`. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${errorMessage(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function listPods(kube: Kube, namespace: string, selector?: string): Promise<V1Pod[]> {
  const q = selector !== undefined ? `?labelSelector=${encodeURIComponent(selector)}` : '';
  const list = (await kube.request('GET', `/api/v1/namespaces/${namespace}/pods${q}`)) as { items: V1Pod[] };
  return list.items;
}

export async function getNode(kube: Kube, name: string): Promise<V1Node> {
  return (await kube.request('GET', `/api/v1/nodes/${name}`)) as V1Node;
}
