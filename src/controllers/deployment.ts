/**
 * The Deployment controller, after pkg/controller/deployment: one ReplicaSet per pod template
 * (named <deployment>-<pod-template-hash>), RollingUpdate and Recreate, revisions and history
 * limit, pause, progress deadline, and the status and conditions kubectl reads
 * (`rollout status|history|undo|pause|resume|restart`, `set image`).
 *
 * Each sync reads only the informer caches and writes ReplicaSet spec.replicas with a
 * resourceVersion precondition, so a sync that raced another, or ran across a control-plane
 * restart, fails with 409 and is simply redone from fresh state (idempotent, level-triggered).
 */
import type {
  V1Deployment,
  V1DeploymentCondition,
  V1DeploymentStatus,
  V1Pod,
  V1ReplicaSet,
} from '@kubernetes/client-node';
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
  timeMs,
} from './kube.js';
import { equalIgnoreHash, recordEvent, scaledValue, selectorMatches, templateHash } from './util.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Annotations never copied from a Deployment to its ReplicaSets (skipCopyAnnotation). */
const SKIP_COPY = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS]);

const REASON = {
  newRSAvailable: 'NewReplicaSetAvailable',
  rsUpdated: 'ReplicaSetUpdated',
  timedOut: 'ProgressDeadlineExceeded',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minAvailable: 'MinimumReplicasAvailable',
  minUnavailable: 'MinimumReplicasUnavailable',
} as const;

const COMPONENT = 'deployment-controller';

const replicasOf = (rs: V1ReplicaSet): number => rs.spec?.replicas ?? 0;
const revisionOf = (o: V1ReplicaSet | V1Deployment): number => {
  const v = Number(metaOf(o).annotations?.[REVISION] ?? '0');
  return Number.isInteger(v) ? v : 0;
};
const sum = (rss: readonly V1ReplicaSet[], f: (rs: V1ReplicaSet) => number): number =>
  rss.reduce((a, rs) => a + f(rs), 0);
const byCreation = (a: V1ReplicaSet, b: V1ReplicaSet): number =>
  (timeMs(metaOf(a).creationTimestamp) ?? 0) - (timeMs(metaOf(b).creationTimestamp) ?? 0) ||
  (metaOf(a).name ?? '').localeCompare(metaOf(b).name ?? '');

/** ResolveFenceposts: surge rounds up, unavailable down; both zero means unavailable 1. */
export function fenceposts(d: V1Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

const isRolling = (d: V1Deployment): boolean =>
  (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxUnavailable(d: V1Deployment): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRolling(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicas);
}

export function maxSurge(d: V1Deployment): number {
  return isRolling(d) ? fenceposts(d).surge : 0;
}

const progressDeadline = (d: V1Deployment): number | undefined => {
  const s = d.spec?.progressDeadlineSeconds ?? 600;
  return s >= 2147483647 ? undefined : s;
};

function getCondition(s: V1DeploymentStatus | undefined, type: string): V1DeploymentCondition | undefined {
  return s?.conditions?.find((c) => c.type === type);
}

/** SetDeploymentCondition: same status and reason → unchanged; same status keeps lastTransitionTime. */
function setCondition(s: V1DeploymentStatus, c: V1DeploymentCondition): void {
  const cur = getCondition(s, c.type);
  if (cur !== undefined && cur.status === c.status && cur.reason === c.reason) return;
  if (cur?.status === c.status && cur.lastTransitionTime !== undefined)
    c.lastTransitionTime = cur.lastTransitionTime;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), c];
}

