/** Reasons of metav1.Status the metaserver answers with (k8s.io/apimachinery StatusReason). */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'Expired'
  | 'Timeout'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  | 'InternalError';

/** A Kubernetes Status error body: what kubectl and client libraries print and branch on. */
export function statusBody(
  code: number,
  reason: StatusReason,
  message: string,
  details?: { name?: string; group?: string; kind?: string },
): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details: { ...details } }),
    code,
  };
}
