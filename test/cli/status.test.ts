/**
 * `tether status` and the node Lease: a node whose Lease is older than its leaseDurationSeconds is
 * shown as stale and is not well (exit 3), though its Ready condition still says True — the window
 * before the node lifecycle controller's grace period passes (session-3 README walkthrough: a cut
 * edge still showed Online with a 37 s old Lease).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, startControlPlane, type ControlPlane } from '../support/controlplane.js';
import { tether } from '../support/procs.js';
import { adminKube } from '../../src/cli/commands/token.js';
import {
  allWell,
  fleetStatus,
  formatStatus,
  isStale,
  type FleetStatus,
} from '../../src/cli/commands/status.js';

/** No metrics endpoint in these tests: queues are "unknown", which never fails the command. */
const NO_METRICS = 'http://127.0.0.1:1/metrics';

const micro = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

function manifests(now: number): string {
  const docs: unknown[] = [];
  // [name, lease age in seconds, lease duration]
  for (const [name, age, duration] of [
    ['ls-fresh', 2, 40],
    ['ls-stale', 95, 40],
  ] as const) {
    docs.push(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'node-role.kubernetes.io/edge': '' } },
      },
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease' },
        spec: { holderIdentity: name, leaseDurationSeconds: duration, renewTime: micro(now - age * 1000) },
      },
    );
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
}

const wellConditions = (at: string): string =>
  JSON.stringify({
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'EdgeConnected',
          lastHeartbeatTime: at,
          lastTransitionTime: at,
        },
        {
          type: 'EdgeHealthy',
          status: 'True',
          reason: 'Healthy',
          message: 'cpu=01',
          lastHeartbeatTime: at,
          lastTransitionTime: at,
        },
      ],
    },
  });

describe('cli — tether status and node Leases', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
    const now = Date.now();
    // upstream creates kube-node-lease itself; the embedded server may not have it yet
    await kubectl(cp, ['create', 'namespace', 'kube-node-lease'], { allowFailure: true });
    await kubectl(cp, ['apply', '-f', '-'], { input: manifests(now) });
    const at = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const name of ['ls-fresh', 'ls-stale'])
      await kubectl(cp, [
        'patch',
        'node',
        name,
        '--subresource=status',
        '--type=merge',
        '-p',
        wellConditions(at),
      ]);
  }, 600_000);

  afterAll(async () => {
    await cp.stop();
  });

  it('status — a Lease older than its duration is stale: shown on an Online node, not healthy, not well', async () => {
    const f = await fleetStatus(adminKube(cp.kubeconfigPath), NO_METRICS);
    const by = new Map(f.nodes.map((n) => [n.name, n]));
    expect(by.get('ls-fresh')).toMatchObject({ online: true, leaseDurationSeconds: 40, leaseStale: false });
    expect(by.get('ls-stale')).toMatchObject({ online: true, leaseDurationSeconds: 40, leaseStale: true });
    expect(f.summary).toMatchObject({ nodes: 2, online: 2, healthy: 1, staleLeases: 1 });
    expect(allWell(f)).toBe(false);
    // the fresh node alone is well: staleness is what fails the fleet
    const fresh: FleetStatus = { ...f, nodes: f.nodes.filter((n) => n.name === 'ls-fresh') };
    expect(allWell(fresh)).toBe(true);

    const table = formatStatus(f);
    expect(table).toMatch(/ls-fresh\s+Online\s+\S+\s+\d+s ago\s+Healthy/);
    expect(table).toMatch(/ls-stale\s+Online \(lease stale \d+[sm]\)/);
    expect(table).toContain('2/2 nodes online, 1/2 healthy, 1 with a stale lease');
  }, 120_000);

  it('status — the command exits 3 and -o json carries leaseStale when one Lease is stale', async () => {
    const p = tether(['status', '-o', 'json', '--metrics-url', NO_METRICS], {
      KUBECONFIG: cp.kubeconfigPath,
    });
    const [code] = (await once(p.child, 'exit')) as [number | null];
    expect(code, p.output()).toBe(3);
    const out = p.output();
    const f = JSON.parse(out.slice(out.indexOf('{'))) as FleetStatus;
    expect(f.nodes.map((n) => [n.name, n.leaseStale])).toEqual([
      ['ls-fresh', false],
      ['ls-stale', true],
    ]);
  }, 180_000);

  it('status — isStale: past renewTime + duration, never without a duration', () => {
    const t0 = Date.parse('2026-11-27T00:00:00Z');
    expect(isStale('2026-11-27T00:00:00Z', 40, t0 + 40_000)).toBe(false);
    expect(isStale('2026-11-27T00:00:00Z', 40, t0 + 40_001)).toBe(true);
    expect(isStale(null, 40, t0)).toBe(true);
    expect(isStale('2026-11-27T00:00:00Z', null, t0 + 3_600_000)).toBe(false);
  });
});
