/** The edge metaserver: a local, read-only Kubernetes API over the edge store (docs/metaserver.md). */
export {
  CLOUD_RV_ANNOTATION,
  Metaserver,
  MetaserverConfigSchema,
  humanDuration,
  isMetaserverPath,
  type MetaStore,
  type MetaserverConfig,
  type MetaserverDeps,
} from './metaserver.js';
export { METASERVER_KUBECONFIG_FILE, writeMetaserverKubeconfig } from './kubeconfig.js';
export {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
export { RESOURCES, type ResourceType } from './resources.js';
export { statusBody } from './status.js';
