/**
 * Killing the control plane (API server + controllers, one child process, SIGKILL) in the middle
 * of a rolling update and starting it again on the same data completes the rollout with no extra
 * and no missing pods. The fake kubelet lives in the test process, like kubelets on real nodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { Kube } from '../../src/controllers/index.js';
import { addNode, FakeKubelet, listPods, until } from './support.js';

const fixture = join(import.meta.dirname, 'fixtures', 'controlplane.ts');
const dir = mkdtempSync(join(tmpdir(), 'tether-controllers-restart-'));
let child: ChildProcess | undefined;
let kubelet: FakeKubelet | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

async function startControlPlane(port: number): Promise<{ kubeconfigPath: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', fixture, join(dir, 'data'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = p;
  const rl = createInterface({ input: p.stdout });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      reject(new Error('control plane did not start'));
    }, 60_000);
    rl.once('line', (line) => {
      clearTimeout(t);
      resolve(JSON.parse(line) as { kubeconfigPath: string });
    });
    p.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`control plane exited with ${String(code)}`));
    });
  });
}

async function kill(): Promise<void> {
  const p = child;
  if (p === undefined || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
  child = undefined;
}

afterAll(async () => {
  await kubelet?.stop();
  await kill();
  rmSync(dir, { recursive: true, force: true });
});

const REPLICAS = 8;

describe('controllers/restart', () => {
  it('restart — SIGKILL of the control plane mid-rollout, restart, rollout completes with exactly the asked pods', async () => {
    const port = await freePort();
    const { kubeconfigPath } = await startControlPlane(port);
    const kube = Kube.fromFile(kubeconfigPath);
    kubelet = new FakeKubelet(kube);
    await kubelet.start();
    for (const n of ['r1', 'r2', 'r3']) await addNode(kube, n, {}, kubelet);

    const body = (image: string): V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: 'default' },
      spec: {
        replicas: REPLICAS,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
        selector: { matchLabels: { app: 'app' } },
        template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'c', image }] } },
      },
    });
    await kube.apps.createNamespacedDeployment({
      namespace: 'default',
      body: body('localhost:5000/tether/shell:1'),
    });
    const dep = async (): Promise<V1Deployment> =>
      (await kube.request('GET', '/apis/apps/v1/namespaces/default/deployments/app')) as V1Deployment;
    const complete = async (image: string): Promise<boolean> => {
      const d = await dep();
      const pods = (await listPods(kube, 'default', 'app=app')).filter(
        (p) => p.metadata?.deletionTimestamp == null,
      );
      return (
        d.status?.observedGeneration === d.metadata?.generation &&
        d.status?.updatedReplicas === REPLICAS &&
        d.status.availableReplicas === REPLICAS &&
        d.status.replicas === REPLICAS &&
        pods.length === REPLICAS &&
        pods.every((p) => p.spec?.containers[0]?.image === image)
      );
    };
    await until('first rollout', () => complete('localhost:5000/tether/shell:1'), 60_000);

    // Slow the kubelet down so the rollout is still in flight when the control plane dies.
    kubelet.holdReady = () => true;
    let maxLive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const live = (await listPods(kube, 'default', 'app=app')).filter(
            (p) => p.metadata?.deletionTimestamp == null,
          );
          maxLive = Math.max(maxLive, live.length);
        } catch {
          // The control plane is down: nothing to count.
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await kube.request(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/app',
      {
        spec: { template: { spec: { containers: [{ name: 'c', image: 'localhost:5000/tether/shell:2' }] } } },
      },
      'application/merge-patch+json',
    );
    // Mid-rollout: new pods exist (not ready), old ones are still there.
    await until('rollout in flight', async () => {
      const pods = (await listPods(kube, 'default', 'app=app')).filter(
        (p) => p.metadata?.deletionTimestamp == null,
      );
      const fresh = pods.filter((p) => p.spec?.containers[0]?.image === 'localhost:5000/tether/shell:2');
      return fresh.length >= 2 && pods.length > fresh.length ? true : undefined;
    });
    kubelet.holdReady = () => false;
    await new Promise((r) => setTimeout(r, 300)); // let a few steps happen
    await kill();
    expect(await complete('localhost:5000/tether/shell:2').catch(() => false)).toBe(false);

    await startControlPlane(port);
    await until('rollout completed after restart', () => complete('localhost:5000/tether/shell:2'), 90_000);
    sampling = false;
    await sampler;

    // No extra pods at any time, none missing at the end, and it stays so.
    expect(maxLive).toBeLessThanOrEqual(REPLICAS + 2);
    await new Promise((r) => setTimeout(r, 1500));
    const pods: V1Pod[] = await listPods(kube, 'default', 'app=app');
    expect(pods).toHaveLength(REPLICAS);
    expect(pods.every((p) => p.status?.phase === 'Running' && (p.spec?.nodeName ?? '') !== '')).toBe(true);
    const rss = (
      (await kube.request('GET', '/apis/apps/v1/namespaces/default/replicasets')) as { items: V1ReplicaSet[] }
    ).items;
    expect(rss).toHaveLength(2);
    expect(rss.map((r) => r.spec?.replicas).sort()).toEqual([0, REPLICAS]);
    const d = await dep();
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
  });
});
