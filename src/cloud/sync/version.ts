import { createHash } from 'node:crypto';
import { resourceVersion, type ResourceVersion } from '../../protocol/index.js';

/**
 * The version a node is sent for an object. For Pods and Nodes the edge itself writes the
 * status, and every status write moves the resourceVersion: sending the object down again each
 * time would echo the edge's own writes back to it. Their sync version is therefore a digest of
 * what the edge consumes (metadata and spec, not status); every other kind uses its
 * resourceVersion. Either is only compared for equality (Kubernetes API conventions).
 */
export function syncVersion(kind: string, obj: { metadata?: { resourceVersion?: string } }): ResourceVersion {
  if (kind !== 'Pod' && kind !== 'Node') return resourceVersion(obj.metadata?.resourceVersion ?? '');
  const {
    status: _status,
    metadata,
    ...rest
  } = obj as { status?: unknown; metadata?: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata ?? {};
  return resourceVersion(
    `h:${createHash('sha256')
      .update(stableJson({ ...rest, metadata: meta }))
      .digest('base64url')
      .slice(0, 22)}`,
  );
}

/** JSON with object keys sorted, so equal content gives equal digests. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
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
