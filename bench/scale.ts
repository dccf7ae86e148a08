/**
 * Scale benchmark with hollow edges (issue 12): `npx tsx bench/scale.ts [--edges 1000,5000]
 * [--pods 300] [--idle-s 60] [--storm] [--edge-sync NORMAL|FULL] [--timeout-ms 2400000]`. Prints one JSON document, then a
 * human summary. Figures, not assertions (STYLE, DESIGN §9).
 *
 * Set-up: the embedded API server (SQLite synchronous=NORMAL) and the scheduler (our
 * controllers) in this process; the cloud core as a child of the real binary (its RSS, CPU and
 * `/metrics` are its own); N hollow edges (bench/lib/hollow-edge.ts) in this process — real Link,
 * EdgeStore and NodeReporter (Node + Lease every 10 s) over real TLS, each its own certificate,
 * a fake runtime that reports bound pods Running through the outbox.
 *
 * Per stage: cloud RSS per connected edge; cloud CPU and hub bytes in/out (tether_hub_bytes_*)
 * over --idle-s of idle heartbeats. At the first stage ≥ 1,000 (or the largest): write → durable
 * apply on the edge for pods created with spec.nodeName (p50/p90/p99), and pod start (unbound
 * pod created → scheduler binds → edge → Running seen by a watch) p50/p90/p99. With --storm, at
 * the largest stage: SIGKILL + restart of the cloud, time to resync, duplicates on the edges,
 * peak API requests/s (tether_apiserver_request_total sampled each second).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';

import { startApiServer, type StartedApiServer } from '../src/apiserver/index.js';
import { CertificateAuthority, createRegistry, silentLogger, type Registry } from '../src/common/index.js';
import { ControlPlaneControllers } from '../src/controllers/index.js';
import { HollowEdge } from './lib/hollow-edge.js';
import { cpuTicks, rssBytes, summary } from './lib/procstat.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const NS = 'default';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}
const STAGES = arg('edges', '1000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const PODS = Number(arg('pods', '300'));
const IDLE_S = Number(arg('idle-s', '60'));
const STORM = process.argv.includes('--storm');
const EDGE_SYNC = arg('edge-sync', 'NORMAL') === 'FULL' ? 'FULL' : 'NORMAL';
const TIMEOUT_MS = Number(arg('timeout-ms', String(40 * 60_000)));
let nofile = '?';

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-scale-'));
const la = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const log = (s: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${la()}] ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = (b: number): number => Math.round((b / 1048576) * 10) / 10;

let api: StartedApiServer | undefined;
let controllers: ControlPlaneControllers | undefined;
let cloud: ChildProcess | undefined;
let cloudOut = '';
const edges: HollowEdge[] = [];
const stopWatch: (() => void)[] = [];

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

async function until(
  fn: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  status?: () => string,
): Promise<void> {
  const start = Date.now();
  let next = start + 15_000;
  while (!(await fn())) {
    const now = Date.now();
    if (now > start + timeoutMs)
      throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}; ${status?.() ?? ''}`);
    if (status !== undefined && now > next) {
      next = now + 15_000;
      log(`still waiting for ${what}: ${status()}`);
    }
    await sleep(50);
  }
}

function startCloud(cfgFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'cloud', '--config', cfgFile],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
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
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    await sleep(400);
    min = Math.min(min, rssBytes(pid));
  }
  return min;
}

/** Sum of a counter (all label sets) in a Prometheus text exposition. */
function counterSum(text: string, name: string): number {
  let s = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      s += Number(line.slice(line.lastIndexOf(' ') + 1));
  return s;
}

async function hubCounters(metricsPort: number): Promise<{ in: number; out: number; connected: number }> {
  const text = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
  return {
    in: counterSum(text, 'tether_hub_bytes_in_total'),
    out: counterSum(text, 'tether_hub_bytes_out_total'),
    connected: counterSum(text, 'tether_hub_connected_nodes'),
  };
}

