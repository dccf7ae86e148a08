import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import {
  CriRuntime,
  DEFAULT_TEST_CRI_SOCKET,
  type Pod,
  type RuntimeClient,
} from '../../../src/edge/cri/index.js';

/** The shared test containerd's CRI socket (common.md), overridable by env. */
export const CRI_SOCKET = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;
export const SHELL_IMAGE = 'localhost:5000/tether/shell:1';
/** Label on every sandbox a test run creates, so cleanup finds exactly ours. */
export const TEST_RUN_LABEL = 'tether.dev/test-run';

export function newRuntime(endpoint = CRI_SOCKET, requestTimeoutMs?: number): CriRuntime {
  return new CriRuntime(
    { endpoint, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) },
    { logger: silentLogger(), registry: createRegistry() },
  );
}

export function testPod(run: string, name: string, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'cri-test',
      uid: randomUUID(),
      labels: { [TEST_RUN_LABEL]: run, app: name },
    },
    spec: { containers: [], ...spec },
  };
}

/** Stops and removes every sandbox (and so its containers) carrying this run's label. */
export async function removeRunSandboxes(rt: RuntimeClient, run: string): Promise<number> {
  const boxes = await rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: run } });
  for (const b of boxes) {
    for (const c of await rt.listContainers({ sandboxId: b.id })) {
      await rt.stopContainer(c.id, 0).catch(() => undefined);
      await rt.removeContainer(c.id).catch(() => undefined);
    }
    await rt.stopPodSandbox(b.id);
    await rt.removePodSandbox(b.id);
  }
  return boxes.length;
}

/**
 * runc removes a container's own cgroup but not the pod-level parents the CRI config named
 * (kubelet's pod container manager would); remove the empty ones a test run created.
 */
export async function removeCgroupTree(relative: string): Promise<void> {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return;
  for (const ctrl of await readdir(root)) {
    const dir = path.join(root, ctrl, relative);
    if (existsSync(dir)) await rmdirDeep(dir);
  }
}

async function rmdirDeep(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await rmdirDeep(path.join(dir, e.name));
  }
  await rmdir(dir).catch(() => undefined);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
