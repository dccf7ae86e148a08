/**
 * Controllers benchmark (docs/benchmarks.md § Controllers): time for the embedded control plane
 * (real API server on SQLite + the real controllers, one process) to converge a Deployment of
 * BENCH_REPLICAS (1,000) replicas across BENCH_NODES (100) registered nodes — every pod created,
 * scheduled, marked Running+Ready by a fake kubelet, and the Deployment reporting available —
 * then to roll it to a new image.
 *
 *   npx tsx bench/controllers.ts
 *   BENCH_REPLICAS=200 BENCH_NODES=20 npx tsx bench/controllers.ts
 *
 * Prints one JSON document on stdout, then a human summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { startApiServer } from '../src/apiserver/index.js';
import { createRegistry, silentLogger } from '../src/common/index.js';
import { ControlPlaneControllers, Kube } from '../src/controllers/index.js';
import { addNode, FakeKubelet } from '../test/controllers/support.js';

const REPLICAS = Number(process.env['BENCH_REPLICAS'] ?? 1000);
const NODES = Number(process.env['BENCH_NODES'] ?? 100);
const SYNC = (process.env['BENCH_SYNC'] ?? 'FULL') as 'FULL' | 'NORMAL';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tether-bench-controllers-'));
  const api = await startApiServer({ dataDir: join(dir, 'data'), storage: { synchronous: SYNC } });
  // Node lifecycle is left out: on a loaded 2-core machine 100 fake leases can lapse and taint
  // nodes, which measures the machine, not the rollout (it has its own tests).
  const controllers = new ControlPlaneControllers(
    {
      kubeconfigPath: api.kubeconfigPath,
      controllers: ['scheduler', 'replicaset', 'deployment', 'garbagecollector'],
    },
    { logger: silentLogger(), registry: createRegistry() },
  );
  await controllers.start();
  const kube = Kube.fromFile(api.kubeconfigPath);
  const kubelet = new FakeKubelet(kube);
  await kubelet.start();
  try {
    for (let i = 0; i < NODES; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, NODES - i) }, (_, j) =>
          addNode(
            kube,
            `node-${String(i + j).padStart(3, '0')}`,
            { allocatable: { cpu: '64', memory: '256Gi', pods: '110' } },
            kubelet,
          ),
        ),
      );
    const body = (image: string): V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench', namespace: 'default' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: 'bench' } },
        template: {
          metadata: { labels: { app: 'bench' } },
          spec: {
            containers: [{ name: 'c', image, resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
          },
        },
      },
    });
    const converged = async (image: string): Promise<boolean> => {
      const d = (await kube.request(
        'GET',
        '/apis/apps/v1/namespaces/default/deployments/bench',
      )) as V1Deployment;
      if (d.status?.observedGeneration !== d.metadata?.generation) return false;
      if (
        d.status?.updatedReplicas !== REPLICAS ||
        d.status.availableReplicas !== REPLICAS ||
        d.status.replicas !== REPLICAS
      )
        return false;
      const pods = (
        (await kube.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dbench')) as {
          items: V1Pod[];
        }
      ).items;
      return (
        pods.length === REPLICAS &&
        pods.every((p) => p.spec?.containers[0]?.image === image && p.status?.phase === 'Running')
      );
    };
    const wait = async (image: string): Promise<number> => {
      const t0 = performance.now();
      for (;;) {
        if (await converged(image)) return performance.now() - t0;
        await new Promise((r) => setTimeout(r, 250));
        if (performance.now() - t0 > 15 * 60_000) throw new Error('did not converge within 15 minutes');
      }
    };
    await kube.apps.createNamespacedDeployment({
      namespace: 'default',
      body: body('localhost:5000/tether/shell:1'),
    });
    const createMs = await wait('localhost:5000/tether/shell:1');
    console.error(`created and converged in ${Math.round(createMs)} ms; rolling to a new image...`);
    const pods = (
      (await kube.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dbench')) as {
        items: V1Pod[];
      }
    ).items;
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec?.nodeName ?? '', (perNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    await kube.request(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/bench',
      {
        spec: { template: { spec: { containers: [{ name: 'c', image: 'localhost:5000/tether/shell:2' }] } } },
      },
      'application/merge-patch+json',
    );
    const rolloutMs = await wait('localhost:5000/tether/shell:2');
    const result = {
      bench: 'controllers',
      replicas: REPLICAS,
      nodes: NODES,
      sqliteSynchronous: SYNC,
      createConvergeMs: Math.round(createMs),
      rollingUpdateConvergeMs: Math.round(rolloutMs),
      podsPerSecondCreate: Math.round((REPLICAS / createMs) * 1000),
      spread: {
        minPodsPerNode: Math.min(...perNode.values()),
        maxPodsPerNode: Math.max(...perNode.values()),
        nodesUsed: perNode.size,
      },
      machine: { cpus: os.cpus().length, node: process.version },
    };
    console.log(JSON.stringify(result));
    console.log(
      `\n${REPLICAS} replicas on ${NODES} nodes (SQLite synchronous=${SYNC}): created+converged in ${(createMs / 1000).toFixed(1)} s ` +
        `(${result.podsPerSecondCreate} pods/s), rolling update (25%/25%) converged in ${(rolloutMs / 1000).toFixed(1)} s; ` +
        `pods per node ${result.spread.minPodsPerNode}–${result.spread.maxPodsPerNode} over ${result.spread.nodesUsed} nodes.`,
    );
  } finally {
    await kubelet.stop();
    await controllers.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
