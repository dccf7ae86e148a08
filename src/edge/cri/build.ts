import path from 'node:path';
import { TetherError, err, ok, type Result } from '../../common/index.js';
import { expand } from './expansion.js';
import type { Container, EnvVar as PodEnvVar, Pod, PodSpec, SeccompProfileSpec } from './podspec.js';
import type { InvalidQuantityError } from './quantity.js';
import { containerLinuxResources, podQos, type QosClass } from './resources.js';
import type {
  ContainerConfig,
  DnsConfig,
  EnvVar,
  Mount,
  MountPropagation,
  NamespaceOptions,
  PortMapping,
  SandboxConfig,
  SeccompProfile,
} from './types.js';

/**
 * Pod → CRI config builders, following upstream kubelet's kuberuntime
 * (generatePodSandboxConfig, generateContainerConfig, determineEffectiveSecurityContext) and
 * pkg/kubelet/network/dns (GetPodDNS), so that containerd sees what a kubelet would send.
 * Pure functions: resolution of Secrets/ConfigMaps and volume directories is the caller's.
 */

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** Marks everything Tether created, so adoption and cleanup never touch foreign sandboxes. */
export const LABEL_MANAGED = 'tether.dev/managed';

export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_CONTAINER_PORTS = 'io.kubernetes.container.ports';

export const DEFAULT_POD_LOGS_ROOT = '/var/log/pods';
const MAX_HOSTNAME = 63;

export class PodSpecError extends TetherError {
  readonly code = 'POD_SPEC_INVALID';
}

export type BuildError = PodSpecError | InvalidQuantityError;

export interface DnsOptions {
  /** kubelet --cluster-dns; empty → ClusterFirst pods fall back to the host's resolv.conf. */
  clusterDns: readonly string[];
  /** kubelet --cluster-domain. */
  clusterDomain: string;
  /** The node's resolv.conf (kubelet --resolv-conf), already parsed. */
  host: DnsConfig;
}

export interface SandboxOptions {
  /** Sandbox attempt: 0 for the first sandbox of a pod, +1 for each re-creation. */
  attempt?: number;
  podLogsRoot?: string;
  /** Root of pod cgroups (kubelet's "kubepods"), and how the runtime names cgroups. */
  cgroupRoot?: string;
  cgroupDriver?: 'cgroupfs' | 'systemd';
  dns?: DnsOptions;
}

function podKey(pod: Pod): Result<{ name: string; namespace: string; uid: string }, PodSpecError> {
  const { name, namespace = 'default', uid } = pod.metadata;
  if (name === undefined || name === '' || uid === undefined || uid === '') {
    return err(new PodSpecError('pod needs metadata.name and metadata.uid'));
  }
  return ok({ name, namespace, uid });
}

export function podLogDirectory(root: string, ns: string, name: string, uid: string): string {
  return path.join(root, `${ns}_${name}_${uid}`);
}

/** kubelet's pod cgroup: /kubepods[/burstable|/besteffort]/pod<uid>, or its systemd slice. */
export function podCgroupParent(
  qos: QosClass,
  uid: string,
  root = '/kubepods',
  driver: 'cgroupfs' | 'systemd' = 'cgroupfs',
): string {
  const parts = [root.replace(/^\/+|\/+$/g, '')];
  if (qos === 'Burstable') parts.push('burstable');
  if (qos === 'BestEffort') parts.push('besteffort');
  parts.push(`pod${uid}`);
  if (driver === 'cgroupfs') return `/${parts.join('/')}`;
  // libcontainer's systemd naming: each level a prefix of the next, '-' in names escaped as '_'.
  return `${parts.map((p) => p.replace(/-/g, '_')).join('-')}.slice`;
}

function namespaceOptions(spec: PodSpec): NamespaceOptions {
  return {
    network: spec.hostNetwork === true ? 'node' : 'pod',
    // Without shareProcessNamespace each container has its own PID namespace (kubelet: CONTAINER).
    pid: spec.hostPID === true ? 'node' : spec.shareProcessNamespace === true ? 'pod' : 'container',
    ipc: spec.hostIPC === true ? 'node' : 'pod',
  };
}

