/**
 * Scale benchmark with hollow edges (issue 12): `npx tsx bench/scale.ts [--edges 1000,5000]
 * [--pods 300] [--idle-s 60] [--storm] [--edge-sync NORMAL|FULL] [--edge-store file|memory]
 * [--edges-per-process 2500] [--edge-poll-ms 2000] [--heap-snapshots <dir>] [--pki-cache <dir>] [--cpu-profile]
 * [--timeout-ms 2400000]`.
 * Prints one JSON document, then a human summary. Figures, not assertions (STYLE, DESIGN §9).
 *
 * Set-up: the embedded API server (SQLite synchronous=NORMAL) and the scheduler (our
 * controllers) in this process; the cloud core as a child of the real binary (its RSS, CPU and
 * `/metrics` are its own; started with `--inspect=127.0.0.1:0` so the bench can force a GC and
 * read its heap); N hollow edges (bench/lib/hollow-edge.ts) in worker processes of
 * --edges-per-process each (bench/lib/fleet.ts: the open-file hard limit is 20,000 per process)
 * — real Link, EdgeStore and NodeReporter over real TLS, each its own certificate, a fake runtime
 * that reports bound pods Running through the outbox.
 *
 * Per stage: cloud memory per connected edge (heap used after a forced GC, and RSS); cloud CPU
 * and hub bytes in/out (kernel tcp_info and tether_hub_bytes_*) over --idle-s of idle heartbeats. At the first stage ≥ 1,000 (or the largest): write → durable
 * apply on the edge for pods created with spec.nodeName (p50/p90/p99), and pod start (unbound
 * pod created → scheduler binds → edge → Running seen by a watch) p50/p90/p99. With --storm, at
 * the largest stage: SIGKILL + restart of the cloud, time to resync, duplicates on the edges,
 * peak API requests/s (tether_apiserver_request_total sampled each second).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';

import { startApiServer, type StartedApiServer } from '../src/apiserver/index.js';
import {
  CertificateAuthority,
  createRegistry,
  reuseConnections,
  silentLogger,
  type Registry,
} from '../src/common/index.js';
import { ControlPlaneControllers } from '../src/controllers/index.js';
import { epochMs, Fleet, type PodHops } from './lib/fleet.js';
import { Inspector, inspectorUrl, type MemoryUsage } from './lib/inspector.js';
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
const EDGE_STORE = arg('edge-store', 'file') === 'memory' ? 'memory' : 'file';
const PER_PROCESS = Number(arg('edges-per-process', '2500'));
const EDGE_POLL_MS = Number(arg('edge-poll-ms', '2000'));
/** the edges' link reconnect.refusedWindowMs (fast retry while the cloud refuses); -1: the default */
const REFUSED_WINDOW_MS = Number(arg('edge-refused-window-ms', '-1'));
/** the hub's acceptors (listening handles on its socket); 0: the default */
const HUB_ACCEPTORS = Number(arg('hub-acceptors', '0'));
/** node/V8 flags for the cloud child, e.g. '--max-semi-space-size=32' */
const CLOUD_NODE_FLAGS = arg('cloud-node-flags', '')
  .split(' ')
  .filter((f) => f !== '');
const SNAP_DIR = arg('heap-snapshots', '');
/** With --cpu-profile: the cloud's CPU profile over each idle window, top functions and files */
const CPU_PROFILE = process.argv.includes('--cpu-profile');
/** where --cpu-profile keeps the storm's raw profiles (cloud.cpuprofile, worker-<i>.cpuprofile) */
const PROFILE_DIR = arg('profile-dir', '/var/tmp/tether-storm-profiles');
/** CA and every edge's key + certificate kept here between runs (join then measures TLS, not keygen) */
const PKI_CACHE = arg('pki-cache', '');
const TIMEOUT_MS = Number(arg('timeout-ms', String(40 * 60_000)));
/**
 * Per-hop timing of the delivery (issue 12): the cloud runs at log level debug, where its sync
 * controller logs each watch event and each edge ack (nothing else of the cloud logs at debug in
 * steady state); the bench joins those with the API server's commit and the hollow edges' stamps.
 */
const HOPS = process.argv.includes('--hops');
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
let fleet: Fleet | undefined;
let inspector: Inspector | undefined;
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
    // the inspector lets the bench force a GC and take heap snapshots of the cloud (port 0: any)
    [
      ...CLOUD_NODE_FLAGS,
      '--inspect=127.0.0.1:0',
      '--import',
      'tsx',
      join(REPO, 'src/cli/main.ts'),
      'cloud',
      '--config',
      cfgFile,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let partial = '';
  const keep = (d: Buffer): void => {
    const text = d.toString();
    cloudOut = (cloudOut + text).slice(-20_000);
    if (!HOPS) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.includes('"msg":"sync: ')) cloudTraceLine(l);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return child;
}

