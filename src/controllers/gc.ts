/**
 * The garbage collector (pkg/controller/garbagecollector), for the kinds the embedded control
 * plane's workloads use: an object whose owners are all gone is deleted; an owner deleted with
 * propagationPolicy=Orphan (finalizer `orphan`) has its dependents' ownerReferences removed
 * before its finalizer; an owner deleted with Foreground (finalizer `foregroundDeletion`) has its
 * dependents deleted (in foreground, so the wait is transitive) and loses its finalizer only when
 * no dependent with blockOwnerDeletion=true is left. The API server adds the finalizers; this
 * controller does the work and removes them.
 *
 * Queue keys are uids: `o:<uid>` (an owner being deleted) and `d:<uid>` (a dependent to check).
 */
import type { KubernetesObject, ListWatch, V1OwnerReference } from '@kubernetes/client-node';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import { isConflict, isNotFound, metaOf, PATHS, type WatchedCollection } from './kube.js';

/** The kinds watched, and how to address one of them. */
const KINDS: Record<
  string,
  { collection: WatchedCollection; base: string; resource: string; namespaced: boolean }
> = {
  'v1/Pod': { collection: 'pods', base: '/api/v1', resource: 'pods', namespaced: true },
  'v1/ConfigMap': { collection: 'configmaps', base: '/api/v1', resource: 'configmaps', namespaced: true },
  'v1/Secret': { collection: 'secrets', base: '/api/v1', resource: 'secrets', namespaced: true },
  'v1/Node': { collection: 'nodes', base: '/api/v1', resource: 'nodes', namespaced: false },
  'apps/v1/ReplicaSet': {
    collection: 'replicasets',
    base: '/apis/apps/v1',
    resource: 'replicasets',
    namespaced: true,
  },
  'apps/v1/Deployment': {
    collection: 'deployments',
    base: '/apis/apps/v1',
    resource: 'deployments',
    namespaced: true,
  },
  'apps/v1/DaemonSet': {
    collection: 'daemonsets',
    base: '/apis/apps/v1',
    resource: 'daemonsets',
    namespaced: true,
  },
};
const KIND_OF: Record<string, string> = Object.fromEntries(
  Object.entries(KINDS).map(([k, v]) => [v.collection, k]),
);

interface Node {
  obj: KubernetesObject;
  gvk: string;
}

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

function objectPath(gvk: string, namespace: string | undefined, name: string): string | undefined {
  const k = KINDS[gvk];
  if (k === undefined) return undefined;
  const ns = k.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `${k.base}${ns}/${k.resource}/${encodeURIComponent(name)}`;
}

function refGvk(ref: V1OwnerReference): string {
  return `${ref.apiVersion}/${ref.kind}`;
}

export class GarbageCollector extends Controller {
  readonly name = 'garbagecollector';
  private readonly byUid = new Map<string, Node>();
  /** owner uid → dependent uids. */
  private readonly dependents = new Map<string, Set<string>>();

  constructor(deps: ControllerDeps, opts: { workers?: number } = {}) {
    super(deps, { workers: opts.workers ?? 4, resyncMs: 30_000 });
  }

  protected setup(): void {
    for (const collection of Object.values(KINDS).map((k) => k.collection)) {
      const gvk = KIND_OF[collection] as string;
      const inf: ListWatch<KubernetesObject> = this.informer(collection);
      this.onChange(inf, (obj, verb) => this.observe(obj, gvk, verb));
    }
  }

  protected override cacheSynced(): void {
    for (const [gvk, k] of Object.entries(KINDS)) {
      const inf: ListWatch<KubernetesObject> = this.informer(k.collection);
      for (const obj of inf.list()) if (!this.byUid.has(metaOf(obj).uid ?? '')) this.observe(obj, gvk, 'add');
    }
  }

  private observe(obj: KubernetesObject, gvk: string, verb: 'add' | 'update' | 'delete'): string[] {
    const m = metaOf(obj);
    const uid = m.uid ?? '';
    const keys: string[] = [];
    const prev = this.byUid.get(uid);
    for (const r of metaOf(prev?.obj ?? {}).ownerReferences ?? []) this.dependents.get(r.uid)?.delete(uid);
    if (verb === 'delete') {
      this.byUid.delete(uid);
      // Its dependents may now be garbage; its owners may be waiting for it (foreground).
      for (const d of this.dependents.get(uid) ?? []) keys.push(`d:${d}`);
      for (const r of m.ownerReferences ?? []) keys.push(`o:${r.uid}`);
      return keys;
    }
    this.byUid.set(uid, { obj, gvk });
    for (const r of m.ownerReferences ?? []) {
      let s = this.dependents.get(r.uid);
      if (s === undefined) {
        s = new Set();
        this.dependents.set(r.uid, s);
      }
      s.add(uid);
    }
    if ((m.ownerReferences ?? []).length > 0) keys.push(`d:${uid}`);
    if (m.deletionTimestamp != null && (m.finalizers ?? []).some((f) => f === ORPHAN || f === FOREGROUND)) {
      keys.push(`o:${uid}`);
      for (const d of this.dependents.get(uid) ?? []) keys.push(`d:${d}`);
    }
    if (m.deletionTimestamp != null) for (const r of m.ownerReferences ?? []) keys.push(`o:${r.uid}`);
    return keys;
  }

