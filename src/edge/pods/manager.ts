import { createHash, randomBytes } from 'node:crypto';
import { stat, statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  ConfigError,
  LifecycleError,
  errorMessage,
  type Component,
  type Logger,
} from '../../common/index.js';
import {
  ANNOTATION_GRACE_PERIOD,
  ANNOTATION_RESTART_COUNT,
  CriError,
  LABEL_CONTAINER_NAME,
  LABEL_MANAGED,
  LABEL_POD_UID,
  buildContainerConfig,
  buildSandboxConfig,
  parseQuantity,
  parseResolvConf,
  podQos,
  type Container,
  type ContainerId,
  type ContainerStatus,
  type DnsConfig,
  type Image,
  type Pod,
  type PullAuth,
  type RuntimeClient,
  type SandboxConfig,
  type SandboxId,
  type SandboxSummary,
} from '../cri/index.js';
import type { EdgeStore, StoreChange } from '../store/index.js';
import { uid as toUid, type JsonObject, type ObjectKey } from '../../protocol/index.js';
import { PodManagerConfigSchema, type PodManagerConfig, type ResolvedPodManagerConfig } from './config.js';
import { PodSyncError } from './errors.js';
import { ProbeManager, type ProbeKind, type ProbeOutcome } from './probes.js';
import { Refs, pullPolicy } from './refs.js';
import {
  containerStatusJson,
  nsToMs,
  podConditions,
  podPhase,
  rfc3339,
  stampConditions,
  type ContainerView,
  type Json,
} from './status.js';
import { runHook } from './hooks.js';
import { removeTerminationLog, terminationLogMount, terminationMessage } from './termination.js';
import {
  emptyDirUsage,
  removePodCgroups,
  setUpVolumes,
  tearDownPodDir,
  type TokenSource,
} from './volumes.js';

/** Scopes everything this manager creates to its node (several agents may share a containerd in tests). */
export const LABEL_NODE = 'tether.dev/node';
/** Restart counts carried over to a re-created sandbox: `{container: lastAttempt}` (crash safety). */
export const ANNOTATION_ATTEMPT_BASE = 'tether.dev/attempt-base';
const ANNOTATION_SPEC_HASH = 'tether.dev/container-spec-hash';
const META_VERDICT = 'pods.startupVerdict';

export interface AdmitVerdict {
  admitNewPods: boolean;
  reason?: string;
}

export interface PodManagerDeps {
  store: EdgeStore;
  runtime: RuntimeClient;
  logger: Logger;
  registry: Registry;
  /** The start-up gate (DESIGN §3, issue 7): the health component fills it; default admits. */
  startupCheck?: () => Promise<AdmitVerdict>;
  /** Service account tokens for projected volumes (tokens.ts); without it such volumes fail to mount. */
  tokens?: TokenSource & { forget?(uid: string): void };
}

export type RuntimeHealthListener = (healthy: boolean, reason: string) => void;

interface Worker {
  running: Promise<void> | undefined;
  dirty: boolean;
  wake: NodeJS.Timeout | undefined;
  wakeAt: number;
}

interface Backoff {
  delayMs: number;
  /** The container finish time this back-off was computed for. */
  since: number;
}

const POD_KEY = { group: '', version: 'v1', kind: 'Pod' } as const;

function existingOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function hostIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function specHash(c: Container): string {
  const { name, image, command, args, workingDir, env, envFrom, ports, volumeMounts, securityContext } = c;
  return createHash('sha256')
    .update(
      JSON.stringify({
        name,
        image,
        command,
        args,
        workingDir,
        env,
        envFrom,
        ports,
        volumeMounts,
        securityContext,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

function isUnavailable(e: unknown): boolean {
  return e instanceof CriError && (e.code === 'UNAVAILABLE' || e.code === 'DEADLINE');
}

/**
 * The edge kubelet (DESIGN §3, issue 7): runs the pods of the edge store that are bound to this
 * node on containerd through CRI, and writes their status to the outbox. Level-triggered: every
 * sync of a pod compares the desired pod with what the runtime has (found by labels) and takes
 * the next steps, so it is idempotent and adopts what a previous incarnation of the agent left
 * (crash safety). One worker per pod serialises its syncs; pods sync in parallel. Nothing here
 * talks to the cloud, so a silent cloud never stops a pod (DESIGN §3 autonomy).
 */
export class PodManager implements Component {
  readonly name = 'pods';
  private readonly config: ResolvedPodManagerConfig;
  private readonly log: Logger;
  private readonly store: EdgeStore;
  private readonly rt: RuntimeClient;
  private readonly refs: Refs;
  private readonly tokens: PodManagerDeps['tokens'];
  private readonly probes: ProbeManager;
  private readonly startupCheck: () => Promise<AdmitVerdict>;
  private readonly scope: Record<string, string>;
  private readonly hostIP: string;
  private readonly dnsHost: DnsConfig;

  private started = false;
  private stopping = false;
  private unsubscribe: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private evictionTimer: NodeJS.Timeout | undefined;
  private readonly workers = new Map<string, Worker>();
  private readonly keys = new Map<string, ObjectKey>();
  /** Last pod object seen per uid: the grace period and preStop hooks once the store forgot it. */
  private readonly lastPods = new Map<string, Pod>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly waiting = new Map<string, { reason: string; message?: string }>();
  private readonly lastStatus = new Map<string, string>();
  private readonly lastConditions = new Map<string, Json[]>();
  private readonly startTimes = new Map<string, string>();
  private readonly admitted = new Set<string>();
  private readonly finished = new Set<string>();
  /** Pods the agent ended itself (activeDeadlineSeconds, eviction): never restarted. */
  private readonly ended = new Map<string, Ending>();
  /** Image GC bookkeeping by image id (kubelet imageRecord): first seen, last used by a container. */
  private readonly imageRecords = new Map<string, { firstDetectedMs: number; lastUsedMs: number }>();
  /**
   * Container statuses by id, reused while the listed state is unchanged: a running container's
   * status (startedAt) and an exited one's do not change, so a steady pod costs two list calls.
   */
  private readonly statusCache = new Map<string, ContainerStatus>();
  private readonly sandboxIps = new Map<string, string>();
  private admission: AdmitVerdict = { admitNewPods: true };
  private runtimeOk = true;
  private runtimeReason = '';
  private readonly healthListeners = new Set<RuntimeHealthListener>();
  private active = 0;
  private readonly slots: (() => void)[] = [];

  private readonly metrics: {
    syncs: Histogram<'result'>;
    restarts: Counter;
    runtimeUp: Gauge;
    pods: Gauge;
  };

  constructor(config: PodManagerConfig, deps: PodManagerDeps) {
    const parsed = PodManagerConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new ConfigError(
        'invalid pod manager config',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    }
    this.config = Object.freeze(parsed.data);
    this.log = deps.logger.child({ component: 'pods' });
    this.store = deps.store;
    this.rt = deps.runtime;
    this.refs = new Refs(deps.store);
    this.tokens = deps.tokens;
    this.startupCheck = deps.startupCheck ?? (() => Promise.resolve({ admitNewPods: true }));
    this.scope = { ...this.config.extraLabels, [LABEL_MANAGED]: 'true', [LABEL_NODE]: this.config.nodeName };
    this.hostIP = this.config.hostIP ?? hostIPv4();
    let resolv = '';
    try {
      resolv = readFileSync(this.config.resolvConf, 'utf8');
    } catch {
      // no resolv.conf: pods get no DNS servers, as kubelet does with --resolv-conf=""
    }
    this.dnsHost = parseResolvConf(resolv);
    this.probes = new ProbeManager(this.rt, (uid, kind, output, outcome) => {
      this.onProbe(uid, kind, output, outcome);
    });
    const r = deps.registry;
    this.metrics = {
      syncs: existingOr(
        r,
        'tether_edge_pod_sync_duration_seconds',
        () =>
          new Histogram({
            name: 'tether_edge_pod_sync_duration_seconds',
            help: 'Duration of one pod sync, by result',
            labelNames: ['result'] as const,
            buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
            registers: [r],
          }),
      ),
      restarts: existingOr(
        r,
        'tether_edge_container_restarts_total',
        () =>
          new Counter({
            name: 'tether_edge_container_restarts_total',
            help: 'Containers restarted by the restart policy',
            registers: [r],
          }),
      ),
      runtimeUp: existingOr(
        r,
        'tether_edge_runtime_up',
        () =>
          new Gauge({
            name: 'tether_edge_runtime_up',
            help: '1 while the container runtime answers',
            registers: [r],
          }),
      ),
      pods: existingOr(
        r,
        'tether_edge_pods',
        () =>
          new Gauge({
            name: 'tether_edge_pods',
            help: 'Pods bound to this node in the store',
            registers: [r],
          }),
      ),
    };
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.started) throw new LifecycleError('pod manager already started');
    this.started = true;
    this.stopping = false;
    // DESIGN §3 start-up check: ask the health component before admitting pods; record the verdict.
    await this.checkAdmission();
    this.unsubscribe = this.store.onChange((c) => {
      this.onStoreChange(c);
    });
    this.resyncTimer = setInterval(() => {
      void this.resync();
    }, this.config.reconcileIntervalMs);
    this.resyncTimer.unref();
    this.gcTimer = setInterval(() => {
      void this.imageGc().catch((e: unknown) => {
        this.log.warn({ err: errorMessage(e) }, 'image garbage collection failed');
      });
    }, this.config.imageGcIntervalMs);
    this.gcTimer.unref();
    this.evictionTimer = setInterval(() => {
      void this.checkEmptyDirLimits().catch((e: unknown) => {
        this.log.warn({ err: errorMessage(e) }, 'emptyDir usage check failed');
      });
    }, this.config.evictionIntervalMs);
    this.evictionTimer.unref();
    void this.resync();
  }

  /** Stops reconciling. Pods keep running: stopping the agent is not stopping its pods. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    if (this.gcTimer !== undefined) clearInterval(this.gcTimer);
    if (this.evictionTimer !== undefined) clearInterval(this.evictionTimer);
    this.probes.stopAll();
    for (const w of this.workers.values()) if (w.wake !== undefined) clearTimeout(w.wake);
    await Promise.allSettled(
      [...this.workers.values()].flatMap((w) => (w.running === undefined ? [] : [w.running])),
    );
    this.workers.clear();
    this.started = false;
  }

  /** False while the container runtime does not answer (a node condition, DESIGN §3). */
  runtimeHealthy(): boolean {
    return this.runtimeOk;
  }

  onRuntimeHealth(fn: RuntimeHealthListener): () => void {
    this.healthListeners.add(fn);
    return () => this.healthListeners.delete(fn);
  }

  /** The latest start-up verdict. */
  admissionVerdict(): AdmitVerdict {
    return { ...this.admission };
  }

  /** Requests a sync of every pod now (e.g. after the health verdict changed). */
  resyncNow(): void {
    void this.resync();
  }

  // ── triggers ───────────────────────────────────────────────────────────────────────

  private async checkAdmission(): Promise<void> {
    let v: AdmitVerdict;
    try {
      v = await this.startupCheck();
    } catch (e) {
      v = { admitNewPods: false, reason: `start-up check failed: ${errorMessage(e)}` };
    }
    const changed = v.admitNewPods !== this.admission.admitNewPods || v.reason !== this.admission.reason;
    this.admission = v;
    if (changed) {
      this.store.setMeta(META_VERDICT, JSON.stringify({ ...v, at: new Date().toISOString() }));
      this.log.info({ admitNewPods: v.admitNewPods, reason: v.reason }, 'start-up verdict');
    }
  }

  private onStoreChange(c: StoreChange): void {
    if (c.type === 'delete') {
      if (c.key.kind === 'Pod' && c.key.group === '') this.schedule(c.uid);
      return;
    }
    const { key } = c.object;
    if (key.group !== '') return;
    if (key.kind === 'Pod') {
      this.keys.set(c.object.uid, key);
      this.schedule(c.object.uid);
    } else if (key.kind === 'ConfigMap' || key.kind === 'Secret') {
      // A referenced object changed: re-sync the namespace's pods (volumes and future starts see it).
      for (const [uid, k] of this.keys) if (k.namespace === key.namespace) this.schedule(uid);
    }
  }

  private onProbe(uid: string, kind: ProbeKind, output: string, outcome: ProbeOutcome): void {
    const pod = this.lastPods.get(uid);
    if (outcome === 'failure' && pod !== undefined) {
      const what = kind === 'liveness' ? 'Liveness' : kind === 'readiness' ? 'Readiness' : 'Startup';
      this.event(pod, 'Warning', 'Unhealthy', `${what} probe failed: ${output}`);
    }
    this.schedule(uid);
  }

  private async resync(): Promise<void> {
    try {
      await this.resyncOnce();
    } catch (e) {
      // A store failure must not become an unhandled rejection of a timer; the next tick retries.
      this.log.error({ err: errorMessage(e) }, 'pod resync failed');
    }
  }

  private async resyncOnce(): Promise<void> {
    if (this.stopping) return;
    if (!(await this.checkRuntime())) return;
    if (!this.admission.admitNewPods) await this.checkAdmission();
    const uids = new Set<string>();
    let bound = 0;
    for (const o of this.store.list({ group: '', kind: 'Pod' })) {
      const pod = o.object as unknown as Pod;
      if (pod.spec.nodeName !== this.config.nodeName) continue;
      bound++;
      this.keys.set(o.uid, o.key);
      uids.add(o.uid);
    }
    this.metrics.pods.set(bound);
    try {
      // Orphans: sandboxes and containers with our labels whose pod the store does not hold.
      for (const s of await this.rt.listPodSandbox({ labels: this.scope })) uids.add(s.metadata.uid);
      for (const c of await this.rt.listContainers({ labels: this.scope })) {
        const u = c.labels[LABEL_POD_UID];
        if (u !== undefined) uids.add(u);
      }
    } catch (e) {
      this.runtimeDown(e);
      return;
    }
    for (const u of this.keys.keys()) uids.add(u);
    for (const u of uids) this.schedule(u);
  }

  private async checkRuntime(): Promise<boolean> {
    try {
      const s = await this.rt.status();
      const rr = s.conditions.find((c) => c.type === 'RuntimeReady');
      if (rr !== undefined && !rr.status) {
        this.setRuntime(false, `RuntimeReady=false: ${rr.reason} ${rr.message}`.trim());
        return false;
      }
      this.setRuntime(true, '');
      return true;
    } catch (e) {
      this.runtimeDown(e);
      return false;
    }
  }

  private runtimeDown(e: unknown): void {
    this.setRuntime(false, `container runtime is down: ${errorMessage(e)}`);
  }

  private setRuntime(ok: boolean, reason: string): void {
    this.metrics.runtimeUp.set(ok ? 1 : 0);
    if (ok === this.runtimeOk) return;
    this.runtimeOk = ok;
    this.runtimeReason = reason;
    // DESIGN §3 runtime loss: report, keep retrying, never delete anything because of it.
    if (ok) this.log.info('container runtime is back');
    else this.log.error({ reason }, 'container runtime unavailable; pods are left as they are');
    const nodeKey: ObjectKey = { group: '', version: 'v1', kind: 'Node', name: this.config.nodeName };
    this.enqueueEvent(
      nodeKey,
      { kind: 'Node', name: this.config.nodeName, uid: this.config.nodeName },
      {
        type: ok ? 'Normal' : 'Warning',
        reason: ok ? 'ContainerRuntimeReady' : 'ContainerRuntimeUnhealthy',
        message: ok ? 'container runtime is reachable again' : reason,
      },
    );
    for (const l of this.healthListeners) l(ok, reason);
    if (ok) this.resyncNow();
  }

  /** Why the runtime is unhealthy ('' when healthy). */
  runtimeStatusReason(): string {
    return this.runtimeReason;
  }

  // ── per-pod workers ───────────────────────────────────────────────────────────────

  private schedule(uid: string, afterMs = 0): void {
    if (this.stopping || !this.started) return;
    let w = this.workers.get(uid);
    if (w === undefined) {
      w = { running: undefined, dirty: false, wake: undefined, wakeAt: 0 };
      this.workers.set(uid, w);
    }
    if (afterMs > 0) {
      const at = Date.now() + afterMs;
      if (w.wake !== undefined && w.wakeAt <= at) return;
      if (w.wake !== undefined) clearTimeout(w.wake);
      w.wakeAt = at;
      const target = w;
      w.wake = setTimeout(() => {
        target.wake = undefined;
        this.schedule(uid);
      }, afterMs);
      w.wake.unref();
      return;
    }
    if (w.running !== undefined) {
      w.dirty = true;
      return;
    }
    const worker = w;
    worker.running = (async () => {
      do {
        worker.dirty = false;
        await this.acquire();
        const t0 = performance.now();
        let result = 'ok';
        try {
          await this.syncPod(uid);
        } catch (e) {
          result = 'error';
          if (isUnavailable(e)) this.runtimeDown(e);
          else this.log.warn({ uid, err: errorMessage(e) }, 'pod sync failed');
        } finally {
          this.release();
          this.metrics.syncs.observe({ result }, (performance.now() - t0) / 1000);
        }
      } while (this.again(worker));
      worker.running = undefined;
    })();
  }

  /** Another round when a change arrived during the sync (the flag is set from outside). */
  private again(w: Worker): boolean {
    return w.dirty && !this.stopping;
  }

  private async acquire(): Promise<void> {
    // Pods sync in parallel, bounded so that 50 pods do not open 50 pulls at once.
    if (this.active < 8) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.slots.push(r));
    this.active++;
  }

  private release(): void {
    this.active--;
    this.slots.shift()?.();
  }

  private desiredPod(uid: string): Pod | undefined {
    const key = this.keys.get(uid);
    if (key === undefined) return undefined;
    const o = this.store.get(key);
    if (o === undefined || o.uid !== uid) return undefined;
    const pod = o.object as unknown as Pod;
    if (pod.spec.nodeName !== this.config.nodeName) return undefined;
    // The store's object is the truth; uid and namespace come from its key if the body lacks them.
    return {
      ...pod,
      metadata: { ...pod.metadata, uid, namespace: key.namespace ?? 'default', name: key.name },
    };
  }

  private async syncPod(uid: string): Promise<void> {
    if (!this.runtimeOk) return;
    const pod = this.desiredPod(uid);
    if (pod === undefined) {
      // The cloud removed the pod (or it was never ours): stop and remove everything of it.
      const last = this.lastPods.get(uid);
      await this.killPod(uid, last, last === undefined ? undefined : gracePeriod(last));
      this.forget(uid);
      return;
    }
    this.lastPods.set(uid, pod);
    if (pod.metadata.deletionTimestamp !== undefined) {
      if (this.finished.has(uid)) return;
      await this.killPod(uid, pod, gracePeriod(pod));
      // Graceful termination is complete: the cloud deletes the pod with grace 0, as for kubelet.
      const key = this.keys.get(uid);
      if (key !== undefined)
        this.store.enqueue(key, { type: 'podStatus', payload: { deleted: true } }, toUid(uid));
      this.finished.add(uid);
      this.probes.remove(uid);
      return;
    }
    await this.runPod(pod);
  }

  private forget(uid: string): void {
    this.probes.remove(uid);
    this.keys.delete(uid);
    this.lastPods.delete(uid);
    this.lastStatus.delete(uid);
    this.lastConditions.delete(uid);
    this.startTimes.delete(uid);
    this.admitted.delete(uid);
    this.finished.delete(uid);
    this.ended.delete(uid);
    for (const [id, st] of this.statusCache)
      if (st.labels[LABEL_POD_UID] === uid) this.statusCache.delete(id);
    for (const m of [this.backoffs, this.waiting]) {
      for (const k of [...m.keys()]) if (k.startsWith(`${uid}/`)) m.delete(k);
    }
    const w = this.workers.get(uid);
    if (w?.wake !== undefined) clearTimeout(w.wake);
    // The worker entry itself goes when its loop ends; a new change re-creates it.
    if (w !== undefined && w.running === undefined) this.workers.delete(uid);
  }

  // ── runtime view ──────────────────────────────────────────────────────────────────

  private async runtimeView(
    uid: string,
  ): Promise<{ sandboxes: SandboxSummary[]; containers: ContainerStatus[] }> {
    const labels = { ...this.scope, [LABEL_POD_UID]: uid };
    const sandboxes = (await this.rt.listPodSandbox({ labels })).sort((a, b) =>
      a.metadata.attempt !== b.metadata.attempt
        ? b.metadata.attempt - a.metadata.attempt
        : Number(b.createdAtNs - a.createdAtNs),
    );
    const summaries = await this.rt.listContainers({ labels });
    const containers: ContainerStatus[] = [];
    for (const c of summaries) {
      const cached = this.statusCache.get(c.id);
      if (cached?.state === c.state) {
        containers.push({ ...cached, labels: { ...cached.labels, sandbox: c.sandboxId } });
        continue;
      }
      try {
        const s = await this.rt.containerStatus(c.id);
        // kubelet: the termination message is read once the container has exited.
        const message = s.state === 'exited' && s.message === '' ? await terminationMessage(s) : s.message;
        const withSandbox = { ...s, message, labels: { ...s.labels, sandbox: c.sandboxId } };
        this.statusCache.set(c.id, withSandbox);
        containers.push(withSandbox);
      } catch (e) {
        if (e instanceof CriError && e.code === 'NOT_FOUND') continue; // removed meanwhile
        throw e;
      }
    }
    return { sandboxes, containers };
  }

  // ── termination ───────────────────────────────────────────────────────────────────

  /**
   * kubelet killPod: preStop hooks, then StopContainer with what is left of the grace period,
   * all containers in parallel; then remove containers and sandboxes and the pod's volumes.
   */
  private async killPod(uid: string, pod: Pod | undefined, graceSeconds: number | undefined): Promise<void> {
    const { sandboxes, containers } = await this.runtimeView(uid);
    if (sandboxes.length === 0 && containers.length === 0) {
      if (pod !== undefined || this.lastPods.has(uid)) {
        await tearDownPodDir(this.config.rootDir, uid);
        this.tokens?.forget?.(uid);
        await this.removeCgroups(uid);
      }
      return;
    }
    this.probes.remove(uid);
    const running = containers.filter((c) => c.state === 'running' || c.state === 'created');
    if (pod !== undefined && running.length > 0) {
      this.event(pod, 'Normal', 'Killing', `Stopping containers of pod (grace period ${graceSeconds ?? 0}s)`);
    }
    await this.killInOrder(
      pod,
      running,
      (c) => graceSeconds ?? Number(c.annotations[ANNOTATION_GRACE_PERIOD] ?? '2'),
    );
    for (const c of containers) {
      await this.rt.removeContainer(c.id).catch(notFoundOk);
      this.statusCache.delete(c.id);
    }
    for (const s of sandboxes) {
      await this.rt.stopPodSandbox(s.id).catch(notFoundOk);
      await this.rt.removePodSandbox(s.id).catch(notFoundOk);
      this.sandboxIps.delete(s.id);
    }
    await tearDownPodDir(this.config.rootDir, uid);
    this.tokens?.forget?.(uid);
    await this.removeCgroups(uid);
    this.log.info({ uid, pod: pod?.metadata.name }, 'pod stopped and removed');
  }

  /** kubelet's pod container manager removes the pod cgroup runc leaves behind (issue 7). */
  private async removeCgroups(uid: string): Promise<void> {
    await removePodCgroups(this.config.cgroupRoot, this.config.cgroupDriver, uid).catch((e: unknown) => {
      this.log.warn({ uid, err: errorMessage(e) }, 'pod cgroup not removed');
    });
  }

  /**
   * kubelet killContainersWithSyncResult with sidecars (KEP-753): regular containers stop in
   * parallel first, then the sidecars one by one in reverse order of their declaration.
   */
  private async killInOrder(
    pod: Pod | undefined,
    running: readonly ContainerStatus[],
    grace: (c: ContainerStatus) => number,
  ): Promise<void> {
    const sidecars = (pod?.spec.initContainers ?? []).filter(isSidecar).map((c) => c.name);
    const nameOf = (c: ContainerStatus): string => c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
    const regular = running.filter((c) => !sidecars.includes(nameOf(c)));
    await Promise.all(regular.map((c) => this.killContainer(pod, c, grace(c))));
    for (const name of [...sidecars].reverse()) {
      for (const c of running.filter((x) => nameOf(x) === name)) await this.killContainer(pod, c, grace(c));
    }
  }

  private hookHost(pod: Pod, sandboxId: string | undefined): string {
    if (!this.config.cni || pod.spec.hostNetwork === true) return '127.0.0.1';
    const ip = sandboxId === undefined ? undefined : this.sandboxIps.get(sandboxId);
    return ip === undefined || ip === '' ? '127.0.0.1' : ip;
  }

  private async killContainer(pod: Pod | undefined, c: ContainerStatus, graceSeconds: number): Promise<void> {
    const t0 = Date.now();
    const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
    const spec = pod === undefined ? undefined : allContainers(pod).find((x) => x.name === name);
    const preStop = spec?.lifecycle?.preStop;
    if (
      c.state === 'running' &&
      preStop !== undefined &&
      spec !== undefined &&
      pod !== undefined &&
      graceSeconds > 0
    ) {
      const r = await runHook(this.rt, preStop, {
        containerId: c.id,
        container: spec,
        host: this.hookHost(pod, c.labels['sandbox']),
        timeoutSeconds: graceSeconds,
      });
      if (!r.ok) this.event(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${r.message}`, name);
    }
    // kubelet: the hook's time counts against the grace period; at least 2 s remain.
    const left = graceSeconds <= 0 ? 0 : Math.max(2, graceSeconds - Math.floor((Date.now() - t0) / 1000));
    await this.rt.stopContainer(c.id, left).catch(notFoundOk);
  }

  // ── running a pod ─────────────────────────────────────────────────────────────────

  private async runPod(podIn: Pod): Promise<void> {
    const uid = podIn.metadata.uid ?? '';
    // Without CNI every pod shares the node's network (documented difference).
    const pod: Pod = this.config.cni ? podIn : { ...podIn, spec: { ...podIn.spec, hostNetwork: true } };
    const policy = pod.spec.restartPolicy ?? 'Always';
    const view = await this.runtimeView(uid);
    let sandboxes = view.sandboxes;
    let containers = view.containers;

    // Admission (the start-up gate): a pod that already has a sandbox was admitted before.
    if (!this.admitted.has(uid)) {
      if (sandboxes.length === 0 && containers.length === 0 && !this.admission.admitNewPods) {
        this.writeRefused(pod);
        return;
      }
      this.admitted.add(uid);
    }
    if (!this.startTimes.has(uid)) {
      const prev = (podIn.status as { startTime?: string } | undefined)?.startTime;
      this.startTimes.set(uid, prev ?? rfc3339(Date.now()));
    }

    let current = sandboxes[0];
    const inSandbox = (id: SandboxId | undefined): ContainerStatus[] =>
      containers.filter((c) => c.labels['sandbox'] === id);

    // Ended by the agent itself (activeDeadlineSeconds, eviction) — now or in an earlier life,
    // as the status the cloud echoes says: Failed for good, containers killed, never restarted.
    // The deadline applies to a pod that is still active (kubelet: not to a terminal one).
    const terminalNow = current !== undefined && this.isTerminal(pod, inSandbox(current.id));
    const ending = this.ended.get(uid) ?? endingOf(pod) ?? (terminalNow ? undefined : this.deadline(pod));
    if (ending !== undefined) {
      await this.endPod(pod, ending, current, inSandbox(current?.id), containers);
      return;
    }
    const deadline = pod.spec.activeDeadlineSeconds;
    let deadlineWakeMs = 0;
    if (deadline !== undefined) {
      const start = Date.parse(this.startTimes.get(uid) ?? '');
      if (Number.isFinite(start)) deadlineWakeMs = Math.max(100, start + deadline * 1000 - Date.now() + 50);
    }

    // A pod whose containers all finished for good is terminal: its sandbox is stopped, never re-created.
    if (current !== undefined && terminalNow) {
      // Sidecars outlive the main containers and are stopped once those are done (KEP-753).
      const sidecarsRunning = inSandbox(current.id).filter((c) => c.state === 'running');
      if (sidecarsRunning.length > 0) {
        this.probes.remove(uid);
        await this.killInOrder(pod, sidecarsRunning, () => gracePeriod(pod));
        containers = (await this.runtimeView(uid)).containers;
      }
      if (current.state === 'ready') await this.rt.stopPodSandbox(current.id).catch(notFoundOk);
      this.probes.remove(uid);
      this.writeStatus(pod, false, '', inSandbox(current.id), containers, true);
      return;
    }

    // Several ready sandboxes (should not happen): keep the newest, remove the rest.
    for (const s of sandboxes.slice(1)) {
      if (
        s.state === 'ready' ||
        containers.some((c) => c.labels['sandbox'] === s.id && c.state === 'running')
      ) {
        await this.removeSandbox(pod, s.id, containers);
      }
    }

    const fields = { podIP: '', hostIP: this.hostIP, nodeName: this.config.nodeName };
    let volumePaths: Record<string, string>;
    try {
      volumePaths = await setUpVolumes(
        pod,
        this.config.rootDir,
        this.refs,
        fields,
        memoryForTmpfs(pod),
        this.tokens,
      );
    } catch (e) {
      if (!(e instanceof PodSyncError)) throw e;
      this.setWaitingAll(pod, 'ContainerCreating', undefined);
      this.eventOnce(pod, `mount:${e.message}`, 'Warning', 'FailedMount', e.message);
      this.writeStatus(pod, current?.state === 'ready', '', inSandbox(current?.id), containers, false);
      this.schedule(uid, 2_000);
      return;
    }

    if (current?.state !== 'ready') {
      const built = this.sandboxConfig(pod, (current?.metadata.attempt ?? -1) + 1, containers);
      if (!built.ok) {
        this.setWaitingAll(pod, 'CreateContainerConfigError', built.error);
        this.writeStatus(pod, false, '', [], containers, false);
        return;
      }
      if (current !== undefined) {
        this.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      }
      let id: SandboxId;
      try {
        id = await this.rt.runPodSandbox(built.value);
      } catch (e) {
        if (isUnavailable(e)) throw e;
        // kubelet: FailedCreatePodSandBox, the pod stays Pending and the next sync retries.
        this.eventOnce(
          pod,
          `sandbox:${errorMessage(e)}`,
          'Warning',
          'FailedCreatePodSandBox',
          errorMessage(e),
        );
        this.setWaitingAll(pod, 'ContainerCreating', undefined);
        this.writeStatus(pod, false, '', [], containers, false);
        this.schedule(uid, this.config.backoffInitialMs);
        return;
      }
      this.log.info({ pod: pod.metadata.name, uid, sandbox: id }, 'sandbox created');
      for (const s of sandboxes) await this.removeSandbox(pod, s.id, containers);
      const again = await this.runtimeView(uid);
      sandboxes = again.sandboxes;
      containers = again.containers;
      current = sandboxes.find((s) => s.id === id);
      if (current === undefined) return;
    }
    const sandboxId = current.id;
    let sandboxIp = this.sandboxIps.get(sandboxId);
    if (sandboxIp === undefined) {
      sandboxIp = (await this.rt.podSandboxStatus(sandboxId)).ip;
      this.sandboxIps.set(sandboxId, sandboxIp);
    }
    const podIP = pod.spec.hostNetwork === true ? this.hostIP : sandboxIp;
    fields.podIP = podIP;
    const sandboxCfg = this.sandboxConfig(pod, current.metadata.attempt, []);
    if (!sandboxCfg.ok) return;

    // Volumes again now that the pod IP is known (downwardAPI status.podIP), atomically.
    if ((pod.spec.volumes ?? []).some((v) => v.downwardAPI !== undefined || 'projected' in v)) {
      volumePaths = await setUpVolumes(
        pod,
        this.config.rootDir,
        this.refs,
        fields,
        memoryForTmpfs(pod),
        this.tokens,
      );
    }

    const latest = (name: string): ContainerStatus | undefined => latestOf(inSandbox(sandboxId), name);
    const ctx: StartContext = {
      pod,
      sandboxId,
      sandbox: sandboxCfg.value,
      // From the runtime's sandbox, not the rebuilt config: what an earlier sandbox's containers reached.
      attemptBase: current.annotations[ANNOTATION_ATTEMPT_BASE] ?? '{}',
      podIP,
      volumePaths,
      containers,
    };
    let wakeMs = 0;
    const wantWake = (ms: number): void => {
      wakeMs = wakeMs === 0 ? ms : Math.min(wakeMs, ms);
    };

    // Whether this sync changed anything in the runtime (then the status needs a fresh view).
    let acted = false;
    // Init containers in order, each to completion (kubelet computeInitContainerActions).
    // Sidecars (restartPolicy Always, KEP-753) start in that order too, and the next one waits
    // until a sidecar has started (startup probe passed); once any main container has started
    // the pod is initialized and sidecars are only kept running.
    const initialized = pod.spec.containers.some((c) => latest(c.name) !== undefined);
    let initDone = true;
    for (const ic of pod.spec.initContainers ?? []) {
      const st = latest(ic.name);
      if (isSidecar(ic)) {
        const r = await this.keepRunning(ctx, ic, st, true);
        if (r.acted) acted = true;
        if (r.wakeMs > 0) wantWake(r.wakeMs);
        if (!initialized && !r.started) {
          initDone = false;
          break;
        }
        continue;
      }
      if (initialized) continue;
      if (st?.state === 'exited' && st.exitCode === 0) continue;
      initDone = false;
      acted = true;
      if (st === undefined) await this.startContainer(ctx, ic, true);
      else if (st.state === 'created') await this.rt.startContainer(st.id);
      else if (st.state === 'exited' && policy !== 'Never') {
        const w = await this.restartWithBackoff(ctx, ic, st, true);
        if (w > 0) wantWake(w);
      }
      break;
    }

    if (initDone) {
      for (const c of pod.spec.containers) {
        const st = latest(c.name);
        if (st?.state === 'exited') {
          const restart = policy === 'Always' || (policy === 'OnFailure' && st.exitCode !== 0);
          if (!restart) {
            this.probes.remove(uid, c.name);
            continue;
          }
        }
        const r = await this.keepRunning(ctx, c, st, false);
        if (r.acted) acted = true;
        if (r.wakeMs > 0) wantWake(r.wakeMs);
      }
    } else {
      for (const c of pod.spec.containers) this.probes.remove(uid, c.name);
    }
    const eph = await this.startEphemeral(ctx, latest);
    if (eph.acted) acted = true;
    if (eph.wakeMs > 0) wantWake(eph.wakeMs);
    if (deadlineWakeMs > 0) wantWake(deadlineWakeMs);

    const fresh = acted ? await this.runtimeView(uid) : { sandboxes, containers };
    if (fresh.sandboxes.find((s) => s.id === sandboxId)?.state !== 'ready') {
      // The sandbox died while we acted in it: containerd's StopPodSandbox stops the containers
      // before the sandbox and still admits new ones meanwhile (cri sandbox_stop.go, "container
      // may still be created"), so a container restarted just then is in a dying sandbox. Its
      // Running is no status to report; the next round re-creates the sandbox (podSandboxChanged).
      this.log.info({ pod: pod.metadata.name, uid, sandbox: sandboxId }, 'sandbox stopped during the sync');
      this.schedule(uid);
      return;
    }
    await this.gcContainers(fresh.containers.filter((c) => c.labels['sandbox'] === sandboxId));
    this.writeStatus(
      pod,
      true,
      podIP,
      fresh.containers.filter((c) => c.labels['sandbox'] === sandboxId),
      fresh.containers,
      false,
    );
    if (wakeMs > 0) this.schedule(uid, wakeMs);
  }

  /**
   * One container that should be running (a main container to restart, or a sidecar): start it,
   * finish an adopted half-start, run its probes and act on liveness/startup failure, or restart
   * it with back-off after it exited. `started`: running and past its startup probe.
   */
  private async keepRunning(
    ctx: StartContext,
    c: Container,
    st: ContainerStatus | undefined,
    init: boolean,
  ): Promise<{ acted: boolean; started: boolean; wakeMs: number }> {
    const { pod } = ctx;
    const uid = pod.metadata.uid ?? '';
    const wkey = `${uid}/${c.name}`;
    if (st === undefined) {
      await this.startContainer(ctx, c, init);
      const wakeMs = this.waiting.has(wkey) ? this.retryDelay(`${wkey}/pull`) : 0;
      return { acted: true, started: false, wakeMs };
    }
    if (st.state === 'created') {
      // Adopted half-way (the agent died between Create and Start): start it now.
      await this.rt.startContainer(st.id).catch(notFoundOk);
      return { acted: true, started: false, wakeMs: 0 };
    }
    if (st.state === 'running') {
      this.probes.ensure(uid, {
        containerId: st.id,
        container: c,
        host: pod.spec.hostNetwork === true || ctx.podIP === '' ? '127.0.0.1' : ctx.podIP,
        startedAtMs: nsToMs(st.startedAtNs),
      });
      const liveness = this.probes.result(uid, c.name, 'liveness', st.id);
      const startup = this.probes.result(uid, c.name, 'startup', st.id);
      const changed =
        st.annotations[ANNOTATION_SPEC_HASH] !== undefined &&
        st.annotations[ANNOTATION_SPEC_HASH] !== specHash(c);
      if (liveness === 'failure' || startup === 'failure' || changed) {
        const why = changed
          ? 'definition changed'
          : `failed ${liveness === 'failure' ? 'liveness' : 'startup'} probe`;
        this.event(pod, 'Normal', 'Killing', `Container ${c.name} ${why}, will be restarted`);
        const probe = liveness === 'failure' ? c.livenessProbe : c.startupProbe;
        this.probes.remove(uid, c.name);
        await this.killContainer(pod, st, probe?.terminationGracePeriodSeconds ?? gracePeriod(pod));
        this.statusCache.delete(st.id);
        this.schedule(uid);
        return { acted: true, started: false, wakeMs: 0 };
      }
      return { acted: false, started: c.startupProbe === undefined || startup === 'success', wakeMs: 0 };
    }
    // exited (or unknown): the caller decided it is to be restarted.
    this.probes.remove(uid, c.name);
    const w = await this.restartWithBackoff(ctx, c, st, init);
    return { acted: true, started: false, wakeMs: w };
  }

  /**
   * Ephemeral containers (kubectl debug; kubelet computePodActions): each started once in the
   * running sandbox, even before initialization is done, and never restarted nor probed —
   * a container of that name in the runtime (or in an earlier sandbox), in whatever state,
   * means it was started. With a
   * target it joins the target's PID namespace, so it waits until the target runs.
   */
  private async startEphemeral(
    ctx: StartContext,
    latest: (name: string) => ContainerStatus | undefined,
  ): Promise<{ acted: boolean; wakeMs: number }> {
    const uid = ctx.pod.metadata.uid ?? '';
    let acted = false;
    let wakeMs = 0;
    const wake = (ms: number): void => {
      wakeMs = wakeMs === 0 ? ms : Math.min(wakeMs, ms);
    };
    // A re-created sandbox carries the earlier containers' names (ANNOTATION_ATTEMPT_BASE).
    const before = this.attemptBase(ctx);
    for (const ec of ctx.pod.spec.ephemeralContainers ?? []) {
      const ever =
        before[ec.name] !== undefined ||
        ctx.containers.some((x) => (x.labels[LABEL_CONTAINER_NAME] ?? x.metadata.name) === ec.name);
      if (ever) continue;
      const targetName = ec.targetContainerName ?? '';
      let pidTargetId: string | undefined;
      if (targetName !== '') {
        const target = latest(targetName);
        if (target?.state !== 'running') {
          wake(1_000);
          continue;
        }
        pidTargetId = target.id;
      }
      // Never probed (no probes.ensure) nor given hooks: the API server refuses both for them.
      await this.startContainer(ctx, ec, false, pidTargetId);
      acted = true;
      if (this.waiting.has(`${uid}/${ec.name}`)) wake(this.retryDelay(`${uid}/${ec.name}/pull`));
    }
    return { acted, wakeMs };
  }

  /** activeDeadlineSeconds (kubelet activeDeadlineHandler): exceeded → DeadlineExceeded. */
  private deadline(pod: Pod): Ending | undefined {
    const d = pod.spec.activeDeadlineSeconds;
    const start = Date.parse(this.startTimes.get(pod.metadata.uid ?? '') ?? '');
    if (d === undefined || !Number.isFinite(start) || Date.now() < start + d * 1000) return undefined;
    return {
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
      eventType: 'Normal',
    };
  }

  /**
   * kubelet's end of a pod it failed itself (activeDeadlineSeconds, eviction): its containers are
   * killed (sidecars last), the sandbox stopped, the status Failed with the reason; and it stays so.
   */
  private async endPod(
    pod: Pod,
    ending: Ending,
    current: SandboxSummary | undefined,
    inSandbox: readonly ContainerStatus[],
    all: readonly ContainerStatus[],
  ): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    if (!this.ended.has(uid)) {
      this.ended.set(uid, ending);
      this.eventOnce(pod, `end:${ending.reason}`, ending.eventType, ending.reason, ending.message);
      this.log.info({ pod: pod.metadata.name, uid, reason: ending.reason }, 'pod ended by the agent');
    }
    this.probes.remove(uid);
    const running = inSandbox.filter((c) => c.state === 'running' || c.state === 'created');
    let containers = all;
    if (running.length > 0) {
      await this.killInOrder(pod, running, () => gracePeriod(pod));
      containers = (await this.runtimeView(uid)).containers;
    }
    if (current?.state === 'ready') await this.rt.stopPodSandbox(current.id).catch(notFoundOk);
    const mine = containers.filter((c) => c.labels['sandbox'] === current?.id);
    this.writeStatus(pod, false, '', mine, containers, true, ending);
  }

  /**
   * kubelet eviction manager, localStorageEviction: in its order, a disk emptyDir above its
   * sizeLimit, the pod's ephemeral storage (containers' writable layers and logs plus disk
   * emptyDirs) above the sum of its containers' ephemeral-storage limits, or one container's
   * writable layer and logs above its own limit evict the pod, with kubelet's messages.
   */
  private async checkEmptyDirLimits(): Promise<void> {
    if (this.stopping) return;
    for (const [uid, pod] of this.lastPods) {
      if (this.ended.has(uid) || pod.metadata.deletionTimestamp !== undefined) continue;
      // Only active pods are evicted: a completed pod holds nothing the eviction would free.
      const phase = (JSON.parse(this.lastStatus.get(uid) ?? '{}') as { phase?: string }).phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const message = await this.localStorageViolation(uid, pod);
      if (message === undefined) continue;
      this.ended.set(uid, { reason: 'Evicted', message, eventType: 'Warning', disruption: true });
      this.eventOnce(pod, 'end:Evicted', 'Warning', 'Evicted', message);
      this.log.warn(
        { pod: pod.metadata.name, uid, why: message },
        'pod evicted: local storage over its limit',
      );
      this.schedule(uid);
    }
  }

  private async localStorageViolation(uid: string, pod: Pod): Promise<string | undefined> {
    let emptyDirs = 0;
    for (const v of pod.spec.volumes ?? []) {
      const ed = v.emptyDir;
      // Memory-backed: the tmpfs is sized by the limit, so it cannot exceed it.
      if (ed === undefined || ed.medium === 'Memory') continue;
      const used = await emptyDirUsage(this.config.rootDir, uid, v.name);
      emptyDirs += used;
      if (ed.sizeLimit === undefined) continue;
      const limit = parseQuantity(ed.sizeLimit);
      if (limit.ok && used > limit.value.value()) {
        return `Usage of EmptyDir volume "${v.name}" exceeds the limit "${ed.sizeLimit}". `;
      }
    }
    const limits = new Map<string, { bytes: number; text: string }>();
    for (const c of allContainers(pod)) {
      const l = c.resources?.limits?.['ephemeral-storage'];
      const q = l === undefined ? undefined : parseQuantity(l);
      if (l !== undefined && q?.ok === true) limits.set(c.name, { bytes: q.value.value(), text: l });
    }
    if (limits.size === 0) return undefined;
    // Per container: writable layer (CRI stats) + its current log file, as kubelet's stats provider.
    const usage = new Map<string, number>();
    for (const st of await this.rt.listContainerStats({ labels: { ...this.scope, [LABEL_POD_UID]: uid } })) {
      // Running containers only (kubelet's stats drop terminated ones once a newer one exists).
      const known = this.statusCache.get(st.id);
      if (known?.state !== 'running') continue;
      const name = st.labels[LABEL_CONTAINER_NAME] ?? st.name;
      const logPath = known.logPath;
      const logBytes =
        logPath === ''
          ? 0
          : await stat(logPath).then(
              (x) => x.size,
              () => 0,
            );
      usage.set(name, (usage.get(name) ?? 0) + (st.writableLayer?.usedBytes ?? 0) + logBytes);
    }
    // kubelet resourcehelper.PodLimits: the sum over the containers that set the limit.
    const podLimit = [...limits.values()].reduce((a, l) => a + l.bytes, 0);
    const podUsage = [...usage.values()].reduce((a, b) => a + b, 0) + emptyDirs;
    if (podUsage > podLimit) {
      return `Pod ephemeral local storage usage exceeds the total limit of containers ${canonicalBytes(podLimit)}. `;
    }
    for (const [name, l] of limits) {
      if ((usage.get(name) ?? 0) > l.bytes) {
        return `Container ${name} exceeded its local ephemeral storage limit "${l.text}". `;
      }
    }
    return undefined;
  }

  private retryDelay(key: string): number {
    const b = this.backoffs.get(key);
    return b === undefined ? this.config.backoffInitialMs : Math.max(100, b.since + b.delayMs - Date.now());
  }

  /** kubelet doBackOff: restart at once the first time, then wait 10 s, 20 s, … up to 5 min. */
  private async restartWithBackoff(
    ctx: StartContext,
    c: Container,
    st: ContainerStatus,
    init: boolean,
  ): Promise<number> {
    const uid = ctx.pod.metadata.uid ?? '';
    const key = `${uid}/${c.name}`;
    const finished = st.finishedAtNs === 0n ? Date.now() : nsToMs(st.finishedAtNs);
    const b = this.backoffs.get(key);
    if (b !== undefined && Date.now() - finished < b.delayMs) {
      const left = b.delayMs - (Date.now() - finished);
      const msg = `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${c.name} pod=${ctx.pod.metadata.name ?? ''}_${ctx.pod.metadata.namespace ?? 'default'}(${uid})`;
      if (this.waiting.get(key)?.reason !== 'CrashLoopBackOff' || b.since !== finished) {
        this.event(ctx.pod, 'Warning', 'BackOff', 'Back-off restarting failed container', c.name);
      }
      b.since = finished;
      this.waiting.set(key, { reason: 'CrashLoopBackOff', message: msg });
      return left + 50;
    }
    // kubelet resets the back-off after a container ran fine for twice the maximum.
    const delayMs =
      b === undefined || Date.now() - finished > 2 * this.config.backoffMaxMs
        ? this.config.backoffInitialMs
        : Math.min(b.delayMs * 2, this.config.backoffMaxMs);
    this.backoffs.set(key, { delayMs, since: finished });
    this.metrics.restarts.inc();
    await this.startContainer(ctx, c, init);
    return 0;
  }

  private sandboxConfig(
    pod: Pod,
    attempt: number,
    containers: readonly ContainerStatus[],
  ): ReturnType<typeof buildSandboxConfig> {
    const r = buildSandboxConfig(pod, {
      attempt,
      podLogsRoot: this.config.podLogsRoot,
      cgroupRoot: this.config.cgroupRoot,
      cgroupDriver: this.config.cgroupDriver,
      dns: {
        clusterDns: this.config.clusterDns,
        clusterDomain: this.config.clusterDomain,
        host: this.dnsHost,
      },
    });
    if (!r.ok) return r;
    // Restart counts survive a new sandbox: the last attempt of each container rides along.
    const base: Record<string, number> = {};
    for (const c of containers) {
      const n = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
      base[n] = Math.max(base[n] ?? 0, c.metadata.attempt);
    }
    return {
      ok: true,
      value: {
        ...r.value,
        labels: { ...r.value.labels, ...this.scope },
        annotations: { ...r.value.annotations, [ANNOTATION_ATTEMPT_BASE]: JSON.stringify(base) },
      },
    };
  }

  private async removeSandbox(
    pod: Pod,
    id: SandboxId,
    containers: readonly ContainerStatus[],
  ): Promise<void> {
    const mine = containers.filter((c) => c.labels['sandbox'] === id);
    await Promise.all(
      mine.filter((c) => c.state === 'running').map((c) => this.killContainer(pod, c, gracePeriod(pod))),
    );
    for (const c of mine) {
      await this.rt.removeContainer(c.id).catch(notFoundOk);
      this.statusCache.delete(c.id);
    }
    await this.rt.stopPodSandbox(id).catch(notFoundOk);
    await this.rt.removePodSandbox(id).catch(notFoundOk);
    this.sandboxIps.delete(id);
  }

  private nextAttempt(ctx: StartContext, name: string): number {
    let max = -1;
    for (const c of ctx.containers) {
      if ((c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name) === name)
        max = Math.max(max, c.metadata.attempt);
    }
    if (max >= 0) return max + 1;
    const base = this.attemptBase(ctx);
    return base[name] === undefined ? 0 : base[name] + 1;
  }

  private attemptBase(ctx: StartContext): Record<string, number> {
    try {
      return JSON.parse(ctx.attemptBase) as Record<string, number>;
    } catch {
      return {};
    }
  }

  /** Pull per policy, build the config (env, mounts), create and start one container. */
  private async startContainer(
    ctx: StartContext,
    c: Container,
    init: boolean,
    pidTargetId?: string,
  ): Promise<void> {
    const { pod } = ctx;
    const uid = pod.metadata.uid ?? '';
    const wkey = `${uid}/${c.name}`;
    const pullKey = `${wkey}/pull`;
    const pb = this.backoffs.get(pullKey);
    if (pb !== undefined && Date.now() < pb.since + pb.delayMs) {
      // kubelet's image back-off: no new pull before it expires (ImagePullBackOff).
      const w = this.waiting.get(wkey);
      if (w?.reason === 'ErrImagePull') this.waiting.set(wkey, { ...w, reason: 'ImagePullBackOff' });
      return;
    }
    let imageRef: string;
    try {
      imageRef = await this.ensureImage(pod, c);
      this.backoffs.delete(pullKey);
    } catch (e) {
      if (e instanceof PodSyncError) {
        const prev = this.waiting.get(wkey)?.reason;
        const reason =
          e.code === 'IMAGE_NEVER_PULL'
            ? 'ErrImageNeverPull'
            : prev === 'ErrImagePull' || prev === 'ImagePullBackOff'
              ? 'ImagePullBackOff'
              : 'ErrImagePull';
        this.waiting.set(wkey, { reason, message: e.message });
        this.bumpBackoff(pullKey);
        this.event(
          pod,
          'Warning',
          reason === 'ErrImageNeverPull' ? 'ErrImageNeverPull' : 'Failed',
          e.message,
          c.name,
        );
        return;
      }
      throw e;
    }
    const attempt = this.nextAttempt(ctx, c.name);
    let values: Map<string, string | Uint8Array>;
    let envFrom;
    try {
      values = this.refs.resolveEnv(pod, c.env ?? []);
      envFrom = this.refs.envFrom(pod, c);
    } catch (e) {
      if (!(e instanceof PodSyncError)) throw e;
      this.waiting.set(wkey, { reason: 'CreateContainerConfigError', message: e.message });
      this.eventOnce(pod, `cfg:${c.name}:${e.message}`, 'Warning', 'Failed', `Error: ${e.message}`, c.name);
      return;
    }
    const termLog = await terminationLogMount(this.config.rootDir, uid, c);
    const cfg = buildContainerConfig(pod, c, {
      attempt,
      ...(termLog === undefined ? {} : { extraMounts: [termLog] }),
      memoryCapacityBytes: os.totalmem(),
      imageRef,
      volumePaths: ctx.volumePaths,
      envFrom,
      resolveValueFrom: (e) => values.get(e.name),
      nodeName: this.config.nodeName,
      podIP: ctx.podIP,
      hostIP: this.hostIP,
      annotations: { [ANNOTATION_SPEC_HASH]: specHash(c) },
      ...(pidTargetId === undefined ? {} : { pidTargetId }),
    });
    if (!cfg.ok) {
      this.waiting.set(wkey, { reason: 'CreateContainerConfigError', message: cfg.error.message });
      return;
    }
    const config = { ...cfg.value, labels: { ...cfg.value.labels, ...this.scope } };
    const id = await this.rt.createContainer(ctx.sandboxId, config, ctx.sandbox);
    try {
      await this.rt.startContainer(id);
    } catch (e) {
      if (isUnavailable(e)) throw e;
      this.waiting.set(wkey, { reason: 'RunContainerError', message: errorMessage(e) });
      this.event(pod, 'Warning', 'Failed', `Error: ${errorMessage(e)}`, c.name);
      return;
    }
    this.waiting.delete(wkey);
    this.event(pod, 'Normal', 'Started', `Started ${init ? 'init ' : ''}container ${c.name}`, c.name);
    const postStart = c.lifecycle?.postStart;
    if (postStart !== undefined) {
      const r = await runHook(this.rt, postStart, {
        containerId: id,
        container: c,
        host: pod.spec.hostNetwork === true || ctx.podIP === '' ? '127.0.0.1' : ctx.podIP,
        timeoutSeconds: 0,
      });
      if (!r.ok) {
        // kubelet: the event leaves the hook's output out (it may hold secrets); the container is
        // killed with reason FailedPostStartHook and restarted per policy.
        this.log.info({ pod: pod.metadata.name, container: c.name, err: r.message }, 'postStart hook failed');
        this.event(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed', c.name);
        await this.rt.stopContainer(id, gracePeriod(pod)).catch(notFoundOk);
      }
    }
    this.log.debug({ pod: pod.metadata.name, container: c.name, attempt, id }, 'container started');
  }

  private bumpBackoff(key: string): void {
    const b = this.backoffs.get(key);
    const delayMs =
      b === undefined ? this.config.backoffInitialMs : Math.min(b.delayMs * 2, this.config.backoffMaxMs);
    this.backoffs.set(key, { delayMs, since: Date.now() });
  }

  private async ensureImage(pod: Pod, c: Container): Promise<string> {
    const image = c.image ?? '';
    const policy = pullPolicy(c);
    if (policy !== 'Always') {
      const present = await this.rt.imageStatus(image);
      if (present !== undefined) return present.id;
      if (policy === 'Never') {
        throw new PodSyncError(
          'IMAGE_NEVER_PULL',
          `Container image "${image}" is not present with pull policy of Never`,
        );
      }
    }
    const auths: (PullAuth | undefined)[] = [...this.refs.pullAuths(pod, image), undefined];
    let last: unknown;
    for (const auth of auths) {
      try {
        const t0 = Date.now();
        const ref = await this.rt.pullImage(image, auth);
        this.event(
          pod,
          'Normal',
          'Pulled',
          `Successfully pulled image "${image}" in ${Date.now() - t0}ms`,
          c.name,
        );
        return ref;
      } catch (e) {
        if (isUnavailable(e)) throw e;
        last = e;
      }
    }
    throw new PodSyncError('IMAGE_PULL', `Failed to pull image "${image}": ${errorMessage(last)}`, {
      cause: last,
    });
  }

  /** kubelet container GC, per pod: keep the newest two containers of each name, drop older ones. */
  private async gcContainers(inSandbox: readonly ContainerStatus[]): Promise<void> {
    const byName = new Map<string, ContainerStatus[]>();
    for (const c of inSandbox) {
      const n = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
      byName.set(n, [...(byName.get(n) ?? []), c]);
    }
    for (const list of byName.values()) {
      list.sort((a, b) => b.metadata.attempt - a.metadata.attempt);
      for (const old of list.slice(2)) {
        if (old.state !== 'exited') continue;
        await this.rt.removeContainer(old.id).catch(notFoundOk);
        this.statusCache.delete(old.id);
        // Its termination-message file goes with it (kubelet removeContainerLog does the same).
        await removeTerminationLog(this.config.rootDir, old);
      }
    }
  }

  private isTerminal(pod: Pod, inSandbox: readonly ContainerStatus[]): boolean {
    const policy = pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Always') return false;
    for (const ic of pod.spec.initContainers ?? []) {
      if (isSidecar(ic)) continue;
      const st = latestOf(inSandbox, ic.name);
      if (st?.state === 'exited' && st.exitCode !== 0 && policy === 'Never') return true;
    }
    if (pod.spec.containers.length === 0) return false;
    return pod.spec.containers.every((c) => {
      const st = latestOf(inSandbox, c.name);
      if (st?.state !== 'exited') return false;
      return policy === 'Never' || st.exitCode === 0;
    });
  }

  private setWaitingAll(pod: Pod, reason: string, e: Error | undefined): void {
    const uid = pod.metadata.uid ?? '';
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      this.waiting.set(`${uid}/${c.name}`, e === undefined ? { reason } : { reason, message: e.message });
    }
  }

  // ── status ────────────────────────────────────────────────────────────────────────

  private views(
    pod: Pod,
    specs: readonly Container[],
    inSandbox: readonly ContainerStatus[],
    all: readonly ContainerStatus[],
    terminal: boolean,
  ): ContainerView[] {
    const uid = pod.metadata.uid ?? '';
    const policy = pod.spec.restartPolicy ?? 'Always';
    return specs.map((c) => {
      const mine = all
        .filter((x) => (x.labels[LABEL_CONTAINER_NAME] ?? x.metadata.name) === c.name)
        .sort((a, b) => b.metadata.attempt - a.metadata.attempt);
      const current = latestOf(inSandbox, c.name);
      const previous = mine.find((x) => x.id !== current?.id && x.state === 'exited');
      const running = current?.state === 'running';
      const startup =
        current === undefined ? undefined : this.probes.result(uid, c.name, 'startup', current.id);
      const readiness =
        current === undefined ? undefined : this.probes.result(uid, c.name, 'readiness', current.id);
      const started = running && (c.startupProbe === undefined || startup === 'success');
      const ready = started && (c.readinessProbe === undefined || readiness === 'success');
      let waiting = this.waiting.get(`${uid}/${c.name}`);
      if (current?.state === 'exited') {
        const restart =
          (isSidecar(c) && !terminal) ||
          policy === 'Always' ||
          (policy === 'OnFailure' && current.exitCode !== 0);
        if (!restart || terminal || waiting?.reason !== 'CrashLoopBackOff') waiting = undefined;
      } else if (running) waiting = undefined;
      const restartCount =
        current === undefined
          ? (mine[0]?.metadata.attempt ?? 0)
          : Number(current.annotations[ANNOTATION_RESTART_COUNT] ?? current.metadata.attempt);
      return { spec: c, current, previous, restartCount, waiting, ready, started };
    });
  }

  private writeStatus(
    pod: Pod,
    sandboxReady: boolean,
    podIP: string,
    inSandbox: readonly ContainerStatus[],
    all: readonly ContainerStatus[],
    terminal: boolean,
    ending?: Ending,
  ): void {
    const uid = pod.metadata.uid ?? '';
    const init = this.views(pod, pod.spec.initContainers ?? [], inSandbox, all, terminal);
    const regular = this.views(pod, pod.spec.containers, inSandbox, all, terminal);
    // Ephemeral containers count for neither readiness nor the phase (kubelet: ready false).
    const ephemeral = this.views(pod, pod.spec.ephemeralContainers ?? [], inSandbox, all, terminal);
    const phase = ending === undefined ? podPhase(pod, init, regular) : 'Failed';
    const initDone = init.every(
      (v) => isSidecar(v.spec) || (v.current?.state === 'exited' && v.current.exitCode === 0),
    );
    const conds = podConditions(phase, sandboxReady && !terminal, init, regular);
    if (ending?.disruption === true) {
      // kubelet ≥ 1.31 (PodDisruptionConditions): an evicted pod carries DisruptionTarget.
      conds.push({
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'TerminationByKubelet',
        message: ending.message,
      });
    }
    const status: Json = {
      phase,
      ...(ending === undefined ? {} : { reason: ending.reason, message: ending.message }),
      conditions: this.stamp(uid, pod, conds),
      hostIP: this.hostIP,
      hostIPs: [{ ip: this.hostIP }],
      ...(podIP === '' ? {} : { podIP, podIPs: [{ ip: podIP }] }),
      startTime: this.startTimes.get(uid) ?? rfc3339(Date.now()),
      ...(init.length === 0
        ? {}
        : { initContainerStatuses: init.map((v) => containerStatusJson(v, 'PodInitializing')) }),
      containerStatuses: regular.map((v) =>
        containerStatusJson(v, initDone || init.length === 0 ? 'ContainerCreating' : 'PodInitializing'),
      ),
      ...(ephemeral.length === 0
        ? {}
        : {
            ephemeralContainerStatuses: ephemeral.map((v) =>
              containerStatusJson({ ...v, ready: false }, 'ContainerCreating'),
            ),
          }),
      qosClass: qosOf(pod),
      // kubelet ≥ 1.34 (PodObservedGenerationTracking, on by default) reports the generation it acted on.
      ...(pod.metadata.generation === undefined ? {} : { observedGeneration: pod.metadata.generation }),
    };
    this.enqueueStatus(pod, status);
  }

  private stamp(uid: string, pod: Pod, conds: Parameters<typeof stampConditions>[0]): Json[] {
    const prev =
      this.lastConditions.get(uid) ?? (pod.status as { conditions?: Json[] } | undefined)?.conditions ?? [];
    const out = stampConditions(conds, prev, Date.now());
    this.lastConditions.set(uid, out);
    return out;
  }

  /** The start-up gate refused new pods: Pending, with the reason in a condition and the status. */
  private writeRefused(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const reason = this.admission.reason ?? 'the node start-up check refused new pods';
    const conds = [
      { type: 'PodScheduled', status: 'True' as const },
      { type: 'Ready', status: 'False' as const, reason: 'NodeStartupCheckFailed', message: reason },
    ];
    this.enqueueStatus(pod, {
      phase: 'Pending',
      reason: 'NodeStartupCheckFailed',
      message: reason,
      conditions: this.stamp(uid, pod, conds),
      hostIP: this.hostIP,
      hostIPs: [{ ip: this.hostIP }],
      qosClass: qosOf(pod),
      // kubelet ≥ 1.34 (PodObservedGenerationTracking, on by default) reports the generation it acted on.
      ...(pod.metadata.generation === undefined ? {} : { observedGeneration: pod.metadata.generation }),
    });
  }

  private enqueueStatus(pod: Pod, status: Json): void {
    const uid = pod.metadata.uid ?? '';
    const text = JSON.stringify(status);
    // Like kubelet's status manager, post again when the cloud's copy says otherwise — e.g. the
    // node lifecycle controller set Ready=False while this node was unreachable (upstream
    // MarkPodsNotReady; the cloud re-sends a Pod when its Ready changes, src/cloud/sync/version.ts).
    // A copy without a Ready condition says nothing yet, so it triggers no repost.
    const cloudReady = readyOf(pod.status);
    if (this.lastStatus.get(uid) === text && (cloudReady === '' || cloudReady === readyOf(status))) return;
    const key = this.keys.get(uid);
    if (key === undefined) return;
    this.lastStatus.set(uid, text);
    this.store.enqueue(key, { type: 'podStatus', payload: status as JsonObject }, toUid(uid));
  }

  // ── events ────────────────────────────────────────────────────────────────────────

  private readonly eventsSent = new Set<string>();

  private eventOnce(
    pod: Pod,
    once: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    container?: string,
  ): void {
    const k = `${pod.metadata.uid ?? ''}/${once}`;
    if (this.eventsSent.has(k)) return;
    if (this.eventsSent.size > 10_000) this.eventsSent.clear();
    this.eventsSent.add(k);
    this.event(pod, type, reason, message, container);
  }

  private event(
    pod: Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    container?: string,
  ): void {
    const uid = pod.metadata.uid ?? '';
    const key = this.keys.get(uid) ?? {
      ...POD_KEY,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
    };
    this.enqueueEvent(
      key,
      {
        kind: 'Pod',
        name: pod.metadata.name ?? '',
        namespace: pod.metadata.namespace ?? 'default',
        uid,
        ...(container === undefined ? {} : { fieldPath: `spec.containers{${container}}` }),
      },
      { type, reason, message },
    );
  }

  private enqueueEvent(
    key: ObjectKey,
    involved: Record<string, string>,
    e: { type: string; reason: string; message: string },
  ): void {
    const now = new Date().toISOString();
    try {
      this.store.enqueue(key, {
        type: 'event',
        payload: {
          metadata: {
            name: `${involved['name'] ?? 'x'}.${randomBytes(8).toString('hex')}`,
            namespace: key.namespace ?? 'default',
          },
          involvedObject: { apiVersion: 'v1', ...involved },
          reason: e.reason,
          message: e.message,
          type: e.type,
          count: 1,
          firstTimestamp: rfc3339(Date.parse(now)),
          lastTimestamp: rfc3339(Date.parse(now)),
          reportingComponent: 'tether-edge',
          reportingInstance: this.config.nodeName,
        },
      });
    } catch (err) {
      this.log.warn({ err: errorMessage(err), reason: e.reason }, 'could not queue event');
    }
  }

  // ── image GC ──────────────────────────────────────────────────────────────────────

  /**
   * kubelet's image GC (pkg/kubelet/images/image_gc_manager.go): every run records when each image
   * was first seen and last used by a container; above the high threshold of the image
   * filesystem, unused images — oldest last use first, none younger than the minimum age, never
   * a pinned one or the runtime's sandbox image — are removed until usage is below the low one.
   */
  async imageGc(): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    if (!this.runtimeOk) return { removed };
    const now = Date.now();
    const images = await this.rt.listImages();
    const inUse = new Set<string>();
    for (const c of await this.rt.listContainers()) {
      inUse.add(c.image);
      inUse.add(c.imageRef);
    }
    const used = (i: Image): boolean =>
      inUse.has(i.id) || i.repoTags.some((t) => inUse.has(t)) || i.repoDigests.some((d) => inUse.has(d));
    const seen = new Set<string>();
    for (const img of images) {
      seen.add(img.id);
      const r = this.imageRecords.get(img.id) ?? { firstDetectedMs: now, lastUsedMs: 0 };
      if (used(img)) r.lastUsedMs = now;
      this.imageRecords.set(img.id, r);
    }
    for (const id of [...this.imageRecords.keys()]) if (!seen.has(id)) this.imageRecords.delete(id);

    const info = await this.rt.imageFsInfo();
    const mount = info.imageFilesystems[0]?.mountpoint;
    if (mount === undefined || mount === '') return { removed };
    const fs = await statfs(mount);
    const capacity = fs.blocks * fs.bsize;
    if (capacity === 0) return { removed };
    let usage = (fs.blocks - fs.bavail) * fs.bsize;
    if ((usage * 100) / capacity < this.config.imageGcHighThresholdPercent) return { removed };
    const target = (capacity * this.config.imageGcLowThresholdPercent) / 100;
    const sandboxImage =
      this.config.sandboxImage ?? (await this.rt.status(true).catch(() => undefined))?.sandboxImage;
    const candidates = images
      .filter(
        (i) =>
          !i.pinned &&
          !used(i) &&
          (sandboxImage === undefined || !i.repoTags.includes(sandboxImage)) &&
          now - (this.imageRecords.get(i.id)?.firstDetectedMs ?? now) >= this.config.imageMinimumGcAgeMs,
      )
      .sort((a, b) => {
        const ra = this.imageRecords.get(a.id);
        const rb = this.imageRecords.get(b.id);
        return (
          (ra?.lastUsedMs ?? 0) - (rb?.lastUsedMs ?? 0) ||
          (ra?.firstDetectedMs ?? 0) - (rb?.firstDetectedMs ?? 0)
        );
      });
    for (const img of candidates) {
      if (usage <= target) break;
      await this.rt.removeImage(img.id).catch(notFoundOk);
      usage -= img.size;
      removed.push(img.id);
      this.imageRecords.delete(img.id);
    }
    if (removed.length > 0) this.log.info({ removed: removed.length }, 'image garbage collection');
    return { removed };
  }
}

/** Why the agent ended a pod itself (kubelet: status reason and message of a Failed pod). */
interface Ending {
  reason: 'DeadlineExceeded' | 'Evicted';
  message: string;
  eventType: 'Normal' | 'Warning';
  /** Adds the DisruptionTarget condition (eviction). */
  disruption?: boolean;
}

/** The status the cloud echoes back says the agent already ended this pod (survives a restart). */
function endingOf(pod: Pod): Ending | undefined {
  const st = pod.status as { phase?: string; reason?: string; message?: string } | undefined;
  if (st?.phase !== 'Failed') return undefined;
  if (st.reason === 'DeadlineExceeded')
    return { reason: st.reason, message: st.message ?? '', eventType: 'Normal' };
  if (st.reason === 'Evicted')
    return { reason: st.reason, message: st.message ?? '', eventType: 'Warning', disruption: true };
  return undefined;
}

/**
 * kubelet ResourceConfigForPod's memory limit, capped by the node's memory: the sum of the
 * long-running containers' limits (sidecars included), at least the largest init container's;
 * the node's memory when any of them has no limit.
 */
function memoryForTmpfs(pod: Pod): number {
  const node = os.totalmem();
  const limitOf = (c: Container): number | undefined => {
    const l = c.resources?.limits?.['memory'];
    if (l === undefined) return undefined;
    const q = parseQuantity(l);
    return q.ok ? q.value.value() : undefined;
  };
  let sum = 0;
  for (const c of [...pod.spec.containers, ...(pod.spec.initContainers ?? []).filter(isSidecar)]) {
    const l = limitOf(c);
    if (l === undefined) return node;
    sum += l;
  }
  for (const c of (pod.spec.initContainers ?? []).filter((x) => !isSidecar(x))) {
    const l = limitOf(c);
    if (l === undefined) return node;
    sum = Math.max(sum, l);
  }
  return sum > 0 && sum < node ? sum : node;
}

/** A byte count as resource.Quantity prints it (binary SI when exact: 2Mi, 1Gi). */
function canonicalBytes(n: number): string {
  for (const [suffix, unit] of [
    ['Ei', 2 ** 60],
    ['Pi', 2 ** 50],
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (n >= unit && n % unit === 0) return `${n / unit}${suffix}`;
  }
  return String(n);
}

function isSidecar(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

interface StartContext {
  pod: Pod;
  sandboxId: SandboxId;
  sandbox: SandboxConfig;
  /** JSON `{container: lastAttempt}` carried by the sandbox (ANNOTATION_ATTEMPT_BASE). */
  attemptBase: string;
  podIP: string;
  volumePaths: Record<string, string>;
  containers: readonly ContainerStatus[];
}

function latestOf(list: readonly ContainerStatus[], name: string): ContainerStatus | undefined {
  let best: ContainerStatus | undefined;
  for (const c of list) {
    if ((c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name) !== name) continue;
    if (
      best === undefined ||
      c.metadata.attempt > best.metadata.attempt ||
      (c.metadata.attempt === best.metadata.attempt && c.createdAtNs > best.createdAtNs)
    )
      best = c;
  }
  return best;
}

function gracePeriod(pod: Pod): number {
  return pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

function qosOf(pod: Pod): string {
  const q = podQos(pod);
  return q.ok ? q.value : 'BestEffort';
}

function notFoundOk(e: unknown): void {
  if (e instanceof CriError && e.code === 'NOT_FOUND') return;
  throw e;
}

export type { ContainerId };

/** The Ready condition's status in a pod status ('' when absent). */
function readyOf(s: unknown): string {
  const conds = (s as { conditions?: readonly { type?: string; status?: string }[] } | undefined)?.conditions;
  return conds?.find((c) => c.type === 'Ready')?.status ?? '';
}
