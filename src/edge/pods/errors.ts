import { TetherError } from '../../common/index.js';

export const POD_ERROR_CODES = [
  /** A ConfigMap/Secret or key the pod needs is missing (kubelet CreateContainerConfigError). */
  'CONFIG_REF_MISSING',
  /** A volume could not be prepared (kubelet FailedMount). */
  'VOLUME_SETUP',
  /** The image could not be pulled, or policy Never and it is absent. */
  'IMAGE_PULL',
  'IMAGE_NEVER_PULL',
] as const;
export type PodErrorCode = (typeof POD_ERROR_CODES)[number];

/** An expected failure while starting a pod; reported in its status, retried on the next sync. */
export class PodSyncError extends TetherError {
  constructor(
    readonly code: PodErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
