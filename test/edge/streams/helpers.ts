import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  buildContainerConfig,
  buildSandboxConfig,
  type Container,
  type ContainerId,
  type CriRuntime,
  type Pod,
  type SandboxConfig,
  type SandboxId,
} from '../../../src/edge/cri/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { resourceVersion, uid as toUid, type JsonObject } from '../../../src/protocol/index.js';
import {
  SHELL_IMAGE,
  TEST_RUN_LABEL,
  newRuntime,
  removeCgroupTree,
  removeRunSandboxes,
  waitFor,
} from '../cri/helpers.js';

export { SHELL_IMAGE, waitFor };

/**
 * Pods for stream tests, run straight through CRI (as test/edge/cri does), so these tests depend
 * on containerd and the store only — not on the pod manager's reconcile loop.
 */
export interface StreamEnv {
  readonly run: string;
  readonly dir: string;
  readonly logsRoot: string;
  readonly nodeName: string;
  readonly store: EdgeStore;
  readonly rt: CriRuntime;
  readonly cgroupRoot: string;
  seq: number;
}

export async function newStreamEnv(tag: string): Promise<StreamEnv> {
  const run = randomUUID().slice(0, 8);
  const dir = await mkdtemp(path.join(tmpdir(), `tether-streams-${tag}-`));
  const store = new EdgeStore({ path: path.join(dir, 'edge.db') });
  store.open();
  const rt = newRuntime();
  await rt.start();
  await rt.pullImage(SHELL_IMAGE);
  return {
    run,
    dir,
    logsRoot: path.join(dir, 'logs'),
    nodeName: `edge-${tag}-${run}`,
    store,
    rt,
    cgroupRoot: `/tether-test-streams-${run}`,
    seq: 0,
  };
}

export async function disposeStreamEnv(env: StreamEnv): Promise<void> {
  await removeRunSandboxes(env.rt, env.run).catch(() => undefined);
  await env.rt.stop();
  env.store.close();
  await removeCgroupTree(env.cgroupRoot);
  await rm(env.dir, { recursive: true, force: true });
}

export function makePod(env: StreamEnv, name: string, containers: Container[], nodeName = env.nodeName): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'streams-test',
      uid: randomUUID(),
      labels: { [TEST_RUN_LABEL]: env.run },
    },
    spec: { nodeName, containers },
  };
}

/** Feeds the pod to the store exactly as the channel does. */
export function storePod(env: StreamEnv, pod: Pod): void {
  env.seq++;
  env.store.applySync({
    kind: 'sync',
    op: 'upsert',
    seq: env.seq,
    key: {
      group: '',
      version: 'v1',
      kind: 'Pod',
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name ?? '',
    },
    uid: toUid(pod.metadata.uid ?? ''),
    resourceVersion: resourceVersion(String(env.seq)),
    object: pod as unknown as JsonObject,
  });
}

export interface RunningPod {
  readonly pod: Pod;
  readonly sandboxId: SandboxId;
  readonly sandbox: SandboxConfig;
  readonly containers: Map<string, ContainerId>;
}

/** Runs the pod's sandbox and its containers (attempt 0), and stores the pod. */
export async function runPod(env: StreamEnv, pod: Pod, opts: { store?: boolean } = {}): Promise<RunningPod> {
  const sb = buildSandboxConfig(pod, { podLogsRoot: env.logsRoot, cgroupRoot: env.cgroupRoot });
  if (!sb.ok) throw sb.error;
  const sandboxId = await env.rt.runPodSandbox(sb.value);
  const containers = new Map<string, ContainerId>();
  const running: RunningPod = { pod, sandboxId, sandbox: sb.value, containers };
  for (const c of pod.spec.containers) containers.set(c.name, await startContainer(env, running, c.name, 0));
  if (opts.store !== false) storePod(env, pod);
  return running;
}

/** Creates and starts one container of the pod as attempt `attempt` (a restart when > 0). */
export async function startContainer(
  env: StreamEnv,
  p: RunningPod,
  name: string,
  attempt: number,
  command?: string[],
): Promise<ContainerId> {
  const spec = p.pod.spec.containers.find((c) => c.name === name);
  if (spec === undefined) throw new Error(`no container ${name}`);
  const c = command === undefined ? spec : { ...spec, command };
  const cfg = buildContainerConfig(p.pod, c, { attempt, memoryCapacityBytes: 4 * 1024 ** 3 });
  if (!cfg.ok) throw cfg.error;
  const id = await env.rt.createContainer(p.sandboxId, cfg.value, p.sandbox);
  await env.rt.startContainer(id);
  p.containers.set(name, id);
  return id;
}
