import type { Brand } from '../../common/index.js';

/** A judgement unit's name: `[a-z][a-z0-9._-]*`, so it can stand in the status string unquoted. */
export type UnitName = Brand<string, 'UnitName'>;
export const UNIT_NAME_RE = /^[a-z][a-z0-9._-]{0,62}$/u;

export type Mode = 'score' | 'yesno';

/**
 * Which side of a threshold is bad. A threshold is always the first bad value: reaching it
 * exactly counts as crossing it (DESIGN §4; see docs/health.md "Boundaries").
 */
export type Direction = 'higher-is-worse' | 'lower-is-worse';

export interface ScoreThresholds {
  warn: number;
  critical: number;
  direction: Direction;
}

export interface YesNoThreshold {
  /** F: the first failing value. */
  fail: number;
  direction: Direction;
}

/** How a unit judges: the seed's two modes, each with its own threshold(s) F. */
export type UnitJudging =
  { mode: 'score'; thresholds: ScoreThresholds } | { mode: 'yesno'; threshold: YesNoThreshold };

export type Grade = 'ok' | 'warn' | 'critical';
/** The seed's yes/no output: 01 = pass, 02 = fail. */
export type YesNo = '01' | '02';

/** One time-stamped output of a unit (the seed's "#" or "#01/02" plus its time label). */
export type UnitOutput =
  | { mode: 'score'; unit: UnitName; value: number; grade: Grade; samples: number; at: Date }
  | { mode: 'yesno'; unit: UnitName; value: number; result: YesNo; at: Date };

/** A unit's judged state as the combination rule sees it. */
export type UnitState = 'ok' | 'warn' | 'fail' | 'unknown';

export type Verdict = 'Healthy' | 'Degraded' | 'Unhealthy';
export const VERDICTS: readonly Verdict[] = ['Healthy', 'Degraded', 'Unhealthy'];

export interface UnitSnapshot {
  unit: UnitName;
  mode: Mode;
  critical: boolean;
  weight: number;
  state: UnitState;
  /** Latest output, fresh or not; undefined until the first sample. */
  output?: UnitOutput;
  /** True when `output` is older than the unit's freshness limit (state is then unknown). */
  stale: boolean;
  lastError?: { message: string; at: Date };
}

export interface Evaluation {
  verdict: Verdict;
  /** Why: one short line per unit that pulled the verdict down, e.g. "runtime=02 (critical unit failed)". */
  reasons: string[];
  statusString: string;
  units: UnitSnapshot[];
  at: Date;
}

/** What is persisted between runs (issue 10: the previous run's verdict is known at start-up). */
export interface VerdictRecord {
  verdict: Verdict;
  reasons: string[];
  statusString: string;
  /** ISO 8601. */
  at: string;
}

export type HealthEvent =
  | {
      type: 'verdict-changed';
      previous: Verdict | undefined;
      verdict: Verdict;
      reasons: string[];
      statusString: string;
      at: Date;
    }
  | { type: 'unit-changed'; unit: UnitName; previous: UnitState; state: UnitState; at: Date };
