import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_POD_UID, type Pod } from '../../../src/edge/cri/index.js';
import {
  SHELL_IMAGE,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  putPod,
  waitStatus,
  type ContainerStatusJson,
  type Env,
  type PodStatusJson,
} from './helpers.js';

let env: Env;

beforeAll(async () => {
  env = await newEnv('eph');
  await env.manager.start();
});

afterAll(async () => {
  await disposeEnv(env);
});

type WithEphemeral = PodStatusJson & { ephemeralContainerStatuses?: ContainerStatusJson[] };
const eph = (s: PodStatusJson, name: string): ContainerStatusJson | undefined =>
  (s as WithEphemeral).ephemeralContainerStatuses?.find((c) => c.name === name);

/** The pod as the API server holds it after `kubectl debug` added `ecs`. */
function withDebuggers(pod: Pod, ecs: NonNullable<Pod['spec']['ephemeralContainers']>): Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, generation: 2 },
    spec: { ...pod.spec, ephemeralContainers: ecs },
  };
}

describe('edge/pods ephemeral containers (kubectl debug, real containerd)', () => {
  it("edge/pods — an ephemeral container starts in the running sandbox, in its target's PID namespace, once", async () => {
    // The target's pid 1 is a process nobody else runs: visible to the debugger only through the target's namespace.
    const pod = makePod(env, 'dbg', {
      containers: [{ name: 'app', image: SHELL_IMAGE, command: ['sh', '-c', 'exec sleep 434343'] }],
    });
    putPod(env, pod);
    const running = await waitStatus(
      env,
      'dbg',
      (s) => s.containerStatuses?.[0]?.state['running'] !== undefined,
      'app running',
      60_000,
    );
    const appId = containerId(running.containerStatuses?.[0]);
    const ps = 'ps > /dev/termination-log; exit 4';
    putPod(
      env,
      withDebuggers(pod, [
        { name: 'shared', image: SHELL_IMAGE, command: ['sh', '-c', ps], targetContainerName: 'app' },
        { name: 'own', image: SHELL_IMAGE, command: ['sh', '-c', ps] },
      ]),
    );
    const done = await waitStatus(
      env,
      'dbg',
      (s) =>
        eph(s, 'shared')?.state['terminated'] !== undefined &&
        eph(s, 'own')?.state['terminated'] !== undefined,
      'both debuggers terminated',
      60_000,
    );
    const shared = eph(done, 'shared')?.state['terminated'];
    const own = eph(done, 'own')?.state['terminated'];
    expect(shared?.['exitCode']).toBe(4);
    expect(shared?.['reason']).toBe('Error');
    expect(String(shared?.['message'])).toContain('sleep 434343');
    expect(String(own?.['message'])).not.toContain('sleep 434343');
    expect(eph(done, 'shared')?.ready).toBe(false);
    // The pod and its container are untouched; the debuggers do not count for readiness.
    expect(done.phase).toBe('Running');
    expect(containerId(done.containerStatuses?.[0])).toBe(appId);
    expect(done.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // Never restarted although the pod's policy is Always: still the same terminated container later.
    await new Promise((r) => setTimeout(r, 2_500));
    env.manager.resyncNow();
    await new Promise((r) => setTimeout(r, 1_000));
    const later = await waitStatus(env, 'dbg', (s) => eph(s, 'shared') !== undefined, 'status', 10_000);
    expect(eph(later, 'shared')?.restartCount).toBe(0);
    expect(containerId(eph(later, 'shared'))).toBe(containerId(eph(done, 'shared')));
    const names = (await env.rt.listContainers({ labels: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } })).map(
      (c) => c.metadata.name,
    );
    expect(names.filter((n) => n === 'shared')).toHaveLength(1);
  }, 120_000);

  it('edge/pods — a running ephemeral container is reported running, with stdin kept open for attach', async () => {
    const pod = makePod(env, 'attach', {
      containers: [{ name: 'app', image: SHELL_IMAGE, command: ['sleep', '100000'] }],
    });
    putPod(env, pod);
    await waitStatus(env, 'attach', (s) => s.phase === 'Running', 'running', 60_000);
    // `read` blocks on an open stdin; without stdin it would read EOF at once and exit.
    putPod(
      env,
      withDebuggers(pod, [
        {
          name: 'shell',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'read l; exit 0'],
          stdin: true,
          tty: true,
        },
      ]),
    );
    const s = await waitStatus(
      env,
      'attach',
      (x) => eph(x, 'shell')?.state['running'] !== undefined,
      'debugger running',
      60_000,
    );
    expect(eph(s, 'shell')?.restartCount).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500));
    const still = await waitStatus(env, 'attach', () => true, 'status', 5_000);
    expect(eph(still, 'shell')?.state['running']).toBeDefined();
  }, 120_000);
});
