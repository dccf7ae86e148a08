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
import { errorMessage, type Logger } from '../../common/index.js';

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

  constructor(
    readonly kc: KubeConfig,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** A list+watch cache of one resource across all namespaces, restarted after errors. */
  informer<T extends KubernetesObject>(resource: WatchedResource): Informer<T> & ObjectCache<T> {
    const paths: Record<WatchedResource, [string, () => Promise<{ items: T[] }>]> = {
      pods: ['/api/v1/pods', () => this.core.listPodForAllNamespaces() as Promise<{ items: T[] }>],
      configmaps: [
        '/api/v1/configmaps',
        () => this.core.listConfigMapForAllNamespaces() as Promise<{ items: T[] }>,
      ],
      secrets: ['/api/v1/secrets', () => this.core.listSecretForAllNamespaces() as Promise<{ items: T[] }>],
      nodes: ['/api/v1/nodes', () => this.core.listNode() as Promise<{ items: T[] }>],
    };
    const [path, list] = paths[resource];
    return this.watch(resource, path, list);
  }

  /** The same for a custom resource across all namespaces (e.g. devices.tether.dev Devices). */
  customInformer<T extends KubernetesObject>(
    group: string,
    version: string,
    plural: string,
  ): Informer<T> & ObjectCache<T> {
    return this.watch(
      `${plural}.${group}`,
      `/apis/${group}/${version}/${plural}`,
      () => this.custom.listClusterCustomObject({ group, version, plural }) as Promise<{ items: T[] }>,
    );
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

  private watch<T extends KubernetesObject>(
    resource: string,
    path: string,
    list: () => Promise<{ items: T[] }>,
  ): Informer<T> & ObjectCache<T> {
    const inf = makeInformer<T>(this.kc, path, list);
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

  /** Creates the Node on first registration, then merge-patches labels and status. */
  async upsertNode(name: string, labels: Record<string, string>, status: object): Promise<WriteOutcome> {
    const exists = await this.write(`node ${name} read`, () => this.core.readNode({ name }));
    if (!exists.ok && exists.reason === 'NOT_FOUND') {
      const created = await this.write(`node ${name} create`, () =>
        this.core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } }),
      );
      if (!created.ok && created.reason !== 'CONFLICT') return created;
    } else if (!exists.ok) return exists;
    else if (Object.keys(labels).length > 0) {
      const l = await this.write(`node ${name} labels`, () =>
        this.core.patchNode({ name, body: { metadata: { labels } } }, merge),
      );
      if (!l.ok) return l;
    }
    return this.write(`node ${name} status`, () =>
      this.core.patchNodeStatus({ name, body: { status } }, merge),
    );
  }

  /**
   * Renews the node's Lease in kube-node-lease: one merge patch of its spec — no read first, as
   * renewals are the cloud's most frequent write (bench/scale: the read doubled their cost) —
   * creating the Lease when it is missing.
   */
  async renewLease(node: string, spec: Record<string, unknown>): Promise<WriteOutcome> {
    const namespace = 'kube-node-lease';
    const patch = (): Promise<WriteOutcome> =>
      this.write(`lease ${node} update`, () =>
        this.coordination.patchNamespacedLease({ name: node, namespace, body: { spec } }, merge),
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
    try {
      await op();
      return { ok: true };
    } catch (e) {
      return classify(e, what);
    }
  }
}

function statusOf(e: unknown): number | undefined {
  return e instanceof ApiException ? (e as ApiException<unknown>).code : undefined;
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
      : errorMessage(e);
  const message = `${what}: ${code === undefined ? '' : `HTTP ${code}: `}${detail}`.slice(0, 500);
  if (code === 404) return { ok: false, reason: 'NOT_FOUND', message, retryable: false };
  if (code === 409) return { ok: false, reason: 'CONFLICT', message, retryable: true };
  if (code === 429 || code === undefined || code >= 500)
    return { ok: false, reason: 'BUSY', message, retryable: true };
  return { ok: false, reason: 'REJECTED', message, retryable: false };
}
