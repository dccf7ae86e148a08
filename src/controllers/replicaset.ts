/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods whose
 * controllerRef is the ReplicaSet, and reports replicas/ready/available in status.
 *
 * Expectations (as upstream's ControllerExpectations) stop a second sync from acting on a cache
 * that has not yet seen the pods the first one created or deleted — the guard against extra
 * pods. They live in memory only: after a restart the informer's fresh list is the truth.
 */
import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { errorMessage } from '../common/index.js';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import { controllerOf, isNotFound, keyOf, mergePatch, metaOf, splitKey, timeMs } from './kube.js';
import { isPodActive, isPodAvailable, isPodReady, recordEvent, selectorMatches } from './util.js';

const BURST = 500;
const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface Expectation {
  add: number;
  /** uids of pods we deleted and have not yet seen terminating or gone. */
  del: Set<string>;
  at: number;
}

export class ReplicaSetController extends Controller {
  readonly name = 'replicaset';
  private readonly expectations = new Map<string, Expectation>();

  constructor(deps: ControllerDeps, opts: { workers?: number } = {}) {
    super(deps, { workers: opts.workers ?? 4, resyncMs: 30_000 });
  }

  private get rss() {
    return this.informer<V1ReplicaSet>('replicasets');
  }
  private get pods() {
    return this.informer<V1Pod>('pods');
  }

  protected setup(): void {
    this.onChange(this.rss, (rs, verb) => {
      if (verb === 'delete') this.expectations.delete(keyOf(rs));
      return keyOf(rs);
    });
    this.onChange(this.pods, (p, verb) => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'ReplicaSet') return undefined;
      const key = `${metaOf(p).namespace ?? ''}/${ref.name}`;
      const exp = this.expectations.get(key);
      if (exp !== undefined) {
        if (verb === 'add' && exp.add > 0) exp.add--;
        if (verb === 'delete' || metaOf(p).deletionTimestamp != null) exp.del.delete(metaOf(p).uid ?? '');
      }
      return key;
    });
  }

  protected *allKeys(): Iterable<string> {
    for (const rs of this.rss.list()) yield keyOf(rs);
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (e === undefined) return true;
    if ((e.add <= 0 && e.del.size === 0) || Date.now() - e.at > EXPECTATIONS_TTL_MS) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  /** Active pods controlled by `rs` (controllerRef uid), as upstream's claimed pods. */
  ownedPods(rs: V1ReplicaSet): V1Pod[] {
    const uid = metaOf(rs).uid;
    return this.pods.list(metaOf(rs).namespace).filter((p) => controllerOf(p)?.uid === uid);
  }

  protected async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const rs = this.rss.get(name, namespace);
    if (rs === undefined) {
      this.expectations.delete(key);
      return undefined;
    }
    const all = this.ownedPods(rs);
    const active = all.filter(isPodActive);
    if (this.satisfied(key) && metaOf(rs).deletionTimestamp == null) {
      await this.manageReplicas(key, rs, active);
    }
    return this.updateStatus(rs, active);
  }

  private async manageReplicas(key: string, rs: V1ReplicaSet, active: V1Pod[]): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = active.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, BURST);
      const exp: Expectation = { add: n, del: new Set(), at: Date.now() };
      this.expectations.set(key, exp);
      // Slow start (upstream slowStartBatch): 1, 2, 4, ... so a failing template costs one call, not n.
      let created = 0;
      for (let batch = 1; created < n; batch *= 2) {
        const size = Math.min(batch, n - created);
        const results = await Promise.allSettled(Array.from({ length: size }, () => this.createPod(rs)));
        const failed = results.filter((r) => r.status === 'rejected');
        created += size;
        if (failed.length > 0) {
          // Pods never created will never be observed: lower the expectation accordingly.
          exp.add -= failed.length + (n - created);
          throw (failed[0] as PromiseRejectedResult).reason;
        }
      }
    } else if (diff > 0) {
      const victims = rankForDeletion(active).slice(0, Math.min(diff, BURST));
      const exp: Expectation = {
        add: 0,
        del: new Set(victims.map((p) => metaOf(p).uid ?? '')),
        at: Date.now(),
      };
      this.expectations.set(key, exp);
      await Promise.all(
        victims.map(async (p) => {
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
              rsRef(rs),
              'Normal',
              'SuccessfulDelete',
              `Deleted pod: ${m.name ?? ''}`,
              'replicaset-controller',
            );
          } catch (e) {
            exp.del.delete(m.uid ?? '');
            if (!isNotFound(e)) throw e;
          }
        }),
      );
    }
  }

  private async createPod(rs: V1ReplicaSet): Promise<void> {
    const m = metaOf(rs);
    const t = rs.spec?.template;
    const body: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${m.name ?? 'rs'}-`,
        namespace: m.namespace ?? 'default',
        labels: { ...(t?.metadata?.labels ?? {}) },
        ...(t?.metadata?.annotations !== undefined ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(t?.metadata?.finalizers !== undefined ? { finalizers: [...t.metadata.finalizers] } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: m.name ?? '',
            uid: m.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: structuredClone(t?.spec ?? { containers: [] }),
    };
    const created = await this.kube.core.createNamespacedPod({ namespace: m.namespace ?? 'default', body });
    void recordEvent(
      this.kube,
      this.log,
      rsRef(rs),
      'Normal',
      'SuccessfulCreate',
      `Created pod: ${created.metadata?.name ?? ''}`,
      'replicaset-controller',
    );
  }

  private async updateStatus(rs: V1ReplicaSet, active: V1Pod[]): Promise<ReconcileResult> {
    const now = Date.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const labels = rs.spec?.template?.metadata?.labels ?? {};
    const ready = active.filter(isPodReady);
    const available = active.filter((p) => isPodAvailable(p, minReady, now));
    const status = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        Object.entries(labels).every(([k, v]) => metaOf(p).labels?.[k] === v),
      ).length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: metaOf(rs).generation ?? 0,
    };
    const cur: Partial<typeof status> = rs.status ?? {};
    const same =
      (cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (cur.readyReplicas ?? 0) === status.readyReplicas &&
      (cur.availableReplicas ?? 0) === status.availableReplicas &&
      (cur.observedGeneration ?? 0) === status.observedGeneration;
    if (!same) {
      const m = metaOf(rs);
      try {
        await this.kube.apps.patchNamespacedReplicaSetStatus(
          { name: m.name ?? '', namespace: m.namespace ?? '', body: { status } },
          mergePatch,
        );
      } catch (e) {
        if (isNotFound(e)) return undefined;
        this.log.debug({ rs: keyOf(rs), err: errorMessage(e) }, 'status update failed');
        throw e;
      }
    }
    // Pods ready but not yet available for minReadySeconds: look again when they will be.
    if (minReady > 0 && ready.length > available.length) {
      const soonest = Math.min(
        ...ready
          .filter((p) => !isPodAvailable(p, minReady, now))
          .map((p) => {
            const c = p.status?.conditions?.find((x) => x.type === 'Ready');
            return (timeMs(c?.lastTransitionTime) ?? now) + minReady * 1000 - now;
          }),
      );
      return { requeueAfterMs: Math.max(100, soonest + 50) };
    }
    return undefined;
  }
}

function rsRef(rs: V1ReplicaSet): V1ReplicaSet {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata ?? {} };
}

/** Upstream's ActivePods ordering for deletion: unassigned, pending, not ready, newest first. */
export function rankForDeletion(pods: V1Pod[]): V1Pod[] {
  const phaseRank = (p: V1Pod): number =>
    p.status?.phase === 'Pending' ? 0 : p.status?.phase === 'Running' ? 2 : 1;
  return [...pods].sort((a, b) => {
    const na = (a.spec?.nodeName ?? '') === '' ? 0 : 1;
    const nb = (b.spec?.nodeName ?? '') === '' ? 0 : 1;
    if (na !== nb) return na - nb;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    return (timeMs(metaOf(b).creationTimestamp) ?? 0) - (timeMs(metaOf(a).creationTimestamp) ?? 0);
  });
}

/** Whether a pod's labels match a ReplicaSet's selector (for adoption decisions by callers). */
export function rsSelects(rs: V1ReplicaSet, pod: V1Pod): boolean {
  return selectorMatches(rs.spec?.selector, metaOf(pod).labels);
}
