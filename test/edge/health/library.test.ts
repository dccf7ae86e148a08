import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MemoryHealthStore,
  StateLibrary,
  combine,
  unitName,
  type CombinationRule,
  type HealthEvent,
  type UnitSnapshot,
  type UnitState,
} from '../../../src/edge/health/index.js';

const T0 = new Date('2026-11-26T17:00:00Z');

function lib(rule?: CombinationRule, store?: MemoryHealthStore): StateLibrary {
  const opts: ConstructorParameters<typeof StateLibrary>[0] = {};
  if (rule !== undefined) opts.rule = rule;
  if (store !== undefined) opts.store = store;
  const l = new StateLibrary(opts);
  l.register({ name: unitName('cpu'), mode: 'score', critical: false, weight: 1, freshnessMs: 30_000 });
  l.register({ name: unitName('runtime'), mode: 'yesno', critical: true, weight: 3, freshnessMs: 20_000 });
  return l;
}

const cpu = (value: number, grade: 'ok' | 'warn' | 'critical', at = new Date()) =>
  ({ mode: 'score', unit: unitName('cpu'), value, grade, samples: 1, at }) as const;
const runtime = (up: boolean, at = new Date()) =>
  ({ mode: 'yesno', unit: unitName('runtime'), value: up ? 1 : 0, result: up ? '01' : '02', at }) as const;

describe('health state library', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('health — default rule: failed critical → Unhealthy, warn → Degraded, all ok → Healthy', () => {
    const l = lib();
    l.record(cpu(0.2, 'ok'));
    l.record(runtime(true));
    expect(l.evaluate().verdict).toBe('Healthy');
    l.record(cpu(1.2, 'warn', new Date(Date.now() + 1)));
    expect(l.evaluate()).toMatchObject({
      verdict: 'Degraded',
      reasons: ['cpu=1.2/warn (non-critical unit warns)'],
    });
    l.record(runtime(false, new Date(Date.now() + 2)));
    const ev = l.evaluate();
    expect(ev.verdict).toBe('Unhealthy');
    expect(ev.reasons).toContain('runtime=02 (critical unit failed)');
  });

  it('health — a non-critical failure only degrades', () => {
    const l = lib();
    l.record(cpu(3, 'critical'));
    l.record(runtime(true));
    expect(l.evaluate()).toMatchObject({
      verdict: 'Degraded',
      reasons: ['cpu=3/critical (non-critical unit failed)'],
    });
  });

  it('health — outputs go unknown after their freshness limit; an unknown critical unit degrades', () => {
    const l = lib();
    l.record(cpu(0.1, 'ok'));
    l.record(runtime(true));
    expect(l.evaluate().verdict).toBe('Healthy');
    vi.advanceTimersByTime(20_000); // exactly at the limit: still fresh
    expect(l.evaluate().verdict).toBe('Healthy');
    vi.advanceTimersByTime(1);
    const ev = l.evaluate();
    expect(ev.verdict).toBe('Degraded');
    expect(ev.units.find((u) => u.unit === 'runtime')).toMatchObject({ state: 'unknown', stale: true });
    expect(ev.statusString).toBe('cpu=0.1/ok@17:00:00Z;runtime=?@17:00:00Z');
    vi.advanceTimersByTime(10_000);
    expect(l.evaluate().units.map((u) => u.state)).toEqual(['unknown', 'unknown']);
  });

  it('health — before any output every unit is unknown and shows "?"', () => {
    const l = lib();
    const ev = l.evaluate();
    expect(ev.statusString).toBe('cpu=?;runtime=?');
    expect(ev.verdict).toBe('Degraded'); // unknown critical runtime
  });

  it('health — rule variants for unknown units', () => {
    const strict = lib({ kind: 'default', unknownCritical: 'unhealthy', unknownNonCritical: 'degraded' });
    strict.record(runtime(true));
    expect(strict.evaluate()).toMatchObject({
      verdict: 'Degraded',
      reasons: ['cpu=? (non-critical unit unknown)'],
    });
    const lenient = lib({ kind: 'default', unknownCritical: 'ignore', unknownNonCritical: 'ignore' });
    expect(lenient.evaluate().verdict).toBe('Healthy');
    const hard = lib({ kind: 'default', unknownCritical: 'unhealthy', unknownNonCritical: 'ignore' });
    expect(hard.evaluate().verdict).toBe('Unhealthy');
  });

  it('health — late outputs older than the current one are ignored', () => {
    const l = lib();
    l.record(runtime(true, new Date(T0.getTime() + 1000)));
    l.record(runtime(false, T0));
    expect(l.evaluate().verdict).not.toBe('Unhealthy');
  });

  it('health — typed events on verdict and unit changes, one per change', () => {
    const l = lib();
    const events: HealthEvent[] = [];
    const off = l.on((e) => events.push(e));
    l.record(cpu(0.1, 'ok'));
    l.record(runtime(true));
    l.evaluate();
    l.evaluate(); // nothing changed: no event
    l.record(runtime(false, new Date(Date.now() + 5)));
    l.evaluate();
    const verdicts = events.filter((e) => e.type === 'verdict-changed');
    expect(verdicts.map((e) => [e.previous, e.verdict])).toEqual([
      [undefined, 'Healthy'],
      ['Healthy', 'Unhealthy'],
    ]);
    const last = verdicts[1];
    expect(last?.type === 'verdict-changed' && last.statusString).toBe(
      'cpu=0.1/ok@17:00:00Z;runtime=02@17:00:00Z',
    );
    expect(
      events.flatMap((e) => (e.type === 'unit-changed' ? [`${e.unit}:${e.previous}->${e.state}`] : [])),
    ).toEqual(['cpu:unknown->ok', 'runtime:unknown->ok', 'runtime:ok->fail']);
    off();
    l.record(runtime(true, new Date(Date.now() + 10)));
    l.evaluate();
    expect(events.filter((e) => e.type === 'verdict-changed')).toHaveLength(2);
  });

  it('health — a throwing listener does not stop the others', () => {
    const l = lib();
    const seen: string[] = [];
    l.on(() => {
      throw new Error('boom');
    });
    l.on((e) => seen.push(e.type));
    l.evaluate();
    expect(seen).toContain('verdict-changed');
  });

  it('health — each new verdict is persisted through the HealthStore', async () => {
    const store = new MemoryHealthStore();
    const l = lib(undefined, store);
    l.record(cpu(0.1, 'ok'));
    l.record(runtime(true));
    l.evaluate();
    l.evaluate();
    await l.flush();
    expect(store.saves).toBe(1);
    expect(store.record).toMatchObject({ verdict: 'Healthy', at: T0.toISOString() });
    l.record(runtime(false, new Date(Date.now() + 1)));
    l.evaluate();
    await l.flush();
    expect(store.saves).toBe(2);
    expect(store.record).toMatchObject({
      verdict: 'Unhealthy',
      reasons: ['runtime=02 (critical unit failed)'],
    });
  });

  it('health — recording for an unregistered unit is a bug and throws', () => {
    const l = lib();
    expect(() => {
      l.record({ ...runtime(true), unit: unitName('nope') });
    }).toThrow(/not registered/u);
    expect(() => {
      l.register({ name: unitName('cpu'), mode: 'score', critical: false, weight: 1, freshnessMs: 1 });
    }).toThrow(/already registered/u);
  });
});

