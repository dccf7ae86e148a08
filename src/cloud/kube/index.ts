export { KubeClient, loadKubeConfig, type WatchedResource, type WriteOutcome } from './client.js';
