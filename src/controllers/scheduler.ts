/**
 * The scheduler: binds pending pods (spec.schedulerName "default-scheduler", no nodeName) to a
 * node through the pods/binding subresource, with kube-scheduler's default filters (see
 * predicates.ts) and a simple score: preferred node affinity, PreferNoSchedule taints, spreading
 * of a controller's pods and least-allocated resources. Bindings not yet seen in the informer
 * are "assumed" so a burst of pods never overcommits a node.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../common/index.js';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import {
  controllerOf,
  isConflict,
  isNotFound,
  keyOf,
  mergePatch,
  metaOf,
  nowRfc3339,
  splitKey,
} from './kube.js';
import {
  allocatable,
  filterNode,
  fitErrorMessage,
  podRequests,
  preferredAffinityScore,
  untoleratedTaint,
  type FilterFailure,
  type Resources,
} from './predicates.js';
import { recordEvent } from './util.js';

export const SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  workers?: number;
  /** Longest back-off of a pod that fits nowhere (it is also retried on every cluster change). */
  maxUnschedulableBackoffMs?: number;
}

function isPending(p: V1Pod): boolean {
  return (
    (p.spec?.nodeName ?? '') === '' &&
    metaOf(p).deletionTimestamp == null &&
    (p.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    p.status?.phase !== 'Succeeded' &&
    p.status?.phase !== 'Failed'
  );
}

export class Scheduler extends Controller {
  readonly name = 'scheduler';
  /** Pods bound by us whose binding the informer has not shown yet: pod uid → node. */
  private readonly assumed = new Map<string, { node: string; pod: V1Pod; at: number }>();
  private readonly unschedulable = new Set<string>();
  private readonly lastMessage = new Map<string, string>();
  private readonly requests = new WeakMap<V1Pod, Resources>();

  constructor(
    deps: ControllerDeps,
    private readonly sopts: SchedulerOptions = {},
  ) {
    // One worker: decisions must see each other's assumptions (kube-scheduler schedules one pod at a time too).
    super(deps, {
      workers: sopts.workers ?? 1,
      resyncMs: 30_000,
      retryBaseMs: 250,
      retryMaxMs: sopts.maxUnschedulableBackoffMs ?? 10_000,
    });
  }

  private get pods() {
    return this.informer<V1Pod>('pods');
  }
  private get nodes() {
    return this.informer<V1Node>('nodes');
  }

  protected setup(): void {
    this.onChange(this.pods, (p, verb) => {
      if (verb === 'delete' || !isPending(p)) {
        this.assumed.delete(metaOf(p).uid ?? '');
        this.lastMessage.delete(keyOf(p));
        // Freed capacity may make waiting pods fit (upstream moves them back to the active queue).
        return verb === 'delete' || (p.spec?.nodeName ?? '') !== '' ? this.retryUnschedulable() : undefined;
      }
      return keyOf(p);
    });
    this.onChange(this.nodes, () => this.retryUnschedulable());
  }

  private retryUnschedulable(): string[] {
    const keys = [...this.unschedulable];
    this.unschedulable.clear();
    return keys;
  }

  protected *allKeys(): Iterable<string> {
    for (const p of this.pods.list()) if (isPending(p)) yield keyOf(p);
  }

  private requestsOf(p: V1Pod): Resources {
    let r = this.requests.get(p);
    if (r === undefined) {
      r = podRequests(p);
      this.requests.set(p, r);
    }
    return r;
  }

  /** Requests of the pods bound (or assumed) to each node, and their counts. */
  private usage(): Map<string, { used: Resources; pods: number; owners: Map<string, number> }> {
    const out = new Map<string, { used: Resources; pods: number; owners: Map<string, number> }>();
    const add = (node: string, p: V1Pod): void => {
      let u = out.get(node);
      if (u === undefined) {
        u = { used: new Map(), pods: 0, owners: new Map() };
        out.set(node, u);
      }
      u.pods++;
      for (const [k, v] of this.requestsOf(p)) u.used.set(k, (u.used.get(k) ?? 0) + v);
      const owner = controllerOf(p)?.uid;
      if (owner !== undefined) u.owners.set(owner, (u.owners.get(owner) ?? 0) + 1);
    };
    const seen = new Set<string>();
    for (const p of this.pods.list()) {
      const node = p.spec?.nodeName ?? '';
      if (node === '' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      seen.add(metaOf(p).uid ?? '');
      add(node, p);
    }
    const now = Date.now();
    for (const [uid, a] of this.assumed) {
      // An assumption the informer never confirmed expires (upstream's assumed-pod TTL).
      if (seen.has(uid) || now - a.at > 30_000) this.assumed.delete(uid);
      else add(a.node, a.pod);
    }
    return out;
  }

  protected async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(name, namespace);
    if (pod === undefined || !isPending(pod) || this.assumed.has(metaOf(pod).uid ?? '')) return undefined;
    const nodes = this.nodes.list();
    const usage = this.usage();
    const feasible: V1Node[] = [];
    const failures: FilterFailure[] = [];
    for (const n of nodes) {
      const u = usage.get(n.metadata?.name ?? '');
      const f = filterNode(pod, n, u?.used ?? new Map<string, number>(), u?.pods ?? 0);
      if (f === undefined) feasible.push(n);
      else failures.push(f);
    }
    if (feasible.length === 0) {
      await this.reportUnschedulable(pod, fitErrorMessage(nodes.length, failures));
      this.unschedulable.add(key);
      // Thrown so the queue backs off; cluster changes retry it earlier.
      throw new Error('pod is unschedulable');
    }
    const node = this.pick(pod, feasible, usage);
    const nodeName = node.metadata?.name ?? '';
    const uid = metaOf(pod).uid ?? '';
    this.assumed.set(uid, { node: nodeName, pod, at: Date.now() });
    // The binding cycle runs asynchronously, as upstream's: the next pod is scheduled against
    // this assumption while the API call is in flight.
    const binding = this.bind(key, pod, nodeName).finally(() => this.binding.delete(binding));
    this.binding.add(binding);
    return undefined;
  }

  private readonly binding = new Set<Promise<void>>();

  override async stop(): Promise<void> {
    await super.stop();
    await Promise.allSettled([...this.binding]);
  }

  private async bind(key: string, pod: V1Pod, nodeName: string): Promise<void> {
    const { namespace = '', name = '', uid = '' } = metaOf(pod);
    try {
      await this.kube.core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, ...(uid !== '' ? { uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
    } catch (e) {
      this.assumed.delete(uid);
      // Already bound (409) or gone (404): nothing left to do for this pod.
      if (isConflict(e) || isNotFound(e)) return;
      this.log.debug({ pod: key, err: errorMessage(e) }, 'binding failed');
      this.queue.addRateLimited(key);
      return;
    }
    this.unschedulable.delete(key);
    this.lastMessage.delete(key);
    void recordEvent(
      this.kube,
      this.log,
      { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} },
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${name} to ${nodeName}`,
      SCHEDULER_NAME,
    );
  }

  /** Highest total score wins; ties are broken at random (upstream's selectHost). */
  private pick(
    pod: V1Pod,
    nodes: readonly V1Node[],
    usage: Map<string, { used: Resources; pods: number; owners: Map<string, number> }>,
  ): V1Node {
    if (nodes.length === 1) return nodes[0] as V1Node;
    const owner = controllerOf(pod)?.uid;
    const req = this.requestsOf(pod);
    const raw = nodes.map((n) => {
      const u = usage.get(n.metadata?.name ?? '');
      const alloc = allocatable(n);
      let free = 0;
      for (const r of ['cpu', 'memory']) {
        const a = alloc.get(r) ?? 0;
        free += a > 0 ? Math.max(0, (a - (u?.used.get(r) ?? 0) - (req.get(r) ?? 0)) / a) : 0;
      }
      return {
        affinity: preferredAffinityScore(pod, n),
        taints: (n.spec?.taints ?? []).filter(
          (t) =>
            t.effect === 'PreferNoSchedule' &&
            untoleratedTaint([t], pod.spec?.tolerations, ['PreferNoSchedule']) !== undefined,
        ).length,
        spread: owner === undefined ? (u?.pods ?? 0) : (u?.owners.get(owner) ?? 0),
        free: (free / 2) * 100,
      };
    });
    const max = (f: (x: (typeof raw)[number]) => number): number => Math.max(1, ...raw.map(f));
    const mA = max((x) => x.affinity);
    const mT = max((x) => x.taints);
    const mS = max((x) => x.spread);
    let best: V1Node[] = [];
    let bestScore = -Infinity;
    raw.forEach((x, i) => {
      // Weights as in the default profile: NodeAffinity 2, TaintToleration 3, PodTopologySpread 2, fit 1.
      const s =
        2 * ((100 * x.affinity) / mA) +
        3 * (100 - (100 * x.taints) / mT) +
        2 * (100 - (100 * x.spread) / mS) +
        x.free;
      if (s > bestScore + 1e-9) {
        bestScore = s;
        best = [nodes[i] as V1Node];
      } else if (Math.abs(s - bestScore) <= 1e-9) best.push(nodes[i] as V1Node);
    });
    return best[Math.floor(Math.random() * best.length)] as V1Node;
  }

  /** FailedScheduling event plus the PodScheduled=False condition, once per distinct message. */
  private async reportUnschedulable(pod: V1Pod, message: string): Promise<void> {
    const key = keyOf(pod);
    if (this.lastMessage.get(key) === message) return;
    this.lastMessage.set(key, message);
    const { namespace = 'default', name = '' } = metaOf(pod);
    this.log.info({ pod: key, message }, 'pod is unschedulable');
    await recordEvent(
      this.kube,
      this.log,
      { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} },
      'Warning',
      'FailedScheduling',
      message,
      SCHEDULER_NAME,
    );
    const others = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    try {
      await this.kube.core.patchNamespacedPodStatus(
        {
          name,
          namespace,
          body: {
            status: {
              phase: 'Pending',
              conditions: [
                ...others,
                {
                  type: 'PodScheduled',
                  status: 'False',
                  reason: 'Unschedulable',
                  message,
                  lastProbeTime: null,
                  lastTransitionTime: nowRfc3339(),
                },
              ],
            },
          },
        },
        mergePatch,
      );
    } catch (e) {
      this.log.debug({ pod: key, err: errorMessage(e) }, 'could not record PodScheduled=False');
    }
  }
}
