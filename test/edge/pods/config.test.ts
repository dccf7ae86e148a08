import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import type { ContainerId } from '../../../src/edge/cri/index.js';
import { PodManager } from '../../../src/edge/pods/index.js';
import {
  SHELL_IMAGE,
  condition,
  containerId,
  disposeEnv,
  makePod,
  newEnv,
  newRuntime,
  testConfig,
  outboxEvents,
  outboxStatus,
  putConfigMap,
  putPod,
  putSecret,
  sandboxesOf,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

let env: Env;

beforeAll(async () => {
  env = await newEnv('cfg');
  await env.manager.start();
});

afterAll(async () => {
  await disposeEnv(env);
});

async function exec(id: string, cmd: string[]): Promise<string> {
  const r = await env.rt.execSync(id as ContainerId, cmd, 5);
  return r.stdout.toString();
}

describe('edge/pods configuration and termination (real containerd)', () => {
  it('edge/pods — env from a Secret and a ConfigMap (keyRef, envFrom with prefix, fieldRef)', async () => {
    putConfigMap(env, 'settings', { MODE: 'edge', LEVEL: '3' });
    putSecret(env, 'creds', { password: 's3cr3t', user: 'admin' });
    const pod = makePod(env, 'env', {
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          env: [
            { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
            { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            {
              name: 'OPTIONAL',
              valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } },
            },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'COMBINED', value: '$(FROM_CM)-$(POD_NAME)' },
          ],
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'env', (x) => x.phase === 'Running', 'Running');
    const out = await exec(containerId(s.containerStatuses?.[0]), ['env']);
    const vars = new Map(
      out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars.get('FROM_CM')).toBe('edge');
    expect(vars.get('FROM_SECRET')).toBe('s3cr3t');
    expect(vars.get('CFG_MODE')).toBe('edge');
    expect(vars.get('CFG_LEVEL')).toBe('3');
    expect(vars.get('user')).toBe('admin');
    expect(vars.get('POD_NAME')).toBe('env');
    expect(vars.get('COMBINED')).toBe('edge-env');
    expect(vars.has('OPTIONAL')).toBe(false);
  });

  it('edge/pods — a missing Secret key leaves the container waiting with CreateContainerConfigError', async () => {
    const pod = makePod(env, 'badref', {
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }],
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(
      env,
      'badref',
      (x) => x.containerStatuses?.[0]?.state['waiting']?.['reason'] === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(s.phase).toBe('Pending');
    expect(String(s.containerStatuses?.[0]?.state['waiting']?.['message'])).toContain('nope');
  });

  it('edge/pods — image pull failures: ErrImagePull then ImagePullBackOff; policy Never with an absent image', async () => {
    const pod = makePod(env, 'noimg', {
      containers: [
        { name: 'missing', image: 'localhost:5000/tether/does-not-exist:1', command: ['sleep', '1'] },
        { name: 'never', image: 'localhost:5000/tether/absent:2', imagePullPolicy: 'Never' },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(
      env,
      'noimg',
      (x) => x.containerStatuses?.[0]?.state['waiting']?.['reason'] === 'ImagePullBackOff',
      'ImagePullBackOff',
    );
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses?.[1]?.state['waiting']?.['reason']).toBe('ErrImageNeverPull');
    expect(
      outboxEvents(env, 'noimg').some((e) => e.reason === 'Failed' && e.message.includes('does-not-exist')),
    ).toBe(true);
  });

  it('edge/pods — a ConfigMap volume update reaches the running container without a restart', async () => {
    putConfigMap(env, 'files', { 'greeting.txt': 'hello v1' }, 'cm-files');
    const pod = makePod(env, 'cmvol', {
      volumes: [
        { name: 'cfg', configMap: { name: 'files' } },
        {
          name: 'info',
          downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] },
        },
      ],
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/cfg', readOnly: true },
            { name: 'info', mountPath: '/etc/info' },
          ],
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'cmvol', (x) => x.phase === 'Running', 'Running');
    const id = containerId(s.containerStatuses?.[0]);
    expect(await exec(id, ['cat', '/etc/cfg/greeting.txt'])).toBe('hello v1');
    expect(await exec(id, ['cat', '/etc/info/name'])).toBe('cmvol');

    putConfigMap(env, 'files', { 'greeting.txt': 'hello v2', 'extra.txt': 'new key' }, 'cm-files');
    await waitFor('the new ConfigMap content in the container', async () =>
      (await exec(id, ['cat', '/etc/cfg/greeting.txt'])) === 'hello v2' ? true : undefined,
    );
    expect(await exec(id, ['cat', '/etc/cfg/extra.txt'])).toBe('new key');
    const after = outboxStatus(env, 'cmvol');
    expect(containerId(after?.containerStatuses?.[0])).toBe(id);
    expect(after?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('edge/pods — a failing liveness probe restarts the container', async () => {
    const pod = makePod(env, 'live', {
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          livenessProbe: {
            exec: { command: ['sh', '-c', 'test -e /tmp/never'] },
            periodSeconds: 1,
            failureThreshold: 2,
          },
          readinessProbe: { tcpSocket: { port: 1 }, periodSeconds: 1 },
        },
      ],
    });
    putPod(env, pod);
    const first = await waitStatus(env, 'live', (x) => x.phase === 'Running', 'Running');
    expect(condition(first, 'Ready')).toBe('False'); // nothing listens on port 1
    const s = await waitStatus(
      env,
      'live',
      (x) => (x.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      'a restart',
    );
    const cs = s.containerStatuses?.[0];
    expect(containerId(cs)).not.toBe(containerId(first.containerStatuses?.[0]));
    expect(cs?.lastState['terminated']).toBeDefined();
    const events = outboxEvents(env, 'live');
    expect(
      events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed')),
    ).toBe(true);
    expect(events.some((e) => e.reason === 'Killing' && e.message.includes('liveness'))).toBe(true);
  });

  it('edge/pods — graceful deletion runs the preStop hook, removes everything and reports deleted', async () => {
    const hostDir = path.join(env.dir, 'host');
    await mkdir(hostDir);
    const pod = makePod(env, 'bye', {
      terminationGracePeriodSeconds: 2,
      volumes: [{ name: 'host', hostPath: { path: hostDir, type: 'Directory' } }],
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'host', mountPath: '/host' }],
          lifecycle: {
            preStop: { exec: { command: ['sh', '-c', 'echo stopped-gracefully > /host/prestop'] } },
          },
        },
      ],
    });
    putPod(env, pod);
    await waitStatus(env, 'bye', (x) => x.phase === 'Running', 'Running');
    putPod(env, {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 5,
      },
    });
    const done = await waitStatus(env, 'bye', (x) => x.deleted === true, 'deleted: true');
    expect(done).toEqual({ deleted: true });
    const item = env.store.pending(100_000).find((i) => i.write.type === 'podStatus' && i.key.name === 'bye');
    expect(item?.uid).toBe(pod.metadata.uid);
    expect(await readFile(path.join(hostDir, 'prestop'), 'utf8')).toBe('stopped-gracefully\n');
    expect(await sandboxesOf(env.rt, pod.metadata.uid ?? '')).toBe(0);
    expect(existsSync(path.join(env.dir, 'pods', pod.metadata.uid ?? ''))).toBe(false);
  });
});

