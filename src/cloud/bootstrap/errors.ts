import { ApiException } from '@kubernetes/client-node';
import { TetherError } from '../../common/index.js';

/** A bootstrap operation that cannot go on (bad configuration, Kubernetes refused a write). */
export class BootstrapError extends TetherError {
  constructor(
    readonly code: 'CA_STORE' | 'CA_INVALID' | 'TOKEN_STORE' | 'TOKEN_INVALID' | 'REVOCATION_STORE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** HTTP status of a Kubernetes API failure (undefined: not an API answer, e.g. a refused socket). */
export function apiStatus(e: unknown): number | undefined {
  return e instanceof ApiException ? (e as ApiException<unknown>).code : undefined;
}
