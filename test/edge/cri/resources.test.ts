import { describe, expect, it } from 'vitest';
import {
  Quantity,
  containerLinuxResources,
  containerOomScoreAdj,
  milliCpuToQuota,
  milliCpuToShares,
  podQos,
  type Container,
  type Pod,
  type ResourceRequirements,
} from '../../../src/edge/cri/index.js';

function pod(containers: ResourceRequirements[], init: ResourceRequirements[] = []): Pod {
  const c = (r: ResourceRequirements, i: number): Container => ({ name: `c${i}`, image: 'x', resources: r });
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: { containers: containers.map(c), initContainers: init.map(c) },
  };
}

const CAPACITY = 4_000_000_000;

describe('edge/cri resources (upstream kubelet arithmetic)', () => {
  // pkg/kubelet/cm/helpers_linux_test.go and kuberuntime tests.
  it.each([
    [0, 2],
    [1, 2],
    [2, 2],
    [10, 10],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [1500, 1536],
    [300_000, 262144],
  ])('edge/cri — %i millicores → %i cpu shares', (milli, shares) => {
    expect(milliCpuToShares(milli)).toBe(shares);
  });

  it.each([
    [0, 0],
    [5, 1000],
    [9, 1000],
    [10, 1000],
    [200, 20000],
    [500, 50000],
    [1000, 100000],
    [1500, 150000],
  ])('edge/cri — %i millicores → CFS quota %i over the 100 ms period', (milli, quota) => {
    expect(milliCpuToQuota(milli, 100000)).toBe(quota);
  });

  it.each<[string, ResourceRequirements, object]>([
    // kuberuntime_container_linux_test.go TestCalculateLinuxResources
    [
      'Request128MBLimit256MB',
      { requests: { cpu: '1' }, limits: { cpu: '2', memory: '128Mi' } },
      { cpuPeriod: 100000, cpuQuota: 200000, cpuShares: 1024, memoryLimitInBytes: 134217728 },
    ],
    [
      'RequestNoMemory',
      { requests: { cpu: '2' }, limits: { cpu: '8', memory: '0' } },
      { cpuPeriod: 100000, cpuQuota: 800000, cpuShares: 2048, memoryLimitInBytes: 0 },
    ],
    [
      'RequestNilCPU',
      { limits: { cpu: '2', memory: '0' } },
      { cpuPeriod: 100000, cpuQuota: 200000, cpuShares: 2048, memoryLimitInBytes: 0 },
    ],
    [
      'RequestZeroCPU',
      { requests: { cpu: '0' }, limits: { cpu: '2', memory: '0' } },
      { cpuPeriod: 100000, cpuQuota: 200000, cpuShares: 2048, memoryLimitInBytes: 0 },
    ],
    [
      'NoResources',
      {},
      { cpuPeriod: 100000, cpuQuota: 0, cpuShares: 2, memoryLimitInBytes: 0, oomScoreAdj: 1000 },
    ],
    [
      'Millicores',
      { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      { cpuPeriod: 100000, cpuQuota: 50000, cpuShares: 256, memoryLimitInBytes: 134217728 },
    ],
  ])('edge/cri — linux resources %s match kubelet', (_name, res, expected) => {
    const p = pod([res]);
    const qos = podQos(p);
    if (!qos.ok) throw qos.error;
    const r = containerLinuxResources(p, qos.value, p.spec.containers[0]!, { memoryCapacityBytes: CAPACITY });
    expect(r.ok && r.value).toMatchObject(expected);
  });

  it('edge/cri — without CFS quota enforcement no period or quota is set', () => {
    const p = pod([{ limits: { cpu: '2' } }]);
    const r = containerLinuxResources(p, 'Burstable', p.spec.containers[0]!, {
      memoryCapacityBytes: CAPACITY,
      cpuCfsQuota: false,
    });
    expect(r.ok && r.value).toMatchObject({ cpuPeriod: 0, cpuQuota: 0, cpuShares: 2048 });
  });

  it('edge/cri — a bad quantity in resources is an error value', () => {
    const p = pod([{ limits: { memory: '12 parsecs' } }]);
    const r = containerLinuxResources(p, 'Burstable', p.spec.containers[0]!, {
      memoryCapacityBytes: CAPACITY,
    });
    expect(r.ok).toBe(false);
    expect(podQos(p).ok).toBe(false);
  });

  it.each<[string, ResourceRequirements[], ResourceRequirements[], string]>([
    ['no resources', [{}, {}], [], 'BestEffort'],
    [
      'limits = requests for cpu and memory',
      [{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }],
      [],
      'Guaranteed',
    ],
    [
      'limits only (requests defaulted from limits)',
      [{ limits: { cpu: '100m', memory: '100Mi' } }],
      [],
      'Guaranteed',
    ],
    ['memory limit missing', [{ limits: { cpu: '1' } }], [], 'Burstable'],
    [
      'request below limit',
      [{ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }],
      [],
      'Burstable',
    ],
    [
      'one guaranteed, one best-effort container',
      [{ limits: { cpu: '1', memory: '1Gi' } }, {}],
      [],
      'Burstable',
    ],
    [
      'init container without limits',
      [{ limits: { cpu: '1', memory: '1Gi' } }],
      [{ requests: { cpu: '1' } }],
      'Burstable',
    ],
    ['extended resources only', [{ limits: { 'nvidia.com/gpu': '1' } }], [], 'BestEffort'],
    ['zero requests', [{ requests: { cpu: '0', memory: '0' } }], [], 'BestEffort'],
  ])('edge/cri — QoS of a pod with %s', (_name, containers, init, expected) => {
    const r = podQos(pod(containers, init));
    expect(r.ok && r.value).toBe(expected);
  });

  it('edge/cri — OOM score adjustment follows kubelet qos/policy.go', () => {
    const p = pod([{}]);
    expect(containerOomScoreAdj('Guaranteed', p, 0, CAPACITY)).toBe(-997);
    expect(containerOomScoreAdj('BestEffort', p, 0, CAPACITY)).toBe(1000);
    // Burstable: 1000 - 1000*request/capacity, within [3, 999].
    expect(containerOomScoreAdj('Burstable', p, CAPACITY / 2, CAPACITY)).toBe(500);
    expect(containerOomScoreAdj('Burstable', p, CAPACITY / 10, CAPACITY)).toBe(900);
    expect(containerOomScoreAdj('Burstable', p, 0, CAPACITY)).toBe(999);
    expect(containerOomScoreAdj('Burstable', p, CAPACITY, CAPACITY)).toBe(3);
    expect(containerOomScoreAdj('Burstable', p, CAPACITY * 2, CAPACITY)).toBe(3);
    // 1000 - 1000*1/4e9 truncates to 1000 → 999, as in Go.
    expect(containerOomScoreAdj('Burstable', p, 1, CAPACITY)).toBe(999);
    const critical: Pod = { ...p, spec: { ...p.spec, priority: 2_000_001_000 } };
    expect(containerOomScoreAdj('BestEffort', critical, 0, CAPACITY)).toBe(-997);
  });

  it('edge/cri — the burstable OOM score uses the defaulted memory request', () => {
    const p = pod([{ requests: { memory: '1G' }, limits: { cpu: '1' } }]);
    const r = containerLinuxResources(p, 'Burstable', p.spec.containers[0]!, {
      memoryCapacityBytes: CAPACITY,
    });
    expect(r.ok && r.value.oomScoreAdj).toBe(750);
    expect(Quantity.must('1G').value()).toBe(1e9);
  });
});
