import type { KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram } from 'prom-client';
import { errorMessage, type Logger, type Registry } from '../../common/index.js';
import {
  CLOUD_FEATURES,
  keyId,
  type Envelope,
  type InventoryItem,
  type JsonObject,
  type NodeName,
  type ObjectKey,
  type Status,
  type Uid,
} from '../../protocol/index.js';
import type { CloseReason, EdgeSession, Hub, HubHandler } from '../hub/index.js';
import type { KubeClient, WatchedResource, WriteOutcome } from '../kube/index.js';
import { parseDeviceStatusPayload } from '../../devices/index.js';
import { DeviceStatusLimiter } from './device-status.js';
import { NodeQueue, type Desired, type NodeQueueOptions } from './node-queue.js';
import { OwnershipIndex, nodeKey, type PodLike } from './ownership.js';
import { LeaseRenewer, type LeaseRenewerConfig } from './leases.js';
import { answerServiceAccountToken } from './tokens.js';
import { syncVersion } from './version.js';

const KINDS: Record<WatchedResource, string> = {
  pods: 'Pod',
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  nodes: 'Node',
};

export const DEVICE_GROUP = 'devices.tether.dev';
export const DEVICE_VERSION = 'v1alpha1';

interface DeviceLike extends KubernetesObject {
  spec?: { nodeName?: string; deviceModelRef?: { name?: string } };
}

/**
 * Which Devices and DeviceModels belong to which node (DESIGN §5): the Devices naming the node,
 * and the models those Devices reference (same namespace).
 */
class DeviceIndex {
  private readonly deviceNode = new Map<
    string,
    { node: NodeName; model: ObjectKey | undefined; key: ObjectKey }
  >();
  private readonly modelRefs = new Map<NodeName, Map<string, { key: ObjectKey; n: number }>>();

  updateDevice(key: ObjectKey, dev: DeviceLike | undefined): { node: NodeName; key: ObjectKey }[] {
    const id = keyId(key);
    const out: { node: NodeName; key: ObjectKey }[] = [];
    const before = this.deviceNode.get(id);
    if (before !== undefined) {
      this.deviceNode.delete(id);
      out.push({ node: before.node, key });
      if (before.model !== undefined && this.ref(before.node, before.model, -1))
        out.push({ node: before.node, key: before.model });
    }
    const node = dev?.spec?.nodeName;
    if (dev !== undefined && node) {
      const modelName = dev.spec?.deviceModelRef?.name;
      const model: ObjectKey | undefined =
        modelName && key.namespace !== undefined
          ? {
              group: DEVICE_GROUP,
              version: DEVICE_VERSION,
              kind: 'DeviceModel',
              namespace: key.namespace,
              name: modelName,
            }
          : undefined;
      this.deviceNode.set(id, { node: node as NodeName, model, key });
      out.push({ node: node as NodeName, key });
      if (model !== undefined && this.ref(node as NodeName, model, 1))
        out.push({ node: node as NodeName, key: model });
    }
    return out;
  }

  /** true when the count crossed zero */
  private ref(node: NodeName, model: ObjectKey, d: 1 | -1): boolean {
    let m = this.modelRefs.get(node);
    if (m === undefined) this.modelRefs.set(node, (m = new Map<string, { key: ObjectKey; n: number }>()));
    const id = keyId(model);
    const cur = m.get(id) ?? { key: model, n: 0 };
    cur.n += d;
    if (cur.n <= 0) m.delete(id);
    else m.set(id, cur);
    return (d === 1 && cur.n === 1) || (d === -1 && cur.n <= 0);
  }

  referrersOf(model: ObjectKey): NodeName[] {
    const id = keyId(model);
    return [...this.modelRefs].filter(([, m]) => m.has(id)).map(([n]) => n);
  }

  belongs(node: NodeName, key: ObjectKey): boolean {
    if (key.kind === 'Device') return this.deviceNode.get(keyId(key))?.node === node;
    if (key.kind === 'DeviceModel') return this.modelRefs.get(node)?.has(keyId(key)) === true;
    return false;
  }

  keysOf(node: NodeName): ObjectKey[] {
    const devices = [...this.deviceNode.values()].filter((d) => d.node === node).map((d) => d.key);
    return [...devices, ...[...(this.modelRefs.get(node)?.values() ?? [])].map((r) => r.key)];
  }
}

