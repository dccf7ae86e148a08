import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HealthMonitor,
  PressureTracker,
  nodePressureConditions,
  parseHealthConfig,
  unitName,
  type Evaluation,
  type NodeConditionReport,
  type UnitSnapshot,
  type UnitState,
} from '../../../src/edge/health/index.js';
import { eventually } from '../../support/channel.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const meminfo = (availKb: number): string =>
  `MemTotal:        1000000 kB\nMemFree:          ${availKb} kB\nMemAvailable:    ${availKb} kB\n`;
const loadavg = (tasks: number): string => `0.10 0.10 0.10 1/${tasks} 4242\n`;

/** A fixture procfs root the host units read (health.root), and a data dir for the disk units. */
async function fixtureRoot(): Promise<{
  root: string;
  dataDir: string;
  write(p: string, s: string): Promise<void>;
}> {
  const root = await mkdtemp(path.join(tmpdir(), 'tether-pressure-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const write = async (p: string, s: string): Promise<void> => {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), s);
  };
  await write('proc/meminfo', meminfo(500_000));
  await write('proc/loadavg', loadavg(300));
  await write('proc/sys/kernel/pid_max', '32768\n');
  await write('sys/devices/system/cpu/online', '0-1\n');
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir);
  return { root, dataDir, write };
}

const fast = { sampleIntervalMs: 30, freshnessMs: 2000, window: 1 };

async function monitor(config: Record<string, unknown>): Promise<HealthMonitor> {
  const m = new HealthMonitor({
    config: { evaluateIntervalMs: 20, startup: { deadlineMs: 2000 }, ...config },
  });
  await m.start();
  cleanups.push(() => m.stop());
  return m;
}

const byType = (cs: NodeConditionReport[], type: string): NodeConditionReport => {
  const c = cs.find((x) => x.type === type);
  if (c === undefined) throw new Error(`no ${type} condition`);
  return c;
};

