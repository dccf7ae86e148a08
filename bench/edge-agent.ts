/**
 * The real edge agent's footprint (issue 12 target 1: "Edge agent RSS with 20 pods and 100 device
 * properties: ≤ 60 MB"). A real `tether edge run` process — the BUILT agent (dist/, plain node, as
 * bin/tether and the systemd unit run it) — joined to a cloud core (test/support/channel.ts: embedded
 * control plane, hub + sync over mTLS), pods on the project's containerd, simulated devices.
 *
 *   npm run build && npx tsx bench/edge-agent.ts [--pods 20] [--devices 10] [--props 10]
 *       [--settle-ms 30000] [--samples 7] [--sample-ms 3000] [--flags '|--max-semi-space-size=1|...']
 *       [--entry bundle|dist|bundle,dist|<file.mjs>,...] [--snapshot <dir>]
 *
 * --entry: which build runs the agent — `bundle` (dist/bundle/tether-edge.mjs, what bin/tether runs
 * for `edge run`), `dist` (dist/cli/main.js, tsc's per-module output), or both in turn (each flag
 * set × each entry). --snapshot: after the samples of each phase, a V8 heap snapshot of the agent
 * (node's --heapsnapshot-signal) is copied to <dir>; `bench/heap-diff.ts` groups it by constructor.
 *
 * Phases, each with a fresh agent process on the same data dir (pods keep running across agent
 * restarts, DESIGN §3): "idle" (no pods, no devices) once per V8 flag set, then the pods and the
 * devices are created and "loaded" runs once per flag set. Each phase waits for the node to be
 * Ready (and, loaded, for every pod Running and every device reporting), lets the agent settle,
 * then takes samples: VmRSS (/proc/<pid>/status), PSS (/proc/<pid>/smaps_rollup), CPU % of one
 * core over the sample window (/proc/<pid>/stat utime+stime), and the JS heap (written each second
 * by a 20-line --import probe inside the agent: the agent has no metrics endpoint). Reported: the
 * median of the samples. Figures, not assertions (STYLE). Prints JSON, then a table.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createRegistry, silentLogger } from '../src/common/index.js';
import { CriRuntime, DEFAULT_TEST_CRI_SOCKET } from '../src/edge/cri/index.js';
import { ChannelHarness } from '../test/support/channel.js';
import { kubectl, REPO_ROOT } from '../test/support/controlplane.js';
import { freePort } from '../test/support/procs.js';
import { removeCgroupTree } from '../test/edge/cri/helpers.js';
import { TEST_RUN_LABEL } from '../test/edge/pods/helpers.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const PODS = Number(arg('pods', '20'));
const DEVICES = Number(arg('devices', '10'));
const PROPS = Number(arg('props', '10'));
const SETTLE_MS = Number(arg('settle-ms', '30000'));
const SAMPLES = Number(arg('samples', '7'));
const SAMPLE_MS = Number(arg('sample-ms', '3000'));
// V8 flag sets separated by '|'; the empty set is node's defaults. A NAME=value word in a set is an
// environment variable of the agent (e.g. MALLOC_ARENA_MAX=2), not a node flag.
const FLAG_SETS = arg('flags', '|--max-semi-space-size=1')
  .split('|')
  .map((s) => s.trim());
const SOCKET = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;
const ENTRIES: Record<string, string> = {
  bundle: join(REPO_ROOT, 'dist/bundle/tether-edge.mjs'),
  dist: join(REPO_ROOT, 'dist/cli/main.js'),
};
// An entry may also be another bundle's path (`…/tether-edge.mjs`, built with
// `npx tsx scripts/build-edge.ts <dir>` inside the repository so node_modules resolves): two builds
// measured in the same run, phase after phase, are the fairest comparison on a shared machine.
for (const e of arg('entry', 'bundle').split(',')) {
  const t = e.trim();
  if (t.endsWith('.mjs')) ENTRIES[t] = resolve(t);
}
const ENTRY_NAMES = arg('entry', 'bundle')
  .split(',')
  .map((s) => s.trim());
const SNAPSHOT_DIR = arg('snapshot', '');
const NODE = 'edge-bench';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const r1 = (x: number): number => Math.round(x * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether dist/ was built from exactly these sources (bin/tether's check, same manifest). */
function distFresh(): boolean {
  const m = join(REPO_ROOT, 'dist/.build-manifest');
  if (!existsSync(m)) return false;
  const cur = execFileSync(
    'bash',
    [
      '-c',
      "find src tsconfig.json tsconfig.build.json package.json scripts/build-edge.ts -printf '%p %T@ %s\\n' | LC_ALL=C sort",
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  return cur.trimEnd() === readFileSync(m, 'utf8').trimEnd();
}

const PROBE = `
import { writeFileSync } from 'node:fs';
const f = process.env.TETHER_BENCH_MEM_FILE;
if (f) setInterval(() => writeFileSync(f, JSON.stringify(process.memoryUsage())), 1000).unref();
// node's own JS modules the agent has loaded (each one's source and code cache are pages of the node binary)
if (f) setTimeout(() => writeFileSync(f + '.builtins', JSON.stringify(process.moduleLoadList
  .filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)))), 15000).unref();
`;

interface Sample {
  rssMiB: number;
  pssMiB: number;
  cpuPercent: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

function procMem(pid: number): { rssMiB: number; pssMiB: number } {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${String(pid)}/smaps_rollup`, 'utf8');
  const kb = (re: RegExp, s: string): number => Number(re.exec(s)?.[1] ?? NaN);
  return {
    rssMiB: r1(kb(/^VmRSS:\s+(\d+)/m, status) / 1024),
    pssMiB: r1(kb(/^Pss:\s+(\d+)/m, rollup) / 1024),
  };
}
/**
 * Resident memory by kind of mapping (/proc/<pid>/smaps), MiB: the node binary's pages, the V8 and
 * malloc anonymous memory, the brk heap (malloc), native addons (*.node) and the shared libraries.
 */
function smapsBreakdown(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let kind = 'anon';
  for (const line of readFileSync(`/proc/${String(pid)}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      const name = head[1] ?? '';
      kind =
        name === '' || name.startsWith('[anon')
          ? 'anon (V8 heap, malloc arenas, thread stacks)'
          : name === '[heap]'
            ? 'brk heap (malloc)'
            : name.endsWith('.node')
              ? 'native addons (*.node)'
              : name === process.execPath || name.endsWith('/node')
                ? 'node binary'
                : name.includes('.so')
                  ? 'shared libraries'
                  : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss !== null) out[kind] = r1((out[kind] ?? 0) + Number(rss[1]) / 1024);
  }
  return out;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}

async function sample(pid: number, memFile: string): Promise<Sample> {
  const t0 = cpuTicks(pid);
  const w0 = performance.now();
  await sleep(SAMPLE_MS);
  const cpu = ((cpuTicks(pid) - t0) / 100 / ((performance.now() - w0) / 1000)) * 100; // USER_HZ = 100
  const mem = procMem(pid);
  const heap = JSON.parse(readFileSync(memFile, 'utf8')) as {
    heapUsed: number;
    heapTotal: number;
    external: number;
  };
  return {
    ...mem,
    cpuPercent: r1(cpu),
    heapUsedMiB: r1(heap.heapUsed / 1048576),
    heapTotalMiB: r1(heap.heapTotal / 1048576),
    externalMiB: r1(heap.external / 1048576),
  };
}

async function main(): Promise<void> {
  for (const e of ENTRY_NAMES) {
    const file = ENTRIES[e];
    if (file === undefined) throw new Error(`--entry must be bundle, dist or a .mjs path, got ${e}`);
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  }
  const fresh = distFresh();
  if (!fresh) console.error('edge-agent bench: warning: dist/ is older than src/ (measuring the built code)');
  const h = new ChannelHarness();
  await h.start();
  const run = Math.random().toString(16).slice(2, 10);
  const agents: ChildProcess[] = [];
  const rt = new CriRuntime({ endpoint: SOCKET }, { logger: silentLogger(), registry: createRegistry() });
  const phases: {
    phase: string;
    entry: string;
    flags: string;
    samples: Sample[];
    median: Sample;
    smaps: Record<string, number>;
  }[] = [];
  try {
    await rt.start();
    await kubectl(h.cp, ['apply', '-f', join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml')]);
    await kubectl(h.cp, ['wait', '--for=condition=Established', 'crd/devices.devices.tether.dev']);
    await h.startCloud({ devices: true });
    const cert = await h.edgeCert(NODE);
    writeFileSync(join(h.dir, 'edge.crt'), cert.certPem);
    writeFileSync(join(h.dir, 'edge.key'), cert.keyPem);
    writeFileSync(join(h.dir, 'ca.crt'), h.ca.certPem);
    writeFileSync(join(h.dir, 'probe.mjs'), PROBE);
    const dataDir = join(h.dir, 'data');
    const configFile = join(h.dir, 'edge.yaml');
    // production timings (the defaults), not the tests' fast ones: this is the agent as deployed
    writeFileSync(
      configFile,
      stringify({
        nodeName: NODE,
        dataDir,
        cloud: {
          url: `wss://127.0.0.1:${String(h.hubPort)}`,
          certFile: join(h.dir, 'edge.crt'),
          keyFile: join(h.dir, 'edge.key'),
          caFile: join(h.dir, 'ca.crt'),
        },
        pods: {
          criSocket: SOCKET,
          rootDir: join(dataDir, 'pods'),
          podLogsRoot: join(dataDir, 'logs'),
          cgroupRoot: `/tether-bench-agent-${run}`,
          extraLabels: { [TEST_RUN_LABEL]: run },
        },
        devices: { bus: { mode: 'embedded', host: '127.0.0.1', port: await freePort() } },
        api: { port: 0 },
        logLevel: 'warn',
      }),
    );
    const memFile = join(h.dir, 'mem.json');

    const startAgent = (entry: string, flags: string): ChildProcess => {
      const log = openSync(join(h.dir, 'agent.log'), 'a');
      const words = flags.split(' ').filter((f) => f !== '');
      const isEnv = (w: string): boolean => /^[A-Z_][A-Z0-9_]*=/.test(w);
      const env = Object.fromEntries(
        words.filter(isEnv).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
      );
      const argv = [
        ...words.filter((w) => !isEnv(w)),
        ...(SNAPSHOT_DIR === '' ? [] : ['--heapsnapshot-signal=SIGUSR2']),
        '--import',
        join(h.dir, 'probe.mjs'),
        ENTRIES[entry] ?? '',
        'edge',
        'run',
        '--config',
        configFile,
      ];
      const child = spawn(process.execPath, argv, {
        cwd: h.dir, // where --heapsnapshot-signal writes
        stdio: ['ignore', log, log],
        env: { ...process.env, ...env, NODE_ENV: 'production', TETHER_BENCH_MEM_FILE: memFile },
      });
      closeSync(log);
      agents.push(child);
      return child;
    };
    const stopAgent = (child: ChildProcess): Promise<void> =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      });

    const until = async (what: string, fn: () => Promise<boolean>, ms = 300_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!(await fn().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(1000);
      }
    };
    const nodeReady = async (): Promise<boolean> => {
      const n = await h.core.readNode({ name: NODE });
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    };
    const podsRunning = async (): Promise<number> => {
      const l = await h.core.listNamespacedPod({ namespace: 'default' });
      return l.items.filter((p) => p.spec?.nodeName === NODE && p.status?.phase === 'Running').length;
    };
    const devicesReporting = async (): Promise<number> => {
      const r = await kubectl(h.cp, ['get', 'devices.devices.tether.dev', '-n', 'default', '-o', 'json']);
      type Listed = { status?: { properties?: { reported?: unknown }[] } };
      const items = (JSON.parse(r.stdout) as { items: Listed[] }).items;
      return items.filter((d) => (d.status?.properties ?? []).some((p) => p.reported !== undefined)).length;
    };

    const snapshot = async (pid: number, name: string): Promise<void> => {
      const before = new Set(readdirSync(h.dir));
      process.kill(pid, 'SIGUSR2');
      let file: string | undefined;
      // node writes Heap.<date>.<pid>…heapsnapshot synchronously; done when its size stops growing
      for (let last = -1; ;) {
        await sleep(2000);
        file ??= readdirSync(h.dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        if (file === undefined) continue;
        const size = statSync(join(h.dir, file)).size;
        if (size > 0 && size === last) break;
        last = size;
      }
      mkdirSync(SNAPSHOT_DIR, { recursive: true });
      copyFileSync(join(h.dir, file), join(SNAPSHOT_DIR, name));
      rmSync(join(h.dir, file));
      console.error(`edge-agent bench: heap snapshot ${join(SNAPSHOT_DIR, name)}`);
    };

    const measure = async (
      phase: string,
      entry: string,
      flags: string,
      ready: () => Promise<boolean>,
    ): Promise<void> => {
      const child = startAgent(entry, flags);
      const pid = child.pid ?? -1;
      await until(`${phase}: agent ready`, ready);
      await sleep(SETTLE_MS);
      const samples: Sample[] = [];
      for (let i = 0; i < SAMPLES; i++) samples.push(await sample(pid, memFile));
      const med = (k: keyof Sample): number => median(samples.map((s) => s[k]));
      const m: Sample = {
        rssMiB: med('rssMiB'),
        pssMiB: med('pssMiB'),
        cpuPercent: med('cpuPercent'),
        heapUsedMiB: med('heapUsedMiB'),
        heapTotalMiB: med('heapTotalMiB'),
        externalMiB: med('externalMiB'),
      };
      const smaps = smapsBreakdown(pid);
      phases.push({ phase, entry, flags: flags === '' ? '(defaults)' : flags, samples, median: m, smaps });
      console.error(
        `edge-agent bench: ${phase} ${entry} ${flags || '(defaults)'}: ${JSON.stringify(m)} ${JSON.stringify(smaps)}`,
      );
      // the store grows from phase to phase on the same data dir (twins, change log, outbox): its
      // size beside each phase, as later phases start on a larger database
      const db = readdirSync(dataDir)
        .filter((f) => /\.(db|sqlite)(-wal|-shm)?$/.test(f))
        .map((f) => `${f} ${(statSync(join(dataDir, f)).size / 1048576).toFixed(1)} MiB`);
      console.error(`edge-agent bench: ${phase}: store files: ${db.join(', ')}`);
      if (existsSync(`${memFile}.builtins`)) {
        const mods = JSON.parse(readFileSync(`${memFile}.builtins`, 'utf8')) as string[];
        console.error(
          `edge-agent bench: ${phase}: ${String(mods.length)} node builtin modules: ${mods.join(' ')}`,
        );
        rmSync(`${memFile}.builtins`);
      }
      if (SNAPSHOT_DIR !== '')
        await snapshot(
          pid,
          `${phase}-${entry.replace(/[^\w.-]+/g, '_')}-${String(phases.length)}.heapsnapshot`,
        );
      await stopAgent(child);
    };

    // the first run on a fresh data dir mints the local API certificate (loads @peculiar/x509):
    // a warm-up run does that, so that no measured phase carries it
    {
      const warm = startAgent(ENTRY_NAMES[0] ?? 'bundle', FLAG_SETS[0] ?? '');
      await until('warm-up: agent ready', nodeReady);
      await sleep(5000);
      await stopAgent(warm);
    }
    for (const flags of FLAG_SETS)
      for (const entry of ENTRY_NAMES) await measure('idle', entry, flags, nodeReady);

    const pods = Array.from({ length: PODS }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `bench-${String(i)}`, namespace: 'default' },
      spec: {
        nodeName: NODE,
        containers: [{ name: 'c', image: 'localhost:5000/tether/pause:1' }],
      },
    }));
    const props = Array.from({ length: PROPS }, (_, i) => `p${String(i)}`);
    const model = {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'DeviceModel',
      metadata: { name: 'bench-sensor', namespace: 'default' },
      spec: { properties: props.map((name) => ({ name, type: 'float' })) },
    };
    const devices = Array.from({ length: DEVICES }, (_, d) => ({
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: { name: `bench-dev-${String(d)}`, namespace: 'default' },
      spec: {
        nodeName: NODE,
        deviceModelRef: { name: 'bench-sensor' },
        protocol: { type: 'simulated' },
        collectIntervalMs: 1000,
        properties: props.map((name, i) => ({
          name,
          visitor: { simulated: { pattern: 'sine', base: 20 + i, amplitude: 3, periodMs: 60_000 } },
        })),
      },
    }));
    await kubectl(h.cp, ['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...pods, model, ...devices] }),
    });
    for (const flags of FLAG_SETS)
      for (const entry of ENTRY_NAMES)
        await measure(
          'loaded',
          entry,
          flags,
          async () =>
            (await nodeReady()) && (await podsRunning()) === PODS && (await devicesReporting()) === DEVICES,
        );

    const result = {
      benchmark: 'edge-agent',
      date: new Date().toISOString(),
      machine: { nproc: cpus().length, cpu: cpus()[0]?.model ?? '?', node: process.version },
      loadavg: loadavg().map(r1),
      command: `npx tsx bench/edge-agent.ts ${process.argv.slice(2).join(' ')}`.trim(),
      distFresh: fresh,
      load: { pods: PODS, devices: DEVICES, propertiesPerDevice: PROPS, collectIntervalMs: 1000 },
      settleMs: SETTLE_MS,
      sampleMs: SAMPLE_MS,
      phases,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log('\nphase | entry | V8 flags | VmRSS MiB | PSS MiB | heap used/total MiB | CPU % (median)');
    for (const p of phases)
      console.log(
        `${p.phase} | ${p.entry} | ${p.flags} | ${String(p.median.rssMiB)} | ${String(p.median.pssMiB)} | ` +
          `${String(p.median.heapUsedMiB)}/${String(p.median.heapTotalMiB)} | ${String(p.median.cpuPercent)}`,
      );
  } finally {
    for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    const labels = { [TEST_RUN_LABEL]: run };
    for (const c of await rt.listContainers({ labels }).catch(() => [])) {
      await rt.stopContainer(c.id, 0).catch(() => undefined);
      await rt.removeContainer(c.id).catch(() => undefined);
    }
    for (const b of await rt.listPodSandbox({ labels }).catch(() => [])) {
      await rt.stopPodSandbox(b.id).catch(() => undefined);
      await rt.removePodSandbox(b.id).catch(() => undefined);
    }
    await removeCgroupTree(`/tether-bench-agent-${run}`);
    await rt.stop();
    await h.stop();
  }
}

await main();
