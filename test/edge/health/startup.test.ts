import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../src/common/index.js';
import {
  FileHealthStore,
  HealthMonitor,
  HealthStoreCorruptError,
  MemoryHealthStore,
  StateLibrary,
  UnitRunner,
  findCrashMarker,
  makeUnit,
  markCleanShutdown,
  resolveUnit,
  runStartupCheck,
  type HealthEvent,
  type JudgementUnit,
  type VerdictRecord,
} from '../../../src/edge/health/index.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child-monitor.ts');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-startup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const constant = (name: string, v: number, settings = resolveUnit(name, undefined)): JudgementUnit =>
  makeUnit(name, settings, () => Promise.resolve(v));

function setup(units: JudgementUnit[], store = new MemoryHealthStore()) {
  const library = new StateLibrary({ store });
  const runner = new UnitRunner(units, { library });
  return { library, runner, store };
}

describe('health start-up check', () => {
  it('health — first start: all units sampled once, no previous verdict, clean, pods admitted', async () => {
    const { library, runner, store } = setup([constant('runtime', 1), constant('cpu', 0.3)]);
    const r = await runStartupCheck({
      runner,
      library,
      store,
      deadlineMs: 1000,
      markerPath: path.join(dir, 'clean-shutdown'),
      logPath: path.join(dir, 'edge.log'),
    });
    expect(r).toMatchObject({ verdict: 'Healthy', uncleanShutdown: false, admitNewPods: true });
    expect(r.previousVerdict).toBeUndefined();
    expect(r.shutdownEvidence).toEqual(['first start: no previous run recorded']);
    expect(r.statusString).toMatch(/^runtime=01@\d\d:\d\d:\d\dZ;cpu=0\.3\/ok@/u);
    await library.flush();
    expect(store.record?.verdict).toBe('Healthy');
  });

  it('health — a failed critical unit refuses new pods with the reason; a hanging one only goes unknown', async () => {
    const hanging = makeUnit(
      'mqtt',
      resolveUnit('mqtt', undefined),
      () => new Promise<number>(() => undefined),
    );
    const { library, runner } = setup([constant('runtime', 0), hanging]);
    const started = Date.now();
    const r = await runStartupCheck({ runner, library, deadlineMs: 200 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toMatchObject({
      verdict: 'Unhealthy',
      admitNewPods: false,
      admitReason: 'critical unit(s) failed: runtime; running pods keep running',
    });
    expect(r.statusString).toMatch(/^runtime=02@[^;]+;mqtt=\?$/u);
  });

  it('health — unknown critical units do not stop new pods', async () => {
    const failing = makeUnit('store', resolveUnit('store', undefined), () =>
      Promise.reject(new Error('locked')),
    );
    const { library, runner } = setup([failing]);
    const r = await runStartupCheck({ runner, library, deadlineMs: 500 });
    expect(r).toMatchObject({ verdict: 'Degraded', admitNewPods: true });
  });

  it('health — missing clean-shutdown marker after a previous run is an unclean shutdown, shown as shutdown=02', async () => {
    const previous: VerdictRecord = {
      verdict: 'Healthy',
      reasons: [],
      statusString: 'runtime=01@10:00:00Z',
      at: '2026-11-26T10:00:00.000Z',
    };
    const { library, runner, store } = setup([constant('runtime', 1)], new MemoryHealthStore(previous));
    const events: HealthEvent[] = [];
    library.on((e) => events.push(e));
    const r = await runStartupCheck({
      runner,
      library,
      store,
      deadlineMs: 500,
      markerPath: path.join(dir, 'clean-shutdown'),
    });
    expect(r.previousVerdict).toEqual(previous);
    expect(r.uncleanShutdown).toBe(true);
    expect(r.shutdownEvidence).toEqual(['no clean-shutdown marker after the previous run']);
    expect(r.verdict).toBe('Degraded');
    expect(r.admitNewPods).toBe(true);
    expect(r.statusString).toMatch(/;shutdown=02@\d\d:\d\d:\d\dZ$/u);
    const changed = events.find((e) => e.type === 'verdict-changed');
    expect(changed?.type === 'verdict-changed' && changed.reasons).toEqual([
      'shutdown=02 (non-critical unit failed)',
    ]);
  });

  it('health — a clean-shutdown marker is consumed and means clean', async () => {
    const marker = path.join(dir, 'clean-shutdown');
    await markCleanShutdown(marker, new Date('2026-11-26T10:00:00Z'));
    const previous: VerdictRecord = {
      verdict: 'Healthy',
      reasons: [],
      statusString: '',
      at: '2026-11-26T10:00:00.000Z',
    };
    const { library, runner, store } = setup([constant('runtime', 1)], new MemoryHealthStore(previous));
    const r = await runStartupCheck({ runner, library, store, deadlineMs: 500, markerPath: marker });
    expect(r.uncleanShutdown).toBe(false);
    expect(r.shutdownEvidence).toEqual(['clean-shutdown marker from 2026-11-26T10:00:00.000Z']);
    expect(existsSync(marker)).toBe(false);
    expect(r.statusString).not.toContain('shutdown');
  });

  it('health — a crash marker in the log tail is an unclean shutdown even with a marker file', async () => {
    const marker = path.join(dir, 'clean-shutdown');
    await markCleanShutdown(marker);
    const log = path.join(dir, 'edge.log');
    await writeFile(
      log,
      `${'x'.repeat(100_000)}\n{"level":30,"msg":"health: clean shutdown"}\n{"level":30,"msg":"pods: started"}\n`,
    );
    await appendFile(log, '{"level":60,"time":"2026-11-26T10:00:00Z","msg":"uncaught exception: boom"}\n');
    const { library, runner } = setup([constant('runtime', 1)]);
    const r = await runStartupCheck({
      runner,
      library,
      deadlineMs: 500,
      markerPath: marker,
      logPath: log,
      logTailBytes: 4096,
    });
    expect(r.uncleanShutdown).toBe(true);
    expect(r.shutdownEvidence[1]).toMatch(/^crash marker in log: \{"level":60/u);
  });

  it('health — crash lines before the last clean-shutdown line belong to an older run', () => {
    expect(findCrashMarker('FATAL boom\n{"msg":"health: clean shutdown"}\nstarting\n')).toBeUndefined();
    expect(findCrashMarker('ok\nSegmentation fault (core dumped)\n')).toBe(
      'Segmentation fault (core dumped)',
    );
    expect(
      findCrashMarker(
        '<--- JS stacktrace --->\nFATAL ERROR: Reached heap limit JavaScript heap out of memory\n',
      ),
    ).toMatch(/heap out of memory/u);
    expect(findCrashMarker('all quiet\n')).toBeUndefined();
  });

  it('health — a corrupt stored verdict is reported, and the check still runs', async () => {
    const file = path.join(dir, 'verdict.json');
    await writeFile(file, '{"verdict":"Sick"');
    const store = new FileHealthStore(file);
    await expect(store.load()).rejects.toBeInstanceOf(HealthStoreCorruptError);
    const library = new StateLibrary({ store });
    const runner = new UnitRunner([constant('runtime', 1)], { library });
    const r = await runStartupCheck({
      runner,
      library,
      store,
      deadlineMs: 500,
      markerPath: path.join(dir, 'm'),
    });
    expect(r.previousVerdictError).toMatch(/is not JSON/u);
    expect(r.uncleanShutdown).toBe(true); // a previous run existed and left no marker
    await library.flush();
    expect((await store.load())?.verdict).toBe('Degraded');
  });
});

describe('health monitor component', () => {
  it('health — monitor: start-up check, metrics, events, clean stop writes the marker and the verdict', async () => {
    const storePath = path.join(dir, 'verdict.json');
    const markerPath = path.join(dir, 'clean-shutdown');
    const registry = createRegistry();
    let runtimeUp = true;
    const make = () =>
      new HealthMonitor({
        config: {
          root: dir,
          evaluateIntervalMs: 50,
          units: { runtime: { sampleIntervalMs: 50, freshnessMs: 1000 } },
        },
        registry,
        store: new FileHealthStore(storePath),
        probes: { runtime: () => Promise.resolve(runtimeUp) },
        markerPath,
      });

    const m1 = make();
    const verdicts: string[] = [];
    m1.on((e) => {
      if (e.type === 'verdict-changed') verdicts.push(e.verdict);
    });
    await m1.start();
    expect(m1.startupReport).toMatchObject({ uncleanShutdown: false, admitNewPods: true });
    // cpu/memory/pids read an empty root: unavailable → unknown; runtime answers.
    expect(m1.startupReport.statusString).toMatch(/^cpu=\?;memory=\?;pids=\?;runtime=01@/u);
    runtimeUp = false;
    await waitFor(() => verdicts.includes('Unhealthy'));
    const metrics = await registry.metrics();
    expect(metrics).toContain('tether_health_unit_state{unit="runtime",critical="true"} 2');
    expect(metrics).toContain('tether_health_verdict 2');
    expect(metrics).toMatch(/tether_health_sample_failures_total\{unit="cpu",reason="error"\} [1-9]/u);
    await m1.stop();
    expect(existsSync(markerPath)).toBe(true);
    expect(JSON.parse(await readFile(storePath, 'utf8'))).toMatchObject({ verdict: 'Unhealthy' });
    expect(await registry.metrics()).not.toContain('tether_health_verdict');

    // Clean restart: the marker is consumed; the previous verdict is known.
    runtimeUp = true;
    const m2 = make();
    await m2.start();
    expect(m2.startupReport).toMatchObject({
      uncleanShutdown: false,
      previousVerdict: { verdict: 'Unhealthy' },
    });
    expect(existsSync(markerPath)).toBe(false);
    await m2.stop();
  });

  it('health — a monitor process killed with SIGKILL is detected as an unclean shutdown at the next start', async () => {
    const storePath = path.join(dir, 'verdict.json');
    const markerPath = path.join(dir, 'clean-shutdown');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, storePath, markerPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          if (b.toString().includes('ready')) resolve();
        });
        child.once('exit', (code) => {
          reject(new Error(`child exited early with ${code}`));
        });
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(JSON.parse(await readFile(storePath, 'utf8'))).toMatchObject({ verdict: 'Healthy' });
    const m = new HealthMonitor({
      config: { root: dir },
      store: new FileHealthStore(storePath),
      probes: { runtime: () => Promise.resolve(true) },
      replaceBuiltins: true,
      units: [makeUnit('runtime', resolveUnit('runtime', undefined), () => Promise.resolve(1))],
      markerPath,
    });
    const events: HealthEvent[] = [];
    m.on((e) => events.push(e));
    await m.start();
    try {
      expect(m.startupReport).toMatchObject({
        uncleanShutdown: true,
        shutdownEvidence: ['no clean-shutdown marker after the previous run'],
        previousVerdict: { verdict: 'Healthy' },
        verdict: 'Degraded',
      });
      expect(m.startupReport.statusString).toMatch(/^runtime=01@[^;]+;shutdown=02@/u);
      const changed = events.find((e) => e.type === 'verdict-changed');
      expect(changed?.type === 'verdict-changed' && changed.reasons).toEqual([
        'shutdown=02 (non-critical unit failed)',
      ]);
    } finally {
      await m.stop();
    }
  });

  it('health — a failed start releases its metrics and timers', async () => {
    const registry = createRegistry();
    const unit = makeUnit('runtime', resolveUnit('runtime', undefined), () => Promise.resolve(1));
    const bad = new HealthMonitor({
      config: { root: dir },
      registry,
      replaceBuiltins: true,
      units: [unit, unit],
    });
    await expect(bad.start()).rejects.toThrow(/already running/u);
    expect(await registry.metrics()).not.toContain('tether_health');
    const good = new HealthMonitor({ config: { root: dir }, registry, replaceBuiltins: true, units: [unit] });
    await good.start();
    expect(good.evaluate().statusString).toMatch(/^runtime=01@/u);
    await good.stop();
  });

  it('health — monitor rejects a bad config at construction with a ConfigError', () => {
    expect(() => new HealthMonitor({ config: { units: { cpu: { window: -1 } } } })).toThrow(
      /health\.units\.cpu\.window/u,
    );
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
