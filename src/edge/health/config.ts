import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import { ConfigError } from '../../common/index.js';
import { DEFAULT_RULE, type CombinationRule } from './rule.js';
import type { Direction, UnitJudging } from './types.js';
import { UNIT_NAME_RE } from './types.js';

/** The built-in units (issue 10). `mapper.<name>` units are added per running mapper. */
export const BUILTIN_UNITS = [
  'cpu',
  'memory',
  'disk',
  'inodes',
  'imagefs',
  'pids',
  'thermal',
  'runtime',
  'cloud-link',
  'cloud-rtt',
  'clock-skew',
  'store',
  'mqtt',
] as const;
export type BuiltinUnit = (typeof BUILTIN_UNITS)[number];

export interface UnitSettings {
  enabled: boolean;
  sampleIntervalMs: number;
  window: number;
  freshnessMs: number;
  timeoutMs: number;
  critical: boolean;
  weight: number;
  judging: UnitJudging;
}

const score = (warn: number, critical: number, direction: Direction): UnitJudging => ({
  mode: 'score',
  thresholds: { warn, critical, direction },
});
const yesno = (fail: number, direction: Direction): UnitJudging => ({
  mode: 'yesno',
  threshold: { fail, direction },
});

const S = 1000;
/**
 * Defaults, chosen for small edge boxes. Critical units are the ones without which new pods
 * cannot run safely (runtime, store, memory, disk, inodes, pids); the cloud link is never
 * critical: running offline is normal for an edge node (DESIGN §3 autonomy).
 */
export const UNIT_DEFAULTS: Record<BuiltinUnit | 'mapper', UnitSettings> = {
  // load1 per core
  cpu: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 6,
    freshnessMs: 60 * S,
    timeoutMs: 2 * S,
    critical: false,
    weight: 1,
    judging: score(1, 2, 'higher-is-worse'),
  },
  // MemAvailable / MemTotal
  memory: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 3,
    freshnessMs: 60 * S,
    timeoutMs: 2 * S,
    critical: true,
    weight: 2,
    judging: score(0.1, 0.05, 'lower-is-worse'),
  },
  // used fraction of the data directory's filesystem
  disk: {
    enabled: true,
    sampleIntervalMs: 30 * S,
    window: 1,
    freshnessMs: 120 * S,
    timeoutMs: 5 * S,
    critical: true,
    weight: 2,
    judging: score(0.85, 0.95, 'higher-is-worse'),
  },
  inodes: {
    enabled: true,
    sampleIntervalMs: 30 * S,
    window: 1,
    freshnessMs: 120 * S,
    timeoutMs: 5 * S,
    critical: true,
    weight: 1,
    judging: score(0.85, 0.95, 'higher-is-worse'),
  },
  // used fraction of the image filesystem (the container runtime's root), when it is configured
  imagefs: {
    enabled: true,
    sampleIntervalMs: 30 * S,
    window: 1,
    freshnessMs: 120 * S,
    timeoutMs: 5 * S,
    critical: true,
    weight: 2,
    judging: score(0.85, 0.95, 'higher-is-worse'),
  },
  // processes+threads / pid_max
  pids: {
    enabled: true,
    sampleIntervalMs: 30 * S,
    window: 1,
    freshnessMs: 120 * S,
    timeoutMs: 2 * S,
    critical: true,
    weight: 1,
    judging: score(0.8, 0.95, 'higher-is-worse'),
  },
  // hottest zone, °C
  thermal: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 3,
    freshnessMs: 60 * S,
    timeoutMs: 2 * S,
    critical: false,
    weight: 1,
    judging: score(80, 95, 'higher-is-worse'),
  },
  // probes: 1 = up, 0 = down
  runtime: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 1,
    freshnessMs: 40 * S,
    timeoutMs: 5 * S,
    critical: true,
    weight: 3,
    judging: yesno(0, 'lower-is-worse'),
  },
  'cloud-link': {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 1,
    freshnessMs: 40 * S,
    timeoutMs: 5 * S,
    critical: false,
    weight: 1,
    judging: yesno(0, 'lower-is-worse'),
  },
  // round-trip time, ms
  'cloud-rtt': {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 6,
    freshnessMs: 60 * S,
    timeoutMs: 5 * S,
    critical: false,
    weight: 1,
    judging: score(500, 2000, 'higher-is-worse'),
  },
  // |local − cloud|, ms
  'clock-skew': {
    enabled: true,
    sampleIntervalMs: 60 * S,
    window: 1,
    freshnessMs: 300 * S,
    timeoutMs: 5 * S,
    critical: false,
    weight: 1,
    judging: yesno(2000, 'higher-is-worse'),
  },
  store: {
    enabled: true,
    sampleIntervalMs: 60 * S,
    window: 1,
    freshnessMs: 300 * S,
    timeoutMs: 10 * S,
    critical: true,
    weight: 3,
    judging: yesno(0, 'lower-is-worse'),
  },
  mqtt: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 1,
    freshnessMs: 40 * S,
    timeoutMs: 5 * S,
    critical: false,
    weight: 1,
    judging: yesno(0, 'lower-is-worse'),
  },
  mapper: {
    enabled: true,
    sampleIntervalMs: 10 * S,
    window: 1,
    freshnessMs: 40 * S,
    timeoutMs: 5 * S,
    critical: false,
    weight: 1,
    judging: yesno(0, 'lower-is-worse'),
  },
};

