// Public entry of the edge device manager (issue 9, DESIGN §5).
export {
  DeviceManager,
  deviceManagerConfigSchema,
  deviceKey,
  type DeviceManagerConfig,
  type DeviceManagerOptions,
  type RejectReason,
} from './manager.js';
export { EventBus, busConfigSchema, type BusConfig, type BusHandler, type EventBusOptions } from './bus.js';
export { buildStatus, pendingDesired, wireTwins } from './twin.js';
