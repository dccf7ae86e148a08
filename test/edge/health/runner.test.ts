import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  StateLibrary,
  UnitRunner,
  makeUnit,
  resolveUnit,
  type JudgementUnit,
  type SampleOutcome,
} from '../../../src/edge/health/index.js';

const T0 = new Date('2026-11-26T17:00:00Z');

/** A runtime-like yes/no unit sampled every second, fresh for 3 s, 500 ms timeout. */
function yesNoUnit(name: string, sample: JudgementUnit['sample']): JudgementUnit {
  return makeUnit(
    name,
    {
      ...resolveUnit('runtime', { sampleIntervalMs: 1000, freshnessMs: 3000, timeoutMs: 500 }),
      critical: true,
    },
    sample,
  );
}

describe('health unit runner', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('health — each unit samples on its own interval, first sample at start', async () => {
    const calls = { fast: 0, slow: 0 };
    const fast = makeUnit('cpu', resolveUnit('cpu', { sampleIntervalMs: 100, freshnessMs: 1000 }), () => {
      calls.fast++;
      return Promise.resolve(0.1);
    });
    const slow = makeUnit(
      'memory',
      resolveUnit('memory', { sampleIntervalMs: 1000, freshnessMs: 5000 }),
      () => {
        calls.slow++;
        return Promise.resolve(0.5);
      },
    );
    const library = new StateLibrary();
    const runner = new UnitRunner([fast, slow], { library });
    runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual({ fast: 1, slow: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual({ fast: 11, slow: 2 });
    runner.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual({ fast: 11, slow: 2 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('health — a hanging sampler times out, goes unknown after its freshness limit, and never blocks others', async () => {
    let hang = false;
    let hangingCalls = 0;
    const hanging = yesNoUnit('runtime', () => {
      if (!hang) return Promise.resolve(1);
      hangingCalls++;
      return new Promise<number>(() => undefined); // never settles, ignores its signal
    });
    let healthySamples = 0;
    const healthy = yesNoUnit('mqtt', () => {
      healthySamples++;
      return Promise.resolve(1);
    });
    const library = new StateLibrary();
    const outcomes: SampleOutcome[] = [];
    const runner = new UnitRunner([hanging, healthy], {
      library,
      maxAbandoned: 2,
      onSample: (u, o) => {
        if (u.name === 'runtime') outcomes.push(o);
      },
    });
    runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(library.evaluate().verdict).toBe('Healthy');

    hang = true;
    // 3 s freshness from the last good output at T0: still fresh at +3000, unknown after.
    await vi.advanceTimersByTimeAsync(3000);
    expect(library.evaluate().units.find((u) => u.unit === 'runtime')?.state).toBe('ok');
    await vi.advanceTimersByTimeAsync(1);
    const ev = library.evaluate();
    expect(ev.units.find((u) => u.unit === 'runtime')).toMatchObject({ state: 'unknown', stale: true });
    expect(ev.units.find((u) => u.unit === 'runtime')?.lastError?.message).toMatch(/longer than 500 ms/u);
    expect(ev.units.find((u) => u.unit === 'mqtt')?.state).toBe('ok');
    expect(ev.verdict).toBe('Degraded'); // unknown critical unit, not a failure
    // mqtt kept its own pace: 1 at start + one per second.
    expect(healthySamples).toBe(4);
    // Two abandoned samples, then the unit stops starting new ones instead of piling them up.
    expect(hangingCalls).toBe(2);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'timeout', 'timeout', 'skipped']);
    runner.stop();
  });

  it('health — an abandoned sample that finally settles frees its slot', async () => {
    const resolvers: ((v: number) => void)[] = [];
    const unit = yesNoUnit('runtime', () => new Promise<number>((resolve) => resolvers.push(resolve)));
    const library = new StateLibrary();
    const runner = new UnitRunner([unit], { library, maxAbandoned: 1 });
    runner.start();
    await vi.advanceTimersByTimeAsync(600); // first sample abandoned at 500 ms
    await vi.advanceTimersByTimeAsync(1000); // tick at 1000 skipped
    expect(resolvers).toHaveLength(1);
    resolvers[0]?.(1); // at 1600 the stuck call returns late: its value is dropped, the slot frees
    await vi.advanceTimersByTimeAsync(400); // tick at 2000 starts a new sample
    expect(resolvers).toHaveLength(2);
    resolvers[1]?.(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(library.evaluate().units[0]?.state).toBe('ok');
    runner.stop();
  });

  it('health — the sampler receives an abort signal that fires on timeout', async () => {
    let signal: AbortSignal | undefined;
    const unit = yesNoUnit('runtime', (s) => {
      signal = s;
      return new Promise<number>((_, reject) => {
        s.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      });
    });
    const runner = new UnitRunner([unit], { library: new StateLibrary() });
    const all = runner.sampleAll();
    await vi.advanceTimersByTimeAsync(500);
    const outcomes = await all;
    expect(signal?.aborted).toBe(true);
    expect(outcomes.get(unit.name)).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('health — a throwing or non-finite sampler yields no output, not a failure', async () => {
    const library = new StateLibrary();
    const throwing = yesNoUnit('store', () => Promise.reject(new Error('cannot open')));
    const nan = yesNoUnit('mqtt', () => Promise.resolve(Number.NaN));
    const runner = new UnitRunner([throwing, nan], { library });
    const outcomes = await runner.sampleAll();
    expect(outcomes.get(throwing.name)).toMatchObject({ ok: false, reason: 'error', message: 'cannot open' });
    expect(outcomes.get(nan.name)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(library.evaluate().units.map((u) => u.state)).toEqual(['unknown', 'unknown']);
  });

  it('health — sampleAll honours a deadline shorter than the unit timeout', async () => {
    const unit = yesNoUnit('runtime', () => new Promise<number>(() => undefined));
    const runner = new UnitRunner([unit], { library: new StateLibrary() });
    const all = runner.sampleAll(100);
    await vi.advanceTimersByTimeAsync(100);
    expect((await all).get(unit.name)).toMatchObject({
      ok: false,
      reason: 'timeout',
      message: 'sample took longer than 100 ms',
    });
  });

  it('health — units added while running start sampling; removed ones stop and leave the library', async () => {
    const library = new StateLibrary();
    const runner = new UnitRunner([], { library });
    runner.start();
    let n = 0;
    const unit = yesNoUnit('mapper.modbus', () => {
      n++;
      return Promise.resolve(1);
    });
    runner.add(unit);
    await vi.advanceTimersByTimeAsync(2000);
    expect(n).toBe(3);
    expect(library.evaluate().statusString).toBe('mapper.modbus=01@17:00:02Z');
    runner.remove(unit.name);
    await vi.advanceTimersByTimeAsync(2000);
    expect(n).toBe(3);
    expect(library.evaluate().statusString).toBe('');
    expect(() => {
      runner.add(unit);
      runner.add(unit);
    }).toThrow(/already running/u);
    runner.stop();
  });
});
