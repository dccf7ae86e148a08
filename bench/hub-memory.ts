/**
 * Cloud hub memory per connected edge (issue 12), the hub alone:
 * `npx tsx bench/hub-memory.ts [--conns 2000] [--edges-per-process 2500] [--heap-snapshots <dir>]
 * [--env KEY=VALUE …] [--repo <checkout>]`. A child runs `Hub` with a handler that keeps nothing
 * (bench/lib/hub-server.ts, started with `--inspect` so the bench can force a GC); N hollow edges
 * with the link only (no node reporting) connect from worker processes over real mutual TLS.
 * Prints heap used after GC, RSS and the rest (RSS − V8 heap total: OpenSSL, socket buffers,
 * malloc) per connection, for 0 → N. `--env` passes variables to the hub child (e.g. glibc's
 * MALLOC_ARENA_MAX) to compare allocator settings. Figures, not assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateAuthority } from '../src/common/index.js';
import { Fleet } from './lib/fleet.js';
import { Inspector, inspectorUrl } from './lib/inspector.js';
import { rssBytes } from './lib/procstat.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const CONNS = Number(arg('conns', '2000'));
const PER_PROCESS = Number(arg('edges-per-process', '2500'));
const SNAP_DIR = arg('heap-snapshots', '');
/** another checkout's hub (e.g. `git archive` of an older commit with this file copied in) */
const HUB_REPO = resolve(arg('repo', REPO));
const ENV: Record<string, string> = {};
process.argv.forEach((a, i) => {
  const v = process.argv[i + 1];
  if (a === '--env' && v !== undefined) {
    const [k, ...rest] = v.split('=');
    if (k !== undefined) ENV[k] = rest.join('=');
  }
});
const la = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const log = (s: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${la()}] ${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const KB = (b: number): number => Math.round((b / CONNS / 1024) * 10) / 10;

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-hubmem-'));
let child: ChildProcess | undefined;
let fleet: Fleet | undefined;
let insp: Inspector | undefined;

async function main(): Promise<unknown> {
  const ca = await CertificateAuthority.create('tether-bench-ca');
  const serving = await ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  const cfgFile = join(dir, 'hub.json');
  writeFileSync(
    cfgFile,
    JSON.stringify({
      host: '127.0.0.1',
      port: 0,
      tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
    }),
  );
  const c = spawn(
    process.execPath,
    ['--inspect=127.0.0.1:0', '--import', 'tsx', join(HUB_REPO, 'bench/lib/hub-server.ts'), cfgFile],
    { cwd: HUB_REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...ENV } },
  );
  child = c;
  let out = '';
  const port = await new Promise<number>((res, rej) => {
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m?.[1] !== undefined && inspectorUrl(out) !== undefined) res(Number(m[1]));
    };
    c.stdout.on('data', on);
    c.stderr.on('data', on);
    c.once('exit', () => {
      rej(new Error(`hub child exited: ${out}`));
    });
  });
  insp = await Inspector.connect(inspectorUrl(out) ?? '');
  const pid = c.pid ?? 0;
  const measure = async (label: string): Promise<{ heapUsed: number; heapTotal: number; rss: number }> => {
    await sleep(3000);
    const m = await insp?.gcAndMemory();
    let rss = Infinity;
    for (let i = 0; i < 5; i++) {
      await sleep(300);
      rss = Math.min(rss, rssBytes(pid));
    }
    if (SNAP_DIR !== '') await insp?.heapSnapshot(join(SNAP_DIR, `hub-${label}.heapsnapshot`));
    return { heapUsed: m?.heapUsed ?? NaN, heapTotal: m?.heapTotal ?? NaN, rss };
  };
  const m0 = await measure('0');
  log(`hub up; 0 connections: RSS ${(m0.rss / 1048576).toFixed(1)} MB`);
  fleet = new Fleet({
    edgesPerProcess: PER_PROCESS,
    dir,
    cloudUrl: `wss://127.0.0.1:${String(port)}`,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    storeSync: 'NORMAL',
    store: 'memory',
    outboxPollMs: 5000,
    refusedWindowMs: -1,
    reportNode: false,
    pkiCache: '',
    onPod: () => undefined,
    log,
  });
  const t = performance.now();
  await fleet.grow(CONNS);
  for (;;) {
    const st = await fleet.status();
    if (st.online >= CONNS) break;
    await sleep(1000);
  }
  const joinS = (performance.now() - t) / 1000;
  await sleep(10_000);
  const m1 = await measure(String(CONNS));
  return {
    benchmark: 'hub-memory',
    date: new Date().toISOString(),
    command: `npx tsx bench/hub-memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
    env: ENV,
    connections: CONNS,
    joinSeconds: Math.round(joinS),
    rss0MB: Math.round((m0.rss / 1048576) * 10) / 10,
    rssMB: Math.round((m1.rss / 1048576) * 10) / 10,
    heapUsedPerConnKB: KB(m1.heapUsed - m0.heapUsed),
    rssPerConnKB: KB(m1.rss - m0.rss),
    nonHeapPerConnKB: KB(m1.rss - m0.rss - (m1.heapTotal - m0.heapTotal)),
    loadavg: la(),
  };
}

try {
  console.log(JSON.stringify(await main(), null, 2));
} catch (e) {
  console.error('benchmark failed:', e);
  process.exitCode = 1;
} finally {
  insp?.close();
  await fleet?.stop().catch(() => undefined);
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
