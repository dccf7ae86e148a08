/**
 * Hollow edge (issue 12): a simulated edge node that runs the real `Link`, `EdgeStore` and
 * `NodeReporter` over real TLS, each with its own client certificate, and fakes only the
 * container runtime — a pod bound to it is reported Running through the outbox (as the real pod
 * manager does: `store.enqueue(podStatus)` then the link sends it) without any container.
 * Many of them run in one process. For benchmarks only (bench/scale.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDGE_GROUP } from '../../src/cloud/hub/index.js';
import {
  createCsr,
  createRegistry,
  silentLogger,
  type CertificateAuthority,
  type Registry,
} from '../../src/common/index.js';
import { discoverHardware } from '../../src/edge/hardware/index.js';
import { Link } from '../../src/edge/link/index.js';
import { NodeReporter } from '../../src/edge/node/index.js';
import { EdgeStore } from '../../src/edge/store/index.js';
import { CLOUD_FEATURES, type JsonObject, type Uid } from '../../src/protocol/index.js';

type Hardware = Awaited<ReturnType<typeof discoverHardware>>;
let hardware: Promise<Hardware> | undefined;
/** One hardware discovery shared by every hollow edge (they all "run" on this machine). */
const sharedHardware = (): Promise<Hardware> => (hardware ??= discoverHardware({ root: '/' }));

export interface HollowEdgeOptions {
  readonly name: string;
  readonly index: number;
  readonly dir: string;
  readonly cloudUrl: string;
  readonly ca: CertificateAuthority;
  /** The node reporter (Node object + Lease heartbeats). Off: the edge only holds the link. */
  readonly reportNode?: boolean;
  /** false: pods bound to the edge are only stored, never reported Running (bench/channel.ts). */
  readonly runPods?: boolean;
  /** Lease renewal period (the real agent's default is 10 s). */
  readonly leaseRenewMs?: number;
  /**
   * SQLite synchronous level of the edge store. Production is FULL (an fsync per commit on the
   * edge's own disk); a thousand hollow edges in one process would serialise those fsyncs on one
   * thread and one disk and measure that instead of the cloud, so benchmarks default to NORMAL.
   */
  readonly storeSync?: 'FULL' | 'NORMAL';
  /**
   * Where the edge store lives: `file` (default, production's layout: one SQLite file per edge,
   * ~3 fds with -wal/-shm) or `memory` (`:memory:`, 0 fds, no disk) for runs where the bench
   * process's own fds or disk would limit the count. Figures say which one they used.
   */
  readonly store?: 'file' | 'memory';
  /**
   * The link's outbox poll (production 250 ms; writers kick the link anyway). Thousands of
   * hollow edges polling SQLite 4×/s would spend the bench's CPU, not the cloud's.
   */
  readonly outboxPollMs?: number;
  /** link reconnect.refusedWindowMs (0: plain exponential back-off while refused) */
  readonly refusedWindowMs?: number;
  /**
   * A directory keeping each edge's key and certificate between runs (signed by the CA kept
   * there too, see bench/scale.ts --pki-cache): joining 10,000 edges is otherwise mostly key
   * generation in the bench, not work of the cloud.
   */
  readonly pkiCache?: string;
  /** Registry of this edge's metrics; one shared registry would collide on metric names. */
  readonly registry?: Registry;
}

/** When a pod bound to this edge was first seen in the store and when its Running status was queued. */
export interface PodSeen {
  readonly edge: string;
  readonly name: string;
  readonly namespace: string;
  readonly storedAt: number;
  /** Per-hop timing (epoch ms): the hub's send stamp (`ts` of the envelope), when the link handed it to the store, the store's commit. */
  readonly hubSentAt?: number;
  readonly receivedAt?: number;
  readonly seq?: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

export class HollowEdge {
  readonly name: string;
  readonly index: number;
  readonly store: EdgeStore;
  readonly link: Link;
  readonly reporter: NodeReporter | undefined;
  private readonly storeSync: 'FULL' | 'NORMAL';
  private readonly runPods: boolean;
  private readonly running = new Set<string>();
  /** kind/namespace/name → resourceVersion the store holds, from the link's `applied` events */
  readonly held = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  /** The sync message being applied now (its hub send stamp and when the link handed it over). */
  private applying: { ts: number; seq: number; at: number } | undefined;
  onPod: ((p: PodSeen) => void) | undefined;

