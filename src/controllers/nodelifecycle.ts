/**
 * The node lifecycle controller (pkg/controller/nodelifecycle), with Tether's edge rule.
 *
 * Health comes from the node's Lease in kube-node-lease and its Ready condition's heartbeat,
 * timed on this controller's own clock (a change observed = a probe), so clock skew between
 * an edge and the cloud never matters. A node silent for longer than the grace period gets
 * Ready (and the pressure conditions) = Unknown, reason NodeStatusUnknown, message "Kubelet
 * stopped posting node status.", and the taints node.kubernetes.io/unreachable:NoSchedule and
 * :NoExecute; Ready=False gives node.kubernetes.io/not-ready instead. The taints go when the
 * node reports Ready=True again. With `markPodsNotReady`, while a node is not Ready its pods'
 * Ready condition is set to False as upstream's MarkPodsNotReady does (Services stop routing to
 * them); the node's agent must then post the pods' real status again when it is back.
 *
 * Eviction (the NoExecute taint manager): pods that do not tolerate a NoExecute taint are
 * deleted, after tolerationSeconds (or `defaultTolerationSeconds` for the not-ready/unreachable
 * taints when the pod has no toleration of its own, as the DefaultTolerationSeconds admission
 * plugin would have given it). Difference from upstream, by design (DESIGN §3 autonomy): pods on
 * nodes labelled node-role.kubernetes.io/edge are NEVER evicted for the unreachable/not-ready
 * taints — a silent edge keeps running its pods; other NoExecute taints still apply.
 */
import type { V1Lease, V1Node, V1NodeCondition, V1Pod, V1Taint } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import { isConflict, isNotFound, mergePatch, metaOf, nowRfc3339, present, timeMs } from './kube.js';
import { tolerates } from './predicates.js';
import { recordEvent } from './util.js';

export const EDGE_ROLE_LABEL = 'node-role.kubernetes.io/edge';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
const CONDITIONS_SET_UNKNOWN = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeLifecycleOptions {
  /** node-monitor-grace-period (upstream default 40 s). */
  gracePeriodMs?: number;
  /** node-monitor-period: how often every node is looked at (upstream 5 s). */
  monitorPeriodMs?: number;
  /** DefaultTolerationSeconds for not-ready/unreachable (upstream 300). */
  defaultTolerationSeconds?: number;
  /**
   * Upstream MarkPodsNotReady (always on in kube-controller-manager). Default on: the edge agent
   * posts a pod's status again when the cloud's Ready differs from its own
   * (test/e2e/liveness-pods.test.ts).
   */
  markPodsNotReady?: boolean;
}

export class NodeLifecycleController extends Controller {
  readonly name = 'nodelifecycle';
  private readonly probes = new Map<string, { lease: string; heartbeat: string; at: number }>();
  private readonly grace: number;
  private readonly defaultToleration: number;
  private readonly podsNotReady: boolean;
  private readonly evictions: Counter;

  constructor(deps: ControllerDeps, opts: NodeLifecycleOptions = {}) {
    const period = opts.monitorPeriodMs ?? 5000;
    super(deps, { workers: 2, resyncMs: period });
    this.grace = opts.gracePeriodMs ?? 40_000;
    this.defaultToleration = opts.defaultTolerationSeconds ?? 300;
    this.podsNotReady = opts.markPodsNotReady ?? true;
    this.evictions =
      (deps.registry.getSingleMetric('tether_node_lifecycle_evictions_total') as Counter | undefined) ??
      new Counter({
        name: 'tether_node_lifecycle_evictions_total',
        help: 'Pods deleted by the NoExecute taint manager (never for a silent edge node).',
        registers: [deps.registry],
      });
  }

  private get nodes() {
    return this.informer<V1Node>('nodes');
  }
  private get leases() {
    return this.informer<V1Lease>('leases');
  }
  private get pods() {
    return this.informer<V1Pod>('pods');
  }