const ms = () => z.number().int().positive();
const direction = () => z.enum(['higher-is-worse', 'lower-is-worse']);

const buildUnitOverrideSchema = () =>
  z
    .object({
      enabled: z.boolean(),
      sampleIntervalMs: ms(),
      window: z.number().int().min(1).max(1000),
      freshnessMs: ms(),
      timeoutMs: ms(),
      critical: z.boolean(),
      weight: z.number().min(0),
      thresholds: z
        .strictObject({ warn: z.number(), critical: z.number(), direction: direction() })
        .partial(),
      threshold: z.strictObject({ fail: z.number(), direction: direction() }).partial(),
    })
    .partial()
    .strict();
export type UnitOverride = z.infer<ReturnType<typeof buildUnitOverrideSchema>>;

const buildRuleSchema = () =>
  z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('default'),
      unknownCritical: z.enum(['degraded', 'unhealthy', 'ignore']).default('degraded'),
      unknownNonCritical: z.enum(['degraded', 'ignore']).default('ignore'),
    }),
    z
      .strictObject({
        kind: z.literal('weighted'),
        degradedAt: z.number().gt(0).max(1).default(0.2),
        unhealthyAt: z.number().gt(0).max(1).default(0.5),
        warnPenalty: z.number().min(0).max(1).default(0.5),
        unknownPenalty: z.number().min(0).max(1).default(0.5),
        criticalFailIsUnhealthy: z.boolean().default(true),
      })
      .refine((r) => r.degradedAt < r.unhealthyAt, {
        error: 'degradedAt must be below unhealthyAt',
        path: ['degradedAt'],
      }),
  ]);

const buildHealthConfigSchema = () =>
  z.strictObject({
    /** procfs/sysfs root of the host units ('/' on a node). */
    root: z.string().min(1).default('/'),
    /** Directory whose filesystem the disk and inodes units watch (the edge data directory). */
    dataDir: z.string().min(1).optional(),
    /**
     * Directory on the container runtime's image filesystem (e.g. containerd's root); the imagefs
     * unit watches it, as the kubelet's imagefs.available signal does. Absent: no imagefs unit.
     */
    imageFsDir: z.string().min(1).optional(),
    /**
     * Node pressure conditions (MemoryPressure, DiskPressure, PIDPressure) derived from the
     * memory, disk/inodes/imagefs and pids units: pressure when a unit reaches `on` (its critical
     * threshold by default, like the kubelet's hard eviction thresholds), held for
     * `transitionPeriodMs` after it ends (the kubelet's evictionPressureTransitionPeriod, 5 m).
     */
    pressure: z
      .strictObject({
        on: z.enum(['critical', 'warn']).default('critical'),
        transitionPeriodMs: z.number().int().min(0).default(300_000),
      })
      .prefault({}),
    /** How often the library re-evaluates freshness and the verdict between samples. */
    evaluateIntervalMs: ms().default(1000),
    startup: z
      .strictObject({
        deadlineMs: ms().default(5000),
        /** How long an unclean previous shutdown stays in the status string (as `shutdown=02`). */
        uncleanShutdownHoldMs: ms().default(600_000),
        /** Bytes of the log tail searched for crash markers. */
        logTailBytes: ms().default(64 * 1024),
      })
      .prefault({}),
    rule: buildRuleSchema().default(DEFAULT_RULE),
    units: z.record(z.string(), buildUnitOverrideSchema()).default({}),
  });
