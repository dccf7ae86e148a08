import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import type { CriRuntime } from '../../../src/edge/cri/index.js';
import { PodManager } from '../../../src/edge/pods/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { removeCgroupTree } from '../cri/helpers.js';
import { OwnContainerd } from '../../support/containerd.js';
import {
  SHELL_IMAGE,
  containerId,
  makePod,
  newRuntime,
  outboxEvents,
  outboxStatus,
  putPod,
  removeRunSandboxes,
  testConfig,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

// A containerd of this test's own (STACK.md: own root, state, socket and runc root; ~0.2 s to
// start), so it can be killed and restarted without touching the shared test instance.

let dir: string;
let socket: string;
let rt: CriRuntime;
let env: Env;

let own: OwnContainerd;
const startContainerd = (): Promise<void> => own.start();
const killContainerd = (signal: NodeJS.Signals): Promise<void> => own.kill(signal);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-rl-'));
  own = new OwnContainerd(dir);
  socket = own.socket;
  await startContainerd();
  rt = newRuntime(socket);
  await rt.start();
  await waitFor('CRI answers', async () =>
    (await rt.version().catch(() => undefined)) === undefined ? undefined : true,
  );
  await rt.pullImage(SHELL_IMAGE);
  const run = Math.random().toString(16).slice(2, 10);
  const store = new EdgeStore({ path: path.join(dir, 'edge.db') });
  store.open();
  const nodeName = `edge-rl-${run}`;
  env = {
    run,
    dir,
    nodeName,
    store,
    rt,
    seq: 0,
    manager: new PodManager(testConfig(run, dir, nodeName), {
      store,
      runtime: rt,
      logger: silentLogger(),
      registry: createRegistry(),
    }),
  };
}, 60_000);

afterAll(async () => {
  await env.manager.stop();
  if (!own.running) await startContainerd();
  await removeRunSandboxes(rt, env.run).catch(() => undefined);
  await rt.stop();
  await killContainerd('SIGTERM');
  env.store.close();
  await removeCgroupTree(`/tether-test-pods-${env.run}`);
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
});

describe('edge/pods runtime loss (own containerd)', () => {
  it('edge/pods — containerd dies: reported, pods untouched; it returns: recovery without restarts', async () => {
    await env.manager.start();
    const pod = makePod(env, 'steady', {
      hostNetwork: true,
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
    });
    putPod(env, pod);
    const before = await waitStatus(env, 'steady', (s) => s.phase === 'Running', 'Running');
    const id = containerId(before.containerStatuses?.[0]);
    const healthLog: boolean[] = [];
    env.manager.onRuntimeHealth((ok) => healthLog.push(ok));

    await killContainerd('SIGKILL');
    await waitFor(
      'runtime reported unhealthy',
      () => (env.manager.runtimeHealthy() ? undefined : true),
      20_000,
    );
    expect(outboxEvents(env, env.nodeName).map((e) => e.reason)).toContain('ContainerRuntimeUnhealthy');
    // Nothing was deleted or re-reported as failed while the runtime was away.
    expect(outboxStatus(env, 'steady')?.phase).toBe('Running');

    await startContainerd();
    await waitFor('runtime healthy again', () => (env.manager.runtimeHealthy() ? true : undefined), 30_000);
    expect(healthLog).toEqual([false, true]);
    // The shim kept the container alive; after recovery the same container runs, no restart.
    const running = await rt.listContainers({
      state: 'running',
      labels: { 'io.kubernetes.pod.uid': pod.metadata.uid ?? '' },
    });
    expect(running.map((c) => c.id)).toEqual([id]);
    await new Promise((r) => setTimeout(r, 1500)); // a few resyncs
    const after = outboxStatus(env, 'steady');
    expect(after?.phase).toBe('Running');
    expect(containerId(after?.containerStatuses?.[0])).toBe(id);
    expect(after?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});
