import { assertNever } from '../common/index.js';
import type { Mapper, MapperDevice } from './mapper.js';
import { ModbusMapper } from './modbus.js';
import { MqttDeviceMapper } from './mqtt-device.js';
import { SimulatedMapper } from './simulated.js';

export interface MapperDeps {
  /** The node's event bus, for MQTT devices without their own broker URL. */
  readonly busUrl: string;
}

/** The built-in mapper for a device's protocol. */
export function createMapper(device: MapperDevice, deps: MapperDeps): Mapper {
  const t = device.spec.protocol.type;
  switch (t) {
    case 'modbusTCP':
      return new ModbusMapper(device);
    case 'mqtt':
      return new MqttDeviceMapper(device, device.spec.protocol.mqtt?.url ?? deps.busUrl);
    case 'simulated':
      return new SimulatedMapper(device);
    default:
      return assertNever(t, 'protocol');
  }
}