export interface SyncControllerOptions {
  /** Also sync devices.tether.dev Devices/DeviceModels and write their status (needs the CRDs installed). */
  readonly devices?: boolean;
  /** Device status writes per Device per second at most, the latest always written (issue 9); default 1. */
  readonly deviceStatusPerSecond?: number;
  readonly queue?: Partial<NodeQueueOptions>;
  /** Upstream writes to Kubernetes in flight at once, across all nodes (paces reconnect storms). */
  readonly maxConcurrentWrites?: number;
  /** How often queues are checked for retransmissions. */
  readonly tickMs?: number;
  /**
   * The cloud renews node Leases from link liveness and tells edges so (`leaseByCloud`, issue 12).
   * Absent: off — edges renew through the channel, as before (tests that tune edge lease timing).
   */
  readonly leases?: LeaseRenewerConfig;
  /** Unchanged Node status is re-written at most this often (default 4 min, below the edge's 5 min report). */
  readonly nodeHeartbeatRefreshMs?: number;
}

type Cache = ReturnType<KubeClient['informer']>;

/**
 * The cloud half of DESIGN §2: watches what edges need in Kubernetes, keeps one keyed queue per
 * node, answers each (re)connect's inventory with exactly the difference, and applies upstream
 * writes to Kubernetes, acking only what the API server accepted.
 */
export class SyncController implements HubHandler {
  readonly name = 'sync';
  /** by kind: Pod, ConfigMap, Secret, Node, and with devices enabled Device, DeviceModel */
  private readonly caches = new Map<string, Cache>();
  private readonly devices = new DeviceIndex();
  private readonly ownership = new OwnershipIndex();
  private readonly queues = new Map<NodeName, NodeQueue>();
  /** resolve() results by cached object (WeakMap: dropped with the object the cache replaced) */
  private readonly resolved = new WeakMap<object, Desired>();
  private readonly inventories = new Map<NodeName, InventoryItem[]>();
  private readonly pumpSoon = new Set<NodeName>();
  private pumpScheduled = false;
  private ticker: NodeJS.Timeout | undefined;
  private readonly queueOpts: NodeQueueOptions;
  private writesInFlight = 0;
  private readonly writeWaiters: (() => void)[] = [];
  private readonly maxWrites: number;
  private readonly metrics;
  /** Extra upstream handlers (devices…) by write type. */
  private readonly statusHandlers = new Map<string, (s: EdgeSession, m: Status) => Promise<WriteOutcome>>();
  private readonly deviceLimiter: DeviceStatusLimiter | undefined;
  /** Lease renewal from link liveness; undefined when off. */
  readonly leases: LeaseRenewer | undefined;
  /** Debug level on: log each watch event and sync ack (per-hop timing in bench/scale.ts). */
  private readonly trace: boolean;