  private constructor(opts: HollowEdgeOptions, certPem: string, keyPem: string) {
    this.name = opts.name;
    this.storeSync = opts.storeSync ?? 'NORMAL';
    this.runPods = opts.runPods ?? true;
    this.index = opts.index;
    this.store = new EdgeStore({
      path: opts.store === 'memory' ? ':memory:' : join(opts.dir, `${opts.name}.db`),
    });
    const registry = opts.registry ?? createRegistry();
    this.link = new Link(
      {
        cloudUrl: opts.cloudUrl,
        tls: { certPem, keyPem, caPem: opts.ca.certPem },
        ...(opts.outboxPollMs === undefined ? {} : { outboxPollMs: opts.outboxPollMs }),
        ...(opts.refusedWindowMs === undefined
          ? {}
          : { reconnect: { refusedWindowMs: opts.refusedWindowMs } }),
      },
      this.store,
      silentLogger(),
      registry,
    );
    this.reporter =
      opts.reportNode === false
        ? undefined
        : new NodeReporter(
            {
              nodeName: opts.name,
              dataDir: opts.dir,
              ...(opts.leaseRenewMs === undefined ? {} : { leaseRenewMs: opts.leaseRenewMs }),
            },
            {
              hardware: sharedHardware,
              runtimeVersion: () => Promise.resolve('hollow://1.0.0'),
              runtimeHealth: () => ({ healthy: true, reason: '' }),
              online: () => this.link.state === 'online',
              // as the real agent (src/cli/edge.ts): no lease writes when the cloud renews them
              leaseByCloud: () => this.link.cloudFeatures.includes(CLOUD_FEATURES.leaseByCloud),
              outbox: this.store,
              kick: () => {
                this.link.kick();
              },
            },
            silentLogger(),
          );
  }

  /** Key generation and CSR signing are the slow part of joining; they happen here. */
  static async create(opts: HollowEdgeOptions): Promise<HollowEdge> {
    const cached = opts.pkiCache === undefined ? undefined : join(opts.pkiCache, `${opts.name}.json`);
    if (cached !== undefined && existsSync(cached)) {
      const c = JSON.parse(readFileSync(cached, 'utf8')) as { certPem: string; keyPem: string };
      return new HollowEdge(opts, c.certPem, c.keyPem);
    }
    const { csrPem, keyPem } = await createCsr(opts.name);
    const certPem = await opts.ca.signClientCsr(csrPem, opts.name, [EDGE_GROUP]);
    if (cached !== undefined) writeFileSync(cached, JSON.stringify({ certPem, keyPem }));
    return new HollowEdge(opts, certPem, keyPem);
  }

  async start(): Promise<void> {
    this.store.open();
    if (this.storeSync !== 'FULL') this.store.database.pragma(`synchronous = ${this.storeSync}`);
    // Per-hop timing without touching the product: the link calls applySync synchronously on
    // receipt (after decoding), so its entry is "received by the edge link".
    const apply = this.store.applySync.bind(this.store);
    this.store.applySync = (msg) => {
      const env = msg as typeof msg & { ts?: number };
      this.applying = { ts: env.ts ?? NaN, seq: msg.seq, at: epochNow() };
      try {
        return apply(msg);
      } finally {
        this.applying = undefined;
      }
    };
    this.unsubscribe = this.store.onChange((c) => {
      if (!this.runPods || c.type !== 'upsert' || c.object.key.kind !== 'Pod') return;
      this.runPod(c.object.object, c.object.uid);
    });
    this.link.on('applied', ({ msg }) => {
      const k = `${msg.key.kind}/${msg.key.namespace ?? ''}/${msg.key.name}`;
      if (msg.op === 'upsert') this.held.set(k, msg.resourceVersion);
    });
    this.link.on('online', () => {
      this.reporter?.connected();
    });
    await this.link.start();
    await this.reporter?.start();
  }

  /** The fake runtime: a pod is Running at once, reported once per incarnation (uid). */
  private runPod(pod: JsonObject, uid: Uid): void {
    if (this.running.has(uid)) return;
    const meta = pod['metadata'] as { name: string; namespace: string; generation?: number };
    const spec = pod['spec'] as { containers?: { name: string; image: string }[] };
    this.running.add(uid);
    this.onPod?.({
      edge: this.name,
      name: meta.name,
      namespace: meta.namespace,
      storedAt: epochNow(), // wall clock: compared across processes
      ...(this.applying === undefined
        ? {}
        : { hubSentAt: this.applying.ts, receivedAt: this.applying.at, seq: this.applying.seq }),
    });
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ip = `10.${String((this.index >> 8) & 255)}.${String(this.index & 255)}.2`;
    const cond = (type: string): JsonObject => ({ type, status: 'True', lastTransitionTime: now });
    const status: JsonObject = {
      phase: 'Running',
      conditions: [
        cond('PodReadyToStartContainers'),
        cond('Initialized'),
        cond('Ready'),
        cond('ContainersReady'),
        cond('PodScheduled'),
      ],
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: now,
      containerStatuses: (spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        containerID: `hollow://${uid}-${c.name}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
      qosClass: 'BestEffort',
      ...(meta.generation === undefined ? {} : { observedGeneration: meta.generation }),
    };
    const key = {
      group: '',
      version: 'v1',
      kind: 'Pod',
      namespace: meta.namespace,
      name: meta.name,
    };
    this.store.enqueue(key, { type: 'podStatus', payload: status }, uid);
    this.link.kick();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.reporter?.stop();
    await this.link.stop().catch(() => undefined);
    try {
      this.store.close();
    } catch {
      // already closed
    }
  }
}
