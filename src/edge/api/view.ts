import type { Evaluation, StartupReport, UnitOutput } from '../health/index.js';
import type { HealthView } from './server.js';

function outputText(o: UnitOutput): string {
  return o.mode === 'score' ? `${o.grade} (${o.samples} samples)` : o.result;
}

/** The health component's evaluation as the endpoint serves it (dates as ISO strings). */
export function healthView(ev: Evaluation, startup?: StartupReport): HealthView {
  const view: HealthView = {
    verdict: ev.verdict,
    statusString: ev.statusString,
    reasons: ev.reasons,
    at: ev.at.toISOString(),
    units: ev.units.map((u) => ({
      unit: u.unit,
      mode: u.mode,
      critical: u.critical,
      state: u.state,
      stale: u.stale,
      ...(u.output === undefined
        ? {}
        : { value: u.output.value, output: outputText(u.output), at: u.output.at.toISOString() }),
      ...(u.lastError === undefined ? {} : { lastError: u.lastError.message }),
    })),
  };
  if (startup !== undefined)
    view.startup = {
      verdict: startup.verdict,
      uncleanShutdown: startup.uncleanShutdown,
      admitNewPods: startup.admitNewPods,
      admitReason: startup.admitReason,
    };
  return view;
}
