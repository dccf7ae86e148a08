import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SampleUnavailableError,
  StateLibrary,
  UnitRunner,
  cpuLoadSampler,
  createBuiltinUnits,
  diskUsageSampler,
  inodeUsageSampler,
  memoryAvailableSampler,
  parseHealthConfig,
  pidPressureSampler,
  thermalSampler,
} from '../../../src/edge/health/index.js';

const HW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/hw');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tether-health-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), content);
  }
  return dir;
}

describe('health host samplers', () => {
  it('health — cpu load per core from loadavg and the online CPU list', async () => {
    const root = await tree({
      'proc/loadavg': '3.00 1.00 0.50 2/180 4242\n',
      'sys/devices/system/cpu/online': '0-3\n',
    });
    expect(await cpuLoadSampler(root)()).toBe(0.75);
    const root2 = await tree({
      'proc/loadavg': '1.00 1.00 0.50 2/180 4242\n',
      'proc/cpuinfo': 'processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\nmodel name\t: x\n',
    });
    expect(await cpuLoadSampler(root2)()).toBe(0.5);
  });

  it('health — memory available fraction; missing fields are unavailable, not zero', async () => {
    const root = await tree({
      'proc/meminfo': 'MemTotal:  1000 kB\nMemFree: 100 kB\nMemAvailable:  250 kB\n',
    });
    expect(await memoryAvailableSampler(root)()).toBe(0.25);
    const old = await tree({ 'proc/meminfo': 'MemTotal:  1000 kB\nMemFree: 100 kB\n' });
    await expect(memoryAvailableSampler(old)()).rejects.toBeInstanceOf(SampleUnavailableError);
  });

  it('health — pid pressure is tasks over pid_max', async () => {
    const root = await tree({
      'proc/loadavg': '0.1 0.1 0.1 3/3277 99\n',
      'proc/sys/kernel/pid_max': '32768\n',
    });
    expect(await pidPressureSampler(root)()).toBeCloseTo(0.1, 3);
  });

  it('health — thermal takes the hottest zone in °C (fixture boards)', async () => {
    expect(await thermalSampler(path.join(HW, 'arm64-board-igpu'))()).toBe(41.6);
    const root = await tree({
      'sys/class/thermal/thermal_zone0/temp': '45000\n',
      'sys/class/thermal/thermal_zone1/temp': '81500\n',
      'sys/class/thermal/cooling_device0/cur_state': '1\n',
    });
    expect(await thermalSampler(root)()).toBe(81.5);
    await expect(thermalSampler(await tree({}))()).rejects.toBeInstanceOf(SampleUnavailableError);
  });

  it('health — disk and inode usage of a real directory are fractions', async () => {
    const dir = await tree({ 'x/file': 'data' });
    const disk = await diskUsageSampler(dir)();
    const inodes = await inodeUsageSampler(dir)();
    expect(disk).toBeGreaterThanOrEqual(0);
    expect(disk).toBeLessThanOrEqual(1);
    expect(inodes).toBeGreaterThanOrEqual(0);
    expect(inodes).toBeLessThanOrEqual(1);
    await expect(diskUsageSampler(path.join(dir, 'missing'))()).rejects.toBeInstanceOf(
      SampleUnavailableError,
    );
  });

  it('health — builtin units: thermal only where zones exist, disk/inodes only with a data dir, probes when wired', async () => {
    const noZones = await tree({ 'proc/loadavg': '0 0 0 1/1 1\n' });
    const names = async (cfg: unknown, probes = {}): Promise<string[]> =>
      (await createBuiltinUnits(parseHealthConfig(cfg), { probes })).map((u) => u.name);
    expect(await names({ root: noZones })).toEqual(['cpu', 'memory', 'pids']);
    expect(await names({ root: path.join(HW, 'riscv64-board'), dataDir: noZones })).toEqual([
      'cpu',
      'memory',
      'disk',
      'inodes',
      'pids',
      'thermal',
    ]);
    const up = (): Promise<boolean> => Promise.resolve(true);
    expect(
      await names(
        { root: noZones, units: { pids: { enabled: false }, 'mapper.b': { enabled: false } } },
        { runtime: up, cloudLink: up, clockSkew: () => Promise.resolve(-3000), mappers: { a: up, b: up } },
      ),
    ).toEqual(['cpu', 'memory', 'runtime', 'cloud-link', 'clock-skew', 'mapper.a']);
  });

  it('health — probe units: booleans become 1/0, clock skew is judged by its size', async () => {
    const root = await tree({});
    const cfg = parseHealthConfig({ root });
    const units = await createBuiltinUnits(cfg, {
      probes: { runtime: () => Promise.resolve(false), clockSkew: () => Promise.resolve(-3000) },
    });
    const library = new StateLibrary();
    const runner = new UnitRunner(
      units.filter((u) => u.name === 'runtime' || u.name === 'clock-skew'),
      { library },
    );
    await runner.sampleAll();
    const ev = library.evaluate();
    expect(ev.units.map((u) => [u.unit, u.output?.value, u.state])).toEqual([
      ['runtime', 0, 'fail'],
      ['clock-skew', 3000, 'fail'],
    ]);
    expect(ev.verdict).toBe('Unhealthy');
  });
});

describe('health disk unit on a small filesystem', () => {
  it('health — filling a 1 MiB tmpfs data directory degrades then fails the disk unit', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tether-health-tmpfs-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=64', 'tether-health-test', dir]);
    cleanups.push(() => Promise.resolve(void execFileSync('umount', [dir])));

    const cfg = parseHealthConfig({ root: await tree({}), dataDir: dir });
    const units = (await createBuiltinUnits(cfg)).filter((u) => u.name === 'disk' || u.name === 'inodes');
    const library = new StateLibrary();
    const runner = new UnitRunner(units, { library });
    const state = async (): Promise<string> => {
      await runner.sampleAll();
      return library.evaluate().statusString.replace(/@[^;]*/gu, '');
    };
    expect(await state()).toBe('disk=0/ok;inodes=0.016/ok');
    await writeFile(path.join(dir, 'a'), Buffer.alloc(900 * 1024));
    expect(await state()).toMatch(/^disk=0\.8[5-9]\d*\/warn;/u);
    expect(library.evaluate().verdict).toBe('Degraded');
    await writeFile(path.join(dir, 'b'), Buffer.alloc(100 * 1024));
    expect(await state()).toMatch(/^disk=(0\.9[5-9]\d*|1)\/critical;/u);
    expect(library.evaluate().verdict).toBe('Unhealthy');
    for (let i = 0; i < 60; i++) await writeFile(path.join(dir, `f${i}`), '');
    expect(await state()).toMatch(/;inodes=(0\.9[5-9]\d*|1)\/critical$/u);
  });
});
