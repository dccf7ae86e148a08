/**
 * API server benchmark (issue 3 Done-when): `npx tsx bench/apiserver.ts`.
 *
 * Runs the same client workload against the embedded API server (in a child process, so its
 * RSS is its own) and, when built, the upstream kube-apiserver 1.34 with etcd
 * (test/support/controlplane.ts, controllers off), then prints both and the ratio
 * embedded/upstream. Figures, not assertions (STYLE, DESIGN §9).
 *
 * - creates/s of ConfigMaps and Pods, one client sequentially and 16 concurrent clients
 * - LIST of 10,000 pods: latency and response bytes (JSON)
 * - watch event latency: 100 concurrent watchers on ConfigMaps; time from the start of a create
 *   request until each watcher has parsed the ADDED event (p50/p99 over all deliveries)
 * - RSS of the server process after loading 10,000 pods (upstream: kube-apiserver and etcd)
 *
 * Env: BENCH_TARGETS=embedded,upstream (default both, upstream only when built),
 * BENCH_PODS=10000, BENCH_CREATES=400 (per create measurement), BENCH_WATCH_EVENTS=100.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { KubeConfig } from '@kubernetes/client-node';

import { startApiServer } from '../src/apiserver/index.js';
import { startControlPlane, upstreamAvailable } from '../test/support/controlplane.js';
import { rssBytes, summary } from './lib/procstat.js';

const PODS = Number(process.env['BENCH_PODS'] ?? 10_000);
const CREATES = Number(process.env['BENCH_CREATES'] ?? 400);
const WATCHERS = 100;
const WATCH_EVENTS = Number(process.env['BENCH_WATCH_EVENTS'] ?? 100);
const CONCURRENCY = 16;
const SELF = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------ child mode: serve only

if (process.argv[2] === '--serve') {
  const dataDir = process.argv[3] ?? '';
  const srv = await startApiServer({ dataDir, port: 0 });
  process.stdout.write(`${srv.kubeconfigPath}\n`);
  const stop = (): void => {
    void srv.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await main();
}

// ------------------------------------------------------------------ client

interface Client {
  request(
    method: string,
    p: string,
    body?: unknown,
  ): Promise<{ status: number; bytes: number; text: string }>;
  /** A watch: calls onEvent for every parsed line; resolves once the response headers arrived. */
  watch(
    p: string,
    onEvent: (ev: { type: string; object: { metadata: { name: string } } }) => void,
  ): Promise<() => void>;
  close(): void;
}