/** kubelet generateLinuxContainerConfig: TARGET only replaces a per-container PID namespace. */
function withPidTarget(ns: NamespaceOptions, targetId: string | undefined): NamespaceOptions {
  if (targetId === undefined || ns.pid !== 'container') return ns;
  return { ...ns, pid: 'target', targetId };
}

function seccomp(p: SeccompProfileSpec | undefined): SeccompProfile | undefined {
  if (p === undefined) return undefined;
  switch (p.type) {
    case 'RuntimeDefault':
      return { type: 'runtimeDefault' };
    case 'Unconfined':
      return { type: 'unconfined' };
    case 'Localhost':
      return { type: 'localhost', localhostRef: p.localhostProfile ?? '' };
  }
}

/** fsGroup first, then supplementalGroups: the order kubelet sends them in. */
function supplementalGroups(spec: PodSpec): number[] {
  const sc = spec.securityContext;
  return [...(sc?.fsGroup === undefined ? [] : [sc.fsGroup]), ...(sc?.supplementalGroups ?? [])];
}

function hasPrivilegedContainer(spec: PodSpec): boolean {
  return [...spec.containers, ...(spec.initContainers ?? [])].some(
    (c) => c.securityContext?.privileged === true,
  );
}

/** kubelet GeneratePodHostNameAndDomain + GetNodenameForKernel. */
export function podHostname(pod: Pod, clusterDomain: string): Result<string, PodSpecError> {
  let host = pod.spec.hostname ?? pod.metadata.name ?? '';
  if (host.length > MAX_HOSTNAME) host = host.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '');
  if (host === '') return err(new PodSpecError('pod hostname is empty'));
  const sub = pod.spec.subdomain;
  if (pod.spec.setHostnameAsFQDN === true && sub !== undefined && sub !== '') {
    const fqdn = `${host}.${sub}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}`;
    if (fqdn.length > 64) return err(new PodSpecError(`pod FQDN ${fqdn} is longer than 64 characters`));
    return ok(fqdn);
  }
  return ok(host);
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** The node's resolv.conf as kubelet reads it (parseResolvConf): nameserver, search/domain, options. */
export function parseResolvConf(text: string): DnsConfig {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0] !== undefined) servers.push(fields[0]);
    // The last search or domain line wins, as in the resolver.
    else if (key === 'search' || key === 'domain') searches = fields.filter((f) => f !== '.');
    else if (key === 'options') options.push(...fields);
  }
  return { servers, searches, options };
}

/** kubelet GetPodDNS: the pod's DNS policy, then pod.spec.dnsConfig merged on top. */
export function podDns(pod: Pod, opts: DnsOptions): DnsConfig {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const hostNet = pod.spec.hostNetwork === true;
  let kind: 'cluster' | 'host' | 'none';
  if (policy === 'None') kind = 'none';
  else if (policy === 'ClusterFirstWithHostNet') kind = 'cluster';
  else if (policy === 'ClusterFirst') kind = hostNet ? 'host' : 'cluster';
  else kind = 'host';
  // Without a cluster DNS, ClusterFirst falls back to the node's configuration (kubelet does too).
  if (kind === 'cluster' && opts.clusterDns.length === 0) kind = 'host';

  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (kind === 'host') {
    servers = [...opts.host.servers];
    searches = [...opts.host.searches];
    options = [...opts.host.options];
  } else if (kind === 'cluster') {
    const ns = pod.metadata.namespace ?? 'default';
    const d = opts.clusterDomain;
    servers = [...opts.clusterDns];
    searches = uniq([`${ns}.svc.${d}`, `svc.${d}`, d, ...opts.host.searches]);
    options = ['ndots:5'];
  }
  const extra = pod.spec.dnsConfig;
  if (extra !== undefined) {
    servers = uniq([...servers, ...(extra.nameservers ?? [])]);
    searches = uniq([...searches, ...(extra.searches ?? [])]);
    // Options merge by name; the pod's value wins (kubelet mergeDNSOptions).
    const byName = new Map<string, string>();
    for (const o of options) byName.set(o.split(':')[0] ?? o, o);
    for (const o of extra.options ?? []) {
      byName.set(o.name, o.value === undefined || o.value === '' ? o.name : `${o.name}:${o.value}`);
    }
    options = [...byName.values()];
  }
  // resolv.conf limits: kubelet trims to 3 servers and 32 search domains.
  return { servers: servers.slice(0, 3), searches: searches.slice(0, 32), options };
}

