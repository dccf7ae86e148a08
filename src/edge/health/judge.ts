import type {
  Direction,
  Grade,
  ScoreThresholds,
  UnitJudging,
  UnitName,
  UnitOutput,
  YesNo,
  YesNoThreshold,
} from './types.js';

/** True when `value` has reached the bad side of `limit` (reaching it exactly counts). */
export function crosses(value: number, limit: number, direction: Direction): boolean {
  return direction === 'higher-is-worse' ? value >= limit : value <= limit;
}

/** Score mode: the mean of the last n samples D_1..D_n (the seed's score formula). */
export function mean(samples: readonly number[]): number {
  let sum = 0;
  for (const s of samples) sum += s;
  return samples.length === 0 ? Number.NaN : sum / samples.length;
}

export function gradeOf(value: number, t: ScoreThresholds): Grade {
  if (crosses(value, t.critical, t.direction)) return 'critical';
  if (crosses(value, t.warn, t.direction)) return 'warn';
  return 'ok';
}

/** Yes/no mode: the latest sample against F → 01 pass / 02 fail. */
export function yesNoOf(sample: number, t: YesNoThreshold): YesNo {
  return crosses(sample, t.fail, t.direction) ? '02' : '01';
}

/**
 * A unit's sample history: the last `window` samples. Pure apart from its own buffer, so
 * the runner and the start-up check share it and tests drive it directly.
 */
export class SampleWindow {
  private readonly values: number[] = [];
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`window must be an integer ≥ 1, got ${size}`);
  }

  push(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.shift();
  }

  get samples(): readonly number[] {
    return this.values;
  }
}

export type JudgeSpec = { name: UnitName } & UnitJudging;

/**
 * Judges a new sample: score units average the window (partial while it fills — a unit has
 * an output from its first sample on), yes/no units look at the latest sample only.
 */
export function judgeSample(spec: JudgeSpec, window: SampleWindow, sample: number, at: Date): UnitOutput {
  window.push(sample);
  if (spec.mode === 'score') {
    const value = mean(window.samples);
    return {
      mode: 'score',
      unit: spec.name,
      value,
      grade: gradeOf(value, spec.thresholds),
      samples: window.samples.length,
      at,
    };
  }
  return { mode: 'yesno', unit: spec.name, value: sample, result: yesNoOf(sample, spec.threshold), at };
}