describe('health node pressure conditions', () => {
  it('health — pressure conditions are False with the kubelet reasons while memory, disk and PIDs are fine', async () => {
    const fx = await fixtureRoot();
    const m = await monitor({
      root: fx.root,
      dataDir: fx.dataDir,
      // The real data dir's filesystem: judged full only when completely full, so the test host passes.
      units: { memory: fast, pids: fast, disk: { thresholds: { warn: 1, critical: 1 } } },
    });
    const source = nodePressureConditions(m);
    const cs = source.conditions();
    expect(cs.map((c) => c.type)).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    expect(byType(cs, 'MemoryPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
    });
    expect(byType(cs, 'MemoryPressure').message).toMatch(
      /^kubelet has sufficient memory available: memory=0\.5\/ok@/u,
    );
    expect(byType(cs, 'DiskPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasNoDiskPressure' });
    expect(byType(cs, 'DiskPressure').message).toMatch(
      /disk=[\d.]+\/ok@.*;inodes=[\d.]+\/(ok|warn|critical)@/u,
    );
    expect(byType(cs, 'PIDPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientPID' });
  });

  it('health — MemAvailable under the critical threshold turns MemoryPressure True, and back to False when it recovers', async () => {
    const fx = await fixtureRoot();
    const m = await monitor({
      root: fx.root,
      units: { memory: fast },
      pressure: { transitionPeriodMs: 0 },
    });
    const memory = (): NodeConditionReport => byType(m.pressureConditions(), 'MemoryPressure');
    expect(memory().status).toBe('False');
    await fx.write('proc/meminfo', meminfo(30_000)); // 3 % available, critical at 5 %
    const pressed = await eventually(() => {
      const c = memory();
      return c.status === 'True' ? c : undefined;
    }, 'MemoryPressure True');
    expect(pressed.reason).toBe('KubeletHasInsufficientMemory');
    expect(pressed.message).toMatch(/^kubelet has insufficient memory available: memory=0\.03\/critical@/u);
    // Other conditions are not dragged along by one unit.
    expect(byType(m.pressureConditions(), 'PIDPressure').status).toBe('False');

    await fx.write('proc/meminfo', meminfo(400_000));
    const relieved = await eventually(() => {
      const c = memory();
      return c.status === 'False' ? c : undefined;
    }, 'MemoryPressure False again');
    expect(relieved.reason).toBe('KubeletHasSufficientMemory');
  });

  it('health — tasks near kernel.pid_max turn PIDPressure True; a full data dir (thresholds at 0) turns DiskPressure True', async () => {
    const fx = await fixtureRoot();
    const m = await monitor({
      root: fx.root,
      dataDir: fx.dataDir,
      imageFsDir: fx.dataDir,
      units: {
        pids: fast,
        // Any usage reaches a 0 threshold: a real statfs judged "full" without filling a disk.
        imagefs: { ...fast, thresholds: { warn: 0, critical: 0 } },
        disk: { thresholds: { warn: 1, critical: 1 } },
      },
      pressure: { transitionPeriodMs: 0 },
    });
    await fx.write('proc/loadavg', loadavg(32_000)); // 0.977 of pid_max, critical at 0.95
    const pid = await eventually(() => {
      const c = byType(m.pressureConditions(), 'PIDPressure');
      return c.status === 'True' ? c : undefined;
    }, 'PIDPressure True');
    expect(pid).toMatchObject({ reason: 'KubeletHasInsufficientPID' });
    expect(pid.message).toMatch(/pids=0\.977\/critical@/u);
    const disk = byType(m.pressureConditions(), 'DiskPressure');
    expect(disk).toMatchObject({ status: 'True', reason: 'KubeletHasDiskPressure' });
    // Only the unit in pressure is named; disk (nodefs) itself is fine.
    expect(disk.message).toMatch(/^kubelet has disk pressure: imagefs=[\d.]+\/critical@/u);
    expect(disk.message).not.toMatch(/disk=/u);
  });

  it('health — a sampler that cannot read goes Unknown (not False) after its freshness limit; a disabled unit is NoHealthUnit; not started is Unknown', async () => {
    const fx = await fixtureRoot();
    const cfg = {
      root: fx.root,
      units: { memory: { sampleIntervalMs: 30, freshnessMs: 100, window: 1 }, pids: { enabled: false } },
    };
    const m = new HealthMonitor({ config: { evaluateIntervalMs: 20, ...cfg } });
    for (const c of m.pressureConditions())
      expect(c).toMatchObject({ status: 'Unknown', reason: 'HealthNotStarted' });
    await m.start();
    cleanups.push(() => m.stop());
    expect(byType(m.pressureConditions(), 'MemoryPressure').status).toBe('False');
    expect(byType(m.pressureConditions(), 'PIDPressure')).toMatchObject({
      status: 'Unknown',
      reason: 'NoHealthUnit',
    });
    // No data dir configured: the disk units do not exist either.
    expect(byType(m.pressureConditions(), 'DiskPressure').reason).toBe('NoHealthUnit');
    await unlink(path.join(fx.root, 'proc/meminfo'));
    const unknown = await eventually(() => {
      const c = byType(m.pressureConditions(), 'MemoryPressure');
      return c.status === 'Unknown' ? c : undefined;
    }, 'MemoryPressure Unknown');
    expect(unknown.reason).toBe('HealthUnitUnknown');
    expect(unknown.message).toMatch(/^no fresh sample: memory=\?@/u);
  });

  it('health — config: pressure defaults to the critical level and the kubelet 5 m transition period; bad values are named', () => {
    expect(parseHealthConfig({}).pressure).toEqual({ on: 'critical', transitionPeriodMs: 300_000 });
    expect(() => parseHealthConfig({ pressure: { transitionPeriodMs: -1 } })).toThrow(
      /health\.pressure\.transitionPeriodMs/u,
    );
    expect(() => parseHealthConfig({ pressure: { on: 'fail' } })).toThrow(/health\.pressure\.on/u);
    expect(parseHealthConfig({ imageFsDir: '/var/lib/containerd' }).imageFsDir).toBe('/var/lib/containerd');
  });
});

