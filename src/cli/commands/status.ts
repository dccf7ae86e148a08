import { Option, type Command } from 'commander';
import { errorMessage } from '../../common/index.js';
import type { KubeClient } from '../../cloud/kube/index.js';
import { EXIT } from '../exit.js';
import { kubeApiUnreachable } from '../errors.js';
import { adminKube, kubeconfigOption } from './token.js';

/** Where `tether cloud` and `tether up` serve the cloud core's Prometheus metrics by default. */
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:10352/metrics';

/** The label every edge Node carries (src/edge/node reporter). */
const EDGE_ROLE = 'node-role.kubernetes.io/edge';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | Date;
}
interface NodeObj {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: Condition[] };
}
interface LeaseObj {
  metadata?: { name?: string };
  spec?: { renewTime?: string | Date; leaseDurationSeconds?: number };
}
interface DeviceObj {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeName?: string };
  status?: { conditions?: Condition[] };
}

/** One node in `tether status -o json`; this shape is stable (docs/operations.md). */
export interface NodeStatus {
  name: string;
  /** Ready=True: the edge is connected and its runtime healthy. */
  online: boolean;
  /** The Ready condition: True/False/Unknown, and since when (lastTransitionTime). */
  ready: { status: string; since: string | null; reason: string | null };
  /** Last Lease renewal (renewed only while the edge is connected). */
  leaseRenewTime: string | null;
  /** The Lease's spec.leaseDurationSeconds; null when the node has no Lease. */
  leaseDurationSeconds: number | null;
  /**
   * The Lease is older than its duration: whoever renews it (the cloud from link liveness, or an old
   * edge itself) has stopped, though Ready may still say True until the lifecycle controller's grace
   * period passes. false when there is no Lease (nothing to judge by).
   */
  leaseStale: boolean;
  /** The EdgeHealthy condition: verdict Healthy/Degraded/Unhealthy, or null when not reported. */
  health: { verdict: string | null; status: string | null };
  devices: { total: number; online: number };
  /** Objects waiting to be sent or acked to this node (tether_sync_queue_depth); null when unknown. */
  queueDepth: number | null;
}

export interface FleetStatus {
  nodes: NodeStatus[];
  /** Devices bound to nodes that are not edges or do not exist. */
  unboundDevices: number;
  metrics: { url: string; reachable: boolean; error: string | null; connectedNodes: number | null };
  summary: {
    nodes: number;
    online: number;
    healthy: number;
    /** Nodes whose Lease is older than its duration (see NodeStatus.leaseStale). */
    staleLeases: number;
    devices: number;
    devicesOnline: number;
  };
}

const iso = (t: string | Date | undefined): string | null =>
  t === undefined ? null : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Parses the Prometheus text format lines we need (no dependency: a handful of samples). */
export function parseMetrics(text: string): { depth: Map<string, number>; connected: number | null } {
  const depth = new Map<string, number>();
  let connected: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^tether_sync_queue_depth\{[^}]*node="([^"]*)"[^}]*\}\s+(\S+)/.exec(line);
    if (m?.[1] !== undefined) depth.set(m[1], Number(m[2]));
    const c = /^tether_hub_connected_nodes(?:\{\})?\s+(\S+)/.exec(line);
    if (c !== null) connected = Number(c[1]);
  }
  return { depth, connected };
}

async function scrape(url: string): Promise<FleetStatus['metrics'] & { depth: Map<string, number> }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { depth, connected } = parseMetrics(await res.text());
    return { url, reachable: true, error: null, connectedNodes: connected, depth };
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    return {
      url,
      reachable: false,
      error: cause === undefined ? errorMessage(e) : errorMessage(cause),
      connectedNodes: null,
      depth: new Map(),
    };
  }
}

