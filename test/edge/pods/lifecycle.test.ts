import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { LABEL_POD_UID, type ContainerId, type SandboxId } from '../../../src/edge/cri/index.js';
import { PodManager } from '../../../src/edge/pods/index.js';
import {
  SHELL_IMAGE,
  condition,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  outboxEvents,
  putPod,
  testConfig,
  waitStatus,
  type Env,
  type PodStatusJson,
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
    // What a reboot leaves: the sandbox NOTREADY and its containers exited — while the agent is
    // down, as in a reboot. Stopping the sandbox under a running agent races with it: containerd
    // stops the containers before the sandbox and still starts new ones in between (its
    // StopPodSandbox: "container may still be created"), so the agent may restart the container
    // once in the dying sandbox (a second restart). That path is the manager's to survive (it
    // re-creates the sandbox) but it is not this scenario.
    await env.manager.stop();
    await env.rt.stopPodSandbox(box?.id ?? ('' as SandboxId));
    env.manager = new PodManager(testConfig(env.run, env.dir, env.nodeName), {
      store: env.store,
      runtime: env.rt,
      logger: silentLogger(),
      registry: createRegistry(),
    });
    await env.manager.start();
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

describe('edge/pods sandbox dying under a running agent (real containerd)', () => {
  it('edge/pods — a container started in a sandbox that is stopped meanwhile is never reported as the pod’s container; the sandbox is re-created', async () => {
    // containerd's StopPodSandbox stops the containers first and admits new ones until the
    // sandbox itself is stopped ("container may still be created"): a restart can land in a dying
    // sandbox. This makes that window certain: the real runtime, and right after the agent starts
    // a container in the armed sandbox, the sandbox is stopped.
    const own = await newEnv('dying');
    try {
      let armed: SandboxId | undefined;
      let doomed: ContainerId | undefined;
      const startIn = new Map<ContainerId, SandboxId>();
      const rt = new Proxy(own.rt, {
        get(target, prop, receiver): unknown {
          if (prop === 'createContainer') {
            return async (...a: Parameters<typeof target.createContainer>) => {
              const id = await target.createContainer(...a);
              startIn.set(id, a[0]);
              return id;
            };
          }
          if (prop === 'startContainer') {
            return async (id: ContainerId) => {
              await target.startContainer(id);
              if (armed !== undefined && startIn.get(id) === armed) {
                doomed = id;
                const box = armed;
                armed = undefined;
                await target.stopPodSandbox(box);
              }
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      // Every pod status the agent writes, in order (the outbox keeps only the latest).
      const written: PodStatusJson[] = [];
      const enqueue = own.store.enqueue.bind(own.store);
      own.store.enqueue = (key, write, uid) => {
        if (write.type === 'podStatus' && key.name === 'dying') written.push(write.payload);
        return enqueue(key, write, uid);
      };
      own.manager = new PodManager(testConfig(own.run, own.dir, own.nodeName), {
        store: own.store,
        runtime: rt,
        logger: silentLogger(),
        registry: createRegistry(),
      });
      await own.manager.start();
      const pod = makePod(own, 'dying', {
        containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
      });
      putPod(own, pod);
      const s = await waitStatus(own, 'dying', (x) => x.phase === 'Running', 'Running');
      const first = containerId(s.containerStatuses?.[0]) as ContainerId;
      const uid = pod.metadata.uid ?? '';
      const [box] = await own.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } });
      armed = box?.id;
      // The container exits; the agent restarts it at once (first restart) — into the doomed sandbox.
      await own.rt.stopContainer(first, 0);
      const again = await waitStatus(
        own,
        'dying',
        (x) => {
          const id = containerId(x.containerStatuses?.[0]);
          return (
            x.phase === 'Running' &&
            x.containerStatuses?.[0]?.state['running'] !== undefined &&
            id !== first &&
            id !== doomed
          );
        },
        'Running in a re-created sandbox',
      );
      expect(doomed).toBeDefined();
      const boxes = await own.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } });
      expect(boxes.map((b) => [b.metadata.attempt, b.state])).toEqual([[1, 'ready']]);
      const now = await own.rt.listContainers({ labels: { [LABEL_POD_UID]: uid } });
      expect(now.find((c) => c.id === containerId(again.containerStatuses?.[0]))?.sandboxId).toBe(
        boxes[0]?.id,
      );
      // Both restarts count, as kubelet counts them.
      expect(again.containerStatuses?.[0]?.restartCount).toBe(2);
      expect(written.filter((w) => containerId(w.containerStatuses?.[0]) === doomed)).toEqual([]);
    } finally {
      await disposeEnv(own);
    }
  });
});
