export {
  KubeClient,
  loadKubeConfig,
  statusUnchanged,
  type WatchedResource,
  type WriteOutcome,
} from './client.js';