function portMappings(spec: PodSpec): PortMapping[] {
  const seen = new Set<string>();
  const out: PortMapping[] = [];
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      // kubelet MakePortMappings drops duplicates of the same container port and protocol.
      const key = `${p.containerPort}/${protocol}/${p.hostPort ?? 0}/${p.hostIP ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        protocol,
        containerPort: p.containerPort,
        hostPort: p.hostPort ?? 0,
        hostIp: p.hostIP ?? '',
      });
    }
  }
  return out;
}

export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...pod.metadata.labels,
    [LABEL_POD_NAME]: pod.metadata.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
    [LABEL_POD_UID]: pod.metadata.uid ?? '',
    [LABEL_MANAGED]: 'true',
  };
}

/** kubelet generatePodSandboxConfig. */
export function buildSandboxConfig(pod: Pod, opts: SandboxOptions = {}): Result<SandboxConfig, BuildError> {
  const key = podKey(pod);
  if (!key.ok) return key;
  const { name, namespace, uid } = key.value;
  const qos = podQos(pod);
  if (!qos.ok) return qos;
  const spec = pod.spec;
  const sc = spec.securityContext;
  const hostNetwork = spec.hostNetwork === true;

  let hostname = '';
  if (!hostNetwork) {
    // Host-network sandboxes share the node's UTS namespace: no hostname (runc refuses one).
    const h = podHostname(pod, opts.dns?.clusterDomain ?? 'cluster.local');
    if (!h.ok) return h;
    hostname = h.value;
  }

  const sysctls: Record<string, string> = {};
  for (const s of sc?.sysctls ?? []) sysctls[s.name] = s.value;

  const config: SandboxConfig = {
    metadata: { name, namespace, uid, attempt: opts.attempt ?? 0 },
    hostname,
    logDirectory: podLogDirectory(opts.podLogsRoot ?? DEFAULT_POD_LOGS_ROOT, namespace, name, uid),
    portMappings: portMappings(spec),
    labels: sandboxLabels(pod),
    annotations: { ...pod.metadata.annotations },
    linux: {
      cgroupParent: podCgroupParent(qos.value, uid, opts.cgroupRoot, opts.cgroupDriver),
      sysctls,
      securityContext: {
        namespaceOptions: namespaceOptions(spec),
        ...(sc?.runAsUser === undefined ? {} : { runAsUser: sc.runAsUser }),
        ...(sc?.runAsGroup === undefined ? {} : { runAsGroup: sc.runAsGroup }),
        readonlyRootfs: false,
        supplementalGroups: supplementalGroups(spec),
        privileged: hasPrivilegedContainer(spec),
        // kubelet forces runtime/default on the sandbox itself (kubernetes#84623).
        seccomp: { type: 'runtimeDefault' },
      },
    },
  };
  if (opts.dns !== undefined) config.dns = podDns(pod, opts.dns);
  return ok(config);
}

// ---- containers

export interface ContainerOptions {
  /** The container's restart count: CRI metadata attempt and the log file name. */
  attempt?: number;
  /** Node memory capacity, for the Burstable OOM score (kubelet uses cAdvisor's figure). */
  memoryCapacityBytes: number;
  /** The image reference the pull returned; defaults to the spec's image. */
  imageRef?: string;
  /** Host paths of the pod's volumes by name (emptyDir, configMap, secret … prepared by the caller). */
  volumePaths?: Readonly<Record<string, string>>;
  /** Extra mounts kubelet adds itself (/etc/hosts, termination log). */
  extraMounts?: readonly Mount[];
  /** envFrom, already resolved, in precedence order (later entries win). */
  envFrom?: readonly EnvVar[];
  /** Values of `valueFrom` refs other than fieldRef; `undefined` = optional and missing: skip. */
  resolveValueFrom?: (env: PodEnvVar) => string | Uint8Array | undefined;
  /** Service link variables (lowest precedence; only names not already set). */
  serviceEnv?: readonly EnvVar[];
  nodeName?: string;
  podIP?: string;
  hostIP?: string;
  /** Change-detection hash kubelet stores in the container's annotations. */
  hash?: string;
  /** More annotations for the runtime to keep (e.g. a preStop handler); ours win on clashes. */
  annotations?: Readonly<Record<string, string>>;
  cpuCfsQuota?: boolean;
  cpuCfsQuotaPeriod?: number;
  /**
   * An ephemeral container's target (runtime id): it joins that container's PID namespace
   * (kubelet: NamespaceMode TARGET), unless the pod already shares one.
   */
  pidTargetId?: string;
}

function asText(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
}

/** kubelet podFieldSelectorRuntimeValue for the fields DESIGN §3 names. */
function fieldRefValue(pod: Pod, fieldPath: string, o: ContainerOptions): Result<string, PodSpecError> {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m !== null) {
    const map = m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return ok(map?.[m[2] ?? ''] ?? '');
  }
  switch (fieldPath) {
    case 'metadata.name':
      return ok(pod.metadata.name ?? '');
    case 'metadata.namespace':
      return ok(pod.metadata.namespace ?? 'default');
    case 'metadata.uid':
      return ok(pod.metadata.uid ?? '');
    case 'spec.nodeName':
      return ok(o.nodeName ?? pod.spec.nodeName ?? '');
    case 'spec.serviceAccountName':
      return ok(pod.spec.serviceAccountName ?? '');
    case 'status.podIP':
      return ok(o.podIP ?? '');
    case 'status.hostIP':
      return ok(o.hostIP ?? '');
    case 'status.podIPs':
      return ok(o.podIP ?? '');
    default:
      return err(new PodSpecError(`unsupported fieldRef ${fieldPath}`));
  }
}

/** kubelet makeEnvironmentVariables: envFrom, then env (expanded in order), then service links. */
function environment(pod: Pod, c: Container, o: ContainerOptions): Result<EnvVar[], PodSpecError> {
  const env = new Map<string, string | Uint8Array>();
  for (const e of o.envFrom ?? []) env.set(e.key, e.value);
  const service = new Map((o.serviceEnv ?? []).map((e) => [e.key, asText(e.value)] as const));
  const lookup = (n: string): string | undefined => {
    const v = env.get(n);
    return v === undefined ? service.get(n) : asText(v);
  };
  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env.set(e.name, expand(e.value ?? '', lookup));
      continue;
    }
    if (e.valueFrom.fieldRef !== undefined) {
      const v = fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath, o);
      if (!v.ok) return v;
      env.set(e.name, v.value);
      continue;
    }
    const v = o.resolveValueFrom?.(e);
    if (v !== undefined) env.set(e.name, v);
  }
  for (const [k, v] of service) if (!env.has(k)) env.set(k, v);
  return ok([...env].map(([key, value]) => ({ key, value })));
}

const PROPAGATION: Readonly<Record<string, MountPropagation>> = {
  None: 'private',
  HostToContainer: 'hostToContainer',
  Bidirectional: 'bidirectional',
};

function mounts(pod: Pod, c: Container, o: ContainerOptions): Result<Mount[], PodSpecError> {
  const out: Mount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const vol = pod.spec.volumes?.find((v) => v.name === vm.name);
    const base = o.volumePaths?.[vm.name] ?? vol?.hostPath?.path;
    if (base === undefined) {
      return err(new PodSpecError(`container ${c.name}: no host path for volume ${vm.name}`));
    }
    const sub = vm.subPath ?? '';
    // A subPath must stay inside its volume (kubelet rejects absolute paths and "..").
    if (path.isAbsolute(sub) || sub.split('/').includes('..')) {
      return err(new PodSpecError(`container ${c.name}: invalid subPath ${sub}`));
    }
    const propagation = PROPAGATION[vm.mountPropagation ?? 'None'] ?? 'private';
    if (propagation === 'bidirectional' && c.securityContext?.privileged !== true) {
      return err(new PodSpecError(`container ${c.name}: Bidirectional mount propagation needs privileged`));
    }
    out.push({
      containerPath: vm.mountPath,
      hostPath: sub === '' ? base : path.join(base, sub),
      readonly: vm.readOnly === true,
      propagation,
    });
  }
  return ok([...out, ...(o.extraMounts ?? [])]);
}

export function containerLabels(pod: Pod, c: Container): Record<string, string> {
  return {
    [LABEL_CONTAINER_NAME]: c.name,
    [LABEL_POD_NAME]: pod.metadata.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? 'default',
    [LABEL_POD_UID]: pod.metadata.uid ?? '',
    [LABEL_MANAGED]: 'true',
  };
}

function containerAnnotations(pod: Pod, c: Container, o: ContainerOptions): Record<string, string> {
  const a: Record<string, string> = {
    ...o.annotations,
    [ANNOTATION_RESTART_COUNT]: String(o.attempt ?? 0),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: c.terminationMessagePath ?? '/dev/termination-log',
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: c.terminationMessagePolicy ?? 'File',
    [ANNOTATION_GRACE_PERIOD]: String(pod.spec.terminationGracePeriodSeconds ?? 30),
  };
  if (o.hash !== undefined) a[ANNOTATION_CONTAINER_HASH] = o.hash;
  if (c.ports !== undefined && c.ports.length > 0) a[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(c.ports);
  return a;
}

/** kubelet generateContainerConfig + generateLinuxContainerConfig. */
export function buildContainerConfig(
  pod: Pod,
  c: Container,
  o: ContainerOptions,
): Result<ContainerConfig, BuildError> {
  const key = podKey(pod);
  if (!key.ok) return key;
  if (c.image === undefined || c.image === '') {
    return err(new PodSpecError(`container ${c.name}: image is required`));
  }
  const qos = podQos(pod);
  if (!qos.ok) return qos;
  const resources = containerLinuxResources(pod, qos.value, c, {
    memoryCapacityBytes: o.memoryCapacityBytes,
    ...(o.cpuCfsQuota === undefined ? {} : { cpuCfsQuota: o.cpuCfsQuota }),
    ...(o.cpuCfsQuotaPeriod === undefined ? {} : { cpuCfsQuotaPeriod: o.cpuCfsQuotaPeriod }),
  });
  if (!resources.ok) return resources;
  const envs = environment(pod, c, o);
  if (!envs.ok) return envs;
  const m = mounts(pod, c, o);
  if (!m.ok) return m;

  // Command and args see the final environment (kubelet ExpandContainerCommandAndArgs).
  const finalEnv = new Map(envs.value.map((e) => [e.key, asText(e.value)] as const));
  const lookup = (n: string): string | undefined => finalEnv.get(n);

  const podSc = pod.spec.securityContext;
  const csc = c.securityContext;
  const runAsUser = csc?.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = csc?.runAsGroup ?? podSc?.runAsGroup;
  // kubelet getSeccompProfile: container field, then pod field, else Unconfined
  // (the kubelet default while --seccomp-default is off).
  const sec = seccomp(csc?.seccompProfile ?? podSc?.seccompProfile) ?? { type: 'unconfined' };
  const attempt = o.attempt ?? 0;

  return ok({
    metadata: { name: c.name, attempt },
    image: o.imageRef ?? c.image,
    command: (c.command ?? []).map((s) => expand(s, lookup)),
    args: (c.args ?? []).map((s) => expand(s, lookup)),
    workingDir: c.workingDir ?? '',
    envs: envs.value,
    mounts: m.value,
    labels: containerLabels(pod, c),
    annotations: containerAnnotations(pod, c, o),
    logPath: path.join(c.name, `${attempt}.log`),
    stdin: c.stdin === true,
    stdinOnce: c.stdinOnce === true,
    tty: c.tty === true,
    linux: {
      resources: resources.value,
      securityContext: {
        capabilities: {
          add: [...(csc?.capabilities?.add ?? [])],
          drop: [...(csc?.capabilities?.drop ?? [])],
        },
        privileged: csc?.privileged === true,
        namespaceOptions: withPidTarget(namespaceOptions(pod.spec), o.pidTargetId),
        ...(runAsUser === undefined ? {} : { runAsUser }),
        ...(runAsGroup === undefined ? {} : { runAsGroup }),
        readonlyRootfs: csc?.readOnlyRootFilesystem === true,
        supplementalGroups: supplementalGroups(pod.spec),
        // AllowPrivilegeEscalation=false → no_new_privs (kubelet AddNoNewPrivileges).
        noNewPrivs: csc?.allowPrivilegeEscalation === false,
        seccomp: sec,
      },
    },
  });
}
