import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatStatusString,
  parseStatusString,
  unitName,
  type UnitSnapshot,
} from '../../../src/edge/health/index.js';

const NOW = new Date('2026-11-26T17:03:10Z');
const name = fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/u);
// Whole seconds: the string carries second resolution.
const time = fc
  .integer({ min: NOW.getTime() - 3 * 86_400_000, max: NOW.getTime() })
  .map((t) => new Date(Math.floor(t / 1000) * 1000));

const snapshot = fc.oneof(
  fc
    .record({
      n: name,
      v: fc.integer({ min: -1_000_000, max: 1_000_000 }).map((i) => i / 1000),
      g: fc.constantFrom(...(['ok', 'warn', 'critical'] as const)),
      at: time,
      stale: fc.boolean(),
    })
    .map(({ n, v, g, at, stale }): UnitSnapshot => ({
      unit: unitName(n),
      mode: 'score',
      critical: false,
      weight: 1,
      state: stale ? 'unknown' : 'ok',
      stale,
      output: { mode: 'score', unit: unitName(n), value: v, grade: g, samples: 1, at },
    })),
  fc
    .record({ n: name, pass: fc.boolean(), at: time, stale: fc.boolean() })
    .map(({ n, pass, at, stale }): UnitSnapshot => ({
      unit: unitName(n),
      mode: 'yesno',
      critical: true,
      weight: 1,
      state: stale ? 'unknown' : pass ? 'ok' : 'fail',
      stale,
      output: { mode: 'yesno', unit: unitName(n), value: pass ? 1 : 0, result: pass ? '01' : '02', at },
    })),
  name.map((n): UnitSnapshot => ({
    unit: unitName(n),
    mode: 'yesno',
    critical: false,
    weight: 1,
    state: 'unknown',
    stale: false,
  })),
);

describe('health status string (property)', () => {
  it('health — every status string parses back to the same units, outputs and times', () => {
    fc.assert(
      fc.property(fc.array(snapshot, { maxLength: 12 }), (units) => {
        const parsed = parseStatusString(formatStatusString(units, NOW), NOW);
        expect(parsed).toBeDefined();
        expect(parsed).toHaveLength(units.length);
        units.forEach((u, i) => {
          const p = parsed?.[i];
          expect(p?.unit).toBe(u.unit);
          expect(p?.at?.getTime()).toBe(u.output?.at.getTime());
          if (u.output === undefined || u.stale) expect(p?.kind).toBe('unknown');
          else if (u.output.mode === 'score')
            expect(p).toMatchObject({ kind: 'score', value: u.output.value, grade: u.output.grade });
          else expect(p).toMatchObject({ kind: 'yesno', result: u.output.result });
        });
      }),
    );
  });
});