/** From the cloud's debug log (--hops): when its watch saw each bench pod, when each sync ack arrived. */
const cloudWatchAt = new Map<string, number>();
const cloudAckAt = new Map<string, number>();
function cloudTraceLine(line: string): void {
  try {
    const r = JSON.parse(line) as {
      msg?: string;
      time?: string;
      kind?: string;
      name?: string;
      node?: string;
      seq?: number;
    };
    const t = Date.parse(r.time ?? '');
    if (
      r.msg === 'sync: watch event' &&
      r.kind === 'Pod' &&
      r.name !== undefined &&
      !cloudWatchAt.has(r.name)
    )
      cloudWatchAt.set(r.name, t);
    else if (r.msg === 'sync: ack' && r.node !== undefined && r.seq !== undefined)
      cloudAckAt.set(`${r.node}#${String(r.seq)}`, t);
  } catch {
    // not a log line of ours
  }
}

/**
 * When the embedded API server committed each pod (epoch ms): a storage watch in this process,
 * fed synchronously at commit (src/apiserver/storage/watcher.ts). The storage is not public API
 * of the server; the bench reaches it for this figure only.
 */
function commitTimes(): { times: Map<string, number>; stop: () => void } {
  const times = new Map<string, number>();
  type Storage = {
    currentRevision(): number;
    watch(
      prefix: string,
      o: { fromRevision: number; maxBuffered?: number },
    ): {
      ok: boolean;
      value?: AsyncIterable<{ type: string; object: { key: string } }> & { close?: () => void };
    };
  };
  const storage = (api?.server as unknown as { running?: { storage?: Storage } } | undefined)?.running
    ?.storage;
  if (storage === undefined) return { times, stop: () => undefined };
  const prefix = `/registry/core/pods/${NS}/`;
  const w = storage.watch(prefix, { fromRevision: storage.currentRevision(), maxBuffered: 1_000_000 });
  const it = w.value;
  if (!w.ok || it === undefined) return { times, stop: () => undefined };
  void (async () => {
    for await (const ev of it) {
      const name = ev.object.key.slice(prefix.length);
      if (ev.type === 'ADDED' && !times.has(name)) times.set(name, epochMs());
    }
  })();
  return { times, stop: () => it.close?.() };
}

/** p50/p90/p99 of each hop of write → durable at the edge (--hops), over the pods with every stamp. */
function hops(
  written: Map<string, number>,
  created: Map<string, number>,
  committed: Map<string, number>,
  benchWatch: Map<string, number>,
  stored: Map<string, number>,
  edge: Map<string, PodHops>,
): Record<string, ReturnType<typeof summary>> {
  const cols: Record<string, number[]> = {
    '1 write → API commit (request, admission, SQLite)': [],
    '(API commit → create response at the bench)': [],
    '(API commit → watch event at a bench watcher)': [],
    '2 API commit → cloud watch event (fan-out, HTTP, client parse, informer)': [],
    '3 cloud watch event → hub send (queue, pump)': [],
    '4 hub send → edge link received (TLS, ws, decode, edge event loop)': [],
    '5 edge received → committed in the edge store': [],
    '(edge committed → ack at the cloud)': [],
    'total write → durable at the edge': [],
  };
  const push = (k: string, v: number): void => {
    if (Number.isFinite(v)) cols[k]?.push(v);
  };
  for (const [name, w] of written) {
    const c = committed.get(name) ?? NaN;
    const cw = cloudWatchAt.get(name) ?? NaN;
    const e = edge.get(name);
    const st = stored.get(name) ?? NaN;
    const keys = Object.keys(cols);
    push(keys[0] ?? '', c - w);
    push(keys[1] ?? '', (created.get(name) ?? NaN) - c);
    push(keys[2] ?? '', (benchWatch.get(name) ?? NaN) - c);
    push(keys[3] ?? '', cw - c);
    push(keys[4] ?? '', (e?.hubSentAt ?? NaN) - cw);
    push(keys[5] ?? '', (e?.receivedAt ?? NaN) - (e?.hubSentAt ?? NaN));
    push(keys[6] ?? '', st - (e?.receivedAt ?? NaN));
    push(keys[7] ?? '', (cloudAckAt.get(`${e?.edge ?? ''}#${String(e?.seq ?? '')}`) ?? NaN) - st);
    push(keys[8] ?? '', st - w);
  }
  return Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, summary(v)]));
}

