/**
 * Shapes of decoded CRI messages as proto-loader hands them to us with the options in
 * `proto.ts` (keepCase, longs: String, enums: String, defaults: true): scalars always present,
 * repeated fields `[]`, maps `{}`, absent sub-messages `null`, int64 as decimal strings,
 * bytes as Buffer. Only the fields `convert.ts` reads are declared.
 */
export type WMap = Record<string, string>;
export type WLong = string;

export interface WUInt64Value {
  value: WLong;
}

export interface WVersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface WStatusResponse {
  status: {
    conditions: { type: string; status: boolean; reason: string; message: string }[];
  } | null;
  /** Only with verbose: containerd puts its CRI config as JSON under "config". */
  info?: Record<string, string>;
}

export interface WNamespaceOption {
  network: string;
  pid: string;
  ipc: string;
  target_id?: string;
}

export interface WPodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface WPodSandbox {
  id: string;
  metadata: WPodSandboxMetadata | null;
  state: string;
  created_at: WLong;
  labels: WMap;
  annotations: WMap;
}

export interface WPodSandboxStatus extends WPodSandbox {
  network: { ip: string; additional_ips: { ip: string }[] } | null;
  linux: { namespaces: { options: WNamespaceOption | null } | null } | null;
}

export interface WContainerMetadata {
  name: string;
  attempt: number;
}

export interface WImageSpec {
  image: string;
}

export interface WContainer {
  id: string;
  pod_sandbox_id: string;
  metadata: WContainerMetadata | null;
  image: WImageSpec | null;
  image_ref: string;
  state: string;
  created_at: WLong;
  labels: WMap;
  annotations: WMap;
}

export interface WMount {
  container_path: string;
  host_path: string;
  readonly: boolean;
  propagation: string;
}

export interface WContainerStatus {
  id: string;
  metadata: WContainerMetadata | null;
  state: string;
  created_at: WLong;
  started_at: WLong;
  finished_at: WLong;
  exit_code: number;
  image: WImageSpec | null;
  image_ref: string;
  reason: string;
  message: string;
  labels: WMap;
  annotations: WMap;
  mounts: WMount[];
  log_path: string;
}

export interface WExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

export interface WFilesystemUsage {
  timestamp: WLong;
  fs_id: { mountpoint: string } | null;
  used_bytes: WUInt64Value | null;
  inodes_used: WUInt64Value | null;
}

export interface WContainerStats {
  attributes: { id: string; metadata: WContainerMetadata | null; labels: WMap } | null;
  cpu: {
    timestamp: WLong;
    usage_core_nano_seconds: WUInt64Value | null;
    usage_nano_cores: WUInt64Value | null;
  } | null;
  memory: {
    timestamp: WLong;
    working_set_bytes: WUInt64Value | null;
    available_bytes: WUInt64Value | null;
    usage_bytes: WUInt64Value | null;
    rss_bytes: WUInt64Value | null;
    page_faults: WUInt64Value | null;
    major_page_faults: WUInt64Value | null;
  } | null;
  writable_layer: WFilesystemUsage | null;
}

export interface WImage {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: WLong;
  uid: { value: WLong } | null;
  username: string;
  pinned: boolean;
}

/** Responses by method name, so the generic caller returns the right shape. */
export interface WResponses {
  Version: WVersionResponse;
  Status: WStatusResponse;
  RunPodSandbox: { pod_sandbox_id: string };
  StopPodSandbox: Record<string, never>;
  RemovePodSandbox: Record<string, never>;
  PodSandboxStatus: { status: WPodSandboxStatus | null };
  ListPodSandbox: { items: WPodSandbox[] };
  CreateContainer: { container_id: string };
  StartContainer: Record<string, never>;
  StopContainer: Record<string, never>;
  RemoveContainer: Record<string, never>;
  ListContainers: { containers: WContainer[] };
  ContainerStatus: { status: WContainerStatus | null };
  ReopenContainerLog: Record<string, never>;
  ExecSync: WExecSyncResponse;
  Exec: { url: string };
  Attach: { url: string };
  PortForward: { url: string };
  ContainerStats: { stats: WContainerStats | null };
  ListContainerStats: { stats: WContainerStats[] };
  ListImages: { images: WImage[] };
  ImageStatus: { image: WImage | null };
  PullImage: { image_ref: string };
  RemoveImage: Record<string, never>;
  ImageFsInfo: { image_filesystems: WFilesystemUsage[]; container_filesystems: WFilesystemUsage[] };
}

export type RuntimeMethod = Exclude<
  keyof WResponses,
  'ListImages' | 'ImageStatus' | 'PullImage' | 'RemoveImage' | 'ImageFsInfo'
>;
export type ImageMethod = Exclude<keyof WResponses, RuntimeMethod>;
export type Method = keyof WResponses;
