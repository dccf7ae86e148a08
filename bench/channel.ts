/**
 * Channel benchmark with many simulated edges (issue 5, base of issue 12):
 * `npx tsx bench/channel.ts [--edges 1,100,1000] [--samples 200]`
 * Prints one JSON document, then a human summary. Figures, not assertions (STYLE, DESIGN §9).
 *
 * Set-up: the embedded API server in this process (SQLite synchronous=NORMAL, the benchmark
 * setting; FULL is the default), the cloud core as a child process of the real binary
 * (`tether cloud --config`, so its RSS is its own), and N edges in this process: each its own
 * certificate, its own EdgeStore (SQLite, synchronous=FULL as in production) in a temp dir and
 * its own `Link` over real TLS on 127.0.0.1. Each edge i has a pod bound to it that references
 * ConfigMap `lat-<i>` (its own) and `fan` (shared by all edges).
 *
 * 1. latency: sequential writes of `lat-<i>` (round robin over edges), API write → `applied` on edge i
 * 2. fan-out: one write of `fan` → time until every edge applied it
 * 3. cloud memory per connected edge: VmRSS of the cloud process before edges and at each stage
 * 4. reconnect storm (at the largest stage): SIGKILL the cloud, change `fan` meanwhile, restart on
 *    the same port; time until every edge is online and holds the change; duplicates on edges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

import { startApiServer, type StartedApiServer } from '../src/apiserver/index.js';
import { CertificateAuthority } from '../src/common/index.js';
import { HollowEdge } from './lib/hollow-edge.js';
import { cpuTicks, rssBytes, summary } from './lib/procstat.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const NS = 'default';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}
const STAGES = arg('edges', '1,100,1000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const SAMPLES = Number(arg('samples', '200'));
const KEEPALIVE_MS = Number(arg('keepalive-ms', '15000')); // the cloud's default
const TIMEOUT_MS = Number(arg('timeout-ms', String(25 * 60_000)));

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-channel-'));
const log = (s: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

/** The channel bench's edges are hollow edges (bench/lib) with the link and store only. */
type SimEdge = HollowEdge;

// edge/name → resourceVersion it holds, and edge/name@rv → when it was applied (first time)
const held = new Map<string, string>();
const arrivals = new Map<string, number>();
const waiters = new Map<string, () => void>();
let appliedAfter = 0; // applied (not duplicate) upserts, counted from a mark
const dupKinds = new Map<string, number>(); // duplicate receipts by kind, counted from a mark