  protected setup(): void {
    this.onChange(this.nodes, (n, verb) => {
      if (verb === 'delete') {
        this.probes.delete(n.metadata?.name ?? '');
        return undefined;
      }
      return n.metadata?.name;
    });
    this.onChange(this.leases, (l) => l.metadata?.name);
    this.onChange(this.pods, (p, verb) => (verb === 'delete' ? undefined : p.spec?.nodeName || undefined));
  }

  protected *allKeys(): Iterable<string> {
    for (const n of this.nodes.list()) yield n.metadata?.name ?? '';
  }

  /** When this controller last saw the node alive (a lease renewal or a heartbeat change). */
  private probe(node: V1Node): number {
    const name = node.metadata?.name ?? '';
    const lease = this.leases.get(name, 'kube-node-lease');
    const leaseTime = String(lease?.spec?.renewTime ?? '');
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const heartbeat = String(ready?.lastHeartbeatTime ?? '');
    const now = Date.now();
    const p = this.probes.get(name);
    if (p === undefined || p.lease !== leaseTime || p.heartbeat !== heartbeat) {
      this.probes.set(name, { lease: leaseTime, heartbeat, at: now });
      return now;
    }
    return p.at;
  }

  protected async reconcile(name: string): Promise<ReconcileResult> {
    let node = this.nodes.get(name);
    if (node === undefined) return undefined;
    const seen = this.probe(node);
    const now = Date.now();
    const silentFor = now - seen;
    if (silentFor > this.grace) node = await this.markUnknown(node);
    await this.reconcileTaints(node);
    if (this.podsNotReady) await this.markPodsNotReady(node);
    return this.evict(node);
  }