  constructor(
    private readonly kube: KubeClient,
    private readonly hub: Hub,
    private readonly log: Logger,
    registry: Registry,
    private readonly opts: SyncControllerOptions = {},
  ) {
    this.queueOpts = {
      window: hub.settings.windowSize,
      stallTimeoutMs: 120_000,
      ...opts.queue,
    };
    this.maxWrites = opts.maxConcurrentWrites ?? 32;
    this.trace = log.isLevelEnabled('debug');
    if (opts.devices === true)
      this.deviceLimiter = new DeviceStatusLimiter(
        {
          write: (s, m) => this.upstream(s, m),
          superseded: (s, m) => s.send({ kind: 'ack', of: 'status', ref: m.id }),
        },
        {
          registry,
          ...(opts.deviceStatusPerSecond === undefined
            ? {}
            : { writesPerSecond: opts.deviceStatusPerSecond }),
        },
      );
    const leases =
      opts.leases === undefined
        ? undefined
        : new LeaseRenewer(opts.leases, kube, hub, log.child({ component: 'leases' }), registry);
    this.leases = leases?.enabled === true ? leases : undefined;
    // edges stop writing leases when the welcome says the cloud renews them (issue 12)
    if (this.leases !== undefined) hub.offer(CLOUD_FEATURES.leaseByCloud);
    const registers = [registry];
    const sum = (f: (q: NodeQueue) => number): number =>
      [...this.queues.values()].reduce((a, q) => a + f(q), 0);
    this.metrics = {
      // Per node only while it has a backlog (absent = 0): one series per node of a 10,000-edge fleet
      // made each scrape ~475 KB and ~0.2–0.5 s of the cloud's CPU (issue 12); the two totals
      // below are what a dashboard plots, the per-node series says which nodes to look at.
      depth: new Gauge({
        name: 'tether_sync_queue_depth',
        help: 'Objects waiting to be sent or acked, per node with a backlog (a node without one has no series)',
        labelNames: ['node'],
        registers,
        collect: () => {
          this.metrics.depth.reset();
          for (const q of this.queues.values())
            if (q.depth > 0) this.metrics.depth.set({ node: q.node }, q.depth);
        },
      }),
      queued: new Gauge({
        name: 'tether_sync_queued_objects',
        help: 'Objects waiting to be sent or acked, all nodes',
        registers,
        collect: () => {
          this.metrics.queued.set(sum((q) => q.depth));
        },
      }),
      backlogged: new Gauge({
        name: 'tether_sync_backlogged_nodes',
        help: 'Nodes with objects waiting to be sent or acked',
        registers,
        collect: () => {
          this.metrics.backlogged.set(sum((q) => (q.depth > 0 ? 1 : 0)));
        },
      }),
      sent: new Gauge({
        name: 'tether_sync_sent',
        help: 'Downstream sync messages sent (first transmissions)',
        registers,
        collect: () => {
          this.metrics.sent.set(sum((q) => q.counters.sent));
        },
      }),
      stalls: new Gauge({
        name: 'tether_sync_stalled_sessions',
        help: 'Edge sessions closed because an ack did not come in time (they resync on reconnect)',
        registers,
        collect: () => {
          this.metrics.stalls.set(sum((q) => q.counters.stalls));
        },
      }),
      redundant: new Gauge({
        name: 'tether_sync_redundant_sends',
        help: 'Sends of a version the edge already held (must stay 0)',
        registers,
        collect: () => {
          this.metrics.redundant.set(sum((q) => q.counters.redundant));
        },
      }),
      ackLatency: new Histogram({
        name: 'tether_sync_ack_latency_seconds',
        help: 'Upstream write: received from the edge → accepted by Kubernetes',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
      upstream: new Counter({
        name: 'tether_sync_upstream_total',
        help: 'Upstream writes by type and outcome',
        labelNames: ['type', 'outcome'],
        registers,
      }),
    };
  }

  /** Registers the handler of an upstream write type owned by another component (e.g. devices). */
  onStatus(type: string, fn: (s: EdgeSession, m: Status) => Promise<WriteOutcome>): void {
    this.statusHandlers.set(type, fn);
  }

  /** Lists and watches everything first, so no inventory is ever diffed against an empty cache. */
  async start(): Promise<void> {
    const sources: [string, Cache][] = (['pods', 'configmaps', 'secrets', 'nodes'] as const).map((r) => [
      KINDS[r],
      this.kube.informer(r),
    ]);
    if (this.opts.devices === true)
      sources.push(
        ['Device', this.kube.customInformer(DEVICE_GROUP, DEVICE_VERSION, 'devices')],
        ['DeviceModel', this.kube.customInformer(DEVICE_GROUP, DEVICE_VERSION, 'devicemodels')],
      );
    for (const [kind, inf] of sources) {
      const changed = (obj: KubernetesObject, deleted: boolean): void => {
        this.onChange(kind, obj, deleted);
      };
      inf.on('add', (o) => {
        changed(o, false);
      });
      inf.on('update', (o) => {
        changed(o, false);
      });
      inf.on('delete', (o) => {
        changed(o, true);
      });
      this.caches.set(kind, inf);
    }
    await Promise.all([...this.caches.values()].map((c) => c.start()));
    this.ticker = setInterval(() => {
      for (const n of this.queues.keys()) this.schedulePump(n);
    }, this.opts.tickMs ?? 1000);
    this.ticker.unref();
    this.log.info('sync caches ready');
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.deviceLimiter?.stop();
    this.leases?.stop();
    await Promise.all([...this.caches.values()].map((c) => c.stop()));
    this.caches.clear();
  }

  queue(node: NodeName): NodeQueue | undefined {
    return this.queues.get(node);
  }

  // ── Kubernetes → queues ──────────────────────────────────────────────────────────────

  private onChange(kind: string, obj: KubernetesObject, deleted: boolean): void {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? '';
    // Per-hop delivery timing (bench/scale.ts --hops, issue 12); pino makes a disabled level a no-op.
    if (this.trace) this.log.debug({ kind, ns, name, deleted }, 'sync: watch event');
    const [group, version] =
      kind === 'Device' || kind === 'DeviceModel' ? [DEVICE_GROUP, DEVICE_VERSION] : ['', 'v1'];
    const key: ObjectKey =
      ns === undefined ? { group, version, kind, name } : { group, version, kind, namespace: ns, name };
    const touched = new Set<NodeName>();
    const dirty = (node: NodeName, k: ObjectKey): void => {
      this.queueOf(node).markDirty(k);
      touched.add(node);
    };
    switch (kind) {
      case 'Device':
        for (const a of this.devices.updateDevice(key, deleted ? undefined : obj)) dirty(a.node, a.key);
        break;
      case 'DeviceModel':
        for (const n of this.devices.referrersOf(key)) dirty(n, key);
        break;
      case 'Pod':
        for (const a of this.ownership.updatePod(key, deleted ? undefined : obj)) dirty(a.node, a.key);
        break;
      case 'ConfigMap':
      case 'Secret':
        for (const n of this.ownership.referrersOf(key)) dirty(n, key);
        break;
      case 'Node':
        dirty(name as NodeName, key);
        break;
    }
    // Sent from the watch event itself, not a later turn of the event loop (issue 12: a
    // setImmediate waits behind every socket callback already due — hundreds of edges' frames
    // and the Lease renewals' responses at 1,000 edges). A change that touches many nodes (a
    // ConfigMap shared by all) still goes out node by node within the window.
    for (const n of touched) this.pump(n);
  }

  private queueOf(node: NodeName): NodeQueue {
    let q = this.queues.get(node);
    if (q === undefined) {
      q = new NodeQueue(node, this.queueOpts, (key) => this.resolve(node, key));
      this.queues.set(node, q);
    }
    return q;
  }

  /** What the node should hold for `key` right now (undefined: it must not hold it). */
  private resolve(node: NodeName, key: ObjectKey): Desired | undefined {
    const belongs =
      key.group === DEVICE_GROUP
        ? this.devices.belongs(node, key)
        : key.group === '' && (key.kind === 'Node' ? key.name === node : this.ownership.belongs(node, key));
    if (!belongs) return undefined;
    const obj = this.caches.get(key.kind)?.get(key.name, key.namespace);
    const uid = obj?.metadata?.uid;
    if (obj === undefined || uid === undefined) return undefined;
    // The cache replaces an object on every change, so the reference is its version: resolved once,
    // not per node and pump (issue 12: a reconnect storm resolved every node's objects again, two
    // JSON round trips and a SHA-256 each — ~5 % of the cloud's CPU in the storm's profile).
    const known = this.resolved.get(obj);
    if (known !== undefined) return known;
    const apiVersion = key.group === '' ? key.version : `${key.group}/${key.version}`;
    // The cache's raw JSON, shallow-copied (cached objects are replaced on change, never mutated),
    // without managedFields: the API server's bookkeeping (server-side apply), read by nothing at
    // the edge, and it can double an object's size on the link.
    const { metadata, ...rest } = obj as { metadata?: Record<string, unknown> };
    const { managedFields: _mf, ...meta } = metadata ?? {};
    const object = { apiVersion, kind: key.kind, ...rest, metadata: meta } as JsonObject;
    const desired: Desired = { uid: uid as Uid, resourceVersion: syncVersion(key.kind, obj), object };
    this.resolved.set(obj, desired);
    return desired;
  }

  private desiredKeys(node: NodeName): ObjectKey[] {
    return [...this.ownership.keysOf(node), ...this.devices.keysOf(node), nodeKey(node)];
  }

  private schedulePump(node: NodeName): void {
    this.pumpSoon.add(node);
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      const nodes = [...this.pumpSoon];
      this.pumpSoon.clear();
      for (const n of nodes) this.pump(n);
    });
  }

