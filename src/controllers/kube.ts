/**
 * The controllers' only door to Kubernetes (DESIGN §1, §7): @kubernetes/client-node over the public
 * API, so the same code runs against the embedded control plane and a real kube-apiserver.
 *
 * Objects in the informer caches are the raw JSON the server sent (lists are fetched raw too), so
 * list and watch objects have the same shape and timestamps are RFC 3339 strings — never `Date`
 * instances, whatever the client-node model types claim. Read timestamps only through `timeMs`.
 */
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
  type V1ObjectMeta,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import {
  errorMessage,
  KubeApiError,
  kubeRequest,
  listRaw,
  reuseConnections,
  type Logger,
} from '../common/index.js';

export { KubeApiError };

/** Options that make a typed `patch*` call send a JSON merge patch (RFC 7386). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** HTTP status of a failed client-node call (0 when the request never got an answer). */
export function statusOf(e: unknown): number {
  if (e instanceof ApiException) return (e as ApiException<unknown>).code;
  if (e instanceof KubeApiError) return e.status;
  return 0;
}
export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusOf(e) === 409;

/** Milliseconds since the epoch of a timestamp as it appears in raw JSON (or a Date). */
export function timeMs(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string' || v === '') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function nowRfc3339(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Raw JSON may carry null where the model types say a value or undefined. */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function metaOf(o: KubernetesObject): V1ObjectMeta {
  return o.metadata ?? {};
}

/** `namespace/name` (or `name` for cluster-scoped objects), upstream's MetaNamespaceKeyFunc. */
export function keyOf(o: KubernetesObject): string {
  const m = metaOf(o);
  return m.namespace !== undefined && m.namespace !== '' ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The owner reference with controller=true, if any (metav1.GetControllerOf). */
export function controllerOf(o: KubernetesObject): V1OwnerReference | undefined {
  return metaOf(o).ownerReferences?.find((r) => r.controller === true);
}

export function isTerminating(o: KubernetesObject): boolean {
  return present(metaOf(o).deletionTimestamp);
}

/** The typed API clients plus raw JSON requests for what the typed layer would reshape. */
export class Kube {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;

  constructor(readonly kc: KubeConfig) {
    reuseConnections(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  static fromFile(path: string): Kube {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new Kube(kc);
  }

  /** One raw JSON request; throws KubeApiError on a non-2xx answer. */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    return kubeRequest(this.kc, method, path, body, contentType);
  }

  /** A full list of a collection, paged (limit/continue) and kept as raw JSON. */
  listRaw(path: string): Promise<{ items: KubernetesObject[]; metadata: { resourceVersion?: string } }> {
    return listRaw(this.kc, path) as Promise<{
      items: KubernetesObject[];
      metadata: { resourceVersion?: string };
    }>;
  }
}

/** The collections the controllers watch, by their list/watch path. */
export const PATHS = {
  pods: '/api/v1/pods',
  nodes: '/api/v1/nodes',
  namespaces: '/api/v1/namespaces',
  leases: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
  replicasets: '/apis/apps/v1/replicasets',
  deployments: '/apis/apps/v1/deployments',
  daemonsets: '/apis/apps/v1/daemonsets',
  configmaps: '/api/v1/configmaps',
  secrets: '/api/v1/secrets',
} as const;
export type WatchedCollection = keyof typeof PATHS;

export type Handler<T> = (obj: T) => void;

/**
 * One list+watch cache per collection, shared by every controller of a process (like
 * client-go's SharedInformerFactory), restarted with back-off after a watch error.
 */
export class InformerFactory {
  private readonly informers = new Map<WatchedCollection, ListWatch<KubernetesObject>>();
  private readonly started = new Set<WatchedCollection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly log: Logger,
  ) {}

  get<T extends KubernetesObject>(what: WatchedCollection): ListWatch<T> {
    let inf = this.informers.get(what);
    if (inf === undefined) {
      const path = PATHS[what];
      const lw = new ListWatch<KubernetesObject>(
        path,
        new Watch(this.kube.kc),
        () => this.kube.listRaw(path),
        false,
      );
      let failures = 0;
      lw.on('connect', () => {
        failures = 0;
      });
      lw.on('error', (e: unknown) => {
        if (this.stopped) return;
        failures++;
        const delay = Math.min(5000, 200 * 2 ** Math.min(failures, 5));
        this.log.debug({ what, err: errorMessage(e), delay }, 'watch ended with an error; restarting');
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.stopped) lw.start().catch(() => undefined);
        }, delay);
        t.unref();
        this.timers.add(t);
      });
      this.informers.set(what, lw);
      inf = lw;
    }
    return inf as unknown as ListWatch<T>;
  }

  /** Starts every informer not started yet and waits for their first list (cache synced). */
  async start(): Promise<void> {
    this.stopped = false;
    const pending: Promise<void>[] = [];
    for (const [what, inf] of this.informers) {
      if (this.started.has(what)) continue;
      this.started.add(what);
      pending.push(this.startOne(what, inf));
    }
    await Promise.all(pending);
  }

  private async startOne(what: WatchedCollection, inf: ListWatch<KubernetesObject>): Promise<void> {
    // A failed first list (API server still coming up) goes through the error handler, which
    // restarts it with back-off; the cache is synced once a list has set a resourceVersion.
    await inf.start().catch((e: unknown) => {
      this.log.debug({ what, err: errorMessage(e) }, 'initial list failed');
    });
    while (!this.stopped && inf.latestResourceVersion() === '') await new Promise((r) => setTimeout(r, 50));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const inf of this.informers.values()) await inf.stop();
    this.started.clear();
  }
}
