import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_POD_UID, type ContainerId, type SandboxId } from '../../../src/edge/cri/index.js';
import {
  SHELL_IMAGE,
  condition,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  outboxEvents,
  putPod,
  waitStatus,
  type Env,
} from './helpers.js';

let env: Env;

beforeAll(async () => {
  env = await newEnv('life');
  await env.manager.start();
});

afterAll(async () => {
  await disposeEnv(env);
});

describe('edge/pods lifecycle (real containerd)', () => {
  it('edge/pods — an httpd pod with a readiness probe reaches Running and Ready, status shaped like kubelet', async () => {
    const pod = makePod(env, 'web', {
      containers: [
        {
          name: 'httpd',
          image: SHELL_IMAGE,
          command: [
            'sh',
            '-c',
            'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www',
          ],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 },
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(
      env,
      'web',
      (x) => x.phase === 'Running' && condition(x, 'Ready') === 'True',
      'Running+Ready',
    );
    expect(s.podIP).toMatch(/^10\.88\./);
    expect(s.hostIP).toBe('127.0.0.1');
    expect(s.qosClass).toBe('BestEffort');
    expect(s.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(s.conditions?.map((c) => c.type)).toEqual([
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
    for (const c of s.conditions ?? []) expect(c.lastTransitionTime).toMatch(/Z$/);
    const cs = s.containerStatuses?.[0];
    expect(cs?.name).toBe('httpd');
    expect(cs?.ready).toBe(true);
    expect(cs?.started).toBe(true);
    expect(cs?.restartCount).toBe(0);
    expect(cs?.image).toBe(SHELL_IMAGE);
    expect(cs?.imageID).not.toBe('');
    expect(cs?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(cs?.state['running']?.['startedAt']).toMatch(/Z$/);
    expect(cs?.lastState).toEqual({});
    // Pending before Ready was reported too: the readiness condition went False → True.
    expect(outboxEvents(env, 'web').map((e) => e.reason)).toContain('Started');
  });

  it('edge/pods — a crashing container restarts with back-off (CrashLoopBackOff) and counts restarts', async () => {
    const pod = makePod(env, 'crash', {
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sh', '-c', 'echo dying; exit 3'] }],
    });
    putPod(env, pod);
    const looping = await waitStatus(
      env,
      'crash',
      (x) => x.containerStatuses?.[0]?.state['waiting']?.['reason'] === 'CrashLoopBackOff',
      'CrashLoopBackOff',
    );
    const cs = looping.containerStatuses?.[0];
    expect(cs?.lastState['terminated']?.['exitCode']).toBe(3);
    expect(cs?.lastState['terminated']?.['reason']).toBe('Error');
    expect(String(cs?.state['waiting']?.['message'])).toMatch(
      /^back-off \ds restarting failed container=main pod=crash_pods-test/,
    );
    expect(looping.phase).toBe('Running'); // restartPolicy Always: kubelet reports Running while crash looping
    // Between restarts the container waits in CrashLoopBackOff and the pod is not Ready (while it
    // briefly runs it is Ready, as with kubelet: no readiness probe).
    const later = await waitStatus(
      env,
      'crash',
      (x) =>
        (x.containerStatuses?.[0]?.restartCount ?? 0) >= 3 &&
        x.containerStatuses?.[0]?.state['waiting']?.['reason'] === 'CrashLoopBackOff',
      'restartCount >= 3 while backing off',
    );
    expect(condition(later, 'Ready')).toBe('False');
    expect(outboxEvents(env, 'crash').some((e) => e.reason === 'BackOff' && e.type === 'Warning')).toBe(true);
  });

  it('edge/pods — a container over its memory limit is OOMKilled (exit code 137), restartPolicy Never → Failed', async () => {
    const pod = makePod(env, 'oom', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'hog',
          image: SHELL_IMAGE,
          // Doubling a shell string grows the heap until the cgroup's limit kills the process.
          command: ['sh', '-c', 'a=xxxxxxxxxxxxxxxx; while true; do a="$a$a"; done'],
          resources: { limits: { memory: '32Mi', cpu: '500m' } },
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'oom', (x) => x.phase === 'Failed', 'Failed');
    const t = s.containerStatuses?.[0]?.state['terminated'];
    expect(t?.['reason']).toBe('OOMKilled');
    expect(t?.['exitCode']).toBe(137);
    expect(s.qosClass).toBe('Guaranteed');
    expect(condition(s, 'Ready')).toBe('False');
    expect(s.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PodCompleted');
  });

  it('edge/pods — init containers run in order, each to completion, before the app container', async () => {
    const pod = makePod(env, 'init', {
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [
        {
          name: 'one',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'sleep 1; echo one >> /data/order'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
        {
          name: 'two',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'echo two >> /data/order'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      containers: [
        {
          name: 'app',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'echo app >> /data/order; exec sleep 3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    });
    putPod(env, pod);
    const pending = await waitStatus(
      env,
      'init',
      (x) => x.initContainerStatuses?.[0]?.state['running'] !== undefined,
      'first init running',
    );
    expect(pending.phase).toBe('Pending');
    expect(condition(pending, 'Initialized')).toBe('False');
    expect(pending.containerStatuses?.[0]?.state['waiting']?.['reason']).toBe('PodInitializing');
    expect(pending.initContainerStatuses?.[1]?.state['waiting']?.['reason']).toBe('PodInitializing');

    const s = await waitStatus(env, 'init', (x) => x.phase === 'Running', 'Running');
    expect(condition(s, 'Initialized')).toBe('True');
    for (const ic of s.initContainerStatuses ?? []) {
      expect(ic.state['terminated']?.['reason']).toBe('Completed');
      expect(ic.state['terminated']?.['exitCode']).toBe(0);
    }
    const file = path.join(
      env.dir,
      'pods',
      pod.metadata.uid ?? '',
      'volumes',
      'kubernetes.io~empty-dir',
      'data',
      'order',
    );
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\napp\n');
    const id = containerId(s.containerStatuses?.[0]);
    const r = await env.rt.execSync(id as ContainerId, ['cat', '/data/order'], 5);
    expect(r.stdout.toString()).toBe('one\ntwo\napp\n');
  });

  it('edge/pods — a dead sandbox (as after a host reboot) is re-created and restart counts carry over', async () => {
    const pod = makePod(env, 'reborn', {
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'reborn', (x) => x.phase === 'Running', 'Running');
    const uid = pod.metadata.uid ?? '';
    const [box] = await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } });
    expect(box?.metadata.attempt).toBe(0);
    // What a reboot leaves: the sandbox NOTREADY and its containers exited.
    await env.rt.stopPodSandbox(box?.id ?? ('' as SandboxId));
    const again = await waitStatus(
      env,
      'reborn',
      (x) =>
        x.phase === 'Running' &&
        containerId(x.containerStatuses?.[0]) !== containerId(s.containerStatuses?.[0]),
      'Running in a new sandbox',
    );
    expect(again.containerStatuses?.[0]?.restartCount).toBe(1);
    const boxes = await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } });
    expect(boxes.map((b) => [b.metadata.attempt, b.state])).toEqual([[1, 'ready']]);
    expect(outboxEvents(env, 'reborn').map((e) => e.reason)).toContain('SandboxChanged');
  });
});