/**
 * Wire bytes of the hub's established sockets from the kernel (`ss -ti`, tcp_info): TCP payload,
 * i.e. TLS records with WebSocket frames and pings, as the network carries them; segments too, so
 * IP+TCP headers (52 bytes each with timestamps) can be added. The hub's own
 * tether_hub_bytes_out_total only counts a session's bytes when it closes, so it cannot serve.
 */
function hubWire(port: number): {
  sent: number;
  received: number;
  segsOut: number;
  segsIn: number;
  sockets: number;
} {
  const out = execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${String(port)} )`], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const num = (re: RegExp): number => {
    let s = 0;
    for (const m of out.matchAll(re)) s += Number(m[1]);
    return s;
  };
  return {
    sent: num(/ bytes_sent:(\d+)/g),
    received: num(/ bytes_received:(\d+)/g),
    segsOut: num(/ segs_out:(\d+)/g),
    segsIn: num(/ segs_in:(\d+)/g),
    sockets: (out.match(/ cwnd:/g) ?? []).length,
  };
}

async function apiRequests(reg: Registry): Promise<number> {
  return counterSum(await reg.metrics(), 'tether_apiserver_request_total');
}

async function main(): Promise<unknown> {
  const t0 = Date.now();
  // thousands of TLS sockets and SQLite files in this process and the cloud child (inherits it)
  // Raise the soft limit to the hard one; raising the hard limit needs CAP_SYS_RESOURCE, which
  // this machine's container lacks (hard limit 20,000 here: ~4 fds per hollow edge — socket,
  // SQLite db, -wal, -shm — so one process holds at most ~4,900 edges).
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  execFileSync('prlimit', [`--pid=${String(process.pid)}`, `--nofile=${hard}:${hard}`]);
  nofile = hard;
  const apiReg = createRegistry();
  const dataDir = join(dir, 'api');
  mkdirSync(dataDir);
  api = await startApiServer({ dataDir, port: 0, storage: { synchronous: 'NORMAL' } }, { registry: apiReg });
  controllers = new ControlPlaneControllers(
    { kubeconfigPath: api.kubeconfigPath, controllers: ['scheduler'] },
    { logger: silentLogger(), registry: createRegistry() },
  );
  await controllers.start();
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const ca = await CertificateAuthority.create('tether-bench-ca');
  const serving = await ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  writeFileSync(join(dir, 'hub.crt'), serving.certPem);
  writeFileSync(join(dir, 'hub.key'), serving.keyPem);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  const port = await freePort();
  const metricsPort = await freePort();
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
      'metrics:',
      '  host: 127.0.0.1',
      `  port: ${String(metricsPort)}`,
      'logLevel: warn',
    ].join('\n'),
  );
  const fan = await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'fan' }, data: { v: '0' } },
  });
  let fanRv = fan.metadata?.resourceVersion ?? '';

  // pod watch: when each pod is first seen Running in the API
  const runningAt = new Map<string, number>();
  const podWaiters = new Map<string, () => void>();
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${NS}/pods`,
    {},
    (_type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      if (pod.status?.phase === 'Running' && !runningAt.has(name)) {
        runningAt.set(name, performance.now());
        podWaiters.get(name)?.();
      }
    },
    () => undefined,
  );
  stopWatch.push(() => {
    req.abort();
  });

  let t = performance.now();
  cloud = startCloud(cfgFile);
  await until(() => portOpen(port), `cloud listening (output: ${cloudOut})`, 120_000);
  const cloudBootMs = performance.now() - t;
  const cloudPid = cloud.pid ?? 0;
  const rss0 = await settledRss(cloudPid);
  log(`cloud up in ${cloudBootMs.toFixed(0)} ms, RSS ${String(MB(rss0))} MB with 0 edges`);

  const stored = new Map<string, number>(); // pod name → when its edge committed it
  const storedWaiters = new Map<string, () => void>();
  const podsStage = STAGES.find((n) => n >= 1000) ?? STAGES.at(-1) ?? 0;
  const stages: unknown[] = [];
  let delivery: unknown;
  let podStart: unknown;
  for (const n of STAGES) {
    t = performance.now();
    const from = edges.length;
    for (let i = from; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
          const idx = i + j;
          const e = await HollowEdge.create({
            name: `hollow-${String(idx)}`,
            index: idx,
            dir,
            cloudUrl: `wss://127.0.0.1:${String(port)}`,
            ca,
            storeSync: EDGE_SYNC,
          });
          e.onPod = (p) => {
            if (!stored.has(p.name)) stored.set(p.name, p.storedAt);
            storedWaiters.get(p.name)?.();
          };
          edges.push(e);
          await e.start();
        }),
      );
      if ((i / 50) % 4 === 0) log(`started ${String(edges.length)} edges`);
    }
    const startedMs = performance.now() - t;
    await until(
      async () =>
        edges.every((e) => e.link.state === 'online') && (await hubCounters(metricsPort)).connected >= n,
      `${String(n)} edges online`,
      20 * 60_000,
      () => `${String(edges.filter((e) => e.link.state !== 'online').length)} not online`,
    );
    // every Node registered and Ready (the scheduler needs them), i.e. the node status went up
    let ready = 0;
    await until(
      async () => {
        await sleep(2000); // a LIST of thousands of Nodes is not free: poll slowly
        const nodes = await core.listNode();
        ready = nodes.items.filter((x) =>
          x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        return ready >= n;
      },
      `${String(n)} Nodes Ready in the API`,
      20 * 60_000,
      () => `${String(ready)} Ready`,
    );
    const joinMs = performance.now() - t;
    log(
      `${String(n)} edges: started ${startedMs.toFixed(0)} ms, online + Nodes Ready ${joinMs.toFixed(0)} ms`,
    );

    // idle: let the join burst settle, then RSS, CPU and hub bytes over IDLE_S of heartbeats
    await sleep(15_000);
    const rss = await settledRss(cloudPid);
    const c0 = cpuTicks(cloudPid);
    const b0 = await hubCounters(metricsPort);
    const wire0 = hubWire(port);
    const w0 = performance.now();
    const load0 = la();
    await sleep(IDLE_S * 1000);
    const secs = (performance.now() - w0) / 1000;
    const b1 = await hubCounters(metricsPort);
    const wire1 = hubWire(port);
    const idleCpuPct = ((cpuTicks(cloudPid) - c0) / 100 / secs) * 100;
    const perMin = (x: number): number => Math.round((x / n / secs) * 60);
    const st = {
      edges: n,
      joinMs: Math.round(joinMs),
      cloudRssMB: MB(rss),
      cloudRssPerEdgeKB: Math.round((rss - rss0) / n / 1024),
      cloudIdleCpuPct: Math.round(idleCpuPct * 10) / 10,
      idleWindowS: Math.round(secs),
      hubSockets: wire1.sockets,
      // kernel TCP payload (TLS records) through the hub's sockets, per edge per minute
      wireBytesPerEdgePerMinToCloud: perMin(wire1.received - wire0.received),
      wireBytesPerEdgePerMinToEdge: perMin(wire1.sent - wire0.sent),
      // the same plus 52 bytes of IPv4+TCP(timestamps) header per segment
      wireWithHeadersBytesPerEdgePerMin: perMin(
        wire1.received -
          wire0.received +
          wire1.sent -
          wire0.sent +
          52 * (wire1.segsIn - wire0.segsIn + wire1.segsOut - wire0.segsOut),
      ),
      kbitPerSecPerEdgeWithHeaders:
        Math.round(
          (((wire1.received -
            wire0.received +
            wire1.sent -
            wire0.sent +
            52 * (wire1.segsIn - wire0.segsIn + wire1.segsOut - wire0.segsOut)) *
            8) /
            n /
            secs /
            1000) *
            1000,
        ) / 1000,
      // the hub's own payload counter (messages received, before TLS)
      hubPayloadBytesPerEdgePerMinIn: perMin(b1.in - b0.in),
      benchRssMB: MB(process.memoryUsage.rss()),
      loadavgAtIdleStartEnd: `${load0} / ${la()}`,
    };
    log(JSON.stringify(st));
    stages.push(st);

    if (n === podsStage && PODS > 0) {
      // write → durable apply on the edge: pods created with spec.nodeName, a few at a time
      const pod = (name: string, nodeName?: string): V1Pod => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: NS },
        spec: {
          ...(nodeName === undefined ? {} : { nodeName }),
          containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }],
          volumes: [{ name: 'fan', configMap: { name: 'fan' } }],
        },
      });
      const waitFor = (m: Map<string, number>, w: Map<string, () => void>, name: string): Promise<number> =>
        m.has(name)
          ? Promise.resolve(m.get(name) ?? NaN)
          : new Promise((res, rej) => {
              const timer = setTimeout(() => {
                rej(new Error(`${name}: nothing in 120 s`));
              }, 120_000);
              w.set(name, () => {
                clearTimeout(timer);
                w.delete(name);
                res(m.get(name) ?? NaN);
              });
            });
      const CONC = 5;
      const loadD = la();
      const writeToStored: number[] = [];
      const boundToRunning: number[] = [];
      for (let s = 0; s < PODS; s += CONC)
        await Promise.all(
          Array.from({ length: Math.min(CONC, PODS - s) }, async (_, j) => {
            const k = s + j;
            const name = `bound-${String(k)}`;
            const node = `hollow-${String((k * 7919) % n)}`;
            const w = performance.now();
            await core.createNamespacedPod({ namespace: NS, body: pod(name, node) });
            writeToStored.push((await waitFor(stored, storedWaiters, name)) - w);
            boundToRunning.push((await waitFor(runningAt, podWaiters, name)) - w);
          }),
        );
      delivery = {
        edges: n,
        samples: PODS,
        concurrency: CONC,
        writeToEdgeDurableMs: summary(writeToStored),
        createBoundToRunningInApiMs: summary(boundToRunning),
        loadavgBeforeAfter: `${loadD} / ${la()}`,
      };
      log(JSON.stringify(delivery));
      const loadP = la();
      const start: number[] = [];
      for (let s = 0; s < PODS; s += CONC)
        await Promise.all(
          Array.from({ length: Math.min(CONC, PODS - s) }, async (_, j) => {
            const name = `start-${String(s + j)}`;
            const w = performance.now();
            await core.createNamespacedPod({ namespace: NS, body: pod(name) });
            start.push((await waitFor(runningAt, podWaiters, name)) - w);
          }),
        );
      podStart = {
        edges: n,
        samples: PODS,
        concurrency: CONC,
        createUnboundToRunningMs: summary(start),
        path: 'API create (no nodeName) → scheduler binds → cloud core syncs to the hollow edge → Running via outbox → cloud patches status → watch event',
        loadavgBeforeAfter: `${loadP} / ${la()}`,
      };
      log(JSON.stringify(podStart));
    }
  }

  let storm: unknown;
  if (STORM) {
    const dupBefore = edges.reduce((s, e) => s + e.link.counters.duplicates, 0);
    const connectsBefore = edges.map((e) => e.link.counters.connects);
    const loadS = la();
    await killCloud('SIGKILL');
    const killedAt = performance.now();
    await until(
      () => edges.every((e) => e.link.state !== 'online'),
      'edges noticing the cloud is gone',
      180_000,
    );
    const allOfflineMs = performance.now() - killedAt;
    const down = await core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'fan',
      body: { metadata: { name: 'fan' }, data: { v: 'while-down' } },
    });
    fanRv = down.metadata?.resourceVersion ?? '';
    const withPods = edges.filter((e) => e.held.has(`ConfigMap/${NS}/fan`));
    // API request rate, sampled every second from the API server's own counter
    let prev = await apiRequests(apiReg);
    let peak = 0;
    let total = 0;
    const rates: number[] = [];
    const sampler = setInterval(() => {
      void apiRequests(apiReg).then((v) => {
        rates.push(v - prev);
        peak = Math.max(peak, v - prev);
        total += v - prev;
        prev = v;
      });
    }, 1000);
    const restartAt = performance.now();
    cloud = startCloud(cfgFile);
    const newPid = cloud.pid ?? 0;
    try {
      await until(() => portOpen(port), 'cloud listening again', 120_000);
      const listeningMs = performance.now() - restartAt;
      await until(
        () =>
          edges.every(
            (e, k) => e.link.state === 'online' && e.link.counters.connects > (connectsBefore[k] ?? 0),
          ) && withPods.every((e) => e.held.get(`ConfigMap/${NS}/fan`) === fanRv),
        'every edge back online and resynced',
        20 * 60_000,
        () =>
          `${String(edges.filter((e) => e.link.state !== 'online').length)} offline, ${String(withPods.filter((e) => e.held.get(`ConfigMap/${NS}/fan`) !== fanRv).length)} without the change`,
      );
      const resyncMs = performance.now() - restartAt;
      await sleep(5000); // late re-sends would show up as duplicates
      storm = {
        edges: edges.length,
        edgesHoldingPods: withPods.length,
        allOfflineAfterKillMs: Math.round(allOfflineMs),
        cloudListeningAfterRestartMs: Math.round(listeningMs),
        allOnlineAndResyncedMs: Math.round(resyncMs),
        duplicatesOnEdges: edges.reduce((s, e) => s + e.link.counters.duplicates, 0) - dupBefore,
        reconnectsAfterRestart: edges.reduce(
          (s, e, k) => s + e.link.counters.connects - (connectsBefore[k] ?? 0),
          0,
        ),
        peakApiRequestsPerSec: peak,
        apiRequestsDuringStorm: total,
        apiRequestsPerSecSeries: rates,
        cloudRssAfterMB: MB(rssBytes(newPid)),
        loadavgBeforeAfter: `${loadS} / ${la()}`,
      };
    } finally {
      clearInterval(sampler);
    }
    log(JSON.stringify(storm));
  }

  return {
    benchmark: 'scale',
    date: new Date().toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? '?',
      ramMB: Math.round(totalmem() / 1048576),
      node: process.version,
    },
    command: `npx tsx bench/scale.ts ${process.argv.slice(2).join(' ')}`.trim(),
    settings: {
      nofile,
      apiStorage: 'sqlite synchronous=NORMAL',
      edgeStore: `sqlite synchronous=${EDGE_SYNC}`,
      leaseRenewMs: 10_000,
    },
    cloud: { bootMs: Math.round(cloudBootMs), rssNoEdgesMB: MB(rss0) },
    stages,
    delivery,
    podStart,
    storm,
    totalSeconds: Math.round((Date.now() - t0) / 1000),
  };
}

