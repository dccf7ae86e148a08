/**
 * The edge kubelet (issue 7, DESIGN §3): `PodManager` runs the pods of the edge store that are
 * bound to this node on containerd through CRI and reports their status through the outbox.
 * docs/kubelet.md describes what is supported and how it maps to upstream kubelet.
 */
export {
  ANNOTATION_ATTEMPT_BASE,
  LABEL_NODE,
  PodManager,
  type AdmitVerdict,
  type PodManagerDeps,
  type RuntimeHealthListener,
} from './manager.js';
export { PodManagerConfigSchema, type PodManagerConfig, type ResolvedPodManagerConfig } from './config.js';
export { PodSyncError, POD_ERROR_CODES, type PodErrorCode } from './errors.js';
export {
  setUpVolumes,
  tmpfsSize,
  writeAtomic,
  type FileEntry,
  type ProjectedVolume,
  type TokenSource,
  type TokenWant,
} from './volumes.js';
export { TokenManager, type TokenLink, type TokenManagerOptions, type TokenStore } from './tokens.js';
export { Refs } from './refs.js';
export { lastLogLines, MAX_LOG_BYTES, MAX_LOG_LINES, MAX_MESSAGE_BYTES } from './termination.js';
export { runHook, type HookResult, type HookTarget } from './hooks.js';
export { runProbe, resolvePort, type ProbeKind, type ProbeOutcome, type ProbeTarget } from './probes.js';
export { podPhase, rfc3339 } from './status.js';
export { pullPolicy, registryOf } from './refs.js';
