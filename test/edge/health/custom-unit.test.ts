import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor, unitName, type JudgementUnit } from '../../../src/edge/health/index.js';

/** The "adding a custom unit" example of docs/health.md, kept honest. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('health custom units', () => {
  it('health — a plug-in unit (docs/health.md example) is sampled, shows in the status string and moves the verdict', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'tether-custom-unit-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    let fix = true;
    const gps = { hasFix: (_signal: AbortSignal): Promise<boolean> => Promise.resolve(fix) };

    // ── the example, as in the docs ──
    const gpsFix: JudgementUnit = {
      name: unitName('gps-fix'),
      mode: 'yesno',
      threshold: { fail: 0, direction: 'lower-is-worse' }, // 0 (no fix) is the first failing value
      sampleIntervalMs: 50,
      window: 1,
      freshnessMs: 1000,
      timeoutMs: 200,
      critical: false, // a node without a fix is Degraded, not Unhealthy
      weight: 1,
      sample: async (signal) => ((await gps.hasFix(signal)) ? 1 : 0),
    };
    const health = new HealthMonitor({
      config: { root, evaluateIntervalMs: 20 },
      units: [gpsFix],
      replaceBuiltins: true,
    });
    // ──
    await health.start();
    cleanups.push(() => health.stop());
    expect(health.evaluate().statusString).toMatch(/^gps-fix=01@/u);
    expect(health.evaluate().verdict).toBe('Healthy');
    fix = false;
    const deadline = Date.now() + 10_000;
    while (health.evaluate().verdict === 'Healthy' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const ev = health.evaluate();
    expect(ev.verdict).toBe('Degraded');
    expect(ev.statusString).toMatch(/^gps-fix=02@/u);
    expect(ev.reasons).toEqual(['gps-fix=02 (non-critical unit failed)']);
  });
});
