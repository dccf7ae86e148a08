import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_POD_UID } from '../../../src/edge/cri/index.js';
import {
  SHELL_IMAGE,
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
let server: http.Server;
let port = 0;
const hits: { path: string; agent: string }[] = [];

beforeAll(async () => {
  env = await newEnv('term');
  await env.manager.start();
  server = http.createServer((req, res) => {
    hits.push({ path: req.url ?? '', agent: req.headers['user-agent'] ?? '' });
    res.statusCode = 500; // kubelet does not judge a hook by its status code
    res.end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await disposeEnv(env);
  await new Promise((r) => server.close(r));
});

describe('edge/pods termination (real containerd)', () => {
  it('edge/pods — terminationMessagePath content, truncated at 4096 bytes, and FallbackToLogsOnError become terminated.message', async () => {
    const pod = makePod(env, 'msg', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'file',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'printf "bye from file" > /dev/termination-log; exit 2'],
        },
        {
          name: 'custom',
          image: SHELL_IMAGE,
          terminationMessagePath: '/tmp/why',
          // 5000 bytes: the message keeps the first 4096.
          command: [
            'sh',
            '-c',
            'i=0; while [ $i -lt 500 ]; do printf "0123456789" >> /tmp/why; i=$((i+1)); done',
          ],
        },
        {
          name: 'logs',
          image: SHELL_IMAGE,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          command: ['sh', '-c', 'i=1; while [ $i -le 100 ]; do echo line-$i; i=$((i+1)); done; exit 1'],
        },
        {
          name: 'logs-ok',
          image: SHELL_IMAGE,
          terminationMessagePolicy: 'FallbackToLogsOnError',
          command: ['sh', '-c', 'echo fine'],
        },
      ],
    });
    putPod(env, pod);
    const s = await waitStatus(env, 'msg', (x) => x.phase === 'Failed', 'Failed');
    const term = (name: string): Record<string, unknown> | undefined =>
      s.containerStatuses?.find((c) => c.name === name)?.state['terminated'];
    expect(term('file')?.['message']).toBe('bye from file');
    expect(term('file')?.['exitCode']).toBe(2);
    expect(term('custom')?.['message']).toBe('0123456789'.repeat(410).slice(0, 4096));
    const fromLogs = String(term('logs')?.['message']);
    // The last 80 lines of the log (kubelet's tail), not the first ones.
    expect(fromLogs.startsWith('line-21\n')).toBe(true);
    expect(fromLogs.endsWith('line-100\n')).toBe(true);
    expect(fromLogs.split('\n').length).toBe(81);
    // Exit code 0: no fallback to the logs.
    expect(term('logs-ok')?.['message']).toBeUndefined();
  });

  it('edge/pods — activeDeadlineSeconds: the pod fails with DeadlineExceeded, its containers are killed and stay dead', async () => {
    const pod = makePod(env, 'deadline', {
      activeDeadlineSeconds: 3,
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
    });
    putPod(env, pod);
    const running = await waitStatus(env, 'deadline', (x) => x.phase === 'Running', 'Running');
    const first = containerId(running.containerStatuses?.[0]);
    const s = await waitStatus(env, 'deadline', (x) => x.phase === 'Failed', 'Failed');
    expect(s.reason).toBe('DeadlineExceeded');
    expect(s.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(s.containerStatuses?.[0]?.state['terminated']).toBeDefined();
    expect(outboxEvents(env, 'deadline').map((e) => e.reason)).toContain('DeadlineExceeded');
    // restartPolicy Always does not bring it back: a few resyncs later still the one dead container.
    await new Promise((r) => setTimeout(r, 2_000));
    const cs = await env.rt.listContainers({ labels: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } });
    expect(cs.map((c) => [c.id, c.state])).toEqual([[first, 'exited']]);
    const boxes = await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: pod.metadata.uid ?? '' } });
    expect(boxes.map((b) => b.state)).toEqual(['notready']);
  });

  it('edge/pods — httpGet postStart and preStop hooks reach their target; tcpSocket and a failing httpGet postStart kill the container', async () => {
    const pod = makePod(env, 'hooks', {
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          lifecycle: {
            postStart: { httpGet: { host: '127.0.0.1', port, path: '/started' } },
            preStop: { httpGet: { host: '127.0.0.1', port, path: '/stopping' } },
          },
        },
      ],
    });
    putPod(env, pod);
    await waitStatus(env, 'hooks', (x) => x.phase === 'Running', 'Running');
    expect(hits).toContainEqual({ path: '/started', agent: 'kube-lifecycle/1.34' });
    expect(hits.map((h) => h.path)).not.toContain('/stopping');
    putPod(env, {
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date().toISOString(),
        deletionGracePeriodSeconds: 5,
      },
    });
    await waitStatus(env, 'hooks', (x) => x.deleted === true, 'deleted');
    expect(hits.map((h) => h.path)).toContain('/stopping');

    const bad = makePod(env, 'badhooks', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'tcp',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          lifecycle: { postStart: { tcpSocket: { port: 80 } } },
        },
        {
          name: 'http',
          image: SHELL_IMAGE,
          command: ['sleep', '3600'],
          // Nothing listens there: a transport error fails the hook.
          lifecycle: { postStart: { httpGet: { host: '127.0.0.1', port: 1, path: '/' } } },
        },
      ],
    });
    putPod(env, bad);
    const s = await waitStatus(
      env,
      'badhooks',
      (x) =>
        (x.containerStatuses ?? []).every((c) => c.state['terminated'] !== undefined) && x.phase === 'Failed',
      'both containers killed, Failed',
    );
    for (const c of s.containerStatuses ?? []) expect(c.state['terminated']?.['exitCode']).not.toBe(0);
    const failed = outboxEvents(env, 'badhooks').filter((e) => e.reason === 'FailedPostStartHook');
    expect(failed.length).toBe(2);
    expect(failed[0]?.type).toBe('Warning');
  });

  it('edge/pods — deleting a pod removes its pod cgroup (nothing left under the pod cgroup root)', async () => {
    const pod = makePod(env, 'cg', {
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
    });
    const uid = pod.metadata.uid ?? '';
    putPod(env, pod);
    await waitStatus(env, 'cg', (x) => x.phase === 'Running', 'Running');
    const base = `tether-test-pods-${env.run}/besteffort`;
    const podDirs = (): string[] =>
      readdirSync('/sys/fs/cgroup', { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => path.join('/sys/fs/cgroup', e.name, base, `pod${uid}`))
        .filter((d) => existsSync(d));
    expect(podDirs().length).toBeGreaterThan(0);
    removeObject(env, podKey('cg'), uid);
    await waitFor('sandbox removed', async () =>
      (await env.rt.listPodSandbox({ labels: { [LABEL_POD_UID]: uid } })).length === 0 ? true : undefined,
    );
    await waitFor('pod cgroups removed', () => (podDirs().length === 0 ? true : undefined), 10_000);
    expect(podDirs()).toEqual([]);
  });
});
