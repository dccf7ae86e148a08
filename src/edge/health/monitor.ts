import { Counter, Gauge } from 'prom-client';
import {
  DisposableStore,
  LifecycleError,
  silentLogger,
  type Component,
  type Logger,
  type Registry,
} from '../../common/index.js';
import { parseHealthConfig, type HealthConfig } from './config.js';
import { StateLibrary } from './library.js';
import { PressureTracker, type NodeConditionReport } from './pressure.js';
import { UnitRunner } from './runner.js';
import {
  CLEAN_SHUTDOWN_LOG_MESSAGE,
  SHUTDOWN_UNIT,
  markCleanShutdown,
  runStartupCheck,
  type StartupReport,
} from './startup.js';
import type { HealthStore } from './store.js';
import type { Evaluation, HealthEvent, UnitName, UnitState, Verdict } from './types.js';
import type { JudgementUnit } from './unit.js';
import { createBuiltinUnits, mapperUnit, type Probe, type UnitProbes } from './units.js';

export interface HealthMonitorDeps {
  /** The `health` section of the edge config (validated here; a ConfigError is thrown on bad input). */
  config: unknown;
  logger?: Logger;
  registry?: Registry;
  store?: HealthStore;
  probes?: UnitProbes;
  /** Extra units (plug-ins) besides the built-in ones. */
  units?: JudgementUnit[];
  /** Replace the built-in units entirely (tests). */
  replaceBuiltins?: boolean;
  markerPath?: string;
  logPath?: string;
  now?: () => Date;
}

const STATE_CODE: Record<UnitState, number> = { ok: 0, warn: 1, fail: 2, unknown: 3 };
const METRIC_NAMES = [
  'tether_health_unit_value',
  'tether_health_unit_state',
  'tether_health_verdict',
  'tether_health_sample_failures_total',
] as const;
const VERDICT_CODE: Record<Verdict, number> = { Healthy: 0, Degraded: 1, Unhealthy: 2 };

/**
 * The health component (DESIGN §4): start-up check, then every unit on its own interval, the
 * state library re-evaluated on a tick (so freshness expiry changes the verdict even when no
 * sample arrives), metrics per unit, typed events on change, a clean-shutdown marker on stop.
 */
export class HealthMonitor implements Component {
  readonly name = 'health';
  readonly config: HealthConfig;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private disposables = new DisposableStore();
  private readonly pendingListeners: ((e: HealthEvent) => void)[] = [];
  private library: StateLibrary | undefined;
  private runner: UnitRunner | undefined;
  private report: StartupReport | undefined;
  /** Outlives restarts: a pressure seen before a restart still holds its transition period. */
  private readonly pressure: PressureTracker;

  constructor(private readonly deps: HealthMonitorDeps) {
    this.config = parseHealthConfig(deps.config);
    this.pressure = new PressureTracker(this.config.pressure);
    this.logger = deps.logger ?? silentLogger();
    this.now = deps.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    if (this.library !== undefined) throw new LifecycleError('health monitor already started');
    this.disposables = new DisposableStore();
    try {
      await this.startInner();
    } catch (e) {
      // A failed start releases what it acquired, so start() may be retried (STYLE §3).
      await this.disposables.dispose().catch(() => undefined);
      this.library = undefined;
      this.runner = undefined;
      throw e;
    }
  }

  private async startInner(): Promise<void> {
    const libOpts: ConstructorParameters<typeof StateLibrary>[0] = {
      rule: this.config.rule,
      now: this.now,
      logger: this.logger,
    };
    if (this.deps.store !== undefined) libOpts.store = this.deps.store;
    const library = new StateLibrary(libOpts);
    this.library = library;
    for (const l of this.pendingListeners) this.disposables.add(library.on(l));
    this.disposables.add(
      library.on((e) => {
        this.pressure.observe(e);
      }),
    );
    this.disposables.add(
      library.on((e) => {
        if (e.type === 'verdict-changed') {
          this.logger.info(
            { verdict: e.verdict, previous: e.previous, status: e.statusString, reasons: e.reasons },
            'health: verdict changed',
          );
        }
      }),
    );

    const builtins =
      this.deps.replaceBuiltins === true ? [] : await createBuiltinUnits(this.config, this.probeDeps());
    const failures = this.registerMetrics();
    const runner = new UnitRunner([...builtins, ...(this.deps.units ?? [])], {
      library,
      now: this.now,
      logger: this.logger,
      onSample: (unit, o) => {
        if (!o.ok) failures?.inc({ unit: unit.name, reason: o.reason });
      },
    });
    this.runner = runner;

    const startupOpts: Parameters<typeof runStartupCheck>[0] = {
      runner,
      library,
      deadlineMs: this.config.startup.deadlineMs,
      logTailBytes: this.config.startup.logTailBytes,
      uncleanShutdownHoldMs: this.config.startup.uncleanShutdownHoldMs,
      now: this.now,
    };
    if (this.deps.store !== undefined) startupOpts.store = this.deps.store;
    if (this.deps.markerPath !== undefined) startupOpts.markerPath = this.deps.markerPath;
    if (this.deps.logPath !== undefined) startupOpts.logPath = this.deps.logPath;
    this.report = await runStartupCheck(startupOpts);
    this.logger.info(
      {
        verdict: this.report.verdict,
        status: this.report.statusString,
        uncleanShutdown: this.report.uncleanShutdown,
        evidence: this.report.shutdownEvidence,
        admitNewPods: this.report.admitNewPods,
        previous: this.report.previousVerdict?.verdict,
      },
      'health: start-up check',
    );
    if (this.report.uncleanShutdown) {
      // The shutdown entry has done its job once its hold expires; drop it rather than show "?".
      const t = setTimeout(() => {
        library.unregister(SHUTDOWN_UNIT);
      }, this.config.startup.uncleanShutdownHoldMs);
      t.unref();
      this.disposables.add(() => {
        clearTimeout(t);
      });
    }

    runner.start();
    this.disposables.add(() => {
      runner.stop();
    });
    this.disposables.interval(() => library.evaluate(), this.config.evaluateIntervalMs);
  }