/** Reads the fleet from Kubernetes (and the cloud core's metrics when reachable). */
export async function fleetStatus(
  kube: KubeClient,
  metricsUrl: string,
  now: number = Date.now(),
): Promise<FleetStatus> {
  const [nodes, leases, devices, metrics] = await Promise.all([
    kube.core.listNode({ labelSelector: EDGE_ROLE }) as Promise<{ items: NodeObj[] }>,
    kube.coordination
      .listNamespacedLease({ namespace: 'kube-node-lease' })
      .then((l) => l as { items: LeaseObj[] })
      .catch(() => ({ items: [] as LeaseObj[] })),
    // No Device CRD installed is not an error: a fleet without devices.
    (
      kube.custom.listClusterCustomObject({
        group: 'devices.tether.dev',
        version: 'v1alpha1',
        plural: 'devices',
      }) as Promise<{ items: DeviceObj[] }>
    ).catch(() => ({ items: [] as DeviceObj[] })),
    scrape(metricsUrl),
  ]);
  const lease = new Map(
    leases.items.map((l) => [
      l.metadata?.name ?? '',
      { renewTime: iso(l.spec?.renewTime), durationSeconds: l.spec?.leaseDurationSeconds ?? null },
    ]),
  );
  const perNode = new Map<string, { total: number; online: number }>();
  for (const d of devices.items) {
    const n = d.spec?.nodeName ?? '';
    const c = perNode.get(n) ?? { total: 0, online: 0 };
    c.total++;
    if (d.status?.conditions?.some((x) => x.type === 'Online' && x.status === 'True') === true) c.online++;
    perNode.set(n, c);
  }
  const out: NodeStatus[] = nodes.items
    .map((n): NodeStatus => {
      const name = n.metadata?.name ?? '';
      const conds = n.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      const healthy = conds.find((c) => c.type === 'EdgeHealthy');
      const dev = perNode.get(name) ?? { total: 0, online: 0 };
      perNode.delete(name);
      const l = lease.get(name);
      return {
        name,
        online: ready?.status === 'True',
        ready: {
          status: ready?.status ?? 'Unknown',
          since: iso(ready?.lastTransitionTime),
          reason: ready?.reason ?? null,
        },
        leaseRenewTime: l?.renewTime ?? null,
        leaseDurationSeconds: l?.durationSeconds ?? null,
        leaseStale: l === undefined ? false : isStale(l.renewTime, l.durationSeconds, now),
        health: { verdict: healthy?.reason ?? null, status: healthy?.message ?? null },
        devices: dev,
        queueDepth: metrics.reachable ? (metrics.depth.get(name) ?? 0) : null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const { depth: _depth, ...metricsOut } = metrics;
  return {
    nodes: out,
    unboundDevices: [...perNode.values()].reduce((a, c) => a + c.total, 0),
    metrics: metricsOut,
    summary: {
      nodes: out.length,
      online: out.filter((n) => n.online).length,
      healthy: out.filter((n) => n.health.verdict === 'Healthy' && !n.leaseStale).length,
      staleLeases: out.filter((n) => n.leaseStale).length,
      devices: devices.items.length,
      devicesOnline: out.reduce((a, n) => a + n.devices.online, 0),
    },
  };
}

/**
 * A Lease is stale once renewTime + leaseDurationSeconds has passed — the same test as client-go's
 * leader election and the node lifecycle controller's (which waits its grace period, 40-50 s,
 * before it sets Ready=Unknown "Kubelet stopped posting node status."). A Lease without a renewTime
 * was never renewed: stale. Without a duration there is no bound: not stale.
 */
export function isStale(renewTime: string | null, durationSeconds: number | null, now: number): boolean {
  if (durationSeconds === null) return false;
  if (renewTime === null) return true;
  return now - Date.parse(renewTime) > durationSeconds * 1000;
}

/** 42s, 7m, 3h, 2d — kubectl's AGE style. */
export function ago(at: string | null, now: number): string {
  if (at === null) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(at)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** Online, Offline, or `Online (lease stale 52s)`: Ready still True but nothing renews its Lease. */
function stateCell(n: NodeStatus, now: number): string {
  if (!n.online) return 'Offline';
  return n.leaseStale ? `Online (lease stale ${ago(n.leaseRenewTime, now)})` : 'Online';
}

/** The table: one row per edge node, then the metrics source. */
export function formatStatus(f: FleetStatus, now = Date.now()): string {
  if (f.nodes.length === 0)
    return 'No edge nodes. Join one with `tether token create` and the `tether edge join …` it prints.';
  const rows = [
    ['NODE', 'STATE', 'SINCE', 'LEASE', 'HEALTH', 'DEVICES', 'QUEUE'],
    ...f.nodes.map((n) => [
      n.name,
      stateCell(n, now),
      ago(n.ready.since, now),
      n.leaseRenewTime === null ? '-' : `${ago(n.leaseRenewTime, now)} ago`,
      n.health.verdict ?? 'Unknown',
      `${n.devices.online}/${n.devices.total} online`,
      n.queueDepth === null ? 'unknown' : String(n.queueDepth),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd(),
  );
  const s = f.summary;
  lines.push(
    '',
    `${s.online}/${s.nodes} nodes online, ${s.healthy}/${s.nodes} healthy` +
      (s.staleLeases > 0 ? `, ${s.staleLeases} with a stale lease` : '') +
      `, ${s.devicesOnline}/${s.devices} devices online` +
      (f.unboundDevices > 0 ? ` (${f.unboundDevices} bound to no edge node)` : ''),
    f.metrics.reachable
      ? `queues from ${f.metrics.url}`
      : `queues unknown: cloud metrics at ${f.metrics.url} not reachable (${f.metrics.error ?? 'no answer'}); pass --metrics-url`,
  );
  return lines.join('\n');
}

/** Every node online, Healthy, and its Lease fresh (a stale Lease means Ready=True is not current). */
export const allWell = (f: FleetStatus): boolean =>
  f.nodes.every((n) => n.online && !n.leaseStale && n.health.verdict === 'Healthy');

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('the fleet at a glance: edge nodes online/offline and since when, health, devices, queues')
    .addOption(kubeconfigOption())
    .addOption(
      new Option('--metrics-url <url>', "the cloud core's Prometheus endpoint (for queue depths)")
        .env('TETHER_METRICS_URL')
        .default(DEFAULT_METRICS_URL),
    )
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 every edge node online and Healthy, 3 some node offline, not Healthy, or its Lease
stale (older than its leaseDurationSeconds: shown as "Online (lease stale 52s)"),
4 the Kubernetes API is unreachable, 1 other errors, 2 wrong usage.
An unreachable metrics endpoint is not an error: queues show as "unknown".

Examples:
  tether status
  tether status -o json | jq '.nodes[] | select(.online | not) | .name'
  tether status --kubeconfig ~/.kube/config --metrics-url http://cloud.example.com:10352/metrics`,
    )
    .action(async (opts: { kubeconfig?: string; metricsUrl: string; output: 'table' | 'json' }) => {
      const kube = adminKube(opts.kubeconfig);
      let f: FleetStatus;
      try {
        f = await fleetStatus(kube, opts.metricsUrl);
      } catch (e) {
        throw kubeApiUnreachable(e, kube.kc.getCurrentCluster()?.server);
      }
      console.log(opts.output === 'json' ? JSON.stringify(f, null, 2) : formatStatus(f));
      if (!allWell(f)) process.exitCode = EXIT.degraded;
    });
}