function killCloud(signal: NodeJS.Signals): Promise<void> {
  const c = cloud;
  return new Promise((res) => {
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
      res();
      return;
    }
    // a cloud closing thousands of sessions on a loaded machine may take long: SIGKILL after 10 s
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.once('exit', () => {
      clearTimeout(t);
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

/**
 * Whether the cloud's Lease renewals keep pace (issue 12: N nodes at a 10 s interval are N/10
 * writes/s): renewals and failures over a window, the lag histogram's buckets (due → accepted),
 * and, sampled every 5 s, the renewals queued and in flight and the age of the oldest due one
 * (src/cloud/sync/leases.ts). Each sample is one /metrics scrape of the cloud (counted in its CPU).
 */
function leasePace(metricsPort: number): { stop: () => Promise<Record<string, unknown>> } {
  const scrape = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
  const buckets = (text: string): Map<string, number> => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('tether_sync_lease_renewal_lag_seconds_bucket{')) continue;
      const le = /le="([^"]*)"/.exec(line)?.[1] ?? '';
      m.set(le, Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return m;
  };
  const t0 = performance.now();
  const first = scrape();
  const max = { queued: 0, inFlight: 0, oldestDueS: 0 };
  let samples = 0;
  const sample = async (): Promise<void> => {
    const text = await scrape();
    samples++;
    max.queued = Math.max(max.queued, counterSum(text, 'tether_sync_lease_renewals_queued'));
    max.inFlight = Math.max(max.inFlight, counterSum(text, 'tether_sync_lease_renewals_in_flight'));
    max.oldestDueS = Math.max(
      max.oldestDueS,
      counterSum(text, 'tether_sync_lease_renewal_oldest_due_seconds'),
    );
  };
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = sample().catch(() => undefined);
  }, 5000);
  return {
    stop: async () => {
      clearInterval(timer);
      await pending;
      const [a, b] = [await first, await scrape()];
      const secs = (performance.now() - t0) / 1000;
      const d = (name: string): number => counterSum(b, name) - counterSum(a, name);
      const ba = buckets(a);
      const bb = buckets(b);
      const total = (bb.get('+Inf') ?? 0) - (ba.get('+Inf') ?? 0);
      /** upper bound of the bucket holding the q-quantile of the window's renewals */
      const q = (x: number): string => {
        for (const [le, c] of bb)
          if (c - (ba.get(le) ?? 0) >= x * total) return le === '+Inf' ? '>10' : `≤${le}`;
        return '?';
      };
      return {
        windowS: Math.round(secs),
        renewalsPerS: Math.round((d('tether_sync_lease_renewals_total') / secs) * 10) / 10,
        failures: d('tether_sync_lease_renewal_failures_total'),
        lagSecondsP50P99: `${q(0.5)} / ${q(0.99)}`,
        samples,
        maxQueued: max.queued,
        maxInFlight: max.inFlight,
        maxOldestDueS: Math.round(max.oldestDueS * 1000) / 1000,
      };
    },
  };
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