  private pump(node: NodeName): void {
    const s = this.hub.session(node);
    const q = this.queues.get(node);
    if (s === undefined || q === undefined || !s.isOpen) return;
    // STYLE §6: a session whose socket does not drain gets nothing more until it does.
    if (s.buffered > this.hub.maxBufferedBytes) return;
    const now = Date.now();
    const waited = q.stalledFor(now);
    if (waited > q.stallTimeoutMs) {
      // DESIGN §2: resending on a live, ordered connection would only duplicate; a fresh session
      // resyncs from the edge's inventory instead.
      q.counters.stalls++;
      this.log.warn(
        { node, waitedMs: waited },
        'edge has not acknowledged in time; closing its session to resync',
      );
      s.close('slow', `no acknowledgement for ${Math.round(waited / 1000)} s; reconnect and resync`);
      return;
    }
    for (const body of q.take(now)) s.send(body);
  }

  // ── sessions (HubHandler) ────────────────────────────────────────────────────────────

  sessionOpened(s: EdgeSession): void {
    this.queueOf(s.node).disconnected();
    this.inventories.set(s.node, []);
    this.leases?.sessionOpened(s);
  }

  sessionClosed(s: EdgeSession, _reason: CloseReason): void {
    this.leases?.sessionClosed(s);
    if (this.hub.session(s.node) !== undefined) return; // replaced: the new session owns the queue
    this.queues.get(s.node)?.disconnected();
    this.inventories.delete(s.node);
  }

