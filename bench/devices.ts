/**
 * Device benchmark (issue 9; docs/devices.md § Benchmark): one edge DeviceManager with
 * DEVICES × PROPS simulated properties (default 100 × 10 = 1,000) polled at 1 Hz, embedded MQTT
 * bus, real SQLite edge store in a temp dir. Measures, after a warm-up, the edge process's CPU
 * (% of one core), RSS, property reads/s, twin rows written/s, and upstream `deviceStatus`
 * writes/s after the per-device rate limit (statusIntervalMs, default 10 s) — what reaches the
 * outbox and hence the API server — plus the outbox depth (the outbox coalesces per Device too).
 *
 *   npx tsx bench/devices.ts
 *   BENCH_SECONDS=20 BENCH_DEVICES=100 BENCH_PROPS=10 BENCH_STATUS_MS=10000 npx tsx bench/devices.ts
 *
 * Prints one JSON document on stdout, then a human summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createRegistry, silentLogger } from '../src/common/index.js';
import { DeviceManager } from '../src/edge/devices/index.js';
import { EdgeStore } from '../src/edge/store/index.js';
import { resourceVersion, uid, type JsonObject } from '../src/protocol/index.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 5);
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100);
const PROPS = Number(process.env['BENCH_PROPS'] ?? 10);
const STATUS_MS = Number(process.env['BENCH_STATUS_MS'] ?? 10_000);

async function metric(
  registry: ReturnType<typeof createRegistry>,
  name: string,
  label?: string,
): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? [])
    .filter((v) => label === undefined || Object.values(v.labels).includes(label))
    .reduce((a, v) => a + v.value, 0);
}

const dir = mkdtempSync(join(os.tmpdir(), 'tether-bench-devices-'));
const store = new EdgeStore({ path: join(dir, 'edge.db') });
store.open();
const registry = createRegistry();
const mgr = new DeviceManager({
  config: {
    nodeName: 'bench',
    bus: { mode: 'embedded', host: '127.0.0.1', port: 0 },
    statusIntervalMs: STATUS_MS,
    historySize: 120,
  },
  store,
  logger: silentLogger(),
  registry,
});
await mgr.start();

let rv = 0;
const put = (obj: JsonObject & { kind: string; metadata: { name: string; namespace: string } }): void => {
  store.applySync({
    kind: 'sync',
    seq: ++rv,
    op: 'upsert',
    key: {
      group: 'devices.tether.dev',
      version: 'v1alpha1',
      kind: obj.kind,
      namespace: 'default',
      name: obj.metadata.name,
    },
    uid: uid(`${obj.kind}-${obj.metadata.name}`),
    resourceVersion: resourceVersion(String(rv)),
    object: obj,
  });
};
const names = Array.from({ length: PROPS }, (_, i) => `p${String(i)}`);
put({
  apiVersion: 'devices.tether.dev/v1alpha1',
  kind: 'DeviceModel',
  metadata: { name: 'sim', namespace: 'default' },
  spec: { properties: names.map((name) => ({ name, type: 'float' })) },
});
const patterns = ['sine', 'randomWalk', 'step'] as const;
for (let d = 0; d < DEVICES; d++)
  put({
    apiVersion: 'devices.tether.dev/v1alpha1',
    kind: 'Device',
    metadata: { name: `sim-${String(d)}`, namespace: 'default' },
    spec: {
      nodeName: 'bench',
      deviceModelRef: { name: 'sim' },
      protocol: { type: 'simulated' },
      collectIntervalMs: 1000,
      properties: names.map((name, i) => ({
        name,
        visitor: {
          simulated: { pattern: patterns[i % 3] ?? 'sine', base: 20, amplitude: 5, periodMs: 10_000 },
        },
      })),
    },
  });

await new Promise((r) => setTimeout(r, WARMUP * 1000));
const reads0 = await metric(registry, 'tether_device_reads_total', 'ok');
const status0 = await metric(registry, 'tether_device_status_writes_total');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let rssMax = 0;
const sampler = setInterval(() => {
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
}, 250);
await new Promise((r) => setTimeout(r, SECONDS * 1000));
clearInterval(sampler);
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const reads = (await metric(registry, 'tether_device_reads_total', 'ok')) - reads0;
const statusWrites = (await metric(registry, 'tether_device_status_writes_total')) - status0;
const result = {
  bench: 'devices',
  node: process.version,
  cpus: os.cpus().length,
  devices: DEVICES,
  properties: DEVICES * PROPS,
  collectIntervalMs: 1000,
  statusIntervalMs: STATUS_MS,
  seconds: Math.round(elapsed * 10) / 10,
  cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 1000) / 10,
  rssMiB: Math.round((Math.max(rssMax, process.memoryUsage().rss) / 2 ** 20) * 10) / 10,
  readsPerSecond: Math.round(reads / elapsed),
  upstreamStatusWritesPerSecond: Math.round((statusWrites / elapsed) * 100) / 100,
  outboxDepth: store.outboxDepth(),
};
await mgr.stop();
store.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
console.log(
  `devices: ${String(result.properties)} simulated properties at 1 Hz on ${String(result.devices)} devices — ` +
    `CPU ${String(result.cpuPercentOfOneCore)}% of one core, RSS ${String(result.rssMiB)} MiB, ` +
    `${String(result.readsPerSecond)} reads/s → ${String(result.upstreamStatusWritesPerSecond)} deviceStatus writes/s upstream ` +
    `(one per device per ${String(STATUS_MS / 1000)} s), outbox depth ${String(result.outboxDepth)}`,
);
