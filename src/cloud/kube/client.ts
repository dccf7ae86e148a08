import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import {
  errorMessage,
  KubeApiError,
  kubeRequest,
  listRaw,
  reuseConnections,
  type Logger,
} from '../../common/index.js';

/**
 * The cloud core's only door to Kubernetes (DESIGN §1): the public API through
 * @kubernetes/client-node, so the same code runs against the embedded control plane and a real
 * cluster. Everything here is a narrow, typed operation the sync layer needs.
 */

export type WatchedResource = 'pods' | 'configmaps' | 'secrets' | 'nodes';

/** The outcome of a write, classified for the channel's nack reasons. */
export type WriteOutcome =
  | { ok: true }
  | {
      ok: false;
      reason: 'NOT_FOUND' | 'REJECTED' | 'CONFLICT' | 'BUSY';
      message: string;
      retryable: boolean;
    };

export function loadKubeConfig(opts: { kubeconfig?: string; inCluster?: boolean }): KubeConfig {
  const kc = new KubeConfig();
  if (opts.inCluster === true) kc.loadFromCluster();
  else if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class KubeClient {
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  /**
   * Writes (and reads before writes) sent to the API server, by operation, e.g. "node status",
   * "lease update": what a reconnect or a renewal costs (issue 12). Watches are not counted.
   */
  readonly requests = new Map<string, number>();
  /** Node status patches left out because the API server already had that status (issue 12). */
  skippedNodeWrites = 0;
  /** Digest of the Node status this process last wrote, per node (a few dozen bytes each). */
  private readonly nodeWrites = new Map<string, string>();

  constructor(
    readonly kc: KubeConfig,
    private readonly log: Logger,
  ) {
    reuseConnections(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /**
   * A list+watch cache of one resource across all namespaces, restarted after errors. Lists are
   * raw JSON in pages (listRaw), like the watch events that follow, so every cached object has the
   * shape the server sent — and a 10,000-Node list is not a model-class pass per field at restart.
   */
  informer<T extends KubernetesObject>(resource: WatchedResource): Informer<T> & ObjectCache<T> {
    const paths: Record<WatchedResource, string> = {
      pods: '/api/v1/pods',
      configmaps: '/api/v1/configmaps',
      secrets: '/api/v1/secrets',
      nodes: '/api/v1/nodes',
    };
    return this.watch<T>(resource, paths[resource]);
  }

  /** The same for a custom resource across all namespaces (e.g. devices.tether.dev Devices). */
  customInformer<T extends KubernetesObject>(
    group: string,
    version: string,
    plural: string,
  ): Informer<T> & ObjectCache<T> {
    return this.watch<T>(`${plural}.${group}`, `/apis/${group}/${version}/${plural}`);
  }

  /** Merge-patches the status subresource of a namespaced custom resource. */
  patchCustomStatus(
    ref: { group: string; version: string; plural: string; namespace: string; name: string },
    status: object,
  ): Promise<WriteOutcome> {
    return this.write(`${ref.plural}.${ref.group} ${ref.namespace}/${ref.name} status`, () =>
      this.custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status } }, merge),
    );
  }

  private watch<T extends KubernetesObject>(resource: string, path: string): Informer<T> & ObjectCache<T> {
    const inf = makeInformer<T>(this.kc, path, () => listRaw(this.kc, path) as Promise<{ items: T[] }>);
    inf.on('error', (e: unknown) => {
      this.log.warn({ resource, err: errorMessage(e) }, 'watch failed; restarting');
      setTimeout(() => {
        inf.start().catch((err: unknown) => {
          this.log.warn({ resource, err: errorMessage(err) }, 'watch restart failed');
        });
      }, 1000).unref();
    });
    return inf;
  }

  /** Merge-patches a pod's status (the edge owns it: DESIGN §3). */
  patchPodStatus(namespace: string, name: string, status: object): Promise<WriteOutcome> {
    return this.write(`pod ${namespace}/${name} status`, () =>
      this.core.patchNamespacedPodStatus({ namespace, name, body: { status } }, merge),
    );
  }

  /** Deletes a pod the edge finished terminating (grace 0, as the kubelet does), only that incarnation. */
  deletePod(namespace: string, name: string, uid: string): Promise<WriteOutcome> {
    return this.write(`pod ${namespace}/${name} delete`, () =>
      // Grace 0 in the body: with a body, kube-apiserver ignores the query's DeleteOptions
      // (handlers/delete.go decodes one or the other), so a query gracePeriodSeconds=0 beside
      // the preconditions left the pod terminating forever on a real cluster.
      this.core.deleteNamespacedPod({
        namespace,
        name,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      }),
    );
  }

  /**
   * Creates the Node on first registration, then merge-patches labels and status — but only what
   * differs from `current` (the sync controller's watch cache of the Node, or a read when it has
   * none): every edge re-reports its status on each (re)connect, and after a cloud restart ten
   * thousand of them do at once (issue 12 reconnect storm). A status equal to the stored one but
   * for heartbeat times is left out while the stored heartbeat is younger than
   * `heartbeatRefreshMs`, as the kubelet reports unchanged status only every
   * nodeStatusReportFrequency (5 min; the Lease is the heartbeat).
   */
  async upsertNode(
    name: string,
    labels: Record<string, string>,
    status: object,
    opts: { current?: KubernetesObject | undefined; heartbeatRefreshMs?: number } = {},
  ): Promise<WriteOutcome> {
    let node = opts.current;
    if (node === undefined) {
      this.count(`node ${name} read`);
      try {
        node = await this.core.readNode({ name });
      } catch (e) {
        const read = classify(e, `node ${name} read`);
        if (read.ok || read.reason !== 'NOT_FOUND') return read;
        const created = await this.write(`node ${name} create`, () =>
          this.core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } }),
        );
        if (!created.ok && created.reason !== 'CONFLICT') return created;
        // Created now (or meanwhile): its labels are set, its status is empty.
        node = created.ok ? { metadata: { name, labels } } : undefined;
      }
    }
    if (node === undefined || !labelsPresent(node, labels)) {
      const l = await this.write(`node ${name} labels`, () =>
        this.core.patchNode({ name, body: { metadata: { labels } } }, merge),
      );
      if (!l.ok) return l;
    }
    // A cache that has not yet seen our own last write of this Node could hide a change (a status
    // flapping back to what the cache still shows): skip only when the incoming status is also
    // what this process last wrote, or when it wrote none (after a restart: the cache is a fresh list).
    // normalised once: each plain() is a JSON round trip of the whole status (issue 12 storm profile)
    const incoming = plain(status) as object;
    const digest = digestOf(incoming, incoming);
    const last = this.nodeWrites.get(name);
    if (
      node !== undefined &&
      (last === undefined || last === digest) &&
      unchanged(
        plain((node as { status?: unknown }).status),
        incoming,
        digest,
        opts.heartbeatRefreshMs ?? 240_000,
      )
    ) {
      this.skippedNodeWrites++;
      return { ok: true };
    }
    const w = await this.write(`node ${name} status`, () =>
      this.core.patchNodeStatus({ name, body: { status } }, merge),
    );
    if (w.ok) this.nodeWrites.set(name, digest);
    else this.nodeWrites.delete(name);
    return w;
  }

  /**
   * Renews the node's Lease in kube-node-lease: one merge patch of its spec — no read first, as
   * renewals are the cloud's most frequent write (bench/scale: the read doubled their cost) —
   * creating the Lease when it is missing. The patch is a raw request: client-node's typed call
   * costs a third more CPU per renewal (bench/kube-writes.ts), and at 10,000 edges renewals are
   * 1,000 writes a second.
   */
  async renewLease(node: string, spec: Record<string, unknown>): Promise<WriteOutcome> {
    const namespace = 'kube-node-lease';
    const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${encodeURIComponent(node)}`;
    const patch = (): Promise<WriteOutcome> =>
      this.write(`lease ${node} update`, () =>
        kubeRequest(this.kc, 'PATCH', path, { spec }, 'application/merge-patch+json'),
      );
    const patched = await patch();
    if (patched.ok || patched.reason !== 'NOT_FOUND') return patched;
    const created = await this.write(`lease ${node} create`, () =>
      this.coordination.createNamespacedLease({
        namespace,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: node, namespace },
          spec,
        },
      }),
    );
    // Created meanwhile by an earlier renewal of the same node: patch it.
    return !created.ok && created.reason === 'CONFLICT' ? patch() : created;
  }

  createEvent(namespace: string, event: CoreV1Event): Promise<WriteOutcome> {
    return this.write(`event in ${namespace}`, () =>
      this.core.createNamespacedEvent({
        namespace,
        body: { ...event, metadata: { ...event.metadata, namespace } },
      }),
    );
  }

  private async write(what: string, op: () => Promise<unknown>): Promise<WriteOutcome> {
    this.count(what);
    try {
      await op();
      return { ok: true };
    } catch (e) {
      return classify(e, what);
    }
  }

  /** Counts a request by its operation: the `what` without the object's name ("node labels"). */
  private count(what: string): void {
    const parts = what.split(' ');
    const op = what.startsWith('event ')
      ? 'event create'
      : parts.length > 2
        ? `${parts[0] ?? ''} ${parts.slice(2).join(' ')}`
        : what;
    this.requests.set(op, (this.requests.get(op) ?? 0) + 1);
  }
}

function labelsPresent(node: KubernetesObject, labels: Record<string, string>): boolean {
  const have = node.metadata?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => have[k] === v);
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/;

/** JSON as the API server sent it: Date instances of listed objects back to RFC 3339, no zero fraction. */
function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  return JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
    typeof x === 'string' && TIMESTAMP.test(x) ? x.replace(/\.0+Z$/, 'Z') : x,
  ) as unknown;
}

/** Conditions without their heartbeat times, which change at every report by construction. */
function withoutHeartbeats(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((c: unknown) => {
    if (c === null || typeof c !== 'object') return c;
    const { lastHeartbeatTime: _h, ...rest } = c as Record<string, unknown>;
    return rest;
  });
}

/**
 * Whether merge-patching `patch` into `stored` would change nothing but condition heartbeat
 * times, and the stored heartbeat (of Ready) is younger than `refreshMs`. Unknown → false.
 */
export function statusUnchanged(
  stored: unknown,
  patch: object,
  refreshMs: number,
  now = Date.now(),
): boolean {
  const incoming = plain(patch) as object;
  return unchanged(plain(stored), incoming, digestOf(incoming, incoming), refreshMs, now);
}

/** statusUnchanged on normalised values (plain()), with the incoming status's own digest. */
function unchanged(
  cur: unknown,
  incoming: object,
  incomingDigest: string,
  refreshMs: number,
  now = Date.now(),
): boolean {
  if (cur === null || typeof cur !== 'object') return false;
  const conds = (cur as { conditions?: unknown }).conditions;
  const ready = Array.isArray(conds)
    ? (conds as { type?: unknown; lastHeartbeatTime?: unknown }[]).find((c) => c.type === 'Ready')
    : undefined;
  const beat = typeof ready?.lastHeartbeatTime === 'string' ? Date.parse(ready.lastHeartbeatTime) : NaN;
  if (!(now - beat < refreshMs)) return false;
  return digestOf(cur, incoming) === incomingDigest;
}

/**
 * What a merge patch shaped like `shape` would replace in `status` (RFC 7386: objects merge key
 * by key, anything else replaces), heartbeat times left out, as a stable string.
 */
export function statusDigest(status: unknown, shape: object): string {
  return digestOf(plain(status), plain(shape));
}

function digestOf(status: unknown, shape: unknown): string {
  return stable(project(status, shape, true));
}

function project(stored: unknown, shape: unknown, top: boolean): unknown {
  if (shape === null || typeof shape !== 'object' || Array.isArray(shape)) return stored;
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return stored;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(shape as Record<string, unknown>)) {
    const p = project((stored as Record<string, unknown>)[k], v, false);
    out[k] =
      top && k === 'conditions'
        ? withoutHeartbeats(p)
        : top && (k === 'capacity' || k === 'allocatable')
          ? quantities(p)
          : p;
  }
  return out;
}

/** Resource lists compared by amount: the API server stores quantities canonically ("8140800Ki" → "7950Mi"). */
function quantities(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, q]) => [
      k,
      typeof q === 'string' ? quantity(q) : q,
    ]),
  );
}

const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** A Kubernetes quantity as an exact count of nano-units (a string); anything unparsable as itself. */
export function quantity(q: string): string {
  const m = QUANTITY.exec(q);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return q;
  const frac = m[3] ?? '';
  const suffix = m[4] ?? '';
  let n = BigInt(`${m[2] ?? ''}${frac}` || '0');
  let pow10 = 9 - frac.length; // nano-units
  const bin = BINARY[suffix];
  if (bin !== undefined) n *= 1024n ** BigInt(bin);
  else if (suffix !== '') pow10 += DECIMAL[suffix] ?? Number(suffix.slice(1));
  const v = pow10 >= 0 ? n * 10n ** BigInt(pow10) : n / 10n ** BigInt(-pow10);
  return `${m[1] === '-' && v !== 0n ? '-' : ''}${v.toString()}n`;
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return (e as ApiException<unknown>).code;
  // a raw request's failure; status 0: no answer (transport)
  return e instanceof KubeApiError && e.status > 0 ? e.status : undefined;
}

/** Maps an API failure to a channel outcome: what to retry and what to drop (DESIGN §2 upstream). */
function classify(e: unknown, what: string): WriteOutcome {
  const code = statusOf(e);
  const body = e instanceof ApiException ? (e as ApiException<unknown>).body : undefined;
  const detail =
    typeof body === 'string'
      ? (() => {
          try {
            return (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            return body;
          }
        })()
      : e instanceof KubeApiError
        ? e.detail
        : errorMessage(e);
  const message = `${what}: ${code === undefined ? '' : `HTTP ${code}: `}${detail}`.slice(0, 500);
  if (code === 404) return { ok: false, reason: 'NOT_FOUND', message, retryable: false };
  if (code === 409) return { ok: false, reason: 'CONFLICT', message, retryable: true };
  if (code === 429 || code === undefined || code >= 500)
    return { ok: false, reason: 'BUSY', message, retryable: true };
  return { ok: false, reason: 'REJECTED', message, retryable: false };
}
