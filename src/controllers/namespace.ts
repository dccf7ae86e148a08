/**
 * The namespace controller (pkg/controller/namespace): a namespace being deleted (phase
 * Terminating, `kubernetes` in spec.finalizers) has every namespaced resource the API server
 * serves (found by discovery, so CRDs count too) deleted; once nothing is left, the finalizer is
 * removed through the `namespaces/{name}/finalize` subresource and the server drops the namespace.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import { Controller, type ControllerDeps, type ReconcileResult } from './controller.js';
import { isNotFound, metaOf } from './kube.js';

const FINALIZER = 'kubernetes';

interface ApiResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

interface Collection {
  path: string;
  deleteCollection: boolean;
}

export class NamespaceController extends Controller {
  readonly name = 'namespace';
  private discovery: { at: number; collections: Collection[] } | undefined;

  constructor(deps: ControllerDeps, opts: { workers?: number } = {}) {
    super(deps, { workers: opts.workers ?? 2, resyncMs: 30_000, retryBaseMs: 200, retryMaxMs: 10_000 });
  }

  private get namespaces() {
    return this.informer<V1Namespace>('namespaces');
  }

  protected setup(): void {
    this.onChange(this.namespaces, (ns, verb) => (verb === 'delete' ? undefined : metaOf(ns).name));
  }

  protected *allKeys(): Iterable<string> {
    for (const ns of this.namespaces.list())
      if (metaOf(ns).deletionTimestamp != null) yield metaOf(ns).name ?? '';
  }

  /** Every namespaced collection that can be listed and deleted (cached for 30 s). */
  private async collections(): Promise<Collection[]> {
    if (this.discovery !== undefined && Date.now() - this.discovery.at < 30_000)
      return this.discovery.collections;
    const out: Collection[] = [];
    const add = (base: string, list: { resources?: ApiResource[] }): void => {
      for (const r of list.resources ?? []) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('list') || !r.verbs.includes('delete'))
          continue;
        out.push({
          path: `${base}/namespaces/{ns}/${r.name}`,
          deleteCollection: r.verbs.includes('deletecollection'),
        });
      }
    };
    add('/api/v1', (await this.kube.request('GET', '/api/v1')) as { resources?: ApiResource[] });
    const groups = (await this.kube.request('GET', '/apis')) as {
      groups?: { preferredVersion?: { groupVersion: string } }[];
    };
    for (const g of groups.groups ?? []) {
      const gv = g.preferredVersion?.groupVersion;
      if (gv === undefined) continue;
      try {
        add(`/apis/${gv}`, (await this.kube.request('GET', `/apis/${gv}`)) as { resources?: ApiResource[] });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    this.discovery = { at: Date.now(), collections: out };
    return out;
  }

  protected async reconcile(name: string): Promise<ReconcileResult> {
    const ns = this.namespaces.get(name);
    if (ns === undefined || metaOf(ns).deletionTimestamp == null) return undefined;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER)) return undefined;
    let remaining = 0;
    for (const c of await this.collections()) {
      const path = c.path.replace('{ns}', encodeURIComponent(name));
      const list = (await this.kube.request('GET', path)) as {
        items?: { metadata?: { name?: string; deletionTimestamp?: string } }[];
      };
      const items = list.items ?? [];
      if (items.length === 0) continue;
      remaining += items.length;
      const live = items.filter((i) => i.metadata?.deletionTimestamp == null);
      if (live.length === 0) continue;
      const opts = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
      if (c.deleteCollection) await this.kube.request('DELETE', path, opts);
      else
        for (const i of live) {
          try {
            await this.kube.request('DELETE', `${path}/${encodeURIComponent(i.metadata?.name ?? '')}`, opts);
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
    }
    // Content still terminating (pods in their grace period, finalizers): look again soon.
    if (remaining > 0) return { requeueAfterMs: 1000 };
    const body = structuredClone(ns);
    body.spec = {
      ...(body.spec ?? {}),
      finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER),
    };
    try {
      await this.kube.request('PUT', `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, body);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return undefined;
  }
}