function condition(type: string, status: string, reason: string, message: string): V1DeploymentCondition {
  const now = nowRfc3339() as unknown as Date;
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

export class DeploymentController extends Controller {
  readonly name = 'deployment';

  constructor(deps: ControllerDeps, opts: { workers?: number } = {}) {
    super(deps, { workers: opts.workers ?? 2, resyncMs: 30_000 });
  }

  private get deployments() {
    return this.informer<V1Deployment>('deployments');
  }
  private get rss() {
    return this.informer<V1ReplicaSet>('replicasets');
  }
  private get pods() {
    return this.informer<V1Pod>('pods');
  }

  protected setup(): void {
    this.onSelf(this.deployments);
    const ownerKey = (rs: V1ReplicaSet): string | undefined => {
      const ref = controllerOf(rs);
      return ref?.kind === 'Deployment' ? `${metaOf(rs).namespace ?? ''}/${ref.name}` : undefined;
    };
    this.onChange(this.rss, (rs) => ownerKey(rs));
    // Recreate waits for old pods to be gone: their deletion is an event it must see.
    this.onChange(this.pods, (p, verb) => {
      if (verb !== 'delete') return undefined;
      const ref = controllerOf(p);
      if (ref?.kind !== 'ReplicaSet') return undefined;
      const rs = this.rss.get(ref.name, metaOf(p).namespace);
      return rs === undefined ? undefined : ownerKey(rs);
    });
  }

  protected *allKeys(): Iterable<string> {
    for (const d of this.deployments.list()) yield keyOf(d);
  }

  private ownedReplicaSets(d: V1Deployment): V1ReplicaSet[] {
    const uid = metaOf(d).uid;
    return this.rss.list(metaOf(d).namespace).filter((rs) => controllerOf(rs)?.uid === uid);
  }

  protected async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const d = this.deployments.get(name, namespace);
    if (d === undefined) return undefined;
    const everything = d.spec?.selector;
    if (
      everything === undefined ||
      (Object.keys(everything.matchLabels ?? {}).length === 0 &&
        (everything.matchExpressions ?? []).length === 0)
    ) {
      // An empty selector would select every pod (upstream refuses to act and records an event).
      return undefined;
    }
    const rsList = this.ownedReplicaSets(d);
    if (metaOf(d).deletionTimestamp != null) {
      await this.syncStatus(d, rsList, this.findNewRS(d, rsList), false);
      return undefined;
    }
    if (d.spec?.paused === true) return this.syncPausedOrScaling(d, rsList);
    if (this.isScalingEvent(d, rsList)) return this.syncPausedOrScaling(d, rsList);
    return isRolling(d) ? this.rolloutRolling(d, rsList) : this.rolloutRecreate(d, rsList);
  }

  private findNewRS(d: V1Deployment, rsList: V1ReplicaSet[]): V1ReplicaSet | undefined {
    // The oldest RS whose template matches (upstream FindNewReplicaSet sorts by creation). The
    // hash label is a second key, in case a server defaults RS templates unlike Deployment ones.
    const sorted = [...rsList].sort(byCreation);
    const hash = templateHash(d.spec?.template, d.status?.collisionCount);
    return (
      sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template)) ??
      sorted.find(
        (rs) =>
          metaOf(rs).labels?.['pod-template-hash'] === hash &&
          metaOf(rs).name === `${metaOf(d).name ?? ''}-${hash}`,
      )
    );
  }

  /** A scaling event: an active RS's desired-replicas annotation differs from spec.replicas. */
  private isScalingEvent(d: V1Deployment, rsList: V1ReplicaSet[]): boolean {
    const want = String(d.spec?.replicas ?? 1);
    return rsList
      .filter((rs) => replicasOf(rs) > 0)
      .some((rs) => {
        const a = metaOf(rs).annotations?.[DESIRED_REPLICAS];
        return a !== undefined && a !== want;
      });
  }

  /**
   * Gets the new RS (creating it if asked) and brings revisions up to date: the new RS gets
   * max(old revisions)+1 (so a rollback to an old template makes that RS the newest revision,
   * remembering its former revision in revision-history), and the Deployment carries it too.
   */
  private async newAndOld(
    d: V1Deployment,
    rsList: V1ReplicaSet[],
    create: boolean,
  ): Promise<{ newRS: V1ReplicaSet | undefined; old: V1ReplicaSet[]; created: boolean }> {
    const existing = this.findNewRS(d, rsList);
    const old = rsList.filter((rs) => rs !== existing);
    const maxOld = Math.max(0, ...old.map(revisionOf));
    const newRevision = maxOld + 1;
    const dm = metaOf(d);
    if (existing !== undefined) {
      let rs = existing;
      const cur = revisionOf(rs);
      // SetNewReplicaSetAnnotations: the Deployment's annotations (change-cause, ...) follow it.
      const have = metaOf(rs).annotations ?? {};
      const annotations: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(copyAnnotations(d))) if (have[k] !== v) annotations[k] = v;
      if (cur < newRevision) {
        const history = have[REVISION_HISTORY];
        annotations[REVISION] = String(newRevision);
        if (cur > 0)
          annotations[REVISION_HISTORY] =
            history === undefined || history === '' ? String(cur) : `${history},${cur}`;
      }
      if (Object.keys(annotations).length > 0) rs = await this.patchRS(rs, { metadata: { annotations } });
      await this.syncDeploymentRevision(d, String(Math.max(cur, newRevision)));
      return { newRS: rs, old, created: false };
    }
    if (!create) return { newRS: undefined, old, created: false };
    const hash = templateHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}) };
    template.metadata.labels = { ...(template.metadata.labels ?? {}), 'pod-template-hash': hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
    const replicas = isRolling(d) ? newRSReplicas(d, rsList, 0) : (d.spec?.replicas ?? 1);
    const body: V1ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${dm.name ?? ''}-${hash}`,
        namespace: dm.namespace ?? 'default',
        labels: { ...template.metadata.labels },
        annotations: {
          ...copyAnnotations(d),
          [REVISION]: String(newRevision),
          [DESIRED_REPLICAS]: String(d.spec?.replicas ?? 1),
          [MAX_REPLICAS]: String((d.spec?.replicas ?? 1) + maxSurge(d)),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: dm.name ?? '',
            uid: dm.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec?.minReadySeconds ?? 0,
        selector,
        template,
      },
    };
    let created: V1ReplicaSet;
    try {
      created = await this.kube.apps.createNamespacedReplicaSet({
        namespace: dm.namespace ?? 'default',
        body,
      });
    } catch (e) {
      if (!isConflict(e)) throw e;
      // Already there (our own earlier create, the cache lagging): take it if it is ours and
      // the same template; otherwise a hash collision, resolved by bumping collisionCount.
      const got = await this.kube.apps.readNamespacedReplicaSet({
        name: body.metadata?.name ?? '',
        namespace: dm.namespace ?? 'default',
      });
      if (controllerOf(got)?.uid === dm.uid) return { newRS: got, old, created: false };
      await this.kube.apps.patchNamespacedDeploymentStatus(
        {
          name: dm.name ?? '',
          namespace: dm.namespace ?? '',
          body: { status: { collisionCount: (d.status?.collisionCount ?? 0) + 1 } },
        },
        mergePatch,
      );
      throw new Error('replica set name collision; retrying with a new collisionCount');
    }
    if (replicas > 0)
      void recordEvent(
        this.kube,
        this.log,
        depRef(d),
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata?.name ?? ''} from 0 to ${replicas}`,
        COMPONENT,
      );
    await this.syncDeploymentRevision(d, String(newRevision));
    return { newRS: created, old, created: true };
  }

  private async syncDeploymentRevision(d: V1Deployment, rev: string): Promise<void> {
    if (metaOf(d).annotations?.[REVISION] === rev) return;
    const m = metaOf(d);
    await this.kube.apps.patchNamespacedDeployment(
      {
        name: m.name ?? '',
        namespace: m.namespace ?? '',
        body: { metadata: { annotations: { [REVISION]: rev } } },
      },
      mergePatch,
    );
  }

  private async patchRS(rs: V1ReplicaSet, body: object): Promise<V1ReplicaSet> {
    const m = metaOf(rs);
    const withRv = {
      ...body,
      metadata: { ...((body as { metadata?: object }).metadata ?? {}), resourceVersion: m.resourceVersion },
    };
    return this.kube.apps.patchNamespacedReplicaSet(
      { name: m.name ?? '', namespace: m.namespace ?? '', body: withRv },
      mergePatch,
    );
  }

  /** Scales an RS (spec.replicas + desired/max annotations), guarded by its resourceVersion. */
  private async scaleRS(d: V1Deployment, rs: V1ReplicaSet, to: number): Promise<V1ReplicaSet> {
    const from = replicasOf(rs);
    const desired = String(d.spec?.replicas ?? 1);
    const max = String((d.spec?.replicas ?? 1) + maxSurge(d));
    const ann = metaOf(rs).annotations ?? {};
    if (from === to && ann[DESIRED_REPLICAS] === desired && ann[MAX_REPLICAS] === max) return rs;
    const out = await this.patchRS(rs, {
      metadata: { annotations: { [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max } },
      spec: { replicas: to },
    });
    if (from !== to)
      void recordEvent(
        this.kube,
        this.log,
        depRef(d),
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${to > from ? 'up' : 'down'} replica set ${metaOf(rs).name ?? ''} from ${from} to ${to}`,
        COMPONENT,
      );
    return out;
  }

  private async rolloutRolling(d: V1Deployment, rsList: V1ReplicaSet[]): Promise<ReconcileResult> {
    const { newRS: maybeNew, old, created } = await this.newAndOld(d, rsList, true);
    let newRS = must(maybeNew);
    const want = d.spec?.replicas ?? 1;
    // reconcileNewReplicaSet
    if (replicasOf(newRS) > want) {
      newRS = await this.scaleRS(d, newRS, want);
      return this.syncStatus(d, [...old, newRS], newRS, created);
    }
    if (replicasOf(newRS) < want) {
      const to = newRSReplicas(d, [...old, newRS], replicasOf(newRS));
      if (to !== replicasOf(newRS)) {
        newRS = await this.scaleRS(d, newRS, to);
        return this.syncStatus(d, [...old, newRS], newRS, created);
      }
    }
    // reconcileOldReplicaSets
    const scaledDown = await this.reconcileOld(d, old, newRS);
    if (scaledDown) return this.syncStatus(d, [...old, newRS], newRS, created);
    if (isComplete(d, d.status)) await this.cleanup(d, old);
    return this.syncStatus(d, [...old, newRS], newRS, created);
  }

  private async reconcileOld(d: V1Deployment, oldIn: V1ReplicaSet[], newRS: V1ReplicaSet): Promise<boolean> {
    let old = [...oldIn];
    const oldPods = sum(old, replicasOf);
    if (oldPods === 0) return false;
    const want = d.spec?.replicas ?? 1;
    const minAvailable = want - maxUnavailable(d);
    const allPods = sum([...old, newRS], replicasOf);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // cleanupUnhealthyReplicas: scale down old RSs' unavailable pods first, oldest first.
    let cleaned = 0;
    old.sort(byCreation);
    for (let i = 0; i < old.length; i++) {
      const rs = old[i] as V1ReplicaSet;
      if (cleaned >= maxScaledDown) break;
      const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const n = Math.min(maxScaledDown - cleaned, unhealthy);
      old[i] = await this.scaleRS(d, rs, replicasOf(rs) - n);
      cleaned += n;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: keep at least minAvailable available pods.
    const available = sum([...old, newRS], (rs) => rs.status?.availableReplicas ?? 0);
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      old = old.sort(byCreation);
      for (let i = 0; i < old.length; i++) {
        const rs = old[i] as V1ReplicaSet;
        if (scaled >= total) break;
        if (replicasOf(rs) === 0) continue;
        const n = Math.min(replicasOf(rs), total - scaled);
        old[i] = await this.scaleRS(d, rs, replicasOf(rs) - n);
        scaled += n;
      }
    }
    return cleaned + scaled > 0;
  }

  private async rolloutRecreate(d: V1Deployment, rsList: V1ReplicaSet[]): Promise<ReconcileResult> {
    const { newRS: existing, old, created: c1 } = await this.newAndOld(d, rsList, false);
    let newRS = existing;
    let scaledDown = false;
    for (const rs of old.filter((x) => replicasOf(x) > 0)) {
      await this.scaleRS(d, rs, 0);
      scaledDown = true;
    }
    if (scaledDown) return this.syncStatus(d, rsList, newRS, c1);
    // Wait until no pod of an old RS is left running or terminating (oldPodsRunning).
    const oldUids = new Set(old.map((rs) => metaOf(rs).uid));
    const running = this.pods
      .list(metaOf(d).namespace)
      .some(
        (p) =>
          oldUids.has(controllerOf(p)?.uid) &&
          p.status?.phase !== 'Failed' &&
          p.status?.phase !== 'Succeeded',
      );
    if (running) return this.syncStatus(d, rsList, newRS, c1);
    let created = c1;
    if (newRS === undefined) {
      const r = await this.newAndOld(d, rsList, true);
      newRS = must(r.newRS);
      created = r.created;
    }
    if (replicasOf(newRS) !== (d.spec?.replicas ?? 1))
      newRS = await this.scaleRS(d, newRS, d.spec?.replicas ?? 1);
    if (isComplete(d, d.status)) await this.cleanup(d, old);
    return this.syncStatus(d, [...old, newRS], newRS, created);
  }

  /**
   * Paused deployments and scaling events (upstream `sync`): scale without rolling. With one
   * active RS it takes all replicas; during a rollout the new RS grows up to spec.replicas and
   * extra replicas are taken from the old RSs first (a simplification of proportional scaling).
   */
  private async syncPausedOrScaling(d: V1Deployment, rsList: V1ReplicaSet[]): Promise<ReconcileResult> {
    const { newRS, old } = await this.newAndOld(d, rsList, false);
    const want = d.spec?.replicas ?? 1;
    const active = rsList.filter((rs) => replicasOf(rs) > 0);
    let all = [...old, ...(newRS !== undefined ? [newRS] : [])];
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...rsList].sort(byCreation).at(-1);
      if (target !== undefined) await this.scaleRS(d, target, want);
    } else if (newRS !== undefined && replicasOf(newRS) >= want) {
      for (const rs of old.filter((x) => replicasOf(x) > 0)) await this.scaleRS(d, rs, 0);
      await this.scaleRS(d, newRS, want);
    } else {
      const allowed = want + maxSurge(d);
      let delta = allowed - sum(active, replicasOf);
      const ordered = [...active].sort(byCreation);
      if (delta > 0) {
        const target = newRS ?? must(ordered.at(-1));
        await this.scaleRS(
          d,
          target,
          replicasOf(target) + Math.min(delta, Math.max(0, want - replicasOf(target))),
        );
      } else {
        for (const rs of ordered) {
          if (delta >= 0) break;
          if (rs === newRS) continue;
          const n = Math.min(replicasOf(rs), -delta);
          await this.scaleRS(d, rs, replicasOf(rs) - n);
          delta += n;
        }
      }
      for (const rs of active) if (rs !== newRS) await this.scaleRS(d, rs, replicasOf(rs));
    }
    all = this.ownedReplicaSets(d);
    if (d.spec?.paused === true) await this.cleanup(d, old);
    return this.syncStatus(d, all, newRS ?? this.findNewRS(d, all), false);
  }

  /** Deletes the oldest fully scaled-down RSs beyond revisionHistoryLimit (default 10). */
  private async cleanup(d: V1Deployment, old: V1ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const dead = old
      .filter(
        (rs) =>
          replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && metaOf(rs).deletionTimestamp == null,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of dead.slice(0, Math.max(0, dead.length - limit))) {
      const m = metaOf(rs);
      try {
        await this.kube.apps.deleteNamespacedReplicaSet({
          name: m.name ?? '',
          namespace: m.namespace ?? '',
          body: { preconditions: { uid: m.uid ?? '' }, propagationPolicy: 'Background' },
        });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }

  /** calculateStatus + syncRolloutStatus + checkPausedConditions, written only when changed. */
  private async syncStatus(
    d: V1Deployment,
    all: V1ReplicaSet[],
    newRS: V1ReplicaSet | undefined,
    created: boolean,
  ): Promise<ReconcileResult> {
    const want = d.spec?.replicas ?? 1;
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    const total = sum(all, (rs) => rs.status?.replicas ?? 0);
    const status: V1DeploymentStatus = {
      observedGeneration: metaOf(d).generation ?? 0,
      replicas: total,
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
      conditions: structuredClone(d.status?.conditions ?? []),
    };
    if (available >= want - maxUnavailable(d))
      setCondition(
        status,
        condition('Available', 'True', REASON.minAvailable, 'Deployment has minimum availability.'),
      );
    else
      setCondition(
        status,
        condition(
          'Available',
          'False',
          REASON.minUnavailable,
          'Deployment does not have minimum availability.',
        ),
      );

    const deadline = progressDeadline(d);
    const rsName = metaOf(newRS ?? {}).name ?? '';
    const cur = getCondition(status, 'Progressing');
    let requeue: ReconcileResult;
    if (d.spec?.paused === true) {
      if (cur?.reason !== REASON.timedOut)
        setCondition(status, condition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused'));
    } else if (cur?.reason === REASON.paused) {
      setCondition(status, condition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed'));
    }
    if (deadline === undefined) {
      status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'Progressing');
    } else if (d.spec?.paused !== true) {
      const now = Date.now();
      const c = getCondition(status, 'Progressing');
      const completeAlready =
        status.replicas === status.updatedReplicas && c?.reason === REASON.newRSAvailable;
      if (created && newRS !== undefined)
        setCondition(
          status,
          condition('Progressing', 'True', REASON.newRSCreated, `Created new replica set "${rsName}"`),
        );
      else if (newRS !== undefined && c === undefined)
        setCondition(
          status,
          condition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${rsName}"`),
        );
      if (!completeAlready) {
        if (isComplete(d, status)) {
          setCondition(
            status,
            condition(
              'Progressing',
              'True',
              REASON.newRSAvailable,
              `ReplicaSet "${rsName}" has successfully progressed.`,
            ),
          );
        } else if (isProgressing(d, status)) {
          const nc = condition(
            'Progressing',
            'True',
            REASON.rsUpdated,
            `ReplicaSet "${rsName}" is progressing.`,
          );
          const prev = getCondition(status, 'Progressing');
          if (prev?.status === 'True' && prev.lastTransitionTime !== undefined)
            nc.lastTransitionTime = prev.lastTransitionTime;
          status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== 'Progressing'), nc];
        } else {
          const p = getCondition(status, 'Progressing');
          if (p !== undefined && p.reason !== REASON.newRSAvailable) {
            const since = timeMs(p.lastUpdateTime) ?? now;
            if (p.reason === REASON.timedOut || since + deadline * 1000 < now)
              setCondition(
                status,
                condition(
                  'Progressing',
                  'False',
                  REASON.timedOut,
                  `ReplicaSet "${rsName}" has timed out progressing.`,
                ),
              );
            else requeue = { requeueAfterMs: Math.max(1000, since + deadline * 1000 - now + 100) };
          }
        }
      }
    }
    if (!statusEqual(d.status, status)) {
      const m = metaOf(d);
      try {
        await this.kube.apps.patchNamespacedDeploymentStatus(
          { name: m.name ?? '', namespace: m.namespace ?? '', body: { status } },
          mergePatch,
        );
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    }
    return requeue;
  }
}

