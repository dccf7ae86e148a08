import { readFile, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import { TetherError } from '../../common/index.js';

/**
 * Samplers of the built-in host units. They read procfs/sysfs under a root ('/' on a real
 * node, a fixture tree in tests) and a real directory for disk/inodes; they never shell out.
 * A sampler that cannot measure throws SampleUnavailableError: the unit then has no output
 * for that round (and goes unknown after its freshness limit), which is different from a
 * measured failure.
 */
export class SampleUnavailableError extends TetherError {
  readonly code = 'HEALTH_SAMPLE_UNAVAILABLE';
}

async function read(root: string, p: string): Promise<string> {
  try {
    return await readFile(path.join(root, p), 'utf8');
  } catch (e) {
    throw new SampleUnavailableError(`cannot read ${p}`, { cause: e });
  }
}

async function cpuCount(root: string): Promise<number> {
  const online = await readFile(path.join(root, '/sys/devices/system/cpu/online'), 'utf8').catch(
    () => undefined,
  );
  if (online !== undefined) {
    let n = 0;
    for (const part of online.trim().split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (a !== undefined && Number.isInteger(a)) n += b !== undefined && Number.isInteger(b) ? b - a + 1 : 1;
    }
    if (n > 0) return n;
  }
  const cpuinfo = await read(root, '/proc/cpuinfo');
  const n = (cpuinfo.match(/^processor\s*:/gmu) ?? []).length;
  if (n === 0) throw new SampleUnavailableError('cannot count CPUs');
  return n;
}

function loadavgFields(text: string): { load1: number; running: number; total: number } {
  // "1.25 0.65 0.29 2/104 10718" — proc(5)
  const [l1, , , rt] = text.trim().split(/\s+/u);
  const [r, t] = (rt ?? '').split('/');
  const load1 = Number(l1);
  const running = Number(r);
  const total = Number(t);
  if (!Number.isFinite(load1) || !Number.isFinite(total))
    throw new SampleUnavailableError('malformed /proc/loadavg');
  return { load1, running, total };
}

/** 1-minute load average per CPU (1.0 = every core busy on average). */
export function cpuLoadSampler(root: string): () => Promise<number> {
  let cores: number | undefined;
  return async () => {
    cores ??= await cpuCount(root);
    return loadavgFields(await read(root, '/proc/loadavg')).load1 / cores;
  };
}

/** Fraction of memory available (MemAvailable / MemTotal): lower is worse. */
export function memoryAvailableSampler(root: string): () => Promise<number> {
  return async () => {
    const text = await read(root, '/proc/meminfo');
    const total = /^MemTotal:\s+(\d+)/mu.exec(text)?.[1];
    const avail = /^MemAvailable:\s+(\d+)/mu.exec(text)?.[1];
    if (total === undefined || avail === undefined || Number(total) === 0) {
      throw new SampleUnavailableError('MemTotal/MemAvailable missing from /proc/meminfo');
    }
    return Number(avail) / Number(total);
  };
}

/** Fraction of the filesystem holding `dir` in use, as unprivileged users see it (bavail, like df). */
export function diskUsageSampler(dir: string): () => Promise<number> {
  return async () => {
    const s = await statfs(dir).catch((e: unknown) => {
      throw new SampleUnavailableError(`statfs ${dir} failed`, { cause: e });
    });
    const usable = s.blocks - (s.bfree - s.bavail); // minus root-reserved blocks, as df does
    return usable <= 0 ? 0 : 1 - s.bavail / usable;
  };
}

/** Fraction of inodes in use on the filesystem holding `dir` (0 on filesystems without a fixed inode table). */
export function inodeUsageSampler(dir: string): () => Promise<number> {
  return async () => {
    const s = await statfs(dir).catch((e: unknown) => {
      throw new SampleUnavailableError(`statfs ${dir} failed`, { cause: e });
    });
    return s.files === 0 ? 0 : 1 - s.ffree / s.files;
  };
}

/** Processes+threads in existence (loadavg's "total") over kernel.pid_max. */
export function pidPressureSampler(root: string): () => Promise<number> {
  return async () => {
    const { total } = loadavgFields(await read(root, '/proc/loadavg'));
    const max = Number((await read(root, '/proc/sys/kernel/pid_max')).trim());
    if (!Number.isFinite(max) || max <= 0) throw new SampleUnavailableError('malformed pid_max');
    return total / max;
  };
}

/** Thermal zones present under the root (the thermal unit exists only where they do). */
export async function thermalZones(root: string): Promise<string[]> {
  const dir = path.join(root, '/sys/class/thermal');
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /^thermal_zone\d+$/u.test(n)).sort();
}

/** Hottest thermal zone in °C (sysfs reports millidegrees). */
export function thermalSampler(root: string): () => Promise<number> {
  return async () => {
    let max = Number.NEGATIVE_INFINITY;
    for (const zone of await thermalZones(root)) {
      const t = Number(
        (await readFile(path.join(root, '/sys/class/thermal', zone, 'temp'), 'utf8').catch(() => '')).trim(),
      );
      if (Number.isFinite(t) && t !== 0) max = Math.max(max, t / 1000);
    }
    if (max === Number.NEGATIVE_INFINITY) throw new SampleUnavailableError('no readable thermal zone');
    return max;
  };
}
