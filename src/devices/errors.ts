import { TetherError } from '../common/index.js';

export type DeviceErrorCode =
  | 'DEVICE_TIMEOUT'
  | 'DEVICE_UNREACHABLE'
  | 'DEVICE_PROTOCOL'
  | 'DEVICE_NOT_WRITABLE'
  | 'DEVICE_VALUE'
  | 'DEVICE_WRITE_NOT_CONFIRMED'
  | 'DEVICE_CONFIG'
  | 'DEVICE_CLOSED';

/** A failure talking to a device; `code` is stable, the message says which device and property. */
export class DeviceError extends TetherError {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
