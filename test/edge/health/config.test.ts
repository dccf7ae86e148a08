import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/common/index.js';
import { UNIT_DEFAULTS, parseHealthConfig, resolveUnit } from '../../../src/edge/health/index.js';

function issuesOf(input: unknown): readonly string[] {
  try {
    parseHealthConfig(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('CONFIG_INVALID');
    return (e as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('health config', () => {
  it('health — an empty config gives the documented defaults', () => {
    const c = parseHealthConfig(undefined);
    expect(c).toEqual({
      root: '/',
      evaluateIntervalMs: 1000,
      startup: { deadlineMs: 5000, uncleanShutdownHoldMs: 600_000, logTailBytes: 65536 },
      pressure: { on: 'critical', transitionPeriodMs: 300_000 },
      rule: { kind: 'default', unknownCritical: 'degraded', unknownNonCritical: 'ignore' },
      units: {},
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(resolveUnit('disk', undefined)).toEqual(UNIT_DEFAULTS.disk);
  });

  it('health — overrides merge with the unit defaults, threshold by threshold', () => {
    const c = parseHealthConfig({
      dataDir: '/var/lib/tether',
      rule: { kind: 'weighted' },
      units: {
        disk: { thresholds: { warn: 0.7 }, critical: false },
        runtime: { threshold: { fail: 0 }, weight: 5 },
      },
    });
    expect(c.rule).toEqual({
      kind: 'weighted',
      degradedAt: 0.2,
      unhealthyAt: 0.5,
      warnPenalty: 0.5,
      unknownPenalty: 0.5,
      criticalFailIsUnhealthy: true,
    });
    expect(resolveUnit('disk', c.units['disk'])).toMatchObject({
      critical: false,
      judging: { mode: 'score', thresholds: { warn: 0.7, critical: 0.95, direction: 'higher-is-worse' } },
    });
    expect(resolveUnit('runtime', c.units['runtime'])).toMatchObject({ weight: 5, critical: true });
    expect(resolveUnit('mapper.modbus', undefined)).toEqual(UNIT_DEFAULTS.mapper);
  });

  it('health — bad values are reported with their path', () => {
    const issues = issuesOf({ evaluateIntervalMs: -5, units: { cpu: { window: 0, weight: -1 } }, extra: 1 });
    expect(issues.some((i) => i.startsWith('health.evaluateIntervalMs:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('health.units.cpu.window:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('health.units.cpu.weight:'))).toBe(true);
    expect(issues.some((i) => i.includes('extra'))).toBe(true);
  });

  it('health — cross-field mistakes get precise messages', () => {
    expect(issuesOf({ units: { cpu: { thresholds: { warn: 3, critical: 2 } } } })).toEqual([
      'health.units.cpu.thresholds: warn 3 must be ≤ critical 2 when higher-is-worse',
    ]);
    expect(issuesOf({ units: { memory: { thresholds: { warn: 0.01 } } } })).toEqual([
      'health.units.memory.thresholds: warn 0.01 must be ≥ critical 0.05 when lower-is-worse',
    ]);
    expect(issuesOf({ units: { runtime: { sampleIntervalMs: 60000 } } })).toEqual([
      'health.units.runtime.freshnessMs: 40000 is shorter than sampleIntervalMs 60000; the unit would be unknown between samples',
    ]);
    expect(issuesOf({ units: { cpu: { threshold: { fail: 1 } } } })).toEqual([
      'health.units.cpu.threshold: "cpu" is a score unit; set thresholds.warn/thresholds.critical instead',
    ]);
    expect(issuesOf({ units: { runtime: { thresholds: { warn: 1 } } } })).toEqual([
      'health.units.runtime.thresholds: "runtime" is a yes/no unit; set threshold.fail instead',
    ]);
    expect(issuesOf({ units: { cpuu: {} } })[0]).toMatch(
      /^health\.units\.cpuu: unknown unit "cpuu" \(known: cpu, memory/u,
    );
    expect(issuesOf({ rule: { kind: 'weighted', degradedAt: 0.6, unhealthyAt: 0.5 } })).toEqual([
      'health.rule.degradedAt: degradedAt must be below unhealthyAt',
    ]);
    expect(issuesOf({ rule: { kind: 'majority' } })[0]).toMatch(/^health\.rule\.kind:/u);
  });

  it('health — thresholds exactly equal are allowed (a unit that goes straight to critical)', () => {
    expect(() =>
      parseHealthConfig({ units: { cpu: { thresholds: { warn: 2, critical: 2 } } } }),
    ).not.toThrow();
  });
});
