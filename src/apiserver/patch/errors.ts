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
  ) {
    super(message);
  }
}

/** errors.NewBadRequest(msg) */
export const badRequest = (msg: string): PatchError => new PatchError(400, 'BadRequest', msg);

/**
 * errors.NewGenericServerResponse(422, ...) with an empty resource: upstream keeps only its
 * generic message and drops the library's (k8s.io/apimachinery/pkg/api/errors).
 */
export const unprocessable = (detail: string): PatchError =>
  new PatchError(422, 'Invalid', 'the server rejected our request due to an error in our request', detail);

/** A plain Go error that reaches ErrorToAPIStatus: 500 with reason Unknown (''). */
export const internal = (msg: string): PatchError => new PatchError(500, '', msg);