  message(s: EdgeSession, env: Envelope): void {
    switch (env.kind) {
      case 'inventory': {
        const acc = this.inventories.get(s.node);
        if (acc === undefined) return;
        acc.push(...env.items);
        if (!env.last) return;
        this.inventories.delete(s.node);
        const q = this.queueOf(s.node);
        q.applyInventory(acc, this.desiredKeys(s.node));
        this.log.info(
          { node: s.node, holds: acc.length, toConsider: q.depth },
          'inventory received; resyncing',
        );
        this.pump(s.node);
        return;
      }
      case 'ack':
        if (env.of === 'sync') {
          if (this.trace) this.log.debug({ node: s.node, seq: env.seq }, 'sync: ack');
          this.queues.get(s.node)?.ack(env.seq);
          this.schedulePump(s.node);
        }
        return;
      case 'nack':
        if (env.of === 'sync') {
          const body = this.queues.get(s.node)?.nack(env.seq, env.retryable);
          this.log.warn(
            { node: s.node, seq: env.seq, reason: env.reason, message: env.message, key: body?.key },
            'edge refused a change',
          );
        } else
          this.log.warn(
            { node: s.node, of: env.of, reason: env.reason, message: env.message },
            'edge refused a message',
          );
        return;
      case 'status':
        // A chatty device is coalesced before it reaches the API server (issue 9).
        if (this.deviceLimiter !== undefined && env.write.type === 'deviceStatus')
          this.deviceLimiter.offer(s, env);
        else void this.upstream(s, env);
        return;
      case 'query':
        // Tokens for projected volumes: the edge cannot call TokenRequest itself (tokens.ts).
        if (env.method === 'serviceAccountToken')
          void answerServiceAccountToken(this.kube.core, s, env, this.log).catch((e: unknown) => {
            this.log.error({ node: s.node, err: errorMessage(e) }, 'service account token failed');
          });
        return;
      default:
        return;
    }
  }

  // ── edge → Kubernetes ────────────────────────────────────────────────────────────────

  private async upstream(s: EdgeSession, m: Status): Promise<void> {
    const started = Date.now();
    await this.acquire();
    let outcome: WriteOutcome;
    try {
      outcome = await this.apply(s, m);
    } catch (e) {
      outcome = { ok: false, reason: 'BUSY', message: errorMessage(e), retryable: true };
    } finally {
      this.release();
    }
    this.metrics.upstream.inc({ type: m.write.type, outcome: outcome.ok ? 'ok' : outcome.reason });
    if (outcome.ok) {
      this.metrics.ackLatency.observe((Date.now() - started) / 1000);
      s.send({ kind: 'ack', of: 'status', ref: m.id });
      return;
    }
    if (!outcome.retryable)
      this.log.warn(
        {
          node: s.node,
          key: keyId(m.key),
          type: m.write.type,
          reason: outcome.reason,
          message: outcome.message,
        },
        'upstream write refused',
      );
    s.send({
      kind: 'nack',
      of: 'status',
      ref: m.id,
      reason: outcome.reason,
      message: outcome.message,
      retryable: outcome.retryable,
    });
  }

