import { assertNever } from '../../common/index.js';
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerId,
  ContainerState,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  FilesystemUsage,
  Image,
  Labels,
  Mount,
  MountPropagation,
  NamespaceMode,
  NamespaceOptions,
  SandboxConfig,
  SandboxFilter,
  SandboxId,
  SandboxState,
  SandboxStatus,
  SandboxSummary,
  SeccompProfile,
} from './types.js';
import type {
  WContainer,
  WContainerStats,
  WContainerStatus,
  WFilesystemUsage,
  WImage,
  WMount,
  WNamespaceOption,
  WPodSandbox,
  WPodSandboxStatus,
  WUInt64Value,
} from './wire.js';

// ---- enums (names as in cri.proto; enums: String on both directions)

const CONTAINER_STATE_TO_WIRE = {
  created: 'CONTAINER_CREATED',
  running: 'CONTAINER_RUNNING',
  exited: 'CONTAINER_EXITED',
  unknown: 'CONTAINER_UNKNOWN',
} as const satisfies Record<ContainerState, string>;

const NS_TO_WIRE = {
  pod: 'POD',
  container: 'CONTAINER',
  node: 'NODE',
  target: 'TARGET',
} as const satisfies Record<NamespaceMode, string>;

const PROPAGATION_TO_WIRE = {
  private: 'PROPAGATION_PRIVATE',
  hostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const satisfies Record<MountPropagation, string>;

function containerStateFromWire(s: string): ContainerState {
  switch (s) {
    case 'CONTAINER_CREATED':
      return 'created';
    case 'CONTAINER_RUNNING':
      return 'running';
    case 'CONTAINER_EXITED':
      return 'exited';
    default:
      return 'unknown';
  }
}

function sandboxStateFromWire(s: string): SandboxState {
  return s === 'SANDBOX_READY' ? 'ready' : 'notready';
}

function nsFromWire(s: string): NamespaceMode {
  return s === 'NODE' ? 'node' : s === 'CONTAINER' ? 'container' : s === 'TARGET' ? 'target' : 'pod';
}

function propagationFromWire(s: string): MountPropagation {
  return s === 'PROPAGATION_BIDIRECTIONAL'
    ? 'bidirectional'
    : s === 'PROPAGATION_HOST_TO_CONTAINER'
      ? 'hostToContainer'
      : 'private';
}

// ---- scalars

/** int64 nanosecond timestamps arrive as decimal strings (longs: String). */
export function nanos(v: string): bigint {
  return v === '' ? 0n : BigInt(v);
}

/** Byte and counter values: well below 2^53 in practice. */
function num(v: string): number {
  return v === '' ? 0 : Number(v);
}

function u64(v: WUInt64Value | null): number | undefined {
  return v === null ? undefined : num(v.value);
}

function labels(m: Record<string, string>): Labels {
  return { ...m };
}

// ---- requests

function seccompToWire(p: SeccompProfile | undefined): object | null {
  if (p === undefined) return null;
  switch (p.type) {
    case 'runtimeDefault':
      return { profile_type: 'RuntimeDefault' };
    case 'unconfined':
      return { profile_type: 'Unconfined' };
    case 'localhost':
      return { profile_type: 'Localhost', localhost_ref: p.localhostRef };
    default:
      return assertNever(p, 'seccomp profile');
  }
}

function nsToWire(o: NamespaceOptions): WNamespaceOption {
  return {
    network: NS_TO_WIRE[o.network],
    pid: NS_TO_WIRE[o.pid],
    ipc: NS_TO_WIRE[o.ipc],
    ...(o.targetId === undefined ? {} : { target_id: o.targetId }),
  };
}

const int64Value = (v: number | undefined): { value: number } | null =>
  v === undefined ? null : { value: v };

export function sandboxConfigToWire(c: SandboxConfig): object {
  const sc = c.linux.securityContext;
  return {
    metadata: { ...c.metadata },
    hostname: c.hostname,
    log_directory: c.logDirectory,
    dns_config: c.dns === undefined ? null : { ...c.dns },
    port_mappings: c.portMappings.map((p) => ({
      protocol: p.protocol,
      container_port: p.containerPort,
      host_port: p.hostPort,
      host_ip: p.hostIp,
    })),
    labels: { ...c.labels },
    annotations: { ...c.annotations },
    linux: {
      cgroup_parent: c.linux.cgroupParent,
      sysctls: { ...c.linux.sysctls },
      security_context: {
        namespace_options: nsToWire(sc.namespaceOptions),
        run_as_user: int64Value(sc.runAsUser),
        run_as_group: int64Value(sc.runAsGroup),
        readonly_rootfs: sc.readonlyRootfs,
        supplemental_groups: [...sc.supplementalGroups],
        privileged: sc.privileged,
        seccomp: seccompToWire(sc.seccomp),
      },
    },
  };
}

function mountToWire(m: Mount): object {
  return {
    container_path: m.containerPath,
    host_path: m.hostPath,
    readonly: m.readonly,
    propagation: PROPAGATION_TO_WIRE[m.propagation],
  };
}

export function containerConfigToWire(c: ContainerConfig): object {
  const sc = c.linux.securityContext;
  const r = c.linux.resources;
  return {
    metadata: { ...c.metadata },
    image: { image: c.image },
    command: [...c.command],
    args: [...c.args],
    working_dir: c.workingDir,
    envs: c.envs.map((e) => ({
      key: e.key,
      value: typeof e.value === 'string' ? Buffer.from(e.value, 'utf8') : Buffer.from(e.value),
    })),
    mounts: c.mounts.map(mountToWire),
    labels: { ...c.labels },
    annotations: { ...c.annotations },
    log_path: c.logPath,
    stdin: c.stdin,
    stdin_once: c.stdinOnce,
    tty: c.tty,
    linux: {
      resources: {
        cpu_period: r.cpuPeriod,
        cpu_quota: r.cpuQuota,
        cpu_shares: r.cpuShares,
        memory_limit_in_bytes: r.memoryLimitInBytes,
        oom_score_adj: r.oomScoreAdj,
      },
      security_context: {
        capabilities: {
          add_capabilities: [...sc.capabilities.add],
          drop_capabilities: [...sc.capabilities.drop],
        },
        privileged: sc.privileged,
        namespace_options: nsToWire(sc.namespaceOptions),
        run_as_user: int64Value(sc.runAsUser),
        run_as_group: int64Value(sc.runAsGroup),
        run_as_username: sc.runAsUsername ?? '',
        readonly_rootfs: sc.readonlyRootfs,
        supplemental_groups: [...sc.supplementalGroups],
        no_new_privs: sc.noNewPrivs,
        seccomp: seccompToWire(sc.seccomp),
      },
    },
  };
}

export function sandboxFilterToWire(f: SandboxFilter | undefined): object | null {
  if (f === undefined) return null;
  return {
    id: f.id ?? '',
    state:
      f.state === undefined ? null : { state: f.state === 'ready' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY' },
    label_selector: { ...f.labels },
  };
}

export function containerFilterToWire(f: ContainerFilter | undefined): object | null {
  if (f === undefined) return null;
  return {
    id: f.id ?? '',
    pod_sandbox_id: f.sandboxId ?? '',
    state: f.state === undefined ? null : { state: CONTAINER_STATE_TO_WIRE[f.state] },
    label_selector: { ...f.labels },
  };
}

// ---- responses

export function sandboxFromWire(w: WPodSandbox): SandboxSummary {
  return {
    id: w.id as SandboxId,
    metadata: {
      name: w.metadata?.name ?? '',
      namespace: w.metadata?.namespace ?? '',
      uid: w.metadata?.uid ?? '',
      attempt: w.metadata?.attempt ?? 0,
    },
    state: sandboxStateFromWire(w.state),
    createdAtNs: nanos(w.created_at),
    labels: labels(w.labels),
    annotations: labels(w.annotations),
  };
}

export function sandboxStatusFromWire(w: WPodSandboxStatus): SandboxStatus {
  const ns = w.linux?.namespaces?.options ?? null;
  return {
    ...sandboxFromWire(w),
    ip: w.network?.ip ?? '',
    additionalIps: (w.network?.additional_ips ?? []).map((a) => a.ip),
    namespaceOptions:
      ns === null
        ? undefined
        : { network: nsFromWire(ns.network), pid: nsFromWire(ns.pid), ipc: nsFromWire(ns.ipc) },
  };
}

export function containerFromWire(w: WContainer): ContainerSummary {
  return {
    id: w.id as ContainerId,
    sandboxId: w.pod_sandbox_id as SandboxId,
    metadata: { name: w.metadata?.name ?? '', attempt: w.metadata?.attempt ?? 0 },
    image: w.image?.image ?? '',
    imageRef: w.image_ref,
    state: containerStateFromWire(w.state),
    createdAtNs: nanos(w.created_at),
    labels: labels(w.labels),
    annotations: labels(w.annotations),
  };
}

function mountFromWire(m: WMount): Mount {
  return {
    containerPath: m.container_path,
    hostPath: m.host_path,
    readonly: m.readonly,
    propagation: propagationFromWire(m.propagation),
  };
}

export function containerStatusFromWire(w: WContainerStatus): ContainerStatus {
  return {
    id: w.id as ContainerId,
    metadata: { name: w.metadata?.name ?? '', attempt: w.metadata?.attempt ?? 0 },
    state: containerStateFromWire(w.state),
    createdAtNs: nanos(w.created_at),
    startedAtNs: nanos(w.started_at),
    finishedAtNs: nanos(w.finished_at),
    exitCode: w.exit_code,
    image: w.image?.image ?? '',
    imageRef: w.image_ref,
    reason: w.reason,
    message: w.message,
    labels: labels(w.labels),
    annotations: labels(w.annotations),
    mounts: w.mounts.map(mountFromWire),
    logPath: w.log_path,
  };
}

export function fsFromWire(w: WFilesystemUsage): FilesystemUsage {
  const out: FilesystemUsage = { timestampNs: nanos(w.timestamp), mountpoint: w.fs_id?.mountpoint ?? '' };
  const used = u64(w.used_bytes);
  const inodes = u64(w.inodes_used);
  if (used !== undefined) out.usedBytes = used;
  if (inodes !== undefined) out.inodesUsed = inodes;
  return out;
}

/** Drops the keys whose value is undefined (exactOptionalPropertyTypes). */
function defined<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function statsFromWire(w: WContainerStats): ContainerStats {
  const out: ContainerStats = {
    id: (w.attributes?.id ?? '') as ContainerId,
    name: w.attributes?.metadata?.name ?? '',
    labels: labels(w.attributes?.labels ?? {}),
  };
  if (w.cpu !== null) {
    out.cpu = defined<NonNullable<ContainerStats['cpu']>>({
      timestampNs: nanos(w.cpu.timestamp),
      usageCoreNanoSeconds: u64(w.cpu.usage_core_nano_seconds),
      usageNanoCores: u64(w.cpu.usage_nano_cores),
    });
  }
  if (w.memory !== null) {
    out.memory = defined<NonNullable<ContainerStats['memory']>>({
      timestampNs: nanos(w.memory.timestamp),
      workingSetBytes: u64(w.memory.working_set_bytes),
      availableBytes: u64(w.memory.available_bytes),
      usageBytes: u64(w.memory.usage_bytes),
      rssBytes: u64(w.memory.rss_bytes),
      pageFaults: u64(w.memory.page_faults),
      majorPageFaults: u64(w.memory.major_page_faults),
    });
  }
  if (w.writable_layer !== null) out.writableLayer = fsFromWire(w.writable_layer);
  return out;
}

export function imageFromWire(w: WImage): Image {
  const out: Image = {
    id: w.id,
    repoTags: [...w.repo_tags],
    repoDigests: [...w.repo_digests],
    size: num(w.size),
    username: w.username,
    pinned: w.pinned,
  };
  if (w.uid !== null) out.uid = num(w.uid.value);
  return out;
}
