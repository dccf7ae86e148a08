import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { TetherError } from '../../common/index.js';

export const CRI_ERROR_CODES = ['UNAVAILABLE', 'NOT_FOUND', 'DEADLINE', 'RUNTIME'] as const;
export type CriErrorCode = (typeof CRI_ERROR_CODES)[number];

/**
 * A failed CRI call. `code` is derived from the gRPC status code only, never from the
 * message text (STYLE §10): UNAVAILABLE — the runtime socket is down or not answering;
 * NOT_FOUND — the sandbox, container or image does not exist; DEADLINE — our per-call
 * deadline passed; RUNTIME — anything else the runtime reported.
 */
export class CriError extends TetherError {
  constructor(
    readonly code: CriErrorCode,
    readonly method: string,
    /** The gRPC status code, when the failure came from gRPC. */
    readonly grpcCode: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`CRI ${method}: ${message}`, options);
  }
}

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number';
}

export function codeForGrpcStatus(code: GrpcStatus): CriErrorCode {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      return 'UNAVAILABLE';
    case GrpcStatus.NOT_FOUND:
      return 'NOT_FOUND';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'DEADLINE';
    default:
      return 'RUNTIME';
  }
}

export function toCriError(method: string, e: unknown): CriError {
  if (e instanceof CriError) return e;
  if (isServiceError(e)) {
    return new CriError(codeForGrpcStatus(e.code), method, e.code, e.details || e.message, { cause: e });
  }
  return new CriError('RUNTIME', method, undefined, e instanceof Error ? e.message : String(e), {
    cause: e,
  });
}
