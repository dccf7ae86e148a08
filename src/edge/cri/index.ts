/**
 * The CRI v1 runtime adapter of the edge kubelet (issue 7): a typed client for containerd's
 * RuntimeService/ImageService over gRPC, and the Pod → CRI config builders. The kubelet part
 * depends on `RuntimeClient` (its seam) and the builders; only this file is imported from outside.
 */
export type * from './types.js';
export { CONTAINER_STATES } from './types.js';
export { CriError, CRI_ERROR_CODES, type CriErrorCode } from './errors.js';
export {
  CriRuntime,
  CriRuntimeConfigSchema,
  DEFAULT_TEST_CRI_SOCKET,
  type CriRuntimeConfig,
  type CriRuntimeDeps,
} from './runtime.js';
export { protoPath } from './proto.js';
export type {
  Capabilities,
  Container,
  ContainerPort,
  EnvFromSource,
  EphemeralContainer,
  EnvVar as PodEnvVar,
  ExecAction,
  KeySelector,
  KeyToPath,
  LifecycleHandler,
  ObjectMeta,
  Pod,
  PodDNSConfig,
  PodSecurityContext,
  PodSpec,
  PodStatus,
  Probe,
  ResourceList,
  ResourceRequirements,
  SeccompProfileSpec,
  SecurityContext,
  Volume,
  VolumeMount,
} from './podspec.js';
export { Quantity, InvalidQuantityError, parseQuantity } from './quantity.js';
export {
  BESTEFFORT_OOM_SCORE_ADJ,
  GUARANTEED_OOM_SCORE_ADJ,
  QUOTA_PERIOD,
  containerLinuxResources,
  containerOomScoreAdj,
  milliCpuToQuota,
  milliCpuToShares,
  podQos,
  type QosClass,
  type ResourceOptions,
} from './resources.js';
export { expand } from './expansion.js';
export {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_CONTAINER_PORTS,
  ANNOTATION_GRACE_PERIOD,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  DEFAULT_POD_LOGS_ROOT,
  LABEL_CONTAINER_NAME,
  LABEL_MANAGED,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
  PodSpecError,
  buildContainerConfig,
  buildSandboxConfig,
  containerLabels,
  podCgroupParent,
  podDns,
  podHostname,
  podLogDirectory,
  parseResolvConf,
  sandboxLabels,
  type BuildError,
  type ContainerOptions,
  type DnsOptions,
  type SandboxOptions,
} from './build.js';
