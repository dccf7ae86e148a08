import { createHash } from 'node:crypto';
import { resourceVersion, type ResourceVersion } from '../../protocol/index.js';

/**
 * The version a node is sent for an object. For Pods and Nodes the edge itself writes the
 * status, and every status write moves the resourceVersion: sending the object down again each
 * time would echo the edge's own writes back to it. Their sync version is therefore a digest of
 * what the edge consumes (metadata and spec, and a Pod's Ready condition); every other kind uses its
 * resourceVersion. Either is only compared for equality (Kubernetes API conventions).
 */
export function syncVersion(kind: string, obj: object): ResourceVersion {
  // the informer caches hold the server's raw JSON (KubeClient lists raw, like the watch), so the
  // object needs no normalising copy first (issue 12: that copy was ~8 % of a storm's cloud CPU)
  const plain = obj as {
    status?: unknown;
    metadata?: Record<string, unknown>;
    apiVersion?: unknown;
    kind?: unknown;
  };
  if (kind !== 'Pod' && kind !== 'Node') {
    const rv = plain.metadata?.['resourceVersion'];
    return resourceVersion(typeof rv === 'string' ? rv : '');
  }
  // apiVersion/kind are absent from listed items upstream and present on watched ones: not content
  const { status, metadata, apiVersion: _a, kind: _k, ...rest } = plain;
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata ?? {};
  // One piece of a Pod's status is the edge's business too: its Ready condition, which the node
  // lifecycle controller sets False while the node is unreachable (upstream MarkPodsNotReady). The
  // edge must see that to post Ready again after reconnect, as the kubelet's status manager does.
  const ready = kind === 'Pod' ? readyStatus(status) : undefined;
  return resourceVersion(
    `h:${createHash('sha256')
      .update(stableJson({ ...rest, metadata: meta, ...(ready === undefined ? {} : { ready }) }))
      .digest('base64url')
      .slice(0, 22)}`,
  );
}

function readyStatus(status: unknown): string | undefined {
  const conds = (status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conds)) return undefined;
  const ready = (conds as { type?: unknown; status?: unknown }[]).find((c) => c.type === 'Ready');
  return typeof ready?.status === 'string' ? ready.status : undefined;
}

/**
 * JSON with object keys sorted, so equal content gives equal digests. A Date (client-node's typed
 * objects carry them) is written as the API server writes a metav1.Time — RFC 3339, no zero
 * fraction — so a typed object digests like the raw JSON the informer caches hold.
 */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString().replace(/\.000Z$/, 'Z'));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
