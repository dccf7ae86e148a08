export {
  Hub,
  HubConfigSchema,
  EDGE_GROUP,
  type HubConfig,
  type HubHandler,
  type StreamFrameHandler,
  type BootstrapHandler,
} from './hub.js';
export { EdgeSession, type CloseReason } from './session.js';
