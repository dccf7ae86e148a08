import { statfs } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import { ConfigError, errorMessage, type Logger } from '../../common/index.js';
import type { JsonObject, ObjectKey } from '../../protocol/index.js';
import type { HardwareReport } from '../hardware/index.js';

const buildNodeReporterConfigSchema = () =>
  z.object({
    nodeName: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a DNS-1123 subdomain'),
    agentVersion: z.string().default('0.1.0'),
    /** Kubernetes minor this agent reports as its kubelet version (kubectl's VERSION column). */
    kubeletVersion: z.string().default('v1.33.0'),
    dataDir: z.string().min(1),
    maxPods: z.number().int().min(1).default(110),
    /** Lease renewal period while connected (upstream kubelet: 10 s, lease duration 40 s). */
    leaseRenewMs: z.number().int().min(100).default(10_000),
    leaseDurationSeconds: z.number().int().min(1).default(40),
    /** Status is written when it changes, and at least this often (upstream: nodeStatusReportFrequency 5 m). */
    statusReportMs: z.number().int().min(100).default(300_000),
    /** How often the status is recomputed to detect changes. */
    statusCheckMs: z.number().int().min(100).default(10_000),
    extraLabels: z.record(z.string(), z.string()).default({}),
    /** The port of the kubelet endpoint the cloud core serves for this node (logs/exec), if any. */
    kubeletPort: z.number().int().min(0).max(65535).default(0),
  });
export const NodeReporterConfigSchema = lazySchema(buildNodeReporterConfigSchema);
export type NodeReporterConfig = z.input<typeof NodeReporterConfigSchema>;

/** Where the reporter writes: the edge outbox (DESIGN §2 upstream: never the API server directly). */
export interface NodeOutbox {
  enqueue(key: ObjectKey, write: { type: 'nodeStatus' | 'lease'; payload: JsonObject }): unknown;
}

/** A condition another component contributes (e.g. EdgeHealthy from the health component, DESIGN §4). */
export interface ConditionSource {
  conditions(): { type: string; status: 'True' | 'False' | 'Unknown'; reason: string; message: string }[];
}

export interface NodeReporterDeps {
  readonly hardware: () => Promise<HardwareReport>;
  /** e.g. "containerd://1.6.20"; undefined while the runtime is unreachable. */
  readonly runtimeVersion: () => Promise<string | undefined>;
  readonly online: () => boolean;
  /**
   * True while the session's cloud renews the Lease itself (welcome feature `leaseByCloud`,
   * issue 12): the reporter then queues no `lease` writes. Absent: the edge always renews.
   */
  readonly leaseByCloud?: () => boolean;
  readonly outbox: NodeOutbox;
  readonly kick?: () => void;
  readonly conditionSources?: readonly ConditionSource[];
  /**
   * The kubelet part's view of the runtime (PodManager.runtimeHealthy): Ready follows it, as
   * kubelet's Ready follows its runtime status check. Absent: Ready follows `runtimeVersion`.
   */
  readonly runtimeHealth?: () => { healthy: boolean; reason: string };
}

/**
 * Registration and heartbeat (DESIGN §3): the Node's labels and status and its Lease in
 * kube-node-lease, written through the channel's outbox. The lease is renewed only while
 * connected — a renewal queued offline would claim liveness the cloud could not see — and not at
 * all when the cloud renews it from the link's liveness (`leaseByCloud`).
 */
export class NodeReporter {
  readonly name = 'node-reporter';
  private readonly cfg: z.output<typeof NodeReporterConfigSchema>;
  private timers: NodeJS.Timeout[] = [];
  private lastDigest = '';
  private lastReportAt = 0;
  private readonly transitions = new Map<string, { status: string; at: string }>();
  private hw: HardwareReport | undefined;