describe('edge/pods start-up gate and runtime loss', () => {
  it('edge/pods — a refused start-up check keeps new pods Pending with the reason, and admits them once it passes', async () => {
    let verdict = { admitNewPods: false, reason: 'disk /var is 99% full' };
    const gated = await newEnv('gate', {}, { startupCheck: () => Promise.resolve(verdict) });
    try {
      await gated.manager.start();
      expect(gated.manager.admissionVerdict().admitNewPods).toBe(false);
      expect(gated.store.getMeta('pods.startupVerdict')).toContain('99% full');
      const pod = makePod(gated, 'waiting', {
        containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
      });
      putPod(gated, pod);
      const s = await waitStatus(gated, 'waiting', (x) => x.phase === 'Pending', 'Pending');
      expect(s.reason).toBe('NodeStartupCheckFailed');
      expect(s.message).toBe('disk /var is 99% full');
      expect(s.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('NodeStartupCheckFailed');
      expect(await sandboxesOf(gated.rt, pod.metadata.uid ?? '')).toBe(0);
      verdict = { admitNewPods: true, reason: '' };
      await waitStatus(gated, 'waiting', (x) => x.phase === 'Running', 'Running after admission');
    } finally {
      await disposeEnv(gated);
    }
  });

  it('edge/pods — an unreachable runtime is reported, nothing crashes, and no status is invented', async () => {
    const down = await newEnv('down');
    const deadRt = newRuntime(path.join(down.dir, 'no-such.sock'));
    await deadRt.start();
    const m = new PodManager(testConfig(down.run, down.dir, down.nodeName), {
      store: down.store,
      runtime: deadRt,
      logger: silentLogger(),
      registry: createRegistry(),
    });
    const seen: boolean[] = [];
    m.onRuntimeHealth((ok) => seen.push(ok));
    try {
      putPod(down, makePod(down, 'p', { containers: [{ name: 'main', image: SHELL_IMAGE }] }));
      await m.start();
      await waitFor('runtime reported down', () => (m.runtimeHealthy() ? undefined : true));
      expect(seen).toEqual([false]);
      expect(outboxStatus(down, 'p')).toBeUndefined();
      const ev = down.store.pending(100).find((i) => i.write.type === 'event' && i.key.kind === 'Node');
      expect((ev?.write.payload as { reason?: string } | undefined)?.reason).toBe(
        'ContainerRuntimeUnhealthy',
      );
    } finally {
      await m.stop();
      await deadRt.stop();
      await disposeEnv(down);
    }
  });
});
