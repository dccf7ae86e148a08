import { TetherError } from '../../common/index.js';

/**
 * A patch that cannot be applied. `status`, `reason` and `message` are what upstream's
 * API server puts in the metav1.Status it answers with (reason '' = StatusReasonUnknown,
 * which upstream omits from the Status);
 * `detail` keeps the underlying library message for logs when upstream hides it (422).
 */
export class PatchError extends TetherError {
  readonly code = 'PATCH_FAILED';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly detail?: string,
    /** metav1.StatusDetails upstream sends ({} for the generic 422, causes for invalid results). */
    readonly details?: { readonly causes?: readonly { reason: string; message: string; field: string }[] },
  ) {
    super(message);
  }
}

/** The metav1.Status body kube-apiserver answers with for this error. */
export function patchErrorStatus(e: PatchError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    ...(e.reason === '' ? {} : { reason: e.reason }),
    ...(e.details === undefined ? {} : { details: e.details }),
    code: e.status,
  };
}

/** errors.NewBadRequest(msg) */
export const badRequest = (msg: string): PatchError => new PatchError(400, 'BadRequest', msg);

/**
 * errors.NewGenericServerResponse(422, ...) with an empty resource: upstream keeps only its
 * generic message and drops the library's (k8s.io/apimachinery/pkg/api/errors).
 */
export const unprocessable = (detail: string): PatchError =>
  new PatchError(
    422,
    'Invalid',
    'the server rejected our request due to an error in our request',
    detail,
    {},
  );

/** A plain Go error that reaches ErrorToAPIStatus: 500 with reason Unknown (''). */
export const internal = (msg: string): PatchError => new PatchError(500, '', msg);

const GO_TYPE_META =
  'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** A patch whose result is not an object: upstream fails to decode it (field.Invalid on "patch"). */
export function notAnObject(result: unknown, jsonType: string): PatchError {
  const cause = `Invalid value: ${JSON.stringify(JSON.stringify(result))}: couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonType} into Go value of type ${GO_TYPE_META}`;
  return new PatchError(422, 'Invalid', ` "" is invalid: patch: ${cause}`, undefined, {
    causes: [{ reason: 'FieldValueInvalid', message: cause, field: 'patch' }],
  });
}
