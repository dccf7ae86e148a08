import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerId } from '../../../src/edge/cri/index.js';
import {
  SHELL_IMAGE,
  condition,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  outboxEvents,
  podKey,
  putPod,
  removeObject,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

let env: Env;

beforeAll(async () => {
  env = await newEnv('ed', { evictionIntervalMs: 500 });
  await env.manager.start();
});

afterAll(async () => {
  await disposeEnv(env);
});

async function mountsOf(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[4]?.startsWith(dir) === true)
    .map((f) => `${f[4] ?? ''} ${f.at(-3) ?? ''} ${f.at(-1) ?? ''}`);
}

describe('edge/pods emptyDir and local storage eviction (real containerd)', () => {
  it('edge/pods — medium Memory is a tmpfs sized by sizeLimit, or by the pod memory limit; unmounted on deletion', async () => {
    const pod = makePod(env, 'mem', {
      volumes: [
        { name: 'small', emptyDir: { medium: 'Memory', sizeLimit: '4Mi' } },
        { name: 'bylimit', emptyDir: { medium: 'Memory' } },
      ],
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          resources: { limits: { memory: '48Mi', cpu: '100m' } },
          volumeMounts: [
            { name: 'small', mountPath: '/small' },
            { name: 'bylimit', mountPath: '/bylimit' },
          ],
        },
      ],
    });
    const uid = pod.metadata.uid ?? '';
    putPod(env, pod);
    const s = await waitStatus(env, 'mem', (x) => x.phase === 'Running', 'Running');
    const m = await mountsOf(`${env.dir}/pods/${uid}/`);
    expect(m.find((x) => x.includes('/small '))).toMatch(/ tmpfs .*size=4096k/);
    expect(m.find((x) => x.includes('/bylimit '))).toMatch(/ tmpfs .*size=49152k/);
    // Inside the container: writing past 4 MiB fails with ENOSPC.
    const id = containerId(s.containerStatuses?.[0]) as ContainerId;
    const r = await env.rt.execSync(id, ['dd', 'if=/dev/zero', 'of=/small/f', 'bs=1M', 'count=8'], 10);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/No space left on device/);
    removeObject(env, podKey('mem'), uid);
    await waitFor('tmpfs unmounted', async () =>
      (await mountsOf(`${env.dir}/pods/${uid}/`)).length === 0 ? true : undefined,
    );
  });

  it('edge/pods — a disk emptyDir over its sizeLimit evicts the pod (Failed, reason Evicted, DisruptionTarget)', async () => {
    const pod = makePod(env, 'fat', {
      volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '2Mi' } }],
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'sleep 1; dd if=/dev/urandom of=/scratch/f bs=1M count=4; sleep 3600'],
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'fat', (x) => x.phase === 'Failed', 'Evicted');
    expect(s.reason).toBe('Evicted');
    expect(s.message).toBe('Usage of EmptyDir volume "scratch" exceeds the limit "2Mi". ');
    expect(condition(s, 'DisruptionTarget')).toBe('True');
    expect(s.containerStatuses?.[0]?.state['terminated']).toBeDefined();
    expect(outboxEvents(env, 'fat').some((e) => e.reason === 'Evicted' && e.type === 'Warning')).toBe(true);
    const cs = await env.rt.listContainers({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid ?? '' } });
    expect(cs.map((c) => c.state)).toEqual(['exited']);
  });

  it('edge/pods — a container over its ephemeral-storage limit (writable layer + logs) evicts the pod', async () => {
    const pod = makePod(env, 'rootfs', {
      containers: [
        {
          name: 'writer',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'sleep 1; dd if=/dev/urandom of=/big bs=1M count=4; sleep 3600'],
          resources: { limits: { 'ephemeral-storage': '2Mi' } },
        },
        {
          name: 'quiet',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          resources: { limits: { 'ephemeral-storage': '100Mi' } },
        },
      ],
    });
    putPod(env, pod);
    // containerd refreshes writable-layer usage every 10 s (stats_collect_period).
    const s = await waitStatus(env, 'rootfs', (x) => x.phase === 'Failed', 'Evicted', 60_000);
    expect(s.reason).toBe('Evicted');
    // The pod's total (102Mi) is not exceeded; the writer's own limit is (kubelet checks in that order).
    expect(s.message).toBe('Container writer exceeded its local ephemeral storage limit "2Mi". ');
    expect(condition(s, 'DisruptionTarget')).toBe('True');
  });
});
