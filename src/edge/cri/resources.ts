import { ok, type Result } from '../../common/index.js';
import type { Container, Pod, ResourceList } from './podspec.js';
import { Quantity, type InvalidQuantityError } from './quantity.js';
import type { LinuxResources } from './types.js';

/**
 * Resource arithmetic exactly as upstream kubelet does it, so a pod gets the same cgroup
 * values on a Tether edge as on a kubelet node:
 * pkg/kubelet/cm/helpers_linux.go (MilliCPUToShares, MilliCPUToQuota),
 * pkg/kubelet/kuberuntime/kuberuntime_container_linux.go (calculateLinuxResources),
 * pkg/kubelet/qos/policy.go (GetContainerOOMScoreAdjust), pkg/apis/core/v1/helper/qos (QoS).
 */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
export const SHARES_PER_CPU = 1024;
export const MILLI_CPU_TO_CPU = 1000;
/** 100 ms, in microseconds: the CFS period kubelet uses unless CPUCFSQuotaPeriod is set. */
export const QUOTA_PERIOD = 100000;
/** 1 ms: the kernel's minimum CFS quota. */
export const MIN_QUOTA_PERIOD = 1000;

export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES; // the kernel's value for "no request"
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

export function milliCpuToQuota(milliCpu: number, period: number = QUOTA_PERIOD): number {
  if (milliCpu === 0) return 0; // 0 = no quota; the runtime leaves cfs_quota_us at -1
  return Math.max(MIN_QUOTA_PERIOD, Math.floor((milliCpu * period) / MILLI_CPU_TO_CPU));
}

function q(list: ResourceList | undefined, name: string): Result<Quantity | undefined, InvalidQuantityError> {
  const s = list?.[name];
  return s === undefined ? ok(undefined) : Quantity.parse(s);
}

/**
 * The API server's defaulting (SetDefaults_Pod): a resource with a limit and no request
 * gets request = limit. The kubelet always sees defaulted pods; we apply it again so a pod
 * from a source that skipped defaulting gets the same QoS and shares. Idempotent.
 */
export function defaultedRequests(c: Container): ResourceList {
  return { ...c.resources?.limits, ...c.resources?.requests };
}

const QOS_RESOURCES = ['cpu', 'memory'] as const;

/** Upstream ComputePodQOS over containers and init containers (pod-level resources unsupported). */
export function podQos(pod: Pod): Result<QosClass, InvalidQuantityError> {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  for (const c of all) {
    const req = defaultedRequests(c);
    for (const name of QOS_RESOURCES) {
      const r = q(req, name);
      if (!r.ok) return r;
      if (r.value !== undefined && r.value.cmp(Quantity.zero()) > 0) {
        requests.set(name, requests.get(name)?.add(r.value) ?? r.value);
      }
    }
    const found = new Set<string>();
    for (const name of QOS_RESOURCES) {
      const l = q(c.resources?.limits, name);
      if (!l.ok) return l;
      if (l.value !== undefined && l.value.cmp(Quantity.zero()) > 0) {
        found.add(name);
        limits.set(name, limits.get(name)?.add(l.value) ?? l.value);
      }
    }
    if (!QOS_RESOURCES.every((n) => found.has(n))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return ok('BestEffort');
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim?.cmp(req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return ok(guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable');
}

/**
 * Upstream GetContainerOOMScoreAdjust. Burstable containers score by the share of node
 * memory they request: 1000 - 1000*request/capacity, kept within (3, 999].
 * Node-critical pods (priority >= 2e9, system-node-critical) score like Guaranteed.
 */
export function containerOomScoreAdj(
  qos: QosClass,
  pod: Pod,
  memoryRequestBytes: number,
  memoryCapacityBytes: number,
): number {
  if ((pod.spec.priority ?? 0) >= 2_000_000_000) return GUARANTEED_OOM_SCORE_ADJ;
  switch (qos) {
    case 'Guaranteed':
      return GUARANTEED_OOM_SCORE_ADJ;
    case 'BestEffort':
      return BESTEFFORT_OOM_SCORE_ADJ;
    case 'Burstable': {
      if (memoryCapacityBytes <= 0) return BESTEFFORT_OOM_SCORE_ADJ - 1; // unknown capacity
      // Go integer division truncates toward zero; both operands are non-negative here.
      const adj = 1000 - Math.floor((1000 * memoryRequestBytes) / memoryCapacityBytes);
      if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
      if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
      return adj;
    }
  }
}

export interface ResourceOptions {
  /** Node memory capacity in bytes (for the Burstable OOM score). */
  memoryCapacityBytes: number;
  /** kubelet --cpu-cfs-quota (default true): enforce CPU limits with CFS quota. */
  cpuCfsQuota?: boolean;
  cpuCfsQuotaPeriod?: number;
}

/** Upstream calculateLinuxResources + the OOM score: a container's cgroup values. */
export function containerLinuxResources(
  pod: Pod,
  qos: QosClass,
  c: Container,
  opts: ResourceOptions,
): Result<LinuxResources, InvalidQuantityError> {
  const requests = defaultedRequests(c);
  const cpuReq = q(requests, 'cpu');
  const cpuLim = q(c.resources?.limits, 'cpu');
  const memLim = q(c.resources?.limits, 'memory');
  const memReq = q(requests, 'memory');
  if (!cpuReq.ok) return cpuReq;
  if (!cpuLim.ok) return cpuLim;
  if (!memLim.ok) return memLim;
  if (!memReq.ok) return memReq;
  const reqMilli = cpuReq.value?.milliValue() ?? 0;
  const limMilli = cpuLim.value?.milliValue() ?? 0;
  // "If request is not specified, but limit is, we want request to default to limit."
  const cpuShares =
    reqMilli === 0 && limMilli !== 0 ? milliCpuToShares(limMilli) : milliCpuToShares(reqMilli);
  const enforceQuota = opts.cpuCfsQuota ?? true;
  const period = opts.cpuCfsQuotaPeriod ?? QUOTA_PERIOD;
  return ok({
    cpuShares,
    cpuPeriod: enforceQuota ? period : 0,
    cpuQuota: enforceQuota ? milliCpuToQuota(limMilli, period) : 0,
    memoryLimitInBytes: memLim.value?.value() ?? 0,
    oomScoreAdj: containerOomScoreAdj(qos, pod, memReq.value?.value() ?? 0, opts.memoryCapacityBytes),
  });
}
