import type { UnitJudging, UnitName } from './types.js';
import { UNIT_NAME_RE } from './types.js';

/** Everything about a unit except how it samples: what the state library needs to know. */
export type UnitDescriptor = {
  readonly name: UnitName;
  /** How often the runner samples it. */
  readonly sampleIntervalMs: number;
  /** n: how many samples a score unit averages. */
  readonly window: number;
  /** An output older than this counts as unknown. */
  readonly freshnessMs: number;
  /** A sample that takes longer is abandoned (the unit simply has no fresh output). */
  readonly timeoutMs: number;
  /** A failed critical unit makes the node Unhealthy and stops new pods (issue 10). */
  readonly critical: boolean;
  /** Weight in the weighted combination rule. */
  readonly weight: number;
} & UnitJudging;

/**
 * A state judgement unit (the seed's 状态判断单元): judges one parameter, independently of
 * every other unit. New units plug in by implementing this one interface.
 */
export type JudgementUnit = UnitDescriptor & {
  /** One raw sample D_j. Throwing (or exceeding timeoutMs) yields no output, not a failure. */
  sample(signal: AbortSignal): Promise<number>;
};

export function unitName(name: string): UnitName {
  if (!UNIT_NAME_RE.test(name)) {
    throw new RangeError(`invalid unit name ${JSON.stringify(name)}: must match ${UNIT_NAME_RE.source}`);
  }
  return name as UnitName;
}
