import { describe, expect, it } from 'vitest';
import {
  SampleWindow,
  formatNumber,
  gradeOf,
  judgeSample,
  mean,
  parseStatusString,
  unitName,
  yesNoOf,
  formatStatusString,
  type ScoreThresholds,
  type UnitSnapshot,
} from '../../../src/edge/health/index.js';

const higher: ScoreThresholds = { warn: 0.8, critical: 0.9, direction: 'higher-is-worse' };
const lower: ScoreThresholds = { warn: 0.1, critical: 0.05, direction: 'lower-is-worse' };

describe('health judgement modes', () => {
  it('health — score grades: exactly at a threshold counts as reaching it (higher-is-worse)', () => {
    expect(gradeOf(0.79999, higher)).toBe('ok');
    expect(gradeOf(0.8, higher)).toBe('warn');
    expect(gradeOf(0.89999, higher)).toBe('warn');
    expect(gradeOf(0.9, higher)).toBe('critical');
    expect(gradeOf(5, higher)).toBe('critical');
  });

  it('health — score grades: exactly at a threshold counts as reaching it (lower-is-worse)', () => {
    expect(gradeOf(0.10001, lower)).toBe('ok');
    expect(gradeOf(0.1, lower)).toBe('warn');
    expect(gradeOf(0.05, lower)).toBe('critical');
    expect(gradeOf(0, lower)).toBe('critical');
  });

  it('health — yes/no: F is the first failing value, 01 pass and 02 fail', () => {
    const up = { fail: 0, direction: 'lower-is-worse' } as const;
    expect(yesNoOf(1, up)).toBe('01');
    expect(yesNoOf(0, up)).toBe('02');
    const skew = { fail: 2000, direction: 'higher-is-worse' } as const;
    expect(yesNoOf(1999, skew)).toBe('01');
    expect(yesNoOf(2000, skew)).toBe('02');
  });

  it('health — score is the mean of the last n samples; the window fills then slides', () => {
    const spec = { name: unitName('cpu'), mode: 'score', thresholds: higher } as const;
    const w = new SampleWindow(3);
    const at = new Date('2026-11-26T17:00:00Z');
    const o1 = judgeSample(spec, w, 0.6, at);
    expect(o1).toMatchObject({ mode: 'score', value: 0.6, grade: 'ok', samples: 1 });
    const o2 = judgeSample(spec, w, 1.0, at);
    expect(o2).toMatchObject({ value: 0.8, grade: 'warn', samples: 2 });
    const o3 = judgeSample(spec, w, 1.1, at);
    expect(o3.value).toBeCloseTo(0.9, 10);
    expect(o3).toMatchObject({ grade: 'critical', samples: 3 });
    // 0.6 leaves the window: (1.0 + 1.1 + 0.1) / 3
    const o4 = judgeSample(spec, w, 0.1, at);
    expect(o4.value).toBeCloseTo(2.2 / 3, 10);
    expect(o4).toMatchObject({ grade: 'ok', samples: 3 });
    expect(w.samples).toEqual([1.0, 1.1, 0.1]);
  });

  it('health — yes/no looks at the latest sample only, whatever the window', () => {
    const spec = {
      name: unitName('runtime'),
      mode: 'yesno',
      threshold: { fail: 0, direction: 'lower-is-worse' },
    } as const;
    const w = new SampleWindow(5);
    const at = new Date();
    expect(judgeSample(spec, w, 0, at)).toMatchObject({ result: '02', value: 0 });
    expect(judgeSample(spec, w, 1, at)).toMatchObject({ result: '01', value: 1 });
  });

  it('health — window size must be a positive integer; mean of nothing is NaN', () => {
    expect(() => new SampleWindow(0)).toThrow(RangeError);
    expect(() => new SampleWindow(1.5)).toThrow(RangeError);
    expect(mean([])).toBeNaN();
    expect(() => unitName('Bad=Name')).toThrow(RangeError);
  });
});

describe('health status string', () => {
  const now = new Date('2026-11-26T17:03:10Z');
  const snap = (s: Partial<UnitSnapshot> & Pick<UnitSnapshot, 'unit'>): UnitSnapshot => ({
    mode: 'score',
    critical: false,
    weight: 1,
    state: 'ok',
    stale: false,
    ...s,
  });

  it('health — status string lists every unit with its output and UTC time', () => {
    const units: UnitSnapshot[] = [
      snap({
        unit: unitName('cpu'),
        output: {
          mode: 'score',
          unit: unitName('cpu'),
          value: 0.4212,
          grade: 'ok',
          samples: 3,
          at: new Date('2026-11-26T17:03:05Z'),
        },
      }),
      snap({
        unit: unitName('runtime'),
        mode: 'yesno',
        output: {
          mode: 'yesno',
          unit: unitName('runtime'),
          value: 1,
          result: '01',
          at: new Date('2026-11-26T17:03:04.900Z'),
        },
      }),
      snap({
        unit: unitName('disk'),
        state: 'fail',
        output: {
          mode: 'score',
          unit: unitName('disk'),
          value: 0.93,
          grade: 'critical',
          samples: 1,
          at: new Date('2026-11-25T23:59:59Z'),
        },
      }),
      snap({ unit: unitName('mqtt'), state: 'unknown' }),
      snap({
        unit: unitName('store'),
        state: 'unknown',
        stale: true,
        output: {
          mode: 'yesno',
          unit: unitName('store'),
          value: 1,
          result: '01',
          at: new Date('2026-11-26T16:00:00Z'),
        },
      }),
    ];
    const s = formatStatusString(units, now);
    expect(s).toBe(
      'cpu=0.421/ok@17:03:05Z;runtime=01@17:03:04Z;disk=0.93/critical@2026-11-25T23:59:59Z;mqtt=?;store=?@16:00:00Z',
    );
    expect(parseStatusString(s, now)).toEqual([
      { unit: 'cpu', kind: 'score', value: 0.421, grade: 'ok', at: new Date('2026-11-26T17:03:05Z') },
      { unit: 'runtime', kind: 'yesno', result: '01', at: new Date('2026-11-26T17:03:04Z') },
      { unit: 'disk', kind: 'score', value: 0.93, grade: 'critical', at: new Date('2026-11-25T23:59:59Z') },
      { unit: 'mqtt', kind: 'unknown' },
      { unit: 'store', kind: 'unknown', at: new Date('2026-11-26T16:00:00Z') },
    ]);
  });

  it('health — status string parser rejects malformed strings and accepts the empty one', () => {
    expect(parseStatusString('', now)).toEqual([]);
    expect(parseStatusString('cpu=0.4', now)).toBeUndefined();
    expect(parseStatusString('cpu=0.4/bad@17:00:00Z', now)).toBeUndefined();
    expect(parseStatusString('runtime=03', now)).toBeUndefined();
    expect(parseStatusString('Cpu=01', now)).toBeUndefined();
    expect(parseStatusString('cpu=01;;mqtt=?', now)).toBeUndefined();
    expect(parseStatusString('cpu=01@25:99:99Z', now)).toBeUndefined();
  });

  it('health — numbers are rounded to 3 decimals without negative zero', () => {
    expect(formatNumber(0.00049)).toBe('0');
    expect(formatNumber(-0.0001)).toBe('0');
    expect(formatNumber(1234.56789)).toBe('1234.568');
    expect(formatNumber(-2.5)).toBe('-2.5');
    expect(formatNumber(Number.NaN)).toBe('0');
  });
});