  protected *allKeys(): Iterable<string> {
    for (const [uid, n] of this.byUid) {
      const m = metaOf(n.obj);
      if ((m.ownerReferences ?? []).length > 0) yield `d:${uid}`;
      if (m.deletionTimestamp != null) yield `o:${uid}`;
    }
  }

  protected async reconcile(key: string): Promise<ReconcileResult> {
    const uid = key.slice(2);
    const node = this.byUid.get(uid);
    if (node === undefined) return undefined;
    return key.startsWith('o:') ? this.processOwner(node) : this.processDependent(node);
  }

  /** Orphan and foreground finalizers of an owner being deleted. */
  private async processOwner(owner: Node): Promise<ReconcileResult> {
    const m = metaOf(owner.obj);
    if (m.deletionTimestamp == null) return undefined;
    const fins = m.finalizers ?? [];
    const uid = m.uid ?? '';
    const deps = [...(this.dependents.get(uid) ?? [])]
      .map((d) => this.byUid.get(d))
      .filter((d): d is Node => d !== undefined);
    if (fins.includes(ORPHAN)) {
      for (const d of deps) {
        const dm = metaOf(d.obj);
        const refs = (dm.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await this.patch(d, {
          metadata: { resourceVersion: dm.resourceVersion, ownerReferences: refs.length > 0 ? refs : null },
        });
      }
      await this.removeFinalizer(owner, ORPHAN);
      return undefined;
    }
    if (fins.includes(FOREGROUND)) {
      const blocking = deps.filter((d) =>
        (metaOf(d.obj).ownerReferences ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
      );
      for (const d of deps) {
        if (metaOf(d.obj).deletionTimestamp == null) await this.delete(d, 'Foreground');
      }
      if (blocking.length === 0) await this.removeFinalizer(owner, FOREGROUND);
      // Otherwise the dependents' deletions re-enqueue this owner.
    }
    return undefined;
  }

  /** attemptToDeleteItem: delete an object whose owners are all gone; drop dangling references. */
  private async processDependent(dep: Node): Promise<ReconcileResult> {
    const m = metaOf(dep.obj);
    const refs = m.ownerReferences ?? [];
    if (refs.length === 0 || m.deletionTimestamp != null) return undefined;
    const dangling: V1OwnerReference[] = [];
    let waitingForeground = false;
    for (const r of refs) {
      const state = await this.ownerState(r, m.namespace);
      if (state === 'absent') dangling.push(r);
      else if (state === 'foreground') waitingForeground = true;
    }
    if (dangling.length === 0 && !waitingForeground) return undefined;
    const solid = refs.filter((r) => !dangling.includes(r));
    if (solid.length === 0) {
      await this.delete(dep, 'Background');
      return undefined;
    }
    if (waitingForeground && solid.every((r) => this.isForegroundDeleting(r.uid))) {
      // Every remaining owner is being deleted in foreground: so is this dependent (transitively).
      await this.delete(dep, 'Foreground');
      return undefined;
    }
    if (dangling.length > 0)
      await this.patch(dep, { metadata: { resourceVersion: m.resourceVersion, ownerReferences: solid } });
    return undefined;
  }

  private isForegroundDeleting(uid: string): boolean {
    const o = this.byUid.get(uid);
    if (o === undefined) return false;
    const m = metaOf(o.obj);
    return m.deletionTimestamp != null && (m.finalizers ?? []).includes(FOREGROUND);
  }

  /**
   * Whether an owner exists. The cache answers when it holds the uid; otherwise the API server
   * is asked (the cache may lag), and an unknown kind is assumed present — never delete on doubt.
   */
  private async ownerState(
    r: V1OwnerReference,
    namespace: string | undefined,
  ): Promise<'present' | 'absent' | 'foreground'> {
    if (this.byUid.has(r.uid)) return this.isForegroundDeleting(r.uid) ? 'foreground' : 'present';
    const gvk = refGvk(r);
    const path = objectPath(gvk, namespace, r.name);
    if (path === undefined) return 'present';
    try {
      const live = (await this.kube.request('GET', path)) as KubernetesObject;
      if (metaOf(live).uid !== r.uid) return 'absent';
      const lm = metaOf(live);
      return lm.deletionTimestamp != null && (lm.finalizers ?? []).includes(FOREGROUND)
        ? 'foreground'
        : 'present';
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
  }

  private async delete(n: Node, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    const m = metaOf(n.obj);
    const path = objectPath(n.gvk, m.namespace, m.name ?? '');
    if (path === undefined) return;
    try {
      await this.kube.request('DELETE', path, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy,
        preconditions: { uid: m.uid },
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  private async patch(n: Node, body: object): Promise<void> {
    const m = metaOf(n.obj);
    const path = objectPath(n.gvk, m.namespace, m.name ?? '');
    if (path === undefined) return;
    await this.mergePatch(path, body);
  }

  private async removeFinalizer(n: Node, fin: string): Promise<void> {
    const m = metaOf(n.obj);
    const rest = (m.finalizers ?? []).filter((f) => f !== fin);
    await this.patch(n, {
      metadata: { resourceVersion: m.resourceVersion, finalizers: rest.length > 0 ? rest : null },
    });
  }

  private async mergePatch(path: string, body: object): Promise<void> {
    try {
      await this.kube.request('PATCH', path, body, 'application/merge-patch+json');
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}

export const GC_WATCHED = Object.values(KINDS).map((k) => PATHS[k.collection]);
