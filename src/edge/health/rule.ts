import { assertNever } from '../../common/index.js';
import { formatOutput } from './status-string.js';
import type { UnitSnapshot, Verdict } from './types.js';

/**
 * The state library's combination rule (the seed leaves it "set according to the actual
 * situation"; issue 10 gives the default).
 *
 * - `default`: any failed critical unit → Unhealthy; any warn, any failed non-critical unit or
 *   an unknown critical unit → Degraded; else Healthy. What unknown units count as is
 *   adjustable.
 * - `weighted`: badness = Σ weight·penalty / Σ weight (ok 0, warn `warnPenalty`, fail 1, unknown
 *   `unknownPenalty`), compared with `degradedAt`/`unhealthyAt`; a failed critical unit is still
 *   Unhealthy on its own unless `criticalFailIsUnhealthy` is false.
 */
export type CombinationRule =
  | {
      kind: 'default';
      unknownCritical: 'degraded' | 'unhealthy' | 'ignore';
      unknownNonCritical: 'degraded' | 'ignore';
    }
  | {
      kind: 'weighted';
      degradedAt: number;
      unhealthyAt: number;
      warnPenalty: number;
      unknownPenalty: number;
      criticalFailIsUnhealthy: boolean;
    };

export const DEFAULT_RULE: CombinationRule = {
  kind: 'default',
  unknownCritical: 'degraded',
  unknownNonCritical: 'ignore',
};

const RANK: Record<Verdict, number> = { Healthy: 0, Degraded: 1, Unhealthy: 2 };
const worse = (a: Verdict, b: Verdict): Verdict => (RANK[b] > RANK[a] ? b : a);

function describe(u: UnitSnapshot): string {
  return u.state === 'unknown' || u.output === undefined
    ? `${u.unit}=?`
    : `${u.unit}=${formatOutput(u.output)}`;
}

export function combine(
  units: readonly UnitSnapshot[],
  rule: CombinationRule,
): { verdict: Verdict; reasons: string[] } {
  switch (rule.kind) {
    case 'default':
      return combineDefault(units, rule);
    case 'weighted':
      return combineWeighted(units, rule);
    default:
      return assertNever(rule, 'combination rule');
  }
}

function combineDefault(
  units: readonly UnitSnapshot[],
  rule: Extract<CombinationRule, { kind: 'default' }>,
): { verdict: Verdict; reasons: string[] } {
  let verdict: Verdict = 'Healthy';
  const reasons: string[] = [];
  const pull = (to: Verdict, u: UnitSnapshot, why: string): void => {
    verdict = worse(verdict, to);
    reasons.push(`${describe(u)} (${why})`);
  };
  for (const u of units) {
    const kind = u.critical ? 'critical' : 'non-critical';
    switch (u.state) {
      case 'ok':
        break;
      case 'warn':
        pull('Degraded', u, `${kind} unit warns`);
        break;
      case 'fail':
        pull(u.critical ? 'Unhealthy' : 'Degraded', u, `${kind} unit failed`);
        break;
      case 'unknown': {
        const policy = u.critical ? rule.unknownCritical : rule.unknownNonCritical;
        if (policy === 'degraded') pull('Degraded', u, `${kind} unit unknown`);
        else if (policy === 'unhealthy') pull('Unhealthy', u, `${kind} unit unknown`);
        break;
      }
      default:
        assertNever(u.state, 'unit state');
    }
  }
  return { verdict, reasons };
}

function combineWeighted(
  units: readonly UnitSnapshot[],
  rule: Extract<CombinationRule, { kind: 'weighted' }>,
): { verdict: Verdict; reasons: string[] } {
  let total = 0;
  let bad = 0;
  const reasons: string[] = [];
  let verdict: Verdict = 'Healthy';
  for (const u of units) {
    const penalty =
      u.state === 'ok'
        ? 0
        : u.state === 'warn'
          ? rule.warnPenalty
          : u.state === 'fail'
            ? 1
            : rule.unknownPenalty;
    total += u.weight;
    bad += u.weight * penalty;
    if (u.state === 'fail' && u.critical && rule.criticalFailIsUnhealthy) {
      verdict = 'Unhealthy';
      reasons.push(`${describe(u)} (critical unit failed)`);
    } else if (penalty > 0 && u.weight > 0) {
      reasons.push(`${describe(u)} (${u.state}, weight ${u.weight})`);
    }
  }
  const badness = total === 0 ? 0 : bad / total;
  const b = Math.round(badness * 1000) / 1000;
  if (badness >= rule.unhealthyAt) {
    verdict = 'Unhealthy';
    reasons.push(`weighted badness ${b} ≥ ${rule.unhealthyAt}`);
  } else if (badness >= rule.degradedAt) {
    verdict = worse(verdict, 'Degraded');
    reasons.push(`weighted badness ${b} ≥ ${rule.degradedAt}`);
  }
  return { verdict, reasons: verdict === 'Healthy' ? [] : reasons };
}
