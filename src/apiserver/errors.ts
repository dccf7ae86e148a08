/**
 * Kubernetes `Status` failures (k8s.io/apimachinery/pkg/api/errors): each REST failure is a
 * value carrying the HTTP code, the `reason` clients switch on, and the message kubectl prints.
 */
import { TetherError } from '../common/index.js';
import type { JsonObject } from './storage/types.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'Timeout'
  | 'TooManyRequests'
  | 'ServiceUnavailable';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A request that fails the way upstream fails it; rendered as a meta/v1 Status body. */
export class ApiError extends TetherError {
  readonly code = 'API_STATUS';
  constructor(
    readonly status: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): JsonObject {
    const s: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details !== undefined) s['details'] = this.details;
    s['code'] = this.status;
    return s;
  }
}

/** `group` formatted like upstream's GroupResource.String(): "pods" or "deployments.apps". */
export function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export const Errors = {
  badRequest: (msg: string): ApiError => new ApiError(400, 'BadRequest', msg),
  unauthorized: (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (resource: string, group: string, name: string, msg: string): ApiError =>
    new ApiError(
      403,
      'Forbidden',
      name === ''
        ? `${qualified(resource, group)} is forbidden: ${msg}`
        : `${qualified(resource, group)} "${name}" is forbidden: ${msg}`,
      { ...(name === '' ? {} : { name }), ...(group === '' ? {} : { group }), kind: resource },
    ),
  notFound: (resource: string, group: string, name: string): ApiError =>
    new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
      name,
      ...(group === '' ? {} : { group }),
      kind: resource,
    }),
  /** A path nothing serves: upstream's generic 404 body. */
  pathNotFound: (): ApiError =>
    new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  alreadyExists: (resource: string, group: string, name: string): ApiError =>
    new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
      name,
      ...(group === '' ? {} : { group }),
      kind: resource,
    }),
  conflict: (resource: string, group: string, name: string, msg: string): ApiError =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${msg}`,
      { name, ...(group === '' ? {} : { group }), kind: resource },
    ),
  modified: (resource: string, group: string, name: string): ApiError =>
    Errors.conflict(
      resource,
      group,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    ),
  invalid: (kind: string, group: string, name: string, causes: StatusCause[]): ApiError => {
    const parts = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`));
    const summary = parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${qualified(kind, group)} "${name}" is invalid: ${summary}`, {
      // omitempty upstream: an object without a name has no details.name
      ...(name === '' ? {} : { name }),
      ...(group === '' ? {} : { group }),
      kind,
      causes,
    });
  },
  methodNotAllowed: (): ApiError =>
    new ApiError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
      {},
    ),
  unsupportedMediaType: (accepted: readonly string[]): ApiError =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    ),
  notAcceptable: (accepted: readonly string[]): ApiError =>
    new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`),
  tooLarge: (limit: number): ApiError =>
    new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  expired: (msg: string): ApiError => new ApiError(410, 'Expired', msg),
  gone: (msg: string): ApiError => new ApiError(410, 'Gone', msg),
  internal: (msg: string): ApiError =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, {
      causes: [{ reason: '', message: msg }],
    }),
  tooManyRequests: (msg: string, retryAfterSeconds: number): ApiError =>
    new ApiError(429, 'TooManyRequests', msg, { retryAfterSeconds }),
} as const;

export function field(path: string, reason: string, message: string): StatusCause {
  return { reason, message, field: path };
}
export const Causes = {
  required: (path: string, detail = ''): StatusCause =>
    field(path, 'FieldValueRequired', detail === '' ? 'Required value' : `Required value: ${detail}`),
  invalidValue: (path: string, value: unknown, detail: string): StatusCause =>
    field(path, 'FieldValueInvalid', `Invalid value: ${JSON.stringify(value)}: ${detail}`),
  forbidden: (path: string, detail: string): StatusCause =>
    field(path, 'FieldValueForbidden', `Forbidden: ${detail}`),
  notSupported: (path: string, value: unknown, supported: readonly string[]): StatusCause =>
    field(
      path,
      'FieldValueNotSupported',
      `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
    ),
  duplicate: (path: string, value: unknown): StatusCause =>
    field(path, 'FieldValueDuplicate', `Duplicate value: ${JSON.stringify(value)}`),
} as const;