describe('health pressure tracker (synthetic snapshots)', () => {
  const T0 = Date.parse('2026-11-26T12:00:00Z');
  const snap = (unit: string, state: UnitState): UnitSnapshot => ({
    unit: unitName(unit),
    mode: 'score',
    critical: true,
    weight: 1,
    state,
    stale: state === 'unknown',
    ...(state === 'unknown'
      ? {}
      : {
          output: {
            mode: 'score' as const,
            unit: unitName(unit),
            value: 0.5,
            grade:
              state === 'fail'
                ? ('critical' as const)
                : state === 'warn'
                  ? ('warn' as const)
                  : ('ok' as const),
            samples: 1,
            at: new Date(T0),
          },
        }),
  });
  const ev = (atMs: number, ...units: UnitSnapshot[]): Evaluation => ({
    verdict: 'Healthy',
    reasons: [],
    statusString: '',
    units,
    at: new Date(atMs),
  });
  const status = (cs: NodeConditionReport[], type: string): string => byType(cs, type).status;

  it('health — pressure holds for the transition period after it ends (boundary: exactly the period is released)', () => {
    const t = new PressureTracker({ on: 'critical', transitionPeriodMs: 10_000 });
    expect(status(t.conditions(ev(T0, snap('memory', 'fail'))), 'MemoryPressure')).toBe('True');
    const held = byType(t.conditions(ev(T0 + 9_999, snap('memory', 'ok'))), 'MemoryPressure');
    expect(held).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(held.message).toMatch(/pressure ended at 12:00:00Z, held for the 10 s transition period/u);
    expect(status(t.conditions(ev(T0 + 10_000, snap('memory', 'ok'))), 'MemoryPressure')).toBe('False');
  });

  it('health — a pressure seen only in events (between two reports) still holds the condition', () => {
    const t = new PressureTracker({ on: 'critical', transitionPeriodMs: 10_000 });
    const memory = unitName('memory');
    t.observe({ type: 'unit-changed', unit: memory, previous: 'ok', state: 'fail', at: new Date(T0) });
    t.observe({ type: 'unit-changed', unit: memory, previous: 'fail', state: 'ok', at: new Date(T0 + 1000) });
    expect(status(t.conditions(ev(T0 + 5000, snap('memory', 'ok'))), 'MemoryPressure')).toBe('True');
    expect(status(t.conditions(ev(T0 + 11_000, snap('memory', 'ok'))), 'MemoryPressure')).toBe('False');
  });

  it("health — on: 'warn' counts a unit's warn level as pressure; 'critical' does not", () => {
    const warnT = new PressureTracker({ on: 'warn', transitionPeriodMs: 0 });
    const critT = new PressureTracker({ on: 'critical', transitionPeriodMs: 0 });
    const e = ev(T0, snap('disk', 'warn'), snap('inodes', 'ok'), snap('pids', 'ok'));
    expect(status(warnT.conditions(e), 'DiskPressure')).toBe('True');
    expect(status(critT.conditions(e), 'DiskPressure')).toBe('False');
    expect(status(critT.conditions(e), 'PIDPressure')).toBe('False');
  });

  it('health — DiskPressure: any unit in pressure wins over an unknown one; otherwise an unknown unit makes it Unknown', () => {
    const t = new PressureTracker({ on: 'critical', transitionPeriodMs: 0 });
    expect(
      status(t.conditions(ev(T0, snap('disk', 'unknown'), snap('imagefs', 'fail'))), 'DiskPressure'),
    ).toBe('True');
    expect(status(t.conditions(ev(T0, snap('disk', 'unknown'), snap('imagefs', 'ok'))), 'DiskPressure')).toBe(
      'Unknown',
    );
  });
});
