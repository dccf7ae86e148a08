export { SyncController, type SyncControllerOptions } from './controller.js';
export { NodeQueue, type Desired, type NodeQueueOptions, type QueueCounters } from './node-queue.js';
export { OwnershipIndex, referencedObjects, nodeKey, podKey, configMapKey, secretKey } from './ownership.js';
export { syncVersion } from './version.js';
export {
  DeviceStatusLimiter,
  type DeviceStatusLimiterOptions,
  type DeviceStatusSink,
} from './device-status.js';
export { answerServiceAccountToken } from './tokens.js';
export {
  LeaseRenewer,
  microTime,
  type LeaseRenewerConfig,
  type LeaseWriter,
  type LiveSession,
  type SessionLookup,
} from './leases.js';