function must<T>(v: T | undefined): T {
  if (v === undefined) throw new Error('internal: expected a ReplicaSet');
  return v;
}

/** NewRSNewReplicas for RollingUpdate: grow the new RS within maxSurge of spec.replicas. */
function newRSReplicas(d: V1Deployment, all: V1ReplicaSet[], current: number): number {
  const want = d.spec?.replicas ?? 1;
  const maxTotal = want + maxSurge(d);
  const currentPods = sum(all, replicasOf);
  if (currentPods >= maxTotal) return current;
  const up = Math.min(maxTotal - currentPods, want - current);
  return current + Math.max(0, up);
}

/** DeploymentComplete. */
function isComplete(d: V1Deployment, s: V1DeploymentStatus | undefined): boolean {
  const want = d.spec?.replicas ?? 1;
  return (
    (s?.updatedReplicas ?? 0) === want &&
    (s?.replicas ?? 0) === want &&
    (s?.availableReplicas ?? 0) === want &&
    (s?.observedGeneration ?? 0) >= (metaOf(d).generation ?? 0)
  );
}

/** DeploymentProgressing: more updated/ready/available pods, or fewer old ones, than last time. */
function isProgressing(d: V1Deployment, s: V1DeploymentStatus): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

function statusEqual(a: V1DeploymentStatus | undefined, b: V1DeploymentStatus): boolean {
  const norm = (s: V1DeploymentStatus | undefined): string =>
    JSON.stringify({
      g: s?.observedGeneration ?? 0,
      r: s?.replicas ?? 0,
      u: s?.updatedReplicas ?? 0,
      rd: s?.readyReplicas ?? 0,
      a: s?.availableReplicas ?? 0,
      un: s?.unavailableReplicas ?? 0,
      cc: s?.collisionCount ?? 0,
      c: [...(s?.conditions ?? [])]
        .sort((x, y) => x.type.localeCompare(y.type))
        .map((c) => [
          c.type,
          c.status,
          c.reason,
          c.message,
          String(c.lastUpdateTime),
          String(c.lastTransitionTime),
        ]),
    });
  return norm(a) === norm(b);
}

/** The Deployment's annotations an RS should carry (copyDeploymentAnnotationsToReplicaSet). */
function copyAnnotations(d: V1Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metaOf(d).annotations ?? {})) if (!SKIP_COPY.has(k)) out[k] = v;
  return out;
}

function depRef(d: V1Deployment): V1Deployment {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: d.metadata ?? {} };
}

/** Whether a ReplicaSet's pods would be selected by the Deployment (used by tests and adoption checks). */
export function deploymentSelects(d: V1Deployment, rs: V1ReplicaSet): boolean {
  return selectorMatches(d.spec?.selector, metaOf(rs).labels);
}
