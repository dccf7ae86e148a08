import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../../common/index.js';
import type { Envelope } from '../../protocol/index.js';
import type { EdgeSession } from '../hub/index.js';

/**
 * The cloud side of `serviceAccountToken` (docs/kubelet.md "Projected volumes and tokens"): an edge
 * cannot reach the API server, so the cloud asks TokenRequest for it. Upstream's NodeRestriction
 * rule applies: a node gets tokens only for pods bound to it, for the pod's own service account,
 * and every token is bound to the pod (boundObjectRef), so it dies with the pod.
 */
export async function answerServiceAccountToken(
  core: Pick<CoreV1Api, 'readNamespacedPod' | 'createNamespacedServiceAccountToken'>,
  s: EdgeSession,
  env: Envelope<'query'>,
  log: Logger,
): Promise<void> {
  if (env.method !== 'serviceAccountToken') return;
  const p = env.params;
  const fail = (code: string, message: string): void => {
    log.warn(
      { node: s.node, pod: `${p.namespace}/${p.pod}`, code, message },
      'refused a service account token',
    );
    s.send({ kind: 'reply', ref: env.id, method: 'error', code, message });
  };
  let pod;
  try {
    pod = await core.readNamespacedPod({ name: p.pod, namespace: p.namespace });
  } catch (e) {
    fail(codeOf(e), `pod ${p.namespace}/${p.pod}: ${detailOf(e)}`);
    return;
  }
  // NodeRestriction: the pod (this incarnation of it) must be bound to the asking node.
  if (pod.spec?.nodeName !== s.node || pod.metadata?.uid !== p.podUid) {
    fail(
      'FORBIDDEN',
      `node ${s.node} may only get tokens for its own pods; ${p.namespace}/${p.pod} is not one`,
    );
    return;
  }
  const sa = pod.spec.serviceAccountName ?? 'default';
  if (sa !== p.serviceAccountName) {
    fail(
      'FORBIDDEN',
      `pod ${p.namespace}/${p.pod} runs as service account ${sa}, not ${p.serviceAccountName}`,
    );
    return;
  }
  try {
    /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
       client-node models are generated classes used as plain data (eslint.config.js allows it in src/cloud/kube) */
    const tr = await core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: p.namespace,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          // Empty: the API server's own audiences, as kubelet asks for a projection without one.
          audiences: p.audience === undefined ? [] : [p.audience],
          expirationSeconds: p.expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: p.pod, uid: p.podUid },
        },
      },
    });
    /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
    const token = tr.status?.token ?? '';
    const exp = tr.status?.expirationTimestamp;
    if (token === '') {
      fail('INTERNAL', 'the API server answered the TokenRequest without a token');
      return;
    }
    s.send({
      kind: 'reply',
      ref: env.id,
      method: 'serviceAccountToken',
      result: {
        token,
        // A Date from client-node's deserializer; new Date() also takes the wire string.
        expirationTimestamp: new Date(exp ?? Date.now() + p.expirationSeconds * 1000).toISOString(),
      },
    });
    log.info({ node: s.node, pod: `${p.namespace}/${p.pod}`, sa }, 'issued a service account token');
  } catch (e) {
    const code = codeOf(e);
    fail(
      code,
      code === 'NOT_FOUND'
        ? `TokenRequest for ${p.namespace}/${sa}: ${detailOf(e)} (the API server lacks the ServiceAccount or serviceaccounts/token)`
        : `TokenRequest for ${p.namespace}/${sa}: ${detailOf(e)}`,
    );
  }
}

function codeOf(e: unknown): string {
  const c = e instanceof ApiException ? (e as ApiException<unknown>).code : undefined;
  if (c === 404) return 'NOT_FOUND';
  if (c === 401 || c === 403) return 'FORBIDDEN';
  if (c === undefined || c === 429 || c >= 500) return 'UNAVAILABLE';
  return 'REJECTED';
}

function detailOf(e: unknown): string {
  if (!(e instanceof ApiException)) return errorMessage(e);
  const ex = e as ApiException<unknown>;
  const body = ex.body;
  let msg = typeof body === 'string' ? body : errorMessage(e);
  if (typeof body === 'string') {
    try {
      msg = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON: the body as it is
    }
  }
  return `HTTP ${ex.code}: ${msg}`.slice(0, 500);
}
