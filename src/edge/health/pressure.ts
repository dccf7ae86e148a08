import type { HealthConfig } from './config.js';
import { formatEntry, formatTime } from './status-string.js';
import type { Evaluation, HealthEvent, UnitSnapshot, UnitState } from './types.js';

export type NodeConditionStatus = 'True' | 'False' | 'Unknown';

/**
 * One Node condition as the node reporter takes it from a condition source (structurally its
 * `ConditionSource` entry, so the health folder does not depend on the reporter's).
 */
export interface NodeConditionReport {
  type: string;
  status: NodeConditionStatus;
  reason: string;
  message: string;
}

/**
 * The kubelet's node pressure conditions and the units that feed them. Reasons and messages are
 * the kubelet's own (pkg/kubelet/nodestatus/setters.go), so kubectl describe, the scheduler's
 * TaintNodesByCondition and dashboards read them as they would on any node. DiskPressure
 * covers the kubelet's nodefs.available, nodefs.inodesFree and imagefs.available signals.
 */
export const PRESSURE_CONDITIONS = [
  {
    type: 'MemoryPressure',
    units: ['memory'],
    pressure: {
      reason: 'KubeletHasInsufficientMemory',
      message: 'kubelet has insufficient memory available',
    },
    none: { reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  },
  {
    type: 'DiskPressure',
    units: ['disk', 'inodes', 'imagefs'],
    pressure: { reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' },
    none: { reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  },
  {
    type: 'PIDPressure',
    units: ['pids'],
    pressure: { reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' },
    none: { reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  },
] as const satisfies readonly {
  type: string;
  units: readonly string[];
  pressure: { reason: string; message: string };
  none: { reason: string; message: string };
}[];
export type PressureConditionType = (typeof PRESSURE_CONDITIONS)[number]['type'];
export const PRESSURE_CONDITION_TYPES: readonly PressureConditionType[] = PRESSURE_CONDITIONS.map(
  (c) => c.type,
);

/**
 * Turns unit states into the three pressure conditions. A condition is True while one of its
 * units is at the configured level (`fail` = past its critical threshold, or also `warn`), and
 * stays True for `transitionPeriodMs` after the last unit left it — the kubelet's
 * evictionPressureTransitionPeriod, which keeps a node hovering at the threshold from flapping
 * its condition (and its taint) on every report.
 */
export class PressureTracker {
  /** Unit name → last time (ms) it was seen in pressure. */
  private readonly lastPressureAt = new Map<string, number>();

  constructor(private readonly cfg: HealthConfig['pressure']) {}

  private pressing(state: UnitState): boolean {
    return state === 'fail' || (this.cfg.on === 'warn' && state === 'warn');
  }

  /**
   * Fed with the state library's events: a unit that entered and left pressure between two
   * reports still holds its condition for the transition period.
   */
  observe(e: HealthEvent): void {
    if (e.type !== 'unit-changed') return;
    if (this.pressing(e.previous) || this.pressing(e.state)) this.lastPressureAt.set(e.unit, e.at.getTime());
  }

  /** The three conditions for the given snapshot (undefined: the health component is not running). */
  conditions(ev: Evaluation | undefined): NodeConditionReport[] {
    return PRESSURE_CONDITIONS.map((c) => {
      if (ev === undefined)
        return {
          type: c.type,
          status: 'Unknown',
          reason: 'HealthNotStarted',
          message: 'the health component is not running',
        };
      const names: readonly string[] = c.units;
      const units = ev.units.filter((u) => names.includes(u.unit));
      const now = ev.at.getTime();
      const entries = (us: readonly UnitSnapshot[]): string => us.map((u) => formatEntry(u, ev.at)).join(';');
      const pressing = units.filter((u) => this.pressing(u.state));
      for (const u of pressing) this.lastPressureAt.set(u.unit, now);
      if (pressing.length > 0)
        return {
          type: c.type,
          status: 'True',
          ...c.pressure,
          message: `${c.pressure.message}: ${entries(pressing)}`,
        };
      let held: number | undefined;
      for (const n of names) {
        const t = this.lastPressureAt.get(n);
        if (t !== undefined && now - t < this.cfg.transitionPeriodMs) held = Math.max(held ?? t, t);
      }
      if (held !== undefined)
        return {
          type: c.type,
          status: 'True',
          ...c.pressure,
          message: `${c.pressure.message}: pressure ended at ${formatTime(new Date(held), ev.at)}, held for the ${Math.round(this.cfg.transitionPeriodMs / 1000)} s transition period (${entries(units)})`,
        };
      if (units.length === 0)
        return {
          type: c.type,
          status: 'Unknown',
          reason: 'NoHealthUnit',
          message: `no ${names.join('/')} unit is running (disabled, or its directory is not configured)`,
        };
      const unknown = units.filter((u) => u.state === 'unknown');
      if (unknown.length > 0)
        return {
          type: c.type,
          status: 'Unknown',
          reason: 'HealthUnitUnknown',
          message: `no fresh sample: ${entries(unknown)}`,
        };
      return { type: c.type, status: 'False', ...c.none, message: `${c.none.message}: ${entries(units)}` };
    });
  }
}