  private async markUnknown(node: V1Node): Promise<V1Node> {
    const conds = node.status?.conditions ?? [];
    const ready = conds.find((c) => c.type === 'Ready');
    if (ready?.status === 'Unknown') return node;
    const now = nowRfc3339() as unknown as Date;
    const next: V1NodeCondition[] = conds.map((c) =>
      CONDITIONS_SET_UNKNOWN.includes(c.type) && c.status !== 'Unknown'
        ? {
            ...c,
            status: 'Unknown',
            reason: 'NodeStatusUnknown',
            message: 'Kubelet stopped posting node status.',
            lastTransitionTime: now,
          }
        : c,
    );
    if (ready === undefined)
      next.push({
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      });
    const name = node.metadata?.name ?? '';
    this.log.info({ node: name }, 'node stopped posting status; Ready=Unknown');
    const out = await this.kube.core.patchNodeStatus(
      {
        name,
        body: { metadata: { resourceVersion: node.metadata?.resourceVersion }, status: { conditions: next } },
      },
      mergePatch,
    );
    void recordEvent(
      this.kube,
      this.log,
      { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: node.metadata?.uid ?? '' } },
      'Normal',
      'NodeNotReady',
      `Node ${name} status is now: NodeNotReady`,
      'node-controller',
    );
    return out;
  }

  /**
   * Upstream MarkPodsNotReady (pkg/controller/util/node), level-triggered: every pod on a node
   * whose Ready is not True has its own Ready condition False — only the existing condition is
   * flipped, nothing else of the status is touched, and nothing is deleted (DESIGN §3).
   */
  private async markPodsNotReady(node: V1Node): Promise<void> {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready === undefined || ready.status === 'True') return;
    const name = node.metadata?.name ?? '';
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName !== name) continue;
      const conds = pod.status?.conditions ?? [];
      if (conds.find((c) => c.type === 'Ready')?.status !== 'True') continue;
      const m = metaOf(pod);
      const now = nowRfc3339() as unknown as Date;
      try {
        await this.kube.core.patchNamespacedPodStatus(
          {
            name: m.name ?? '',
            namespace: m.namespace ?? '',
            body: {
              // the pod as read: a status the agent posted meanwhile is not overwritten
              metadata: { resourceVersion: m.resourceVersion },
              status: {
                conditions: conds.map((c) =>
                  c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: now } : c,
                ),
              },
            },
          },
          mergePatch,
        );
      } catch (e) {
        // gone, or changed since read: the informer brings the new version and requeues the node
        if (isNotFound(e) || isConflict(e)) continue;
        throw e;
      }
      void recordEvent(
        this.kube,
        this.log,
        { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} },
        'Warning',
        'NodeNotReady',
        'Node is not ready',
        'node-controller',
      );
    }
  }

  /** The unreachable/not-ready taints follow the Ready condition. */
  private async reconcileTaints(node: V1Node): Promise<void> {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const key =
      ready?.status === 'Unknown'
        ? TAINT_UNREACHABLE
        : ready?.status === 'False'
          ? TAINT_NOT_READY
          : undefined;
    const taints = node.spec?.taints ?? [];
    const others = taints.filter((t) => t.key !== TAINT_UNREACHABLE && t.key !== TAINT_NOT_READY);
    const now = nowRfc3339() as unknown as Date;
    const want: V1Taint[] =
      key === undefined
        ? []
        : (['NoSchedule', 'NoExecute'] as const).map(
            (effect) =>
              taints.find((t) => t.key === key && t.effect === effect) ?? {
                key,
                effect,
                ...(effect === 'NoExecute' ? { timeAdded: now } : {}),
              },
          );
    const next = [...others, ...want];
    const sig = (ts: V1Taint[]): string =>
      ts
        .map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`)
        .sort()
        .join(',');
    if (sig(next) === sig(taints)) return;
    try {
      await this.kube.core.patchNode(
        {
          name: node.metadata?.name ?? '',
          body: {
            metadata: { resourceVersion: node.metadata?.resourceVersion },
            spec: { taints: next.length > 0 ? next : null },
          },
        },
        mergePatch,
      );
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }

  /** The NoExecute taint manager, with the edge exception. */
  private async evict(node: V1Node): Promise<ReconcileResult> {
    const noExec = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (noExec.length === 0) return undefined;
    const edge = Object.hasOwn(node.metadata?.labels ?? {}, EDGE_ROLE_LABEL);
    const name = node.metadata?.name ?? '';
    const now = Date.now();
    let soonest = Infinity;
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName !== name || metaOf(pod).deletionTimestamp != null) continue;
      let evictAt = -Infinity;
      let evict = false;
      for (const taint of noExec) {
        const silence = taint.key === TAINT_UNREACHABLE || taint.key === TAINT_NOT_READY;
        // DESIGN §3: an edge node's pods are never evicted because the node went silent.
        if (silence && edge) {
          continue;
        }
        const tols = (pod.spec.tolerations ?? []).filter((t) => tolerates(t, taint));
        let seconds: number | undefined;
        if (tols.length === 0) {
          if (!silence) {
            evict = true;
            evictAt = now;
            break;
          }
          seconds = this.defaultToleration;
        } else {
          const bounded = tols.filter((t) => present(t.tolerationSeconds));
          if (bounded.length < tols.length) continue; // tolerated forever
          seconds = Math.min(...bounded.map((t) => Math.max(0, t.tolerationSeconds ?? 0)));
        }
        const at = (timeMs(taint.timeAdded) ?? now) + seconds * 1000;
        evict = true;
        evictAt = Math.max(evictAt, at);
      }
      if (!evict) continue;
      if (evictAt > now) {
        soonest = Math.min(soonest, evictAt - now);
        continue;
      }
      const m = metaOf(pod);
      try {
        await this.kube.core.deleteNamespacedPod({
          name: m.name ?? '',
          namespace: m.namespace ?? '',
          body: { preconditions: { uid: m.uid ?? '' } },
        });
        this.evictions.inc();
        void recordEvent(
          this.kube,
          this.log,
          { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata ?? {} },
          'Normal',
          'TaintManagerEviction',
          `Marking for deletion Pod ${m.namespace ?? ''}/${m.name ?? ''}`,
          'taint-eviction-controller',
        );
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    return Number.isFinite(soonest) ? { requeueAfterMs: Math.max(100, soonest + 50) } : undefined;
  }
}