let api: StartedApiServer | undefined;
let cloud: ChildProcess | undefined;
let cloudOut = '';
const edges: SimEdge[] = [];

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        res(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
    s.on('error', rej);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      res(true);
    });
    c.once('error', () => {
      res(false);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(
  fn: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  status?: () => string,
): Promise<void> {
  const start = Date.now();
  let next = start + 10_000;
  while (!(await fn())) {
    const now = Date.now();
    if (now > start + timeoutMs)
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}; ${status?.() ?? ''}`);
    if (status !== undefined && now > next) {
      next = now + 10_000;
      log(`still waiting for ${what}: ${status()}`);
    }
    await sleep(20);
  }
}

function startCloud(cfgFile: string): ChildProcess {
  // node itself (no npx/tsx wrapper), so the pid is the cloud core's and SIGKILL hits it
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'cloud', '--config', cfgFile],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (d: Buffer): void => {
    cloudOut = (cloudOut + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

function killCloud(signal: NodeJS.Signals): Promise<void> {
  const c = cloud;
  return new Promise((res) => {
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
      res();
      return;
    }
    c.once('exit', () => {
      res();
    });
    c.kill(signal);
  });
}

async function settledRss(pid: number): Promise<number> {
  // the minimum of a few readings a little apart: RSS after a burst still holds garbage
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    await sleep(400);
    min = Math.min(min, rssBytes(pid));
  }
  return min;
}

const MB = (b: number): number => Math.round((b / 1048576) * 10) / 10;

async function main(): Promise<unknown> {
  const t0 = Date.now();
  const dataDir = join(dir, 'api');
  mkdirSync(dataDir);
  api = await startApiServer({ dataDir, port: 0, storage: { synchronous: 'NORMAL' } });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const ca = await CertificateAuthority.create('tether-bench-ca');
  const serving = await ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  writeFileSync(join(dir, 'hub.crt'), serving.certPem);
  writeFileSync(join(dir, 'hub.key'), serving.keyPem);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  const port = await freePort();
  const cfgFile = join(dir, 'cloud.yaml');
  writeFileSync(
    cfgFile,
    [
      `kubeconfig: ${api.kubeconfigPath}`,
      'hub:',
      '  host: 127.0.0.1',
      `  port: ${String(port)}`,
      `  certFile: ${join(dir, 'hub.crt')}`,
      `  keyFile: ${join(dir, 'hub.key')}`,
      `  caFile: ${join(dir, 'ca.crt')}`,
      `  keepaliveMs: ${String(KEEPALIVE_MS)}`,
      'logLevel: warn',
    ].join('\n'),
  );

  const fan = await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'fan' }, data: { v: '0' } },
  });
  let fanRv = fan.metadata?.resourceVersion ?? '';
  const latRv: string[] = [];

  let t = performance.now();
  cloud = startCloud(cfgFile);
  await until(() => portOpen(port), `cloud listening (output: ${cloudOut})`, 60_000);
  const cloudBootMs = performance.now() - t;
  const cloudPid = cloud.pid ?? 0;
  const rss0 = await settledRss(cloudPid);
  log(`cloud up in ${cloudBootMs.toFixed(0)} ms, RSS ${String(MB(rss0))} MB with 0 edges`);

  const onApplied = (
    e: SimEdge,
    msg: { op: string; key: { kind: string; name: string }; resourceVersion?: string },
    outcome: string,
  ): void => {
    if (outcome === 'duplicate') dupKinds.set(msg.key.kind, (dupKinds.get(msg.key.kind) ?? 0) + 1);
    if (msg.op !== 'upsert' || msg.key.kind !== 'ConfigMap' || msg.resourceVersion === undefined) return;
    if (outcome === 'applied') appliedAfter++;
    const k = `${e.name}/${msg.key.name}`;
    held.set(k, msg.resourceVersion);
    const a = `${k}@${msg.resourceVersion}`;
    if (!arrivals.has(a)) arrivals.set(a, performance.now());
    waiters.get(a)?.();
  };

  const stages: unknown[] = [];
  for (const n of STAGES) {
    // objects first (a pod on each new edge referencing its own ConfigMap and `fan`), then the edges
    t = performance.now();
    const from = edges.length;
    for (let i = from; i < n; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, n - i) }, async (_, j) => {
          const k = i + j;
          const cm = await core.createNamespacedConfigMap({
            namespace: NS,
            body: { metadata: { name: `lat-${String(k)}` }, data: { v: '0' } },
          });
          latRv[k] = cm.metadata?.resourceVersion ?? '';
          await core.createNamespacedPod({
            namespace: NS,
            body: {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: `p-${String(k)}`, namespace: NS },
              spec: {
                nodeName: `edge-${String(k)}`,
                containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }],
                volumes: [
                  { name: 'own', configMap: { name: `lat-${String(k)}` } },
                  { name: 'fan', configMap: { name: 'fan' } },
                ],
              },
            },
          });
        }),
      );
    }
    const objectsMs = performance.now() - t;
    t = performance.now();
    for (let i = from; i < n; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, n - i) }, async (_, j) => {
          // production's store setting (FULL), no node reporting, pods only stored (not run)
          const e = await HollowEdge.create({
            name: `edge-${String(i + j)}`,
            index: i + j,
            dir,
            cloudUrl: `wss://127.0.0.1:${String(port)}`,
            ca,
            reportNode: false,
            runPods: false,
            storeSync: 'FULL',
          });
          e.link.on('applied', ({ msg, outcome }) => {
            onApplied(e, msg, outcome);
          });
          edges.push(e);
          await e.start();
        }),
      );
    }
    const startedMs = performance.now() - t;
    await until(
      () =>
        edges.every(
          (e) =>
            e.link.state === 'online' &&
            held.get(`${e.name}/lat-${String(e.index)}`) === latRv[e.index] &&
            held.get(`${e.name}/fan`) === fanRv,
        ),
      `${String(n)} edges online and synced`,
      10 * 60_000,
      () => {
        const lag = edges.filter(
          (e) =>
            e.link.state !== 'online' ||
            held.get(`${e.name}/lat-${String(e.index)}`) !== latRv[e.index] ||
            held.get(`${e.name}/fan`) !== fanRv,
        );
        const e = lag[0];
        if (e === undefined) return 'none lagging';
        const k = e.index;
        return `${String(lag.length)} lagging, e.g. ${e.name} ${e.link.state} lat=${String(held.get(`${e.name}/lat-${String(k)}`))}/${String(latRv[k])} fan=${String(held.get(`${e.name}/fan`))}/${fanRv}`;
      },
    );
    const joinMs = performance.now() - t;
    log(
      `${String(n)} edges: objects ${objectsMs.toFixed(0)} ms, started ${startedMs.toFixed(0)} ms, all online+synced ${joinMs.toFixed(0)} ms`,
    );

    // idle: cloud RSS and CPU over 10 s of heartbeats only
    const rss = await settledRss(cloudPid);
    const c0 = cpuTicks(cloudPid);
    const w0 = performance.now();
    await sleep(10_000);
    const idleCpuPct = ((cpuTicks(cloudPid) - c0) / 100 / ((performance.now() - w0) / 1000)) * 100;

    // 1. latency: one write at a time, round robin over the edges
    const lat: number[] = [];
    const samples = Math.max(50, Math.min(SAMPLES, n * 2));
    for (let s = 0; s < samples; s++) {
      const k = (s * 7919) % n; // spread over the edges
      const name = `lat-${String(k)}`;
      const w = performance.now();
      const cm = await core.replaceNamespacedConfigMap({
        namespace: NS,
        name,
        body: { metadata: { name }, data: { v: String(s + 1) } },
      });
      const rv = cm.metadata?.resourceVersion ?? '';
      latRv[k] = rv;
      const a = `edge-${String(k)}/${name}@${rv}`;
      if (!arrivals.has(a))
        await new Promise<void>((res, rej) => {
          const timer = setTimeout(() => {
            rej(new Error(`no delivery of ${a} in 30 s`));
          }, 30_000);
          waiters.set(a, () => {
            clearTimeout(timer);
            res();
          });
        });
      waiters.delete(a);
      lat.push((arrivals.get(a) ?? NaN) - w);
    }

    // 2. fan-out: one write, every edge
    const fw = performance.now();
    const fcm = await core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'fan',
      body: { metadata: { name: 'fan' }, data: { v: `stage-${String(n)}` } },
    });
    fanRv = fcm.metadata?.resourceVersion ?? '';
    const fanKey = fanRv;
    await until(() => edges.every((e) => arrivals.has(`${e.name}/fan@${fanKey}`)), 'fan-out', 5 * 60_000);
    const perEdge = edges.map((e) => (arrivals.get(`${e.name}/fan@${fanKey}`) ?? NaN) - fw);
    const fanout = { allMs: Math.round(Math.max(...perEdge)), perEdge: summary(perEdge) };

    const st = {
      edges: n,
      objectsCreateMs: Math.round(objectsMs),
      joinMs: Math.round(joinMs),
      cloudRssMB: MB(rss),
      cloudRssPerEdgeKB: Math.round((rss - rss0) / n / 1024),
      cloudIdleCpuPct: Math.round(idleCpuPct * 10) / 10,
      benchRssMB: MB(process.memoryUsage.rss()),
      latencyMs: summary(lat),
      fanout,
    };
    log(JSON.stringify(st));
    stages.push(st);
  }

  // 4. reconnect storm at the largest stage
  const dupBefore = edges.reduce((s, e) => s + e.link.counters.duplicates, 0);
  const connectsBefore = edges.map((e) => e.link.counters.connects);
  await killCloud('SIGKILL');
  const killedAt = performance.now();
  await until(
    () => edges.every((e) => e.link.state !== 'online'),
    'edges noticing the cloud is gone',
    120_000,
  );
  const allOfflineMs = performance.now() - killedAt;
  const down = await core.replaceNamespacedConfigMap({
    namespace: NS,
    name: 'fan',
    body: { metadata: { name: 'fan' }, data: { v: 'while-down' } },
  });
  fanRv = down.metadata?.resourceVersion ?? '';
  appliedAfter = 0;
  dupKinds.clear();
  const restartAt = performance.now();
  cloud = startCloud(cfgFile);
  const newPid = cloud.pid ?? 0;
  await until(() => portOpen(port), 'cloud listening again', 60_000);
  const listeningMs = performance.now() - restartAt;
  await until(
    () =>
      edges.every(
        (e, k) =>
          e.link.state === 'online' &&
          e.link.counters.connects > (connectsBefore[k] ?? 0) &&
          held.get(`${e.name}/fan`) === fanRv,
      ),
    'every edge back online and resynced',
    10 * 60_000,
  );
  const resyncMs = performance.now() - restartAt;
  await sleep(3000); // late re-sends would show up as duplicates or extra applies
  const storm = {
    edges: edges.length,
    allOfflineAfterKillMs: Math.round(allOfflineMs),
    cloudListeningAfterRestartMs: Math.round(listeningMs),
    allOnlineAndResyncedMs: Math.round(resyncMs),
    duplicatesOnEdges: edges.reduce((s, e) => s + e.link.counters.duplicates, 0) - dupBefore,
    configMapAppliesAfterRestart: appliedAfter,
    expectedApplies: edges.length, // exactly the one change made while the cloud was down
    duplicatesByKind: Object.fromEntries(dupKinds),
    reconnectsAfterRestart: edges.reduce(
      (s, e, k) => s + e.link.counters.connects - (connectsBefore[k] ?? 0),
      0,
    ),
    edgesReconnectedMoreThanOnce: edges.filter(
      (e, k) => e.link.counters.connects - (connectsBefore[k] ?? 0) > 1,
    ).length,
    missed: edges.filter((e) => held.get(`${e.name}/fan`) !== fanRv).length,
    cloudRssAfterMB: MB(rssBytes(newPid)),
  };
  log(JSON.stringify(storm));

  return {
    benchmark: 'channel',
    date: new Date().toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? '?',
      ramMB: Math.round(totalmem() / 1048576),
      node: process.version,
    },
    command: `npx tsx bench/channel.ts ${process.argv.slice(2).join(' ')}`.trim(),
    settings: {
      apiStorage: 'sqlite synchronous=NORMAL',
      edgeStore: 'sqlite synchronous=FULL',
      keepaliveMs: KEEPALIVE_MS,
    },
    cloud: { bootMs: Math.round(cloudBootMs), rssNoEdgesMB: MB(rss0) },
    stages,
    storm,
    totalSeconds: Math.round((Date.now() - t0) / 1000),
  };
}

