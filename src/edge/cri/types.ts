import type { Brand } from '../../common/index.js';

/**
 * Tether's own view of the CRI v1 objects the edge kubelet uses: camelCase, typed, and free
 * of protobuf artefacts (no `Long`, no wrapper messages). `convert.ts` maps them to the wire.
 * Timestamps are nanoseconds since the epoch as `bigint`, exact as the runtime reports them
 * (they exceed 2^53); `0n` means "not set".
 */
export type SandboxId = Brand<string, 'SandboxId'>;
export type ContainerId = Brand<string, 'ContainerId'>;

export type Labels = Readonly<Record<string, string>>;

export const CONTAINER_STATES = ['created', 'running', 'exited', 'unknown'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];
export type SandboxState = 'ready' | 'notready';
/** 'target': another container's namespace (CRI TARGET, with targetId) — ephemeral containers' --target. */
export type NamespaceMode = 'pod' | 'container' | 'node' | 'target';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'private' | 'hostToContainer' | 'bidirectional';
export type SeccompProfile =
  { type: 'runtimeDefault' } | { type: 'unconfined' } | { type: 'localhost'; localhostRef: string };

// ---- requests

export interface DnsConfig {
  servers: readonly string[];
  searches: readonly string[];
  options: readonly string[];
}

export interface PortMapping {
  protocol: Protocol;
  containerPort: number;
  hostPort: number;
  hostIp: string;
}

export interface NamespaceOptions {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
  /** The container whose namespace a 'target' mode joins (CRI NamespaceOption.target_id). */
  targetId?: string;
}

export interface SandboxConfig {
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  /** Empty for host-network sandboxes: runc refuses a hostname without a UTS namespace. */
  hostname: string;
  logDirectory: string;
  dns?: DnsConfig;
  portMappings: readonly PortMapping[];
  labels: Labels;
  annotations: Labels;
  linux: {
    cgroupParent: string;
    sysctls: Labels;
    securityContext: {
      namespaceOptions: NamespaceOptions;
      runAsUser?: number;
      runAsGroup?: number;
      readonlyRootfs: boolean;
      supplementalGroups: readonly number[];
      privileged: boolean;
      seccomp?: SeccompProfile;
    };
  };
}

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  propagation: MountPropagation;
}

export interface LinuxResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
}

export interface EnvVar {
  key: string;
  /** Bytes are allowed: Secret data need not be UTF-8 (CRI KeyValue.value is `bytes`). */
  value: string | Uint8Array;
}

export interface ContainerSecurityContext {
  capabilities: { add: readonly string[]; drop: readonly string[] };
  privileged: boolean;
  namespaceOptions: NamespaceOptions;
  runAsUser?: number;
  runAsGroup?: number;
  runAsUsername?: string;
  readonlyRootfs: boolean;
  supplementalGroups: readonly number[];
  noNewPrivs: boolean;
  seccomp?: SeccompProfile;
}

export interface ContainerConfig {
  metadata: { name: string; attempt: number };
  image: string;
  command: readonly string[];
  args: readonly string[];
  workingDir: string;
  envs: readonly EnvVar[];
  mounts: readonly Mount[];
  labels: Labels;
  annotations: Labels;
  /** Relative to the sandbox's logDirectory (upstream: `<container>/<attempt>.log`). */
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: { resources: LinuxResources; securityContext: ContainerSecurityContext };
}

/** Credentials for a pull, from an imagePullSecret (`auth` is base64 "user:password"). */
export interface PullAuth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface SandboxFilter {
  id?: SandboxId;
  state?: SandboxState;
  labels?: Labels;
}

export interface ContainerFilter {
  id?: ContainerId;
  sandboxId?: SandboxId;
  state?: ContainerState;
  labels?: Labels;
}

// ---- results