  async stop(): Promise<void> {
    const library = this.library;
    if (library === undefined) return;
    await this.disposables.dispose();
    await library.saveNow();
    if (this.deps.markerPath !== undefined) await markCleanShutdown(this.deps.markerPath, this.now());
    this.logger.info(CLEAN_SHUTDOWN_LOG_MESSAGE);
    this.library = undefined;
    this.runner = undefined;
  }

  /** The start-up check's outcome (available once start() resolved). */
  get startupReport(): StartupReport {
    if (this.report === undefined) throw new LifecycleError('health monitor not started');
    return this.report;
  }

  evaluate(): Evaluation {
    if (this.library === undefined) throw new LifecycleError('health monitor not started');
    return this.library.evaluate();
  }

  /** The current state without side effects (no events, nothing persisted); undefined when not running. */
  snapshot(): Evaluation | undefined {
    return this.library?.snapshot();
  }

  /**
   * MemoryPressure, DiskPressure and PIDPressure from the memory, disk/inodes/imagefs and pids
   * units, with the kubelet's reasons (see pressure.ts); Unknown while not running.
   */
  pressureConditions(): NodeConditionReport[] {
    return this.pressure.conditions(this.library?.snapshot());
  }

  /** Subscribes to verdict/unit events; may be called before start(). */
  on(listener: (e: HealthEvent) => void): () => void {
    if (this.library === undefined) {
      this.pendingListeners.push(listener);
      return () => {
        const i = this.pendingListeners.indexOf(listener);
        if (i >= 0) this.pendingListeners.splice(i, 1);
      };
    }
    const off = this.library.on(listener);
    this.disposables.add(off);
    return off;
  }

  /** A mapper started: its liveness becomes a unit. */
  addMapper(name: string, probe: Probe): void {
    if (this.runner === undefined) throw new LifecycleError('health monitor not started');
    this.runner.add(mapperUnit(this.config, name, probe));
  }

  removeMapper(name: string): void {
    this.runner?.remove(`mapper.${name}` as UnitName);
  }

  private probeDeps(): { probes?: UnitProbes } {
    return this.deps.probes === undefined ? {} : { probes: this.deps.probes };
  }

  private registerMetrics(): Counter<'unit' | 'reason'> | undefined {
    const registry = this.deps.registry;
    if (registry === undefined) return undefined;
    const snapshot = (): Evaluation | undefined => this.library?.snapshot();
    new Gauge({
      name: 'tether_health_unit_value',
      help: 'Latest output value of each judgement unit (score: window mean; yes/no: latest sample)',
      labelNames: ['unit', 'mode'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const u of snapshot()?.units ?? [])
          if (u.output !== undefined) this.set({ unit: u.unit, mode: u.mode }, u.output.value);
      },
    });
    new Gauge({
      name: 'tether_health_unit_state',
      help: 'State of each judgement unit: 0 ok, 1 warn, 2 fail, 3 unknown',
      labelNames: ['unit', 'critical'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const u of snapshot()?.units ?? [])
          this.set({ unit: u.unit, critical: String(u.critical) }, STATE_CODE[u.state]);
      },
    });
    new Gauge({
      name: 'tether_health_verdict',
      help: 'Node health verdict: 0 Healthy, 1 Degraded, 2 Unhealthy',
      registers: [registry],
      collect() {
        const ev = snapshot();
        if (ev !== undefined) this.set(VERDICT_CODE[ev.verdict]);
      },
    });
    const failures = new Counter({
      name: 'tether_health_sample_failures_total',
      help: 'Samples that produced no output, by reason (timeout, error, invalid, skipped)',
      labelNames: ['unit', 'reason'] as const,
      registers: [registry],
    });
    this.disposables.add(() => {
      for (const name of METRIC_NAMES) registry.removeSingleMetric(name);
    });
    return failures;
  }
}

/**
 * A node condition source (src/edge/node ConditionSource) with the three pressure conditions:
 * `conditionSources: [edgeHealthyCondition(health), nodePressureConditions(health)]`.
 */
export function nodePressureConditions(health: HealthMonitor): { conditions(): NodeConditionReport[] } {
  return { conditions: () => health.pressureConditions() };
}