async function clientFor(kubeconfigPath: string): Promise<Client> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster');
  const base = new URL(cluster.server);
  const tlsOpts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tlsOpts);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ...pick(tlsOpts) });
  const watchAgent = new https.Agent({ keepAlive: false, maxSockets: Infinity, ...pick(tlsOpts) });
  const headers = { ...(tlsOpts.headers as Record<string, string> | undefined) };
  const reqOpts = (method: string, p: string, a: https.Agent): https.RequestOptions => ({
    host: base.hostname,
    port: base.port,
    path: p,
    method,
    agent: a,
    headers: { ...headers, accept: 'application/json', 'content-type': 'application/json' },
  });
  return {
    request: (method, p, body) =>
      new Promise((resolve, reject) => {
        const req = https.request(reqOpts(method, p, agent), (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, bytes: buf.length, text: buf.toString('utf8') });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      }),
    watch: (p, onEvent) =>
      new Promise((resolve, reject) => {
        const req = https.request(reqOpts('GET', p, watchAgent), (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${p}: ${String(res.statusCode)}`));
            return;
          }
          const rl = createInterface({ input: res });
          rl.on('line', (line) => {
            if (line !== '') onEvent(JSON.parse(line) as Parameters<typeof onEvent>[0]);
          });
          res.on('error', () => undefined);
          resolve(() => {
            rl.close();
            req.destroy();
          });
        });
        req.on('error', reject);
        req.end();
      }),
    close: () => {
      agent.destroy();
      watchAgent.destroy();
    },
  };
}

function pick(o: https.RequestOptions): https.AgentOptions {
  const out: https.AgentOptions = {};
  if (o.ca !== undefined) out.ca = o.ca;
  if (o.cert !== undefined) out.cert = o.cert;
  if (o.key !== undefined) out.key = o.key;
  if (o.rejectUnauthorized !== undefined) out.rejectUnauthorized = o.rejectUnauthorized;
  return out;
}

// ------------------------------------------------------------------ objects

function pod(ns: string, name: string, i: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app: 'bench', tier: 'edge', 'tether.io/node': `edge-${i % 50}` },
    },
    spec: {
      nodeName: `edge-${i % 50}`,
      containers: [
        {
          name: 'main',
          image: 'localhost:5000/tether/shell:1',
          command: ['sh', '-c', 'while true; do sleep 3600; done'],
          env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `value-${k}-${i}` })),
          resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
  };
}

function configMap(ns: string, name: string, i: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels: { app: 'bench' } },
    data: { index: String(i), payload: 'x'.repeat(256) },
  };
}

// ------------------------------------------------------------------ workload

async function setupNamespace(c: Client, ns: string): Promise<void> {
  const r = await c.request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns },
  });
  if (r.status !== 201) throw new Error(`namespace ${ns}: ${String(r.status)} ${r.text}`);
  // Upstream's ServiceAccount admission refuses pods until the namespace has its default SA
  // (the controller-manager, off here, would create it).
  const sa = await c.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default' },
  });
  if (sa.status !== 201 && sa.status !== 409)
    throw new Error(`serviceaccount: ${String(sa.status)} ${sa.text}`);
}

/** Creates `count` objects with `conc` clients in parallel; returns objects per second. */
async function creates(
  c: Client,
  resource: 'pods' | 'configmaps',
  ns: string,
  prefix: string,
  count: number,
  conc: number,
  offset = 0,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const name = `${prefix}-${String(offset + i)}`;
      const obj = resource === 'pods' ? pod(ns, name, offset + i) : configMap(ns, name, offset + i);
      const r = await c.request('POST', `/api/v1/namespaces/${ns}/${resource}`, obj);
      if (r.status !== 201)
        throw new Error(`create ${resource}/${name}: ${String(r.status)} ${r.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  return Math.round((count / (performance.now() - t0)) * 1000);
}

interface Figures {
  target: string;
  configmapCreatesPerSec: { sequential: number; concurrent16: number };
  podCreatesPerSec: { sequential: number; concurrent16: number };
  loadPodsSec: number;
  list10kPods: { items: number; bytes: number; ms: ReturnType<typeof summary> };
  watch: { watchers: number; events: number; deliveries: number; latencyMs: ReturnType<typeof summary> };
  rssMiB: Record<string, number>;
}

async function workload(target: string, c: Client, pids: Record<string, number>): Promise<Figures> {
  await setupNamespace(c, 'bench');
  await setupNamespace(c, 'watch');
  // warm-up: connections, code paths
  await creates(c, 'configmaps', 'bench', 'warm', 50, 4);

  const cmSeq = await creates(c, 'configmaps', 'bench', 'cm-seq', CREATES, 1);
  const cmConc = await creates(c, 'configmaps', 'bench', 'cm-conc', CREATES * 4, CONCURRENCY);
  const podSeq = await creates(c, 'pods', 'bench', 'pod', CREATES, 1, 0);
  const podConc = await creates(c, 'pods', 'bench', 'pod', CREATES * 4, CONCURRENCY, CREATES);
  process.stderr.write(`[${target}] creates done; loading pods to ${String(PODS)}\n`);
  const loaded = CREATES * 5;
  const tLoad = performance.now();
  if (PODS > loaded) await creates(c, 'pods', 'bench', 'pod', PODS - loaded, CONCURRENCY, loaded);
  const loadPodsSec = Math.round((performance.now() - tLoad) / 100) / 10;

  // LIST: first a warm-up, then 5 timed sequential lists of the namespace's pods
  const listMs: number[] = [];
  let bytes = 0;
  let items = 0;
  for (let k = 0; k < 6; k++) {
    const t0 = performance.now();
    const r = await c.request('GET', '/api/v1/namespaces/bench/pods');
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`list: ${String(r.status)}`);
    if (k === 0) {
      items = (JSON.parse(r.text) as { items: unknown[] }).items.length;
      continue;
    }
    bytes = r.bytes;
    listMs.push(ms);
  }
  process.stderr.write(`[${target}] list done; watch\n`);

  // RSS after loading (and listing) the pods
  const rssMiB: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) rssMiB[k] = Math.round(rssBytes(pid) / 1024 / 102.4) / 10;

  // WATCH: 100 watchers from "now" on ConfigMaps of namespace watch
  const start = new Map<string, number>();
  const latencies: number[] = [];
  const rv = (
    JSON.parse((await c.request('GET', '/api/v1/namespaces/watch/configmaps?limit=1')).text) as {
      metadata: { resourceVersion: string };
    }
  ).metadata.resourceVersion;
  let deliveries = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const stops = await Promise.all(
    Array.from({ length: WATCHERS }, () =>
      c.watch(
        `/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`,
        (ev) => {
          if (ev.type !== 'ADDED') return;
          const t0 = start.get(ev.object.metadata.name);
          if (t0 === undefined) return;
          latencies.push(performance.now() - t0);
          if (++deliveries === WATCHERS * WATCH_EVENTS) done();
        },
      ),
    ),
  );
  for (let i = 0; i < WATCH_EVENTS; i++) {
    const name = `w-${String(i)}`;
    start.set(name, performance.now());
    const r = await c.request('POST', '/api/v1/namespaces/watch/configmaps', configMap('watch', name, i));
    if (r.status !== 201) throw new Error(`watch create: ${String(r.status)}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  await Promise.race([all, new Promise((res) => setTimeout(res, 60_000))]);
  for (const s of stops) s();

  return {
    target,
    configmapCreatesPerSec: { sequential: cmSeq, concurrent16: cmConc },
    podCreatesPerSec: { sequential: podSeq, concurrent16: podConc },
    loadPodsSec,
    list10kPods: { items, bytes, ms: summary(listMs) },
    watch: { watchers: WATCHERS, events: WATCH_EVENTS, deliveries, latencyMs: summary(latencies) },
    rssMiB,
  };
}

// ------------------------------------------------------------------ targets

async function runEmbedded(): Promise<Figures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tether-bench-apiserver-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const kubeconfigPath = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      rl.once('line', (l) => {
        resolve(l.trim());
      });
      child.once('exit', (code) => {
        reject(new Error(`embedded server exited ${String(code)}`));
      });
    });
    const c = await clientFor(kubeconfigPath);
    try {
      return await workload('embedded', c, { apiserver: child.pid ?? 0 });
    } finally {
      c.close();
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runUpstream(): Promise<Figures> {
  const cp = await startControlPlane('upstream', { controllers: false });
  try {
    const state = path.dirname(cp.kubeconfigPath);
    const pidOf = (f: string): number => Number(readFileSync(path.join(state, f), 'utf8').trim());
    const c = await clientFor(cp.kubeconfigPath);
    try {
      return await workload('upstream', c, { apiserver: pidOf('apiserver.pid'), etcd: pidOf('etcd.pid') });
    } finally {
      c.close();
    }
  } finally {
    await cp.stop();
  }
}

async function main(): Promise<void> {
  const targets = (process.env['BENCH_TARGETS'] ?? 'embedded,upstream').split(',');
  const results: Figures[] = [];
  const env = {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? '',
    node: process.version,
    loadavgBefore: loadavg().map((x) => Math.round(x * 10) / 10),
  };
  if (targets.includes('embedded')) results.push(await runEmbedded());
  if (targets.includes('upstream')) {
    if (upstreamAvailable()) results.push(await runUpstream());
    else process.stderr.write('upstream kube-apiserver not built: run `bash scripts/upstream build`\n');
  }
  const loadAfter = loadavg().map((x) => Math.round(x * 10) / 10);
  console.log(JSON.stringify({ env: { ...env, loadavgAfter: loadAfter }, results }, null, 2));

  // human summary: one column per target, plus embedded/upstream
  const [e, u] = [results.find((r) => r.target === 'embedded'), results.find((r) => r.target === 'upstream')];
  const rows: [string, (f: Figures) => number][] = [
    ['ConfigMap creates/s, 1 client', (f) => f.configmapCreatesPerSec.sequential],
    ['ConfigMap creates/s, 16 clients', (f) => f.configmapCreatesPerSec.concurrent16],
    ['Pod creates/s, 1 client', (f) => f.podCreatesPerSec.sequential],
    ['Pod creates/s, 16 clients', (f) => f.podCreatesPerSec.concurrent16],
    [`LIST ${String(PODS)} pods, p50 ms`, (f) => f.list10kPods.ms.p50],
    [`LIST ${String(PODS)} pods, max ms`, (f) => f.list10kPods.ms.max],
    [`LIST ${String(PODS)} pods, MB`, (f) => Math.round(f.list10kPods.bytes / 1e5) / 10],
    ['watch latency p50 ms (100 watchers)', (f) => f.watch.latencyMs.p50],
    ['watch latency p99 ms (100 watchers)', (f) => f.watch.latencyMs.p99],
    ['watch deliveries', (f) => f.watch.deliveries],
    ['RSS MiB, API server', (f) => f.rssMiB['apiserver'] ?? NaN],
    ['RSS MiB, + etcd', (f) => (f.rssMiB['apiserver'] ?? 0) + (f.rssMiB['etcd'] ?? 0)],
  ];
  console.log('\n| measure | embedded | upstream | embedded/upstream |\n|---|---:|---:|---:|');
  for (const [label, get] of rows) {
    const a = e === undefined ? NaN : get(e);
    const b = u === undefined ? NaN : get(u);
    console.log(
      `| ${label} | ${fmt(a)} | ${fmt(b)} | ${Number.isFinite(a / b) ? (a / b).toFixed(2) : '–'} |`,
    );
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toLocaleString('en-US') : '–';
}