async function cleanup(): Promise<void> {
  for (const f of stopWatch.splice(0)) f();
  await killCloud('SIGTERM').catch(() => undefined);
  for (let i = 0; i < edges.length; i += 200) await Promise.all(edges.slice(i, i + 200).map((e) => e.stop()));
  edges.length = 0;
  await controllers?.stop().catch(() => undefined);
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
  const result = (await main()) as {
    stages: Record<string, number | string>[];
    delivery?: Record<string, unknown>;
    podStart?: Record<string, unknown>;
    storm?: Record<string, unknown>;
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    '\nedges | join ms | cloud RSS MB | KB/edge | idle CPU % | B/edge/min in | out | kbit/s/edge | load',
  );
  for (const s of result.stages)
    console.log(
      [
        s['edges'],
        s['joinMs'],
        s['cloudRssMB'],
        s['cloudRssPerEdgeKB'],
        s['cloudIdleCpuPct'],
        s['wireBytesPerEdgePerMinToCloud'],
        s['wireBytesPerEdgePerMinToEdge'],
        s['kbitPerSecPerEdgeWithHeaders'],
        s['loadavgAtIdleStartEnd'],
      ]
        .map(String)
        .join(' | '),
    );
  if (result.delivery !== undefined) console.log(`delivery: ${JSON.stringify(result.delivery)}`);
  if (result.podStart !== undefined) console.log(`pod start: ${JSON.stringify(result.podStart)}`);
  if (result.storm !== undefined) console.log(`storm: ${JSON.stringify(result.storm)}`);
} catch (e) {
  console.error('benchmark failed:', e, `\ncloud output tail:\n${cloudOut.slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(guard);
}