async function cleanup(): Promise<void> {
  await killCloud('SIGTERM').catch(() => undefined);
  for (const e of edges.splice(0)) await e.stop();
  await api?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

const guard = setTimeout(() => {
  log(`benchmark exceeded ${String(TIMEOUT_MS)} ms; stopping`);
  void cleanup().finally(() => process.exit(2));
}, TIMEOUT_MS);
guard.unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });

try {
  const result = await main();
  console.log(JSON.stringify(result, null, 2));
  const r = result as {
    stages: {
      edges: number;
      latencyMs: { p50: number; p99: number };
      fanout: { allMs: number };
      cloudRssPerEdgeKB: number;
      cloudRssMB: number;
      cloudIdleCpuPct: number;
      joinMs: number;
    }[];
    storm: Record<string, number>;
  };
  console.log(
    '\nedges | join+sync ms | write→applied p50/p99 ms | fan-out all ms | cloud RSS MB | KB/edge | idle CPU %',
  );
  for (const s of r.stages)
    console.log(
      `${String(s.edges)} | ${String(s.joinMs)} | ${String(s.latencyMs.p50)}/${String(s.latencyMs.p99)} | ${String(s.fanout.allMs)} | ${String(s.cloudRssMB)} | ${String(s.cloudRssPerEdgeKB)} | ${String(s.cloudIdleCpuPct)}`,
    );
  console.log(`storm: ${JSON.stringify(r.storm)}`);
} catch (e) {
  console.error('benchmark failed:', e, `\ncloud output tail:\n${cloudOut.slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(guard);
}
