export {
  KubeClient,
  loadKubeConfig,
  quantity,
  statusDigest,
  statusUnchanged,
  type WatchedResource,
  type WriteOutcome,
} from './client.js';
