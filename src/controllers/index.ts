/** The embedded control plane's scheduler and workload controllers (DESIGN §7, issue 4): the public entry. */
export {
  ControlPlaneControllers,
  ControlPlaneConfigSchema,
  CONTROLLER_NAMES,
  type ControlPlaneConfig,
  type ControlPlaneConfigInput,
  type ControlPlaneDeps,
  type ControllerName,
} from './controlplane.js';
export {
  Controller,
  type ControllerDeps,
  type ControllerOptions,
  type ReconcileResult,
} from './controller.js';
export { WorkQueue, type WorkQueueOptions } from './workqueue.js';
export { InformerFactory, Kube, KubeApiError, PATHS, type WatchedCollection } from './kube.js';
export { Scheduler, SCHEDULER_NAME } from './scheduler.js';
export { ReplicaSetController } from './replicaset.js';
export {
  DeploymentController,
  REVISION,
  REVISION_HISTORY,
  fenceposts,
  maxSurge,
  maxUnavailable,
} from './deployment.js';
export { DaemonSetController, daemonPodNode } from './daemonset.js';
export { GarbageCollector } from './gc.js';
export { NamespaceController } from './namespace.js';
export {
  NodeLifecycleController,
  EDGE_ROLE_LABEL,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  type NodeLifecycleOptions,
} from './nodelifecycle.js';
export {
  filterNode,
  fitErrorMessage,
  matchesNodeSelectorAndAffinity,
  parseQuantity,
  podRequests,
  tolerates,
  type FilterFailure,
} from './predicates.js';
export { templateHash, equalIgnoreHash, scaledValue, selectorMatches } from './util.js';