/** tether_apiserver_request_total by verb/resource/subresource/code (label set → count). */
async function apiRequestsByKind(reg: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await reg.metrics()).split('\n')) {
    if (!line.startsWith('tether_apiserver_request_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const get = (k: string): string => new RegExp(`${k}="([^"]*)"`).exec(labels)?.[1] ?? '';
    const key = `${get('verb')} ${get('resource')}${get('subresource') === '' ? '' : `/${get('subresource')}`} ${get('code')}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

async function apiRequests(reg: Registry): Promise<number> {
  return counterSum(await reg.metrics(), 'tether_apiserver_request_total');
}

/** A gauge or counter with labels containing `labels` (e.g. 'result="shed"'), summed. */
function metricWith(text: string, name: string, labels = ''): number {
  let s = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (labels !== '' && !line.includes(labels)) continue;
    s += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return s;
}

/**
 * The storm second by second (issue 12: find where the first minute goes), one JSON line per
 * second on stderr: edges online / connecting / in back-off, the edges' attempts and failures by
 * what they saw (refused, reset, timeout), the hub's handshakes accepted / shed / completed /
 * failed, pending and limit, hellos, the cloud's CPU and event-loop lag, each worker's CPU, API
 * requests. Stopping returns a summary: totals and the seconds to 10/50/90/100 % reconnected.
 */
/**
 * The kernel's view of the hub's port (/proc/net/tcp): client connections still in SYN-SENT, server
 * half-open ones (SYN-RECV), established connections on the hub's side, and the listen socket's
 * accept queue — where a storm's connections wait before the hub's JavaScript sees them.
 */
function tcpStates(hubPort: number): {
  synSent: number;
  synRecv: number;
  established: number;
  acceptQ: number;
} {
  const hex = hubPort.toString(16).toUpperCase().padStart(4, '0');
  const r = { synSent: 0, synRecv: 0, established: 0, acceptQ: 0 };
  let text = '';
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return r;
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    const remote = f[2];
    const st = f[3];
    if (local === undefined || remote === undefined || st === undefined) continue;
    const lport = local.slice(-4);
    const rport = remote.slice(-4);
    if (st === '02' && rport === hex) r.synSent++;
    else if (st === '03' && lport === hex) r.synRecv++;
    else if (st === '01' && lport === hex) r.established++;
    else if (st === '0A' && lport === hex) r.acceptQ = parseInt((f[4] ?? ':0').split(':')[1] ?? '0', 16);
  }
  return r;
}

function stormTimeline(
  fl: Fleet,
  hubPort: number,
  cloudPid: number,
  metricsPort: number,
  apiReg: Registry,
  restartAt: number,
  fanKey: string,
  fanRv: string,
): { stop(): Promise<Record<string, unknown>> } {
  type Sample = Record<string, number | number[] | null>;
  const rows: Sample[] = [];
  let prevSt: Awaited<ReturnType<Fleet['status']>> | undefined;
  let prevHub: Record<string, number> | undefined;
  let prevCloud = 0;
  let prevWorkers: number[] = [];
  let prevBench = cpuTicks(process.pid);
  let prevApi = -1;
  let prevT = performance.now();
  let stopped = false;
  const firstAt = new Map<number, number>();
  const loop = (async () => {
    while (!stopped) {
      const tick = performance.now();
      const st = await fl.status(fanKey, fanRv);
      let hub: Record<string, number> | undefined;
      try {
        const text = await (
          await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`, { signal: AbortSignal.timeout(900) })
        ).text();
        hub = {
          accepted: metricWith(text, 'tether_hub_handshakes_total', 'result="accepted"'),
          shed: metricWith(text, 'tether_hub_handshakes_total', 'result="shed"'),
          completed: metricWith(text, 'tether_hub_handshakes_total', 'result="completed"'),
          failed: metricWith(text, 'tether_hub_handshakes_total', 'result="failed"'),
          hellos: metricWith(text, 'tether_hub_sessions_opened_total'),
          pending: metricWith(text, 'tether_hub_pending_handshakes'),
          limit: metricWith(text, 'tether_hub_handshake_limit'),
          queued: metricWith(text, 'tether_hub_queued_connections'),
          ungreeted: metricWith(text, 'tether_hub_ungreeted_sessions'),
          sessions: metricWith(text, 'tether_hub_connected_nodes'),
          lagMs: Math.round(metricWith(text, 'tether_nodejs_eventloop_lag_seconds') * 1000),
          lagP99Ms: Math.round(metricWith(text, 'tether_nodejs_eventloop_lag_p99_seconds') * 1000),
          leases: metricWith(text, 'tether_sync_lease_renewals_total'),
        };
      } catch {
        hub = undefined; // not listening yet, or too busy to answer within 0.9 s
      }
      const now = performance.now();
      const secs = (now - prevT) / 1000;
      prevT = now;
      const pct = (d: number): number => Math.round((d / 100 / secs) * 100);
      let cloudTicks = 0;
      try {
        cloudTicks = cpuTicks(cloudPid);
      } catch {
        cloudTicks = prevCloud;
      }
      const workers = fl.pids.map((p) => {
        try {
          return cpuTicks(p);
        } catch {
          return 0;
        }
      });
      const bench = cpuTicks(process.pid);
      const api = await apiRequests(apiReg);
      const d = (k: keyof typeof st): number => (prevSt === undefined ? 0 : st[k] - prevSt[k]);
      const h = (k: string): number | null =>
        hub === undefined ? null : (hub[k] ?? 0) - (prevHub?.[k] ?? 0);
      const t = Math.round((now - restartAt) / 100) / 10;
      for (const q of [0.1, 0.5, 0.9, 1])
        if (!firstAt.has(q) && st.reconnectedOnline >= Math.ceil(q * st.edges)) firstAt.set(q, t);
      const row: Sample = {
        t,
        online: st.online,
        reconnected: st.reconnectedOnline,
        connecting: st.connecting,
        backoff: st.backoff,
        withoutChange: st.markedWithoutRv,
        attempts: d('attempts'),
        refused: d('refused'),
        resets: d('resets'),
        timeouts: d('timeouts'),
        accepted: h('accepted'),
        shed: h('shed'),
        completed: h('completed'),
        tlsFailed: h('failed'),
        hellos: h('hellos'),
        leaseRenewals: h('leases'),
        pending: hub?.['pending'] ?? null,
        limit: hub?.['limit'] ?? null,
        queued: hub?.['queued'] ?? null,
        ungreeted: hub?.['ungreeted'] ?? null,
        ...tcpStates(hubPort),
        sessions: hub?.['sessions'] ?? null,
        lagMs: hub?.['lagMs'] ?? null,
        lagP99Ms: hub?.['lagP99Ms'] ?? null,
        cloudCpu: pct(cloudTicks - prevCloud),
        workersCpu: workers.map((w, i) => pct(w - (prevWorkers[i] ?? w))),
        benchCpu: pct(bench - prevBench),
        apiPerS: prevApi < 0 ? 0 : Math.round((api - prevApi) / secs),
      };
      if (prevSt !== undefined) {
        rows.push(row);
        process.stderr.write(`storm ${JSON.stringify(row)}\n`);
      }
      prevSt = st;
      if (hub !== undefined) prevHub = hub;
      prevCloud = cloudTicks;
      prevWorkers = workers;
      prevBench = bench;
      prevApi = api;
      await sleep(Math.max(0, 1000 - (performance.now() - tick)));
    }
  })();
  let result: Record<string, unknown> | undefined;
  return {
    async stop() {
      stopped = true;
      await loop;
      if (result !== undefined) return result;
      const sum = (k: string): number => rows.reduce((a, r) => a + (typeof r[k] === 'number' ? r[k] : 0), 0);
      const max = (k: string): number =>
        rows.reduce((a, r) => Math.max(a, typeof r[k] === 'number' ? r[k] : 0), 0);
      result = {
        seconds: rows.length,
        reconnectedAtS: Object.fromEntries([...firstAt].map(([q, t]) => [`${String(q * 100)}%`, t])),
        edgeAttempts: sum('attempts'),
        edgeRefused: sum('refused'),
        edgeResets: sum('resets'),
        edgeTimeouts: sum('timeouts'),
        hubAccepted: sum('accepted'),
        hubShed: sum('shed'),
        hubCompleted: sum('completed'),
        hubTlsFailed: sum('tlsFailed'),
        hubHellos: sum('hellos'),
        maxCompletedPerS: max('completed'),
        maxLagMs: max('lagMs'),
        meanCloudCpuPct: Math.round(sum('cloudCpu') / Math.max(1, rows.length)),
      };
      return result;
    },
  };
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
  let ca: CertificateAuthority;
  if (PKI_CACHE !== '' && existsSync(join(PKI_CACHE, 'ca.json'))) {
    const c = JSON.parse(readFileSync(join(PKI_CACHE, 'ca.json'), 'utf8')) as {
      certPem: string;
      keyPem: string;
    };
    ca = await CertificateAuthority.load(c.certPem, c.keyPem);
  } else {
    ca = await CertificateAuthority.create('tether-bench-ca');
    if (PKI_CACHE !== '') {
      mkdirSync(PKI_CACHE, { recursive: true });
      writeFileSync(join(PKI_CACHE, 'ca.json'), JSON.stringify({ certPem: ca.certPem, keyPem: ca.keyPem }));
    }
  }
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
      ...(HUB_ACCEPTORS > 0 ? [`  acceptors: ${String(HUB_ACCEPTORS)}`] : []),
      'metrics:',
      '  host: 127.0.0.1',
      `  port: ${String(metricsPort)}`,
      `logLevel: ${HOPS ? 'debug' : 'warn'}`,
    ].join('\n'),
  );
  const fan = await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'fan' }, data: { v: '0' } },
  });
  let fanRv = fan.metadata?.resourceVersion ?? '';

  // pod watch: when each pod is first seen Running in the API
  const runningAt = new Map<string, number>();
  const benchWatchAt = new Map<string, number>(); // first event of each pod on the bench's own watch
  const podWaiters = new Map<string, () => void>();
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${NS}/pods`,
    {},
    (_type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      if (!benchWatchAt.has(name)) benchWatchAt.set(name, epochMs());
      if (pod.status?.phase === 'Running' && !runningAt.has(name)) {
        runningAt.set(name, epochMs());
        podWaiters.get(name)?.();
      }
    },
    () => undefined,
  );
  stopWatch.push(() => {
    req.abort();
  });
  // Nodes Ready in the API, from a watch (polling LISTs of thousands of Nodes loads the API server)
  const readyNodes = new Set<string>();
  const nodeReq = await watch.watch(
    '/api/v1/nodes',
    {},
    (type: string, node: V1Node) => {
      const name = node.metadata?.name ?? '';
      if (
        type !== 'DELETED' &&
        node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
      )
        readyNodes.add(name);
      else readyNodes.delete(name);
    },
    () => undefined,
  );
  stopWatch.push(() => {
    nodeReq.abort();
  });

  let t = performance.now();
  cloud = startCloud(cfgFile);
  await until(() => portOpen(port), `cloud listening (output: ${cloudOut})`, 120_000);
  const cloudBootMs = performance.now() - t;
  const cloudPid = cloud.pid ?? 0;
  const url = inspectorUrl(cloudOut);
  if (url === undefined) throw new Error(`no inspector URL in the cloud's output: ${cloudOut.slice(0, 500)}`);
  inspector = await Inspector.connect(url);
  const insp = inspector;
  /** heap after two forced GCs and RSS (5 readings' minimum after it) of the cloud */
  const memory = async (label: string): Promise<{ mem: MemoryUsage; rss: number }> => {
    await sleep(2000);
    const mem = await insp.gcAndMemory();
    const rss = await settledRss(cloudPid);
    if (SNAP_DIR !== '') {
      mkdirSync(SNAP_DIR, { recursive: true });
      await insp.heapSnapshot(join(SNAP_DIR, `cloud-${label}.heapsnapshot`));
    }
    return { mem, rss };
  };
  const m0 = await memory('0');
  const rss0 = m0.rss;
  log(
    `cloud up in ${cloudBootMs.toFixed(0)} ms; 0 edges: RSS ${String(MB(rss0))} MB, heap used ${String(MB(m0.mem.heapUsed))} MB after GC`,
  );

  const stored = new Map<string, number>(); // pod name → when its edge committed it (epoch ms)
  const edgeHops = new Map<string, PodHops>();
  const storedWaiters = new Map<string, () => void>();
  fleet = new Fleet({
    edgesPerProcess: PER_PROCESS,
    dir,
    cloudUrl: `wss://127.0.0.1:${String(port)}`,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    storeSync: EDGE_SYNC,
    store: EDGE_STORE,
    outboxPollMs: EDGE_POLL_MS,
    refusedWindowMs: REFUSED_WINDOW_MS,
    reportNode: true,
    pkiCache: PKI_CACHE,
    onPod: (name, storedAt, h) => {
      if (!stored.has(name)) {
        stored.set(name, storedAt);
        if (h.seq !== undefined) edgeHops.set(name, h);
      }
      storedWaiters.get(name)?.();
    },
    log,
  });
  const fl = fleet;
  const podsStage = STAGES.find((n) => n >= 1000) ?? STAGES.at(-1) ?? 0;
  const stages: unknown[] = [];
  let delivery: unknown;
  let podStart: unknown;
  for (const n of STAGES) {
    t = performance.now();
    const progress = setInterval(() => {
      log(`started ${String(fl.size)} edges in ${String(fl.processes)} worker processes`);
    }, 15_000);
    try {
      await fl.grow(n);
    } finally {
      clearInterval(progress);
    }
    const startedMs = performance.now() - t;
    let online = 0;
    await until(
      async () => {
        await sleep(500);
        online = (await fl.status()).online;
        return online >= n && (await hubCounters(metricsPort)).connected >= n;
      },
      `${String(n)} edges online`,
      20 * 60_000,
      () => `${String(n - online)} not online`,
    );
    // every Node registered and Ready (the scheduler needs them), i.e. the node status went up
    let ready = 0;
    let polls = 0;
    await until(
      async () => {
        await sleep(1000);
        ready = readyNodes.size;
        // a LIST of 10,000 Nodes is ~40 MB through the API server it measures: only as a
        // fallback, in case the watch ended
        if (ready < n && ++polls % 30 === 0) {
          const nodes = await core.listNode();
          ready = nodes.items.filter((x) =>
            x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          ).length;
        }
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

    // idle: let the join burst settle, then memory, CPU and hub bytes over IDLE_S of heartbeats
    await sleep(15_000);
    const mN = await memory(String(n));
    const rss = mN.rss;
    const c0 = cpuTicks(cloudPid);
    const benchC0 = cpuTicks(process.pid);
    const workersC0 = fl.pids.reduce((s, p) => s + cpuTicks(p), 0);
    const b0 = await hubCounters(metricsPort);
    const wire0 = hubWire(port);
    const w0 = performance.now();
    const load0 = la();
    const pace = leasePace(metricsPort);
    if (CPU_PROFILE) await inspector.startCpuProfile();
    await sleep(IDLE_S * 1000);
    if (CPU_PROFILE)
      log(
        `cloud CPU profile at ${String(n)} idle edges: ${JSON.stringify(await inspector.stopCpuProfile())}`,
      );
    const leases = await pace.stop();
    const secs = (performance.now() - w0) / 1000;
    const b1 = await hubCounters(metricsPort);
    const wire1 = hubWire(port);
    const idleCpuPct = ((cpuTicks(cloudPid) - c0) / 100 / secs) * 100;
    const pct = (ticks: number): number => Math.round((ticks / 100 / secs) * 1000) / 10;
    const perMin = (x: number): number => Math.round((x / n / secs) * 60);
    const wireBoth =
      wire1.received -
      wire0.received +
      wire1.sent -
      wire0.sent +
      52 * (wire1.segsIn - wire0.segsIn + wire1.segsOut - wire0.segsOut);
    const kb = (x: number): number => Math.round((x / n / 1024) * 10) / 10;
    const st = {
      edges: n,
      workerProcesses: fl.processes,
      edgeStore: EDGE_STORE,
      joinMs: Math.round(joinMs),
      cloudRssMB: MB(rss),
      cloudRssPerEdgeKB: kb(rss - rss0),
      // V8 heap used after forced GC (inspector HeapProfiler.collectGarbage ×2)
      cloudHeapUsedMB: MB(mN.mem.heapUsed),
      cloudHeapPerEdgeKB: kb(mN.mem.heapUsed - m0.mem.heapUsed),
      cloudExternalPerEdgeKB: kb(mN.mem.external - m0.mem.external),
      // RSS not explained by the V8 heap: OpenSSL (TLS), socket and zlib buffers, malloc arenas
      cloudNonHeapPerEdgeKB: kb(rss - rss0 - (mN.mem.heapTotal - m0.mem.heapTotal)),
      cloudIdleCpuPct: Math.round(idleCpuPct * 10) / 10,
      benchMainCpuPct: pct(cpuTicks(process.pid) - benchC0),
      hollowWorkersCpuPct: pct(fl.pids.reduce((s, p) => s + cpuTicks(p), 0) - workersC0),
      idleWindowS: Math.round(secs),
      hubSockets: wire1.sockets,
      // kernel TCP payload (TLS records) through the hub's sockets, per edge per minute
      wireBytesPerEdgePerMinToCloud: perMin(wire1.received - wire0.received),
      wireBytesPerEdgePerMinToEdge: perMin(wire1.sent - wire0.sent),
      // the same plus 52 bytes of IPv4+TCP(timestamps) header per segment
      wireWithHeadersBytesPerEdgePerMin: perMin(wireBoth),
      kbitPerSecPerEdgeWithHeaders: Math.round(((wireBoth * 8) / n / secs / 1000) * 1000) / 1000,
      // the hub's own payload counters (WebSocket message bytes, before TLS and framing)
      hubPayloadBytesPerEdgePerMinIn: perMin(b1.in - b0.in),
      hubPayloadBytesPerEdgePerMinOut: perMin(b1.out - b0.out),
      benchRssMB: MB(process.memoryUsage.rss()),
      loadavgAtIdleStartEnd: `${load0} / ${la()}`,
      // keeping pace means renewalsPerS ≈ edges / 10 (the 10 s interval) and a small oldest-due age
      leaseRenewals: { expectedPerS: n / 10, ...leases },
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
      /** PODS pods bound to spread edges, CONC at a time, written through `client` */
      const deliver = async (
        prefix: string,
        client: CoreV1Api,
        nodeOffset: number,
      ): Promise<Record<string, unknown>> => {
        const loadD = la();
        const writeToStored: number[] = [];
        const boundToRunning: number[] = [];
        const createdAt = new Map<string, number>();
        const written = new Map<string, number>();
        const commit = HOPS ? commitTimes() : undefined;
        for (let s = 0; s < PODS; s += CONC)
          await Promise.all(
            Array.from({ length: Math.min(CONC, PODS - s) }, async (_, j) => {
              const k = s + j;
              const name = `${prefix}-${String(k)}`;
              // 7919 is prime to n: distinct edges while nodeOffset + PODS ≤ n
              const node = `hollow-${String(((k + nodeOffset) * 7919) % n)}`;
              const w = epochMs();
              written.set(name, w);
              await client.createNamespacedPod({ namespace: NS, body: pod(name, node) });
              createdAt.set(name, epochMs());
              writeToStored.push((await waitFor(stored, storedWaiters, name)) - w);
              boundToRunning.push((await waitFor(runningAt, podWaiters, name)) - w);
            }),
          );
        commit?.stop();
        return {
          writeToEdgeDurableMs: summary(writeToStored),
          createBoundToRunningInApiMs: summary(boundToRunning),
          loadavgBeforeAfter: `${loadD} / ${la()}`,
          ...(commit === undefined
            ? {}
            : { hopsMs: hops(written, createdAt, commit.times, benchWatchAt, stored, edgeHops) }),
        };
      };
      // the writer as before: client-node 1.x opens a new TLS connection for every request
      const fresh = await deliver('bound', core, 0);
      // the same writes over one keep-alive connection, as a controller (client-go) writes
      const kcKeep = new KubeConfig();
      kcKeep.loadFromFile(api.kubeconfigPath);
      const keepAlive = await deliver('bound-ka', reuseConnections(kcKeep).makeApiClient(CoreV1Api), PODS);
      delivery = {
        edges: n,
        samples: PODS,
        concurrency: CONC,
        ...fresh,
        keepAliveWriter: keepAlive,
      };
      log(JSON.stringify(delivery));
      const loadP = la();
      const start: number[] = [];
      for (let s = 0; s < PODS; s += CONC)
        await Promise.all(
          Array.from({ length: Math.min(CONC, PODS - s) }, async (_, j) => {
            const name = `start-${String(s + j)}`;
            const w = epochMs();
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
    const fanKey = `ConfigMap/${NS}/fan`;
    const before = await fl.status();
    await fl.mark(fanKey);
    const loadS = la();
    inspector.close();
    inspector = undefined;
    await killCloud('SIGKILL');
    const killedAt = performance.now();
    await until(
      async () => {
        await sleep(250);
        return (await fl.status()).online === 0;
      },
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
    // API request rate, sampled every second from the API server's own counter
    const kinds0 = await apiRequestsByKind(apiReg);
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
    const timeline = stormTimeline(fl, port, newPid, metricsPort, apiReg, restartAt, fanKey, fanRv);
    try {
      await until(() => portOpen(port), 'cloud listening again', 120_000);
      const listeningMs = performance.now() - restartAt;
      // --cpu-profile: the restarted cloud and every worker, from listening until resynced
      let stormInspector: Inspector | undefined;
      if (CPU_PROFILE) {
        mkdirSync(PROFILE_DIR, { recursive: true });
        const u = inspectorUrl(cloudOut);
        if (u !== undefined) {
          stormInspector = await Inspector.connect(u);
          await stormInspector.startCpuProfile();
        }
        await fl.profile('start', PROFILE_DIR);
      }
      let st = before;
      await until(
        async () => {
          await sleep(250);
          st = await fl.status(fanKey, fanRv);
          return st.reconnectedOnline >= st.edges && st.markedWithoutRv === 0;
        },
        'every edge back online and resynced',
        20 * 60_000,
        () =>
          `${String(st.edges - st.reconnectedOnline)} not reconnected, ${String(st.markedWithoutRv)} of ${String(st.marked)} without the change`,
      );
      const resyncMs = performance.now() - restartAt;
      if (CPU_PROFILE) {
        const cloudProfile = await stormInspector?.stopCpuProfile(30, join(PROFILE_DIR, 'cloud.cpuprofile'));
        stormInspector?.close();
        log(`storm CPU profile, cloud: ${JSON.stringify(cloudProfile)}`);
        const workers = await fl.profile('stop', PROFILE_DIR);
        workers.forEach((w, i) => {
          log(`storm CPU profile, worker ${String(i)}: ${JSON.stringify(w)}`);
        });
      }
      await sleep(5000); // late re-sends would show up as duplicates
      const after = await fl.status(fanKey, fanRv);
      const kinds1 = await apiRequestsByKind(apiReg);
      // what the requests were, per reconnected edge (verb resource[/subresource] code)
      const perEdgeByKind = Object.fromEntries(
        [...kinds1]
          .map(([k, v]) => [k, v - (kinds0.get(k) ?? 0)] as const)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([k, v]) => [k, Math.round((v / after.edges) * 100) / 100]),
      );
      const tl = await timeline.stop();
      storm = {
        timelineSummary: tl,
        edges: after.edges,
        edgesHoldingPods: after.marked,
        allOfflineAfterKillMs: Math.round(allOfflineMs),
        cloudListeningAfterRestartMs: Math.round(listeningMs),
        allOnlineAndResyncedMs: Math.round(resyncMs),
        duplicatesOnEdges: after.duplicates - before.duplicates,
        reconnectsAfterRestart: after.connects - before.connects,
        peakApiRequestsPerSec: peak,
        apiRequestsDuringStorm: total,
        apiRequestsPerEdge: Math.round((total / after.edges) * 100) / 100,
        apiRequestsPerEdgeByKind: perEdgeByKind,
        apiRequestsPerSecSeries: rates,
        cloudRssAfterMB: MB(rssBytes(newPid)),
        loadavgBeforeAfter: `${loadS} / ${la()}`,
      };
    } finally {
      clearInterval(sampler);
      await timeline.stop();
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
      edgeStoreLocation: EDGE_STORE === 'file' ? 'one SQLite file per edge' : 'SQLite :memory: per edge',
      edgesPerProcess: PER_PROCESS,
      edgeOutboxPollMs: EDGE_POLL_MS,
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
  inspector?.close();
  await fleet?.stop().catch(() => undefined);
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
    '\nedges | join ms | cloud RSS MB | RSS KB/edge | heap KB/edge | idle CPU % | B/edge/min in | out | kbit/s/edge | load',
  );
  for (const s of result.stages)
    console.log(
      [
        s['edges'],
        s['joinMs'],
        s['cloudRssMB'],
        s['cloudRssPerEdgeKB'],
        s['cloudHeapPerEdgeKB'],
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
