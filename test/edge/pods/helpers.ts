import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { CriRuntime, DEFAULT_TEST_CRI_SOCKET, LABEL_POD_UID, type Pod } from '../../../src/edge/cri/index.js';
import { PodManager, type PodManagerConfig, type PodManagerDeps } from '../../../src/edge/pods/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import {
  resourceVersion,
  uid as toUid,
  type JsonObject,
  type ObjectKey,
} from '../../../src/protocol/index.js';
import { removeCgroupTree } from '../cri/helpers.js';

export const CRI_SOCKET = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;
export const SHELL_IMAGE = 'localhost:5000/tether/shell:1';
/** On every sandbox and container a test run creates (via PodManager extraLabels), for cleanup. */
export const TEST_RUN_LABEL = 'tether.dev/test-run';
export const NAMESPACE = 'pods-test';

export function newRuntime(endpoint = CRI_SOCKET): CriRuntime {
  return new CriRuntime({ endpoint }, { logger: silentLogger(), registry: createRegistry() });
}

/** The timings tests use: quick resync and a 1 s back-off (upstream's 10 s/5 min stay the defaults). */
export function testConfig(run: string, dir: string, nodeName: string): PodManagerConfig {
  return {
    nodeName,
    rootDir: path.join(dir, 'pods'),
    podLogsRoot: path.join(dir, 'logs'),
    reconcileIntervalMs: 500,
    backoffInitialMs: 1_000,
    backoffMaxMs: 4_000,
    cgroupRoot: `/tether-test-pods-${run}`,
    extraLabels: { [TEST_RUN_LABEL]: run },
    hostIP: '127.0.0.1',
  };
}

export interface Env {
  readonly run: string;
  readonly dir: string;
  readonly nodeName: string;
  readonly store: EdgeStore;
  readonly rt: CriRuntime;
  manager: PodManager;
  seq: number;
}

export async function newEnv(
  tag: string,
  overrides: Partial<PodManagerConfig> = {},
  deps: Partial<PodManagerDeps> = {},
): Promise<Env> {
  const run = randomUUID().slice(0, 8);
  const dir = await mkdtemp(path.join(tmpdir(), `tether-pods-${tag}-`));
  const nodeName = `edge-${tag}-${run}`;
  const store = new EdgeStore({ path: path.join(dir, 'edge.db') });
  store.open();
  const rt = newRuntime();
  await rt.start();
  await rt.pullImage(SHELL_IMAGE);
  const manager = new PodManager(
    { ...testConfig(run, dir, nodeName), ...overrides },
    { store, runtime: rt, logger: silentLogger(), registry: createRegistry(), ...deps },
  );
  return { run, dir, nodeName, store, rt, manager, seq: 0 };
}

export async function disposeEnv(env: Env): Promise<void> {
  await env.manager.stop();
  await removeRunSandboxes(env.rt, env.run);
  await env.rt.stop();
  env.store.close();
  await removeCgroupTree(`/tether-test-pods-${env.run}`);
  unmountUnder(env.dir);
  await rm(env.dir, { recursive: true, force: true });
}

/** tmpfs emptyDirs of pods a failed test left behind (deepest first). */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const p of points) execFileSync('umount', [p]);
}

/** Stops and removes every sandbox and container carrying this run's label. */
export async function removeRunSandboxes(rt: CriRuntime, run: string): Promise<number> {
  const labels = { [TEST_RUN_LABEL]: run };
  for (const c of await rt.listContainers({ labels })) {
    await rt.stopContainer(c.id, 0).catch(() => undefined);
    await rt.removeContainer(c.id).catch(() => undefined);
  }
  const boxes = await rt.listPodSandbox({ labels });
  for (const b of boxes) {
    await rt.stopPodSandbox(b.id).catch(() => undefined);
    await rt.removePodSandbox(b.id).catch(() => undefined);
  }
  return boxes.length;
}

export function podKey(name: string): ObjectKey {
  return { group: '', version: 'v1', kind: 'Pod', namespace: NAMESPACE, name };
}

export function makePod(env: Pick<Env, 'nodeName'>, name: string, spec: Partial<Pod['spec']>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, uid: randomUUID(), labels: { app: name } },
    spec: { nodeName: env.nodeName, terminationGracePeriodSeconds: 1, containers: [], ...spec },
  };
}

/** Feeds an object to the store exactly as the channel does. */
export function put(env: Env, key: ObjectKey, uid: string, object: object): void {
  env.seq++;
  env.store.applySync({
    kind: 'sync',
    op: 'upsert',
    seq: env.seq,
    key,
    uid: toUid(uid),
    resourceVersion: resourceVersion(String(env.seq)),
    object: object as JsonObject,
  });
}

export function putPod(env: Env, pod: Pod): void {
  put(env, podKey(pod.metadata.name ?? ''), pod.metadata.uid ?? '', pod);
}

export function removeObject(env: Env, key: ObjectKey, uid: string): void {
  env.seq++;
  env.store.applySync({
    kind: 'sync',
    op: 'delete',
    seq: env.seq,
    key,
    uid: toUid(uid),
    resourceVersion: resourceVersion(String(env.seq)),
  });
}

export function putConfigMap(env: Env, name: string, data: Record<string, string>, uid = `cm-${name}`): void {
  put(env, { group: '', version: 'v1', kind: 'ConfigMap', namespace: NAMESPACE, name }, uid, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: NAMESPACE, uid },
    data,
  });
}

export function putSecret(env: Env, name: string, data: Record<string, string>, type = 'Opaque'): void {
  const uid = `secret-${name}`;
  const encoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  put(env, { group: '', version: 'v1', kind: 'Secret', namespace: NAMESPACE, name }, uid, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NAMESPACE, uid },
    type,
    data: encoded,
  });
}

export type PodStatusJson = {
  phase?: string;
  reason?: string;
  message?: string;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  qosClass?: string;
  deleted?: boolean;
  conditions?: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }[];
  containerStatuses?: ContainerStatusJson[];
  initContainerStatuses?: ContainerStatusJson[];
};

export type ContainerStatusJson = {
  name: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  state: Record<string, Record<string, unknown> | undefined>;
  lastState: Record<string, Record<string, unknown> | undefined>;
};

/** The latest pod status in the outbox for this pod (coalesced per pod by the store). */
export function outboxStatus(env: Env, name: string): PodStatusJson | undefined {
  const items = env.store
    .pending(100_000)
    .filter((i) => i.write.type === 'podStatus' && i.key.kind === 'Pod' && i.key.name === name);
  return items.at(-1)?.write.payload;
}

export function outboxEvents(env: Env, name: string): { reason: string; message: string; type: string }[] {
  return env.store
    .pending(100_000)
    .filter((i) => i.write.type === 'event' && i.key.name === name)
    .map((i) => i.write.payload as unknown as { reason: string; message: string; type: string });
}

export function condition(s: PodStatusJson | undefined, type: string): string | undefined {
  return s?.conditions?.find((c) => c.type === type)?.status;
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function waitStatus(
  env: Env,
  name: string,
  pred: (s: PodStatusJson) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<PodStatusJson> {
  return waitFor(
    `${name}: ${what}`,
    () => {
      const s = outboxStatus(env, name);
      return s !== undefined && pred(s) ? s : undefined;
    },
    timeoutMs,
  );
}

export function containerId(s: ContainerStatusJson | undefined): string {
  return (s?.containerID ?? '').replace(/^containerd:\/\//, '');
}

export async function sandboxesOf(rt: CriRuntime, uid: string): Promise<number> {
  return (await rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } })).length;
}
