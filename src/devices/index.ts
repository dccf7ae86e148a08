// Public entry of the devices component (issue 9): the Device API types, values, the KubeEdge
// topic scheme, status logic shared by edge and cloud, and the protocol mappers.
export * from './types.js';
export { lazySchema } from './lazy-schema.js';
export * from './values.js';
export { DeviceError, type DeviceErrorCode } from './errors.js';
export * from './kubeedge.js';
export * from './status.js';
export { getPath, setPath } from './jsonpath.js';
export { decodeRegisters, encodeRegisters, registerCount, type EncodeResult } from './modbus-codec.js';
export {
  writeConfirmed,
  withTimeout,
  modelProperty,
  type Mapper,
  type MapperDevice,
  type MapperHealth,
} from './mapper.js';
export { ModbusMapper } from './modbus.js';
export { MqttDeviceMapper } from './mqtt-device.js';
export { SimulatedMapper } from './simulated.js';
export { createMapper, type MapperDeps } from './factory.js';
export { MapperRunner, mapperRunnerConfigSchema, type MapperRunnerConfig } from './runner.js';
