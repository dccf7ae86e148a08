/**
 * Edge kubelet benchmark (issue 7): time from a pod's upsert into the edge store to its Running
 * status in the outbox, with the image present (p50/p99 over N pods started as one burst), and
 * the agent's CPU and RSS with 0 and with N running pods. Runs against the project's test
 * containerd (`bash scripts/setup`); this process is the agent (store + CRI client + PodManager).
 *
 *   npx tsx bench/pods.ts                      # 50 pods, 10 s CPU windows
 *   BENCH_PODS=20 BENCH_WINDOW_MS=5000 npx tsx bench/pods.ts
 *
 * Without the tsx loader (what a bundled agent would weigh; tsx alone is ~37 MiB of RSS):
 *   npx esbuild bench/pods.ts --bundle --platform=node --format=esm --external:better-sqlite3 \
 *     --outfile=node_modules/.cache/tether-bench/pods.mjs \
 *     "--banner:js=import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);"
 *   cp src/edge/cri/cri.proto node_modules/.cache/tether-bench/
 *   node --expose-gc node_modules/.cache/tether-bench/pods.mjs
 *
 * Prints one JSON document on stdout, then a human summary.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRegistry, silentLogger } from '../src/common/index.js';
import { CriRuntime, DEFAULT_TEST_CRI_SOCKET, type Pod } from '../src/edge/cri/index.js';
import { PodManager } from '../src/edge/pods/index.js';
import { EdgeStore } from '../src/edge/store/index.js';
import { resourceVersion, uid as toUid, type JsonObject, type StatusWrite } from '../src/protocol/index.js';

const N = Number(process.env['BENCH_PODS'] ?? 50);
const WINDOW_MS = Number(process.env['BENCH_WINDOW_MS'] ?? 10_000);
const SOCKET = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;
const IMAGE = 'localhost:5000/tether/shell:1';
const RUN_LABEL = 'tether.dev/test-run';

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

const mib = (b: number): number => Math.round((b / 1024 / 1024) * 10) / 10;

/**
 * CPU over the window, then RSS, and the JS heap in use after a full GC when run with
 * `node --expose-gc` (live objects, against RSS that keeps V8's high-water mark).
 */
async function usage(
  windowMs: number,
): Promise<{ cpuPercent: number; rssMiB: number; heapUsedMiB: number; externalMiB: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) * 1000;
  const rss = process.memoryUsage().rss;
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    cpuPercent: Math.round(((c.user + c.system) / wall) * 1000) / 10,
    rssMiB: mib(rss),
    heapUsedMiB: mib(m.heapUsed),
    externalMiB: mib(m.external),
  };
}

async function main(): Promise<void> {
  const run = randomUUID().slice(0, 8);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tether-bench-pods-'));
  const nodeName = `bench-${run}`;
  const store = new EdgeStore({ path: path.join(dir, 'edge.db') });
  store.open();
  const rt = new CriRuntime({ endpoint: SOCKET }, { logger: silentLogger(), registry: createRegistry() });
  await rt.start();
  await rt.pullImage(IMAGE);

  // Observe the outbox as the store writes it: the moment a pod's Running status is queued.
  const upsertAt = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const enqueue = store.enqueue.bind(store);
  store.enqueue = (key, write: StatusWrite, uid) => {
    const phase = (write.payload as { phase?: string }).phase;
    if (write.type === 'podStatus' && phase === 'Running' && !runningAt.has(key.name)) {
      runningAt.set(key.name, performance.now());
    }
    return enqueue(key, write, uid);
  };

  const manager = new PodManager(
    {
      nodeName,
      rootDir: path.join(dir, 'pods'),
      podLogsRoot: path.join(dir, 'logs'),
      cgroupRoot: `/tether-bench-pods-${run}`,
      extraLabels: { [RUN_LABEL]: run },
      hostIP: '127.0.0.1',
    },
    { store, runtime: rt, logger: silentLogger(), registry: createRegistry() },
  );
  await manager.start();
  const idle = await usage(WINDOW_MS);

  let seq = 0;
  const submit = (name: string): void => {
    const uid = randomUUID();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'bench', uid },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'] }],
      },
    };
    upsertAt.set(name, performance.now());
    seq++;
    store.applySync({
      kind: 'sync',
      op: 'upsert',
      seq,
      key: { group: '', version: 'v1', kind: 'Pod', namespace: 'bench', name },
      uid: toUid(uid),
      resourceVersion: resourceVersion(String(seq)),
      object: pod as unknown as JsonObject,
    });
  };
  const until = async (done: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10 * 60_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };

  // One pod at a time first: the uncontended latency.
  const SINGLE = 5;
  for (let i = 0; i < SINGLE; i++) {
    submit(`single-${i}`);
    await until(() => runningAt.has(`single-${i}`));
  }
  const latency = (prefix: string): number[] =>
    [...runningAt].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => t - (upsertAt.get(n) ?? t));
  const single = latency('single-');

  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const name = `bench-${i}`;
    submit(name);
  }
  await until(() => latency('bench-').length >= N);
  const allRunningMs = performance.now() - t0;
  const latencies = latency('bench-');
  const loaded = await usage(WINDOW_MS);

  await manager.stop();
  for (const c of await rt.listContainers({ labels: { [RUN_LABEL]: run } })) {
    await rt.removeContainer(c.id).catch(() => undefined);
  }
  for (const s of await rt.listPodSandbox({ labels: { [RUN_LABEL]: run } })) {
    await rt.stopPodSandbox(s.id).catch(() => undefined);
    await rt.removePodSandbox(s.id).catch(() => undefined);
  }
  await rt.stop();
  store.close();
  await rm(dir, { recursive: true, force: true });

  const result = {
    pods: N,
    running: latencies.length,
    upsertToRunningMs: {
      p50: Math.round(quantile(latencies, 0.5)),
      p99: Math.round(quantile(latencies, 0.99)),
      max: Math.round(Math.max(...latencies)),
    },
    allRunningMs: Math.round(allRunningMs),
    singlePodMs: { p50: Math.round(quantile(single, 0.5)), max: Math.round(Math.max(...single)) },
    agentIdle: idle,
    agentWithPods: loaded,
    cpus: os.cpus().length,
    node: process.version,
  };
  console.log(JSON.stringify(result));
  console.log(
    `one pod at a time: upsert→Running p50 ${result.singlePodMs.p50} ms (max ${result.singlePodMs.max} ms of ${SINGLE})\n` +
      `${result.running}/${N} pods Running; upsert→Running p50 ${result.upsertToRunningMs.p50} ms, p99 ${result.upsertToRunningMs.p99} ms (burst of ${N}, all in ${result.allRunningMs} ms)\n` +
      `agent idle: ${idle.cpuPercent}% CPU, ${idle.rssMiB} MiB RSS (heap ${idle.heapUsedMiB} MiB); ` +
      `with ${N} pods: ${loaded.cpuPercent}% CPU, ${loaded.rssMiB} MiB RSS (heap ${loaded.heapUsedMiB} MiB)`,
  );
}

await main();