export interface RuntimeVersion {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface RuntimeStatus {
  conditions: readonly RuntimeCondition[];
  /** True when both RuntimeReady and NetworkReady are true (what kubelet checks). */
  ready: boolean;
  /** The runtime's sandbox (pause) image, when asked verbosely and the runtime tells it. */
  sandboxImage?: string;
}

export interface SandboxSummary {
  id: SandboxId;
  metadata: { name: string; namespace: string; uid: string; attempt: number };
  state: SandboxState;
  createdAtNs: bigint;
  labels: Labels;
  annotations: Labels;
}

export interface SandboxStatus extends SandboxSummary {
  /** Primary pod IP; '' for a host-network sandbox. */
  ip: string;
  additionalIps: readonly string[];
  namespaceOptions: NamespaceOptions | undefined;
}

export interface ContainerSummary {
  id: ContainerId;
  sandboxId: SandboxId;
  metadata: { name: string; attempt: number };
  image: string;
  imageRef: string;
  state: ContainerState;
  createdAtNs: bigint;
  labels: Labels;
  annotations: Labels;
}

export interface ContainerStatus {
  id: ContainerId;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  createdAtNs: bigint;
  startedAtNs: bigint;
  finishedAtNs: bigint;
  exitCode: number;
  image: string;
  imageRef: string;
  /** e.g. "Completed", "Error", "OOMKilled" (containerd sets it once the container exited). */
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  mounts: readonly Mount[];
  /** Absolute path of the CRI log file. */
  logPath: string;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface ContainerStats {
  id: ContainerId;
  name: string;
  labels: Labels;
  cpu?: { timestampNs: bigint; usageCoreNanoSeconds?: number; usageNanoCores?: number };
  memory?: {
    timestampNs: bigint;
    workingSetBytes?: number;
    availableBytes?: number;
    usageBytes?: number;
    rssBytes?: number;
    pageFaults?: number;
    majorPageFaults?: number;
  };
  writableLayer?: FilesystemUsage;
}

export interface FilesystemUsage {
  timestampNs: bigint;
  mountpoint: string;
  usedBytes?: number;
  inodesUsed?: number;
}

export interface Image {
  id: string;
  repoTags: readonly string[];
  repoDigests: readonly string[];
  size: number;
  uid?: number;
  username: string;
  pinned: boolean;
}

export interface ImageFsInfo {
  imageFilesystems: readonly FilesystemUsage[];
  containerFilesystems: readonly FilesystemUsage[];
}

export interface ExecOptions {
  cmd: readonly string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/**
 * The runtime seam of the edge kubelet (STYLE §7): exactly the CRI calls it uses, faked by
 * hand in the kubelet's unit tests and implemented by `CriRuntime` over gRPC.
 * Failures reject with `CriError` (codes UNAVAILABLE, NOT_FOUND, DEADLINE, RUNTIME).
 */
export interface RuntimeClient {
  version(): Promise<RuntimeVersion>;
  /** `verbose`: also the runtime's info (containerd: its sandbox image). */
  status(verbose?: boolean): Promise<RuntimeStatus>;

  runPodSandbox(config: SandboxConfig, runtimeHandler?: string): Promise<SandboxId>;
  stopPodSandbox(id: SandboxId): Promise<void>;
  removePodSandbox(id: SandboxId): Promise<void>;
  podSandboxStatus(id: SandboxId): Promise<SandboxStatus>;
  listPodSandbox(filter?: SandboxFilter): Promise<SandboxSummary[]>;

  createContainer(
    sandboxId: SandboxId,
    config: ContainerConfig,
    sandbox: SandboxConfig,
  ): Promise<ContainerId>;
  startContainer(id: ContainerId): Promise<void>;
  /** Sends the stop signal, then SIGKILL after `timeoutSeconds` (0 = kill at once). */
  stopContainer(id: ContainerId, timeoutSeconds: number): Promise<void>;
  removeContainer(id: ContainerId): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]>;
  containerStatus(id: ContainerId): Promise<ContainerStatus>;
  reopenContainerLog(id: ContainerId): Promise<void>;

  /** Runs a command to completion; `timeoutSeconds` 0 means no runtime-side timeout. */
  execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number): Promise<ExecSyncResult>;
  /** URLs on the runtime's streaming server, for kubectl exec/attach/port-forward. */
  exec(id: ContainerId, options: ExecOptions): Promise<string>;
  attach(id: ContainerId, options: Omit<ExecOptions, 'cmd'>): Promise<string>;
  portForward(sandboxId: SandboxId, ports: readonly number[]): Promise<string>;

  containerStats(id: ContainerId): Promise<ContainerStats | undefined>;
  listContainerStats(filter?: {
    id?: ContainerId;
    sandboxId?: SandboxId;
    labels?: Labels;
  }): Promise<ContainerStats[]>;

  pullImage(image: string, auth?: PullAuth, sandbox?: SandboxConfig): Promise<string>;
  /** `undefined` when the image is not present (not an error, as in CRI). */
  imageStatus(image: string): Promise<Image | undefined>;
  listImages(image?: string): Promise<Image[]>;
  removeImage(image: string): Promise<void>;
  imageFsInfo(): Promise<ImageFsInfo>;
}