describe('health combination rules', () => {
  const u = (name: string, state: UnitState, critical = false, weight = 1): UnitSnapshot => ({
    unit: unitName(name),
    mode: 'yesno',
    critical,
    weight,
    state,
    stale: false,
  });
  const weighted: CombinationRule = {
    kind: 'weighted',
    degradedAt: 0.2,
    unhealthyAt: 0.5,
    warnPenalty: 0.5,
    unknownPenalty: 0.5,
    criticalFailIsUnhealthy: true,
  };

  it('health — weighted rule: badness thresholds are inclusive', () => {
    // badness = 1·1 / 5 = 0.2 → exactly degradedAt
    expect(combine([u('a', 'fail'), u('b', 'ok', false, 4)], weighted).verdict).toBe('Degraded');
    // 0.19 / 1 below 0.2
    expect(combine([u('a', 'fail', false, 0.19), u('b', 'ok', false, 0.81)], weighted).verdict).toBe(
      'Healthy',
    );
    // (1 + 0.5·2) / 4 = 0.5 → exactly unhealthyAt
    const r = combine([u('a', 'fail'), u('b', 'warn', false, 2), u('c', 'ok')], weighted);
    expect(r.verdict).toBe('Unhealthy');
    expect(r.reasons.at(-1)).toBe('weighted badness 0.5 ≥ 0.5');
  });

  it('health — weighted rule: a failed critical unit alone is Unhealthy unless disabled', () => {
    const units = [u('runtime', 'fail', true, 1), u('b', 'ok', false, 100)];
    expect(combine(units, weighted).verdict).toBe('Unhealthy');
    expect(combine(units, { ...weighted, criticalFailIsUnhealthy: false }).verdict).toBe('Healthy');
  });

  it('health — weighted rule: unknown counts with its penalty; zero weights count for nothing', () => {
    expect(combine([u('a', 'unknown'), u('b', 'ok')], weighted).verdict).toBe('Degraded'); // 0.25
    expect(combine([u('a', 'fail', false, 0), u('b', 'ok')], weighted).verdict).toBe('Healthy');
    expect(combine([], weighted)).toEqual({ verdict: 'Healthy', reasons: [] });
  });
});