  constructor(
    config: NodeReporterConfig,
    private readonly deps: NodeReporterDeps,
    private readonly log: Logger,
  ) {
    const parsed = NodeReporterConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid node configuration',
        parsed.error.issues.map((i) => `node.${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
  }

  get nodeKey(): ObjectKey {
    return { group: '', version: 'v1', kind: 'Node', name: this.cfg.nodeName };
  }

  async start(): Promise<void> {
    this.hw = await this.deps.hardware();
    await this.report(true);
    this.timers.push(
      setInterval(() => {
        this.report(false).catch((e: unknown) => {
          this.log.warn({ err: errorMessage(e) }, 'node status report failed');
        });
      }, this.cfg.statusCheckMs),
      setInterval(() => {
        this.renewLease();
      }, this.cfg.leaseRenewMs),
    );
    for (const t of this.timers) t.unref();
    this.renewLease();
  }

  stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    return Promise.resolve();
  }

  /** Called when the link comes online: the cloud should see us at once. */
  connected(): void {
    this.renewLease();
    void this.report(true);
  }

  renewLease(): void {
    // An older cloud does not offer leaseByCloud: then the edge keeps renewing (negotiation, issue 12).
    if (!this.deps.online() || this.deps.leaseByCloud?.() === true) return;
    this.deps.outbox.enqueue(
      {
        group: 'coordination.k8s.io',
        version: 'v1',
        kind: 'Lease',
        namespace: 'kube-node-lease',
        name: this.cfg.nodeName,
      },
      {
        type: 'lease',
        payload: {
          holderIdentity: this.cfg.nodeName,
          leaseDurationSeconds: this.cfg.leaseDurationSeconds,
          renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        },
      },
    );
    this.deps.kick?.();
  }

  /** Builds the status and queues it when it changed or the report period passed. */
  async report(force: boolean): Promise<void> {
    const hw = this.hw ?? (this.hw = await this.deps.hardware());
    const status = await this.buildStatus(hw);
    const labels = this.labels(hw);
    // Conditions count by type/status/reason: heartbeat times and free-text messages (e.g. the
    // health status string with its live values) must not turn every check into a write.
    const conds = (status['conditions'] as JsonObject[]).map((c) => [c['type'], c['status'], c['reason']]);
    const digest = JSON.stringify({
      status: { ...status, conditions: undefined },
      conds,
      labels,
    });
    const now = Date.now();
    if (!force && digest === this.lastDigest && now - this.lastReportAt < this.cfg.statusReportMs) return;
    this.lastDigest = digest;
    this.lastReportAt = now;
    this.deps.outbox.enqueue(this.nodeKey, {
      type: 'nodeStatus',
      payload: { metadata: { labels }, status },
    });
    this.deps.kick?.();
  }

  labels(hw: HardwareReport): Record<string, string> {
    return {
      ...hw.labels,
      'kubernetes.io/hostname': this.cfg.nodeName,
      'node-role.kubernetes.io/edge': '',
      ...this.cfg.extraLabels,
    };
  }

  private condition(
    type: string,
    status: 'True' | 'False' | 'Unknown',
    reason: string,
    message: string,
    now: string,
  ): JsonObject {
    const prev = this.transitions.get(type);
    if (prev?.status !== status) this.transitions.set(type, { status, at: now });
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: this.transitions.get(type)?.at ?? now,
    };
  }

  private readyCondition(runtime: string | undefined, now: string): JsonObject {
    const rh = this.deps.runtimeHealth?.();
    if (rh !== undefined ? !rh.healthy : runtime === undefined) {
      const why = rh?.reason ?? '';
      return this.condition(
        'Ready',
        'False',
        'ContainerRuntimeUnreachable',
        `container runtime is down; running pods are kept${why === '' ? '' : `: ${why}`}`,
        now,
      );
    }
    return this.condition('Ready', 'True', 'KubeletReady', 'tether edge agent is posting ready status', now);
  }

  private async buildStatus(hw: HardwareReport): Promise<JsonObject> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const runtime = await this.deps.runtimeVersion().catch(() => undefined);
    let storage: string | undefined;
    try {
      const s = await statfs(this.cfg.dataDir);
      storage = String(s.blocks * s.bsize);
    } catch {
      storage = undefined;
    }
    const capacity: Record<string, string> = {
      cpu: hw.capacity.cpu,
      memory: hw.capacity.memory,
      pods: String(this.cfg.maxPods),
      ...(storage === undefined ? {} : { 'ephemeral-storage': storage }),
      ...Object.fromEntries(Object.entries(hw.extendedResources).map(([k, v]) => [k, String(v)])),
    };
    // Sources (health units) may own the pressure types; the fixed False defaults apply only to
    // types nobody provides — decided before `condition()`, which records transitions.
    const extra = (this.deps.conditionSources ?? []).flatMap((s) => s.conditions());
    const provided = new Set(extra.map((c) => c.type));
    const defaults: [string, string, string][] = [
      ['MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ];
    const conditions = [
      ...defaults
        .filter(([type]) => !provided.has(type))
        .map(([type, reason, message]) => this.condition(type, 'False', reason, message, now)),
      this.readyCondition(runtime, now),
      ...extra.map((c) => this.condition(c.type, c.status, c.reason, c.message, now)),
    ];
    return {
      capacity,
      allocatable: capacity,
      conditions,
      addresses: addresses(this.cfg.nodeName),
      daemonEndpoints: { kubeletEndpoint: { Port: this.cfg.kubeletPort } },
      nodeInfo: {
        machineID: hw.nodeInfo.machineID ?? '',
        systemUUID: hw.nodeInfo.systemUUID ?? '',
        bootID: hw.nodeInfo.bootID ?? '',
        kernelVersion: hw.nodeInfo.kernelVersion ?? '',
        osImage: hw.nodeInfo.osImage ?? '',
        containerRuntimeVersion: runtime ?? 'unknown',
        kubeletVersion: `${this.cfg.kubeletVersion}-tether.${this.cfg.agentVersion}`,
        kubeProxyVersion: '',
        operatingSystem: hw.nodeInfo.operatingSystem,
        architecture: hw.nodeInfo.architecture,
      },
    };
  }
}

function addresses(node: string): JsonObject[] {
  const out: JsonObject[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === 'IPv4' && out.length === 0)
        out.push({ type: 'InternalIP', address: a.address });
    }
  }
  out.push({ type: 'Hostname', address: node || hostname() });
  return out;
}
