import { DeviceError } from './errors.js';
import type { DeviceModelSpec, DeviceSpec, ModelProperty, ProtocolType } from './types.js';
import { formatValue, sameValue, type Value } from './values.js';

/** What a mapper knows of its device: the Device spec and the model's properties. */
export interface MapperDevice {
  /** `namespace/name`, for messages */
  readonly id: string;
  readonly spec: DeviceSpec;
  readonly model: DeviceModelSpec;
}

export interface MapperHealth {
  readonly connected: boolean;
  readonly lastError?: string;
  readonly lastOkAt?: number;
}

/**
 * The one small interface every protocol mapper implements (issue 9). A mapper is used
 * in-process by the DeviceManager, or wrapped by `runMapperOnBus` as its own process that
 * speaks only MQTT. Failures reject with a DeviceError (DEVICE_TIMEOUT when the device does not
 * answer within spec.timeoutMs).
 */
export interface Mapper {
  readonly protocol: ProtocolType;
  connect(): Promise<void>;
  read(property: string): Promise<Value>;
  write(property: string, value: Value): Promise<void>;
  health(): MapperHealth;
  close(): Promise<void>;
}

export function modelProperty(device: MapperDevice, name: string): ModelProperty {
  const p = device.model.properties.find((x) => x.name === name);
  if (p === undefined)
    throw new DeviceError('DEVICE_CONFIG', `${device.id}: property ${name} is not in the model`);
  return p;
}

/** Rejects with DEVICE_TIMEOUT after `ms` (the device "does not answer within its timeout"). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeviceError('DEVICE_TIMEOUT', `${what}: no answer within ${String(ms)} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes a desired value and reads it back (issue 9: "writes to the device and reads it back to
 * confirm"). Returns the wire form of what the device now holds; rejects with
 * DEVICE_WRITE_NOT_CONFIRMED when it holds something else.
 */
export async function writeConfirmed(
  mapper: Mapper,
  device: MapperDevice,
  property: string,
  value: Value,
): Promise<string> {
  const p = modelProperty(device, property);
  if (p.accessMode !== 'ReadWrite')
    throw new DeviceError('DEVICE_NOT_WRITABLE', `${device.id}: property ${property} is ReadOnly`);
  await mapper.write(property, value);
  const back = formatValue(p.type, await mapper.read(property));
  const want = formatValue(p.type, value);
  if (!sameValue(p.type, back, want))
    throw new DeviceError(
      'DEVICE_WRITE_NOT_CONFIRMED',
      `${device.id}: wrote ${property}=${want} but read back ${back}`,
    );
  return back;
}
