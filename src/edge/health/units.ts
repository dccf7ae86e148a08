import { resolveUnit, type HealthConfig, type UnitSettings } from './config.js';
import {
  cpuLoadSampler,
  diskUsageSampler,
  inodeUsageSampler,
  memoryAvailableSampler,
  pidPressureSampler,
  thermalSampler,
  thermalZones,
} from './samplers.js';
import { unitName, type JudgementUnit } from './unit.js';

/**
 * A probe wired in by another component (CRI client, link, store, broker, mapper manager).
 * Booleans mean up (true) / down (false); numbers are the measured value (RTT or skew in ms).
 * Throwing means "could not tell", which is not the same as down.
 */
export type Probe = (signal: AbortSignal) => Promise<number | boolean>;

export interface UnitProbes {
  /** CRI Version answered. */
  runtime?: Probe;
  /** The cloud link is connected. */
  cloudLink?: Probe;
  /** Round-trip time to the cloud in ms (throw while offline). */
  cloudRtt?: Probe;
  /** Local clock minus cloud clock in ms (sign ignored). */
  clockSkew?: Probe;
  /** Edge store integrity check passed. */
  store?: Probe;
  /** MQTT broker accepts connections. */
  mqtt?: Probe;
  /** One probe per running mapper, keyed by mapper name. */
  mappers?: Record<string, Probe>;
}

export interface BuiltinDeps {
  probes?: UnitProbes;
}

/** Builds a unit from settings and a sampler. */
export function makeUnit(
  name: string,
  s: UnitSettings,
  sample: (signal: AbortSignal) => Promise<number>,
): JudgementUnit {
  return {
    name: unitName(name),
    sampleIntervalMs: s.sampleIntervalMs,
    window: s.window,
    freshnessMs: s.freshnessMs,
    timeoutMs: s.timeoutMs,
    critical: s.critical,
    weight: s.weight,
    ...s.judging,
    sample,
  };
}

function fromProbe(probe: Probe, abs = false): (signal: AbortSignal) => Promise<number> {
  return async (signal) => {
    const v = await probe(signal);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return abs ? Math.abs(v) : v;
  };
}

/** A mapper's liveness unit (`mapper.<name>`), added and removed as mappers start and stop. */
export function mapperUnit(config: HealthConfig, mapper: string, probe: Probe): JudgementUnit {
  const name = `mapper.${mapper}`;
  return makeUnit(name, resolveUnit(name, config.units[name]), fromProbe(probe));
}

/**
 * The built-in units that apply to this node: host units always (disk/inodes when a data
 * directory is configured, thermal where zones exist), probe units when their probe is wired.
 */
export async function createBuiltinUnits(
  config: HealthConfig,
  deps: BuiltinDeps = {},
): Promise<JudgementUnit[]> {
  const units: JudgementUnit[] = [];
  const add = (name: string, sample: (signal: AbortSignal) => Promise<number>): void => {
    const s = resolveUnit(name, config.units[name]);
    if (s.enabled) units.push(makeUnit(name, s, sample));
  };
  const root = config.root;
  add('cpu', cpuLoadSampler(root));
  add('memory', memoryAvailableSampler(root));
  if (config.dataDir !== undefined) {
    add('disk', diskUsageSampler(config.dataDir));
    add('inodes', inodeUsageSampler(config.dataDir));
  }
  if (config.imageFsDir !== undefined) add('imagefs', diskUsageSampler(config.imageFsDir));
  add('pids', pidPressureSampler(root));
  if ((await thermalZones(root)).length > 0) add('thermal', thermalSampler(root));

  const p = deps.probes ?? {};
  if (p.runtime !== undefined) add('runtime', fromProbe(p.runtime));
  if (p.cloudLink !== undefined) add('cloud-link', fromProbe(p.cloudLink));
  if (p.cloudRtt !== undefined) add('cloud-rtt', fromProbe(p.cloudRtt));
  if (p.clockSkew !== undefined) add('clock-skew', fromProbe(p.clockSkew, true));
  if (p.store !== undefined) add('store', fromProbe(p.store));
  if (p.mqtt !== undefined) add('mqtt', fromProbe(p.mqtt));
  for (const [mapper, probe] of Object.entries(p.mappers ?? {})) {
    const u = mapperUnit(config, mapper, probe);
    if (resolveUnit(u.name, config.units[u.name]).enabled) units.push(u);
  }
  return units;
}
