/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per node the DaemonSet's pod would
 * fit on by nodeSelector, required node affinity and taints; nodes joining and leaving are
 * followed through the node informer. Pods are created unbound with a required node affinity on
 * metadata.name = <node> (as upstream does since ScheduleDaemonSetPods), so the scheduler binds
 * them. RollingUpdate replaces pods whose `controller-revision-hash` label is not the template's
 * hash, at most maxUnavailable nodes at a time (OnDelete leaves them).
 */
import type { V1DaemonSet, V1Node, V1Pod, V1Toleration } from '@kubernetes/client-node';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import { controllerOf, isNotFound, keyOf, mergePatch, metaOf, splitKey, timeMs } from './kube.js';
import { matchesNodeSelectorAndAffinity, untoleratedTaint } from './predicates.js';
import { isPodAvailable, isPodReady, recordEvent, scaledValue, templateHash } from './util.js';

const HASH_LABEL = 'controller-revision-hash';
const COMPONENT = 'daemonset-controller';

/** Tolerations upstream adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
const DAEMON_TOLERATIONS: V1Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

function withDaemonTolerations(tolerations: V1Toleration[] | undefined): V1Toleration[] {
  const out = [...(tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS)
    if (!out.some((x) => x.key === t.key && x.effect === t.effect)) out.push(t);
  return out;
}

/** The node a daemon pod is for: its nodeName, or the metadata.name of its required affinity. */
export function daemonPodNode(p: V1Pod): string | undefined {
  if ((p.spec?.nodeName ?? '') !== '') return p.spec?.nodeName;
  for (const t of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms ?? [])
    for (const f of t.matchFields ?? [])
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

export class DaemonSetController extends Controller {
  readonly name = 'daemonset';
  /** Expectations (as upstream): creates and deletes not yet seen in the cache, per DaemonSet key. */
  private readonly expect = new Map<string, { pending: Set<string>; at: number }>();

  constructor(deps: ControllerDeps, opts: { workers?: number } = {}) {
    super(deps, { workers: opts.workers ?? 2, resyncMs: 30_000 });
  }

  private get dss() {
    return this.informer<V1DaemonSet>('daemonsets');
  }
  private get nodes() {
    return this.informer<V1Node>('nodes');
  }
  private get pods() {
    return this.informer<V1Pod>('pods');
  }

  protected setup(): void {
    this.onSelf(this.dss);
    this.onChange(this.nodes, () => this.dss.list().map(keyOf));
    this.onChange(this.pods, (p, verb) => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'DaemonSet') return undefined;
      const key = `${metaOf(p).namespace ?? ''}/${ref.name}`;
      const e = this.expect.get(key);
      if (e !== undefined) {
        if (verb === 'add') e.pending.delete(`create:${daemonPodNode(p) ?? ''}`);
        if (verb === 'delete' || metaOf(p).deletionTimestamp != null)
          e.pending.delete(`delete:${metaOf(p).uid ?? ''}`);
      }
      return key;
    });
  }

  protected *allKeys(): Iterable<string> {
    for (const ds of this.dss.list()) yield keyOf(ds);
  }

  /** nodeShouldRunDaemonPod: selector, required affinity and NoSchedule/NoExecute taints. */
  private shouldRun(ds: V1DaemonSet, node: V1Node): boolean {
    const pod: V1Pod = {
      spec: {
        ...(ds.spec?.template.spec ?? { containers: [] }),
        tolerations: withDaemonTolerations(ds.spec?.template.spec?.tolerations),
      },
    };
    if (!matchesNodeSelectorAndAffinity(pod, node)) return false;
    return (
      untoleratedTaint(node.spec?.taints, pod.spec?.tolerations, ['NoSchedule', 'NoExecute']) === undefined
    );
  }

  protected async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const ds = this.dss.get(name, namespace);
    if (ds === undefined || metaOf(ds).deletionTimestamp != null) return undefined;
    const uid = metaOf(ds).uid;
    const exp = this.expect.get(key);
    const satisfied = exp === undefined || exp.pending.size === 0 || Date.now() - exp.at > 60_000;
    const hash = templateHash(ds.spec?.template);
    const now = Date.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const owned = this.pods.list(namespace).filter((p) => controllerOf(p)?.uid === uid);
    const byNode = new Map<string, V1Pod[]>();
    for (const p of owned) {
      const n = daemonPodNode(p) ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const nodes = this.nodes.list();
    const nodeNames = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    const toCreate: string[] = [];
    const toDelete: V1Pod[] = [];
    const should = nodes.filter((n) => this.shouldRun(ds, n));
    const shouldNames = new Set(should.map((n) => n.metadata?.name ?? ''));
    for (const node of should) {
      const nodeName = node.metadata?.name ?? '';
      const pods = byNode.get(nodeName) ?? [];
      const live = pods.filter((p) => metaOf(p).deletionTimestamp == null);
      const failed = live.filter((p) => p.status?.phase === 'Failed');
      toDelete.push(...failed);
      const running = live.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
      // Wait for a terminating pod to go before creating its replacement (no two daemons at once).
      if (
        running.length === 0 &&
        pods.every((p) => metaOf(p).deletionTimestamp == null || failed.includes(p))
      )
        toCreate.push(nodeName);
      if (running.length > 1) {
        const sorted = [...running].sort(
          (a, b) => (timeMs(metaOf(a).creationTimestamp) ?? 0) - (timeMs(metaOf(b).creationTimestamp) ?? 0),
        );
        toDelete.push(...sorted.slice(1));
      }
    }
    // Pods on nodes that no longer exist or should not run it.
    for (const [n, pods] of byNode)
      if (!shouldNames.has(n) || !nodeNames.has(n))
        toDelete.push(...pods.filter((p) => metaOf(p).deletionTimestamp == null));

    // RollingUpdate: replace old-hash pods, keeping at most maxUnavailable nodes unavailable.
    const desired = should.length;
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(
        1,
        scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1),
      );
      let unavailable = 0;
      const candidates: V1Pod[] = [];
      for (const node of should) {
        const live = (byNode.get(node.metadata?.name ?? '') ?? []).filter(
          (p) => metaOf(p).deletionTimestamp == null,
        );
        const pod = live[0];
        if (pod === undefined || toDelete.includes(pod)) {
          unavailable++;
          continue;
        }
        const available = isPodAvailable(pod, minReady, now);
        if (!available) unavailable++;
        if (metaOf(pod).labels?.[HASH_LABEL] !== hash) {
          if (!available) toDelete.push(pod);
          else candidates.push(pod);
        }
      }
      for (const p of candidates) {
        if (unavailable >= maxUnavailable) break;
        toDelete.push(p);
        unavailable++;
      }
    }

    if (!satisfied) {
      await this.updateStatus(ds, should, byNode, shouldNames, hash, minReady, now);
      return undefined;
    }
    const deletes = [...new Set(toDelete)];
    const e = {
      pending: new Set([
        ...toCreate.map((n) => `create:${n}`),
        ...deletes.map((p) => `delete:${metaOf(p).uid ?? ''}`),
      ]),
      at: Date.now(),
    };
    this.expect.set(key, e);
    await Promise.all(
      toCreate.map(async (n) => {
        try {
          await this.createPod(ds, n, hash);
        } catch (err) {
          e.pending.delete(`create:${n}`);
          throw err;
        }
      }),
    );
    await Promise.all(
      deletes.map(async (p) => {
        const m = metaOf(p);
        try {
          await this.kube.core.deleteNamespacedPod({
            name: m.name ?? '',
            namespace: m.namespace ?? '',
            body: { preconditions: { uid: m.uid ?? '' } },
          });
          void recordEvent(
            this.kube,
            this.log,
            dsRef(ds),
            'Normal',
            'SuccessfulDelete',
            `Deleted pod: ${m.name ?? ''}`,
            COMPONENT,
          );
        } catch (err) {
          e.pending.delete(`delete:${m.uid ?? ''}`);
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    await this.updateStatus(ds, should, byNode, shouldNames, hash, minReady, now);
    return undefined;
  }

  private async createPod(ds: V1DaemonSet, nodeName: string, hash: string): Promise<void> {
    const m = metaOf(ds);
    const t = ds.spec?.template;
    const spec = structuredClone(t?.spec ?? { containers: [] });
    spec.tolerations = withDaemonTolerations(spec.tolerations);
    // Replace any node affinity terms' metadata.name field with this node (ReplaceDaemonSetPodNodeNameNodeAffinity).
    spec.affinity = {
      ...(spec.affinity ?? {}),
      nodeAffinity: {
        ...(spec.affinity?.nodeAffinity ?? {}),
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] },
          ],
        },
      },
    };
    const body: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${m.name ?? 'ds'}-`,
        namespace: m.namespace ?? 'default',
        labels: {
          ...(t?.metadata?.labels ?? {}),
          [HASH_LABEL]: hash,
          'pod-template-generation': String(metaOf(ds).generation ?? 1),
        },
        ...(t?.metadata?.annotations !== undefined ? { annotations: { ...t.metadata.annotations } } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            name: m.name ?? '',
            uid: m.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec,
    };
    const created = await this.kube.core.createNamespacedPod({ namespace: m.namespace ?? 'default', body });
    void recordEvent(
      this.kube,
      this.log,
      dsRef(ds),
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${created.metadata?.name ?? ''}`,
      COMPONENT,
    );
  }

  private async updateStatus(
    ds: V1DaemonSet,
    should: V1Node[],
    byNode: Map<string, V1Pod[]>,
    shouldNames: Set<string>,
    hash: string,
    minReady: number,
    now: number,
  ): Promise<void> {
    let current = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    let misscheduled = 0;
    for (const [n, pods] of byNode) {
      const live = pods.filter((p) => metaOf(p).deletionTimestamp == null);
      if (live.length > 0 && !shouldNames.has(n)) misscheduled++;
    }
    for (const node of should) {
      const live = (byNode.get(node.metadata?.name ?? '') ?? []).filter(
        (p) => metaOf(p).deletionTimestamp == null,
      );
      const pod = live[0];
      if (pod === undefined) continue;
      current++;
      if (isPodReady(pod)) ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
      if (metaOf(pod).labels?.[HASH_LABEL] === hash) updated++;
    }
    const status = {
      desiredNumberScheduled: should.length,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: available,
      numberUnavailable: Math.max(0, should.length - available),
      updatedNumberScheduled: updated,
      observedGeneration: metaOf(ds).generation ?? 0,
    };
    const cur = (ds.status ?? {}) as Record<string, unknown>;
    const same = Object.entries(status).every(([k, v]) => (cur[k] ?? 0) === v);
    if (same) return;
    const m = metaOf(ds);
    try {
      await this.kube.apps.patchNamespacedDaemonSetStatus(
        { name: m.name ?? '', namespace: m.namespace ?? '', body: { status } },
        mergePatch,
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function dsRef(ds: V1DaemonSet): V1DaemonSet {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: ds.metadata ?? {} };
}