  private apply(s: EdgeSession, m: Status): Promise<WriteOutcome> {
    const { key, write } = m;
    const payload = write.payload as Record<string, unknown>;
    const denied = (why: string): Promise<WriteOutcome> =>
      Promise.resolve({ ok: false, reason: 'REJECTED', message: why, retryable: false });
    switch (write.type) {
      case 'podStatus': {
        // A node writes only the status of pods bound to it, and only of the incarnation it runs.
        if (key.kind !== 'Pod' || key.namespace === undefined) return denied('podStatus must name a Pod');
        const pod = this.caches.get('Pod')?.get(key.name, key.namespace);
        if (pod?.metadata?.uid === undefined || (m.uid !== undefined && pod.metadata.uid !== m.uid))
          return Promise.resolve({
            ok: false,
            reason: 'NOT_FOUND',
            message: `pod ${key.namespace}/${key.name} (uid ${m.uid ?? '?'}) no longer exists`,
            retryable: false,
          });
        if ((pod as PodLike).spec?.nodeName !== s.node)
          return denied(`pod ${key.namespace}/${key.name} is not bound to ${s.node}`);
        if (payload['deleted'] === true)
          return this.kube.deletePod(key.namespace, key.name, pod.metadata.uid);
        return this.kube.patchPodStatus(key.namespace, key.name, payload);
      }
      case 'nodeStatus': {
        if (key.kind !== 'Node' || key.name !== s.node)
          return denied(`a node may only write its own Node status, not ${key.name}`);
        const meta = payload['metadata'] as { labels?: Record<string, string> } | undefined;
        // The watch cache answers "what does the API server have" without a read (issue 12).
        const current = this.caches.get('Node')?.get(s.node);
        return this.kube.upsertNode(s.node, meta?.labels ?? {}, payload['status'] ?? {}, {
          current,
          ...(this.opts.nodeHeartbeatRefreshMs === undefined
            ? {}
            : { heartbeatRefreshMs: this.opts.nodeHeartbeatRefreshMs }),
        });
      }
      case 'lease':
        // Older edges still renew through the channel (NodeRestriction: only their own Lease).
        if (key.name !== s.node) return denied(`a node may only renew its own Lease, not ${key.name}`);
        this.leases?.edgeRenewed(s);
        return this.kube.renewLease(s.node, payload);
      case 'event': {
        const ns = key.namespace ?? 'default';
        return this.kube.createEvent(ns, {
          ...payload,
          source: { component: 'tether-edge', host: s.node },
        } as never);
      }
      case 'deviceStatus': {
        if (this.opts.devices === true) return this.deviceStatus(s, m);
        const h = this.statusHandlers.get('deviceStatus');
        return h === undefined
          ? Promise.resolve({
              ok: false,
              reason: 'REJECTED',
              message: 'devices are not enabled on this cloud core',
              retryable: false,
            })
          : h(s, m);
      }
    }
  }

  /** DESIGN §5: reported values and state from the edge become the Device's status. */
  private deviceStatus(s: EdgeSession, m: Status): Promise<WriteOutcome> {
    const { key } = m;
    const refuse = (reason: 'REJECTED' | 'NOT_FOUND', message: string): Promise<WriteOutcome> =>
      Promise.resolve({ ok: false, reason, message, retryable: false });
    if (key.group !== DEVICE_GROUP || key.kind !== 'Device' || key.namespace === undefined)
      return refuse('REJECTED', 'deviceStatus must name a Device');
    const dev = this.caches.get('Device')?.get(key.name, key.namespace) as DeviceLike | undefined;
    if (dev?.metadata?.uid === undefined || (m.uid !== undefined && dev.metadata.uid !== m.uid))
      return refuse('NOT_FOUND', `device ${key.namespace}/${key.name} no longer exists`);
    if (dev.spec?.nodeName !== s.node)
      return refuse('REJECTED', `device ${key.namespace}/${key.name} is not bound to ${s.node}`);
    const parsed = parseDeviceStatusPayload(m.write.payload);
    if (!parsed.ok) return refuse('REJECTED', parsed.error.message);
    return this.kube.patchCustomStatus(
      {
        group: DEVICE_GROUP,
        version: DEVICE_VERSION,
        plural: 'devices',
        namespace: key.namespace,
        name: key.name,
      },
      parsed.value,
    );
  }

  private async acquire(): Promise<void> {
    if (this.writesInFlight < this.maxWrites) {
      this.writesInFlight++;
      return;
    }
    await new Promise<void>((r) => this.writeWaiters.push(r));
    this.writesInFlight++;
  }

  private release(): void {
    this.writesInFlight--;
    this.writeWaiters.shift()?.();
  }
}
