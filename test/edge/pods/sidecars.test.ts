import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SHELL_IMAGE,
  condition,
  disposeEnv,
  makePod,
  newEnv,
  putPod,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

let env: Env;
let out: string;

beforeAll(async () => {
  env = await newEnv('side');
  await env.manager.start();
  out = await mkdtemp(path.join(tmpdir(), 'tether-sidecar-out-'));
});

afterAll(async () => {
  await disposeEnv(env);
  await rm(out, { recursive: true, force: true });
});

const loop = 'while true; do sleep 0.2; done';

describe('edge/pods sidecar containers (KEP-753, real containerd)', () => {
  it('edge/pods — sidecars start in order before the main container, are restarted, and do not block completion', async () => {
    const pod = makePod(env, 'job', {
      restartPolicy: 'Never',
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [
        {
          name: 'setup',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'echo setup >> /data/order'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
        {
          name: 'side',
          image: SHELL_IMAGE,
          restartPolicy: 'Always',
          // Crashes once, a second after it started: restarted although the pod's policy is Never.
          command: [
            'sh',
            '-c',
            `echo side >> /data/order; if [ ! -f /data/crashed ]; then sleep 1; touch /data/crashed; exit 1; fi; ${loop}`,
          ],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      containers: [
        {
          name: 'app',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'echo app >> /data/order; sleep 5; exit 0'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    });
    putPod(env, pod);
    const running = await waitStatus(
      env,
      'job',
      (x) =>
        x.phase === 'Running' &&
        x.containerStatuses?.[0]?.state['running'] !== undefined &&
        x.initContainerStatuses?.[1]?.state['running'] !== undefined &&
        x.initContainerStatuses[1].restartCount >= 1,
      'app running beside a restarted sidecar',
    );
    expect(condition(running, 'Initialized')).toBe('True');
    expect(running.initContainerStatuses?.[0]?.state['terminated']?.['reason']).toBe('Completed');
    expect(running.initContainerStatuses?.[1]?.lastState['terminated']?.['exitCode']).toBe(1);
    const done = await waitStatus(env, 'job', (x) => x.phase === 'Succeeded', 'Succeeded', 40_000);
    // The sidecar was stopped once the app had finished.
    expect(done.initContainerStatuses?.[1]?.state['terminated']).toBeDefined();
    expect(done.containerStatuses?.[0]?.state['terminated']?.['exitCode']).toBe(0);
    const order = await readFile(
      path.join(
        env.dir,
        'pods',
        pod.metadata.uid ?? '',
        'volumes',
        'kubernetes.io~empty-dir',
        'data',
        'order',
      ),
      'utf8',
    );
    expect(order.split('\n').slice(0, 3)).toEqual(['setup', 'side', 'app']);
    const cs = await env.rt.listContainers({ labels: { 'io.kubernetes.pod.uid': pod.metadata.uid ?? '' } });
    expect(cs.every((c) => c.state === 'exited')).toBe(true);
  });

  it('edge/pods — the main container waits until the sidecar has passed its startup probe', async () => {
    const mount = [{ name: 'data', mountPath: '/data' }];
    const pod = makePod(env, 'gated', {
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [
        {
          name: 'proxy',
          image: SHELL_IMAGE,
          restartPolicy: 'Always',
          command: ['sh', '-c', `sleep 2; echo proxy-ready >> /data/order; touch /tmp/ready; ${loop}`],
          startupProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
          volumeMounts: mount,
        },
      ],
      containers: [
        {
          name: 'app',
          image: SHELL_IMAGE,
          command: ['sh', '-c', `echo app >> /data/order; ${loop}`],
          volumeMounts: mount,
        },
      ],
    });
    putPod(env, pod);
    const early = await waitStatus(
      env,
      'gated',
      (x) => x.initContainerStatuses?.[0]?.state['running'] !== undefined,
      'sidecar running',
    );
    expect(early.phase).toBe('Pending');
    expect(early.initContainerStatuses?.[0]?.started).toBe(false);
    expect(condition(early, 'Initialized')).toBe('False');
    const s = await waitStatus(
      env,
      'gated',
      (x) => x.containerStatuses?.[0]?.state['running'] !== undefined,
      'app running',
    );
    expect(s.initContainerStatuses?.[0]?.started).toBe(true);
    const order = await readFile(
      path.join(
        env.dir,
        'pods',
        pod.metadata.uid ?? '',
        'volumes',
        'kubernetes.io~empty-dir',
        'data',
        'order',
      ),
      'utf8',
    );
    expect(order).toBe('proxy-ready\napp\n');
  });

  it('edge/pods — on deletion the main containers stop first, then the sidecars in reverse order', async () => {
    const trap = (name: string): string[] => [
      'sh',
      '-c',
      `trap 'echo ${name} >> /out/order; exit 0' TERM; ${loop}`,
    ];
    const mount = [{ name: 'out', mountPath: '/out' }];
    const pod = makePod(env, 'svc', {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'out', hostPath: { path: out } }],
      initContainers: [
        {
          name: 'side-a',
          image: SHELL_IMAGE,
          restartPolicy: 'Always',
          command: trap('side-a'),
          volumeMounts: mount,
        },
        {
          name: 'side-b',
          image: SHELL_IMAGE,
          restartPolicy: 'Always',
          command: trap('side-b'),
          volumeMounts: mount,
        },
      ],
      containers: [{ name: 'app', image: SHELL_IMAGE, command: trap('app'), volumeMounts: mount }],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'svc', (x) => condition(x, 'Ready') === 'True', 'Ready');
    expect(s.phase).toBe('Running');
    expect(s.initContainerStatuses?.map((c) => c.started)).toEqual([true, true]);
    putPod(env, {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 10,
      },
    });
    await waitStatus(env, 'svc', (x) => x.deleted === true, 'deleted');
    const order = await waitFor('three stop lines', async () => {
      const t = await readFile(path.join(out, 'order'), 'utf8').catch(() => '');
      return t.split('\n').length >= 4 ? t : undefined;
    });
    expect(order).toBe('app\nside-b\nside-a\n');
  });
});