export const healthConfigSchema = lazySchema(buildHealthConfigSchema);
export type HealthConfigInput = z.input<typeof healthConfigSchema>;
export type HealthConfig = z.output<typeof healthConfigSchema> & { rule: CombinationRule };

function pathOf(p: readonly PropertyKey[]): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.') || '(root)';
}

function defaultsFor(name: string): UnitSettings | undefined {
  if ((BUILTIN_UNITS as readonly string[]).includes(name)) return UNIT_DEFAULTS[name as BuiltinUnit];
  if (name.startsWith('mapper.') && UNIT_NAME_RE.test(name)) return UNIT_DEFAULTS.mapper;
  return undefined;
}

/** The effective settings of one unit: its defaults with the config's overrides applied. */
export function resolveUnit(name: string, override: UnitOverride | undefined): UnitSettings {
  const d = defaultsFor(name) ?? UNIT_DEFAULTS.mapper;
  const o = override ?? {};
  let judging: UnitJudging = d.judging;
  if (d.judging.mode === 'score' && o.thresholds !== undefined) {
    const t = d.judging.thresholds;
    judging = {
      mode: 'score',
      thresholds: {
        warn: o.thresholds.warn ?? t.warn,
        critical: o.thresholds.critical ?? t.critical,
        direction: o.thresholds.direction ?? t.direction,
      },
    };
  } else if (d.judging.mode === 'yesno' && o.threshold !== undefined) {
    const t = d.judging.threshold;
    judging = {
      mode: 'yesno',
      threshold: { fail: o.threshold.fail ?? t.fail, direction: o.threshold.direction ?? t.direction },
    };
  }
  return {
    enabled: o.enabled ?? d.enabled,
    sampleIntervalMs: o.sampleIntervalMs ?? d.sampleIntervalMs,
    window: o.window ?? d.window,
    freshnessMs: o.freshnessMs ?? d.freshnessMs,
    timeoutMs: o.timeoutMs ?? d.timeoutMs,
    critical: o.critical ?? d.critical,
    weight: o.weight ?? d.weight,
    judging,
  };
}

/** Cross-field checks zod's shape cannot express; each message names the field and the fix. */
function checkUnit(name: string, o: UnitOverride, issues: string[]): void {
  const at = `units.${name}`;
  const d = defaultsFor(name);
  if (d === undefined) {
    issues.push(`${at}: unknown unit "${name}" (known: ${BUILTIN_UNITS.join(', ')}, mapper.<name>)`);
    return;
  }
  if (d.judging.mode === 'score' && o.threshold !== undefined) {
    issues.push(
      `${at}.threshold: "${name}" is a score unit; set thresholds.warn/thresholds.critical instead`,
    );
  }
  if (d.judging.mode === 'yesno' && o.thresholds !== undefined) {
    issues.push(`${at}.thresholds: "${name}" is a yes/no unit; set threshold.fail instead`);
  }
  const s = resolveUnit(name, o);
  if (s.freshnessMs < s.sampleIntervalMs) {
    issues.push(
      `${at}.freshnessMs: ${s.freshnessMs} is shorter than sampleIntervalMs ${s.sampleIntervalMs}; the unit would be unknown between samples`,
    );
  }
  if (s.judging.mode === 'score') {
    const { warn, critical, direction } = s.judging.thresholds;
    const ordered = direction === 'higher-is-worse' ? warn <= critical : warn >= critical;
    if (!ordered) {
      issues.push(
        `${at}.thresholds: warn ${warn} must be ${direction === 'higher-is-worse' ? '≤' : '≥'} critical ${critical} when ${direction}`,
      );
    }
  }
}

/** Validates the `health` section of the edge config; throws ConfigError listing every problem with its path. */
export function parseHealthConfig(input: unknown): HealthConfig {
  const parsed = healthConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `health.${pathOf(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid health config: ${issues.join('; ')}`, issues);
  }
  const issues: string[] = [];
  for (const [name, o] of Object.entries(parsed.data.units)) checkUnit(name, o, issues);
  if (issues.length > 0) {
    const prefixed = issues.map((i) => `health.${i}`);
    throw new ConfigError(`invalid health config: ${prefixed.join('; ')}`, prefixed);
  }
  return Object.freeze(parsed.data);
}
