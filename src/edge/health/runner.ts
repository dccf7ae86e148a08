import { TetherError, errorMessage, silentLogger, type Logger } from '../../common/index.js';
import { SampleWindow, judgeSample } from './judge.js';
import type { StateLibrary } from './library.js';
import type { UnitName, UnitOutput } from './types.js';
import type { JudgementUnit } from './unit.js';

/** The sampler did not answer within its unit's timeoutMs. */
export class SampleTimeoutError extends TetherError {
  readonly code = 'HEALTH_SAMPLE_TIMEOUT';
}

export type SampleOutcome =
  | { ok: true; output: UnitOutput; durationMs: number }
  | { ok: false; reason: 'timeout' | 'error' | 'invalid' | 'skipped'; message: string; durationMs: number };

export interface UnitRunnerOptions {
  library: StateLibrary;
  now?: () => Date;
  logger?: Logger;
  /** Abandoned (timed-out, still running) samples per unit before the unit stops starting new ones. */
  maxAbandoned?: number;
  /** Called after every sample attempt (metrics). */
  onSample?: (unit: JudgementUnit, outcome: SampleOutcome) => void;
}

interface Slot {
  unit: JudgementUnit;
  window: SampleWindow;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
  abandoned: number;
  controller?: AbortController;
}

/**
 * Runs each unit on its own interval (DESIGN §4: units are independent). A sample has a
 * deadline: when it passes, the sample is abandoned (aborted through its signal) and the unit
 * gets no output for that round, so a hanging sampler can only make its own unit go unknown
 * once its freshness limit passes — it never delays another unit. A sampler that ignores its
 * signal keeps its promise alive; after `maxAbandoned` such promises the unit stops starting
 * new samples until one settles, so a stuck sampler cannot pile up work.
 */
export class UnitRunner {
  private readonly slots = new Map<UnitName, Slot>();
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly maxAbandoned: number;
  private running = false;

  constructor(
    units: readonly JudgementUnit[],
    private readonly opts: UnitRunnerOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.logger = opts.logger ?? silentLogger();
    this.maxAbandoned = opts.maxAbandoned ?? 2;
    for (const u of units) this.add(u);
  }

  /** Adds a unit (e.g. a mapper that just started); sampled from the next start() or immediately if running. */
  add(unit: JudgementUnit): void {
    if (this.slots.has(unit.name)) throw new Error(`unit ${unit.name} is already running`);
    if (!this.opts.library.has(unit.name)) this.opts.library.register(unit);
    const slot: Slot = { unit, window: new SampleWindow(unit.window), inFlight: false, abandoned: 0 };
    this.slots.set(unit.name, slot);
    if (this.running) this.schedule(slot);
  }

  remove(name: UnitName): void {
    const slot = this.slots.get(name);
    if (slot === undefined) return;
    this.stopSlot(slot);
    this.slots.delete(name);
    this.opts.library.unregister(name);
  }

  get units(): JudgementUnit[] {
    return [...this.slots.values()].map((s) => s.unit);
  }

  /** Samples every unit once, all in parallel, each within min(its timeout, the deadline). */
  async sampleAll(deadlineMs?: number): Promise<Map<UnitName, SampleOutcome>> {
    const slots = [...this.slots.values()];
    const outcomes = await Promise.all(slots.map((s) => this.sampleOnce(s, deadlineMs)));
    return new Map(slots.map((s, i) => [s.unit.name, outcomes[i] as SampleOutcome]));
  }

  /** Starts the per-unit timers; the first sample of each unit is taken right away. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const slot of this.slots.values()) this.schedule(slot);
  }

  stop(): void {
    this.running = false;
    for (const slot of this.slots.values()) this.stopSlot(slot);
  }

  private schedule(slot: Slot): void {
    void this.sampleOnce(slot);
    slot.timer = setInterval(() => void this.sampleOnce(slot), slot.unit.sampleIntervalMs);
    slot.timer.unref();
  }

  private stopSlot(slot: Slot): void {
    if (slot.timer !== undefined) clearInterval(slot.timer);
    delete slot.timer;
    slot.controller?.abort(new Error('health runner stopped'));
  }

  private async sampleOnce(slot: Slot, deadlineMs?: number): Promise<SampleOutcome> {
    const { unit } = slot;
    const started = performance.now();
    const done = (o: SampleOutcome): SampleOutcome => {
      this.opts.onSample?.(unit, o);
      return o;
    };
    // One sample at a time per unit; a slow one makes this round a no-op, not a queue.
    if (slot.inFlight || slot.abandoned >= this.maxAbandoned) {
      return done({ ok: false, reason: 'skipped', message: 'previous sample still running', durationMs: 0 });
    }
    slot.inFlight = true;
    const controller = new AbortController();
    slot.controller = controller;
    const limit = Math.min(unit.timeoutMs, deadlineMs ?? Number.POSITIVE_INFINITY);
    let timer: NodeJS.Timeout | undefined;
    const timeoutError = new SampleTimeoutError(`sample took longer than ${limit} ms`);
    const sampling = Promise.resolve().then(() => unit.sample(controller.signal));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(timeoutError);
      }, limit);
      timer.unref();
    });
    try {
      const value = await Promise.race([sampling, timeout]);
      const durationMs = performance.now() - started;
      if (!Number.isFinite(value)) {
        this.opts.library.recordError(unit.name, `sampler returned ${String(value)}`);
        return done({
          ok: false,
          reason: 'invalid',
          message: `not a finite number: ${String(value)}`,
          durationMs,
        });
      }
      const output = judgeSample(unit, slot.window, value, this.now());
      this.opts.library.record(output);
      return done({ ok: true, output, durationMs });
    } catch (e) {
      const durationMs = performance.now() - started;
      const message = errorMessage(e);
      this.opts.library.recordError(unit.name, message);
      if (e === timeoutError) {
        controller.abort(timeoutError);
        slot.abandoned++;
        // The abandoned promise releases its slot only when it finally settles.
        void sampling.then(
          () => {
            slot.abandoned--;
          },
          () => {
            slot.abandoned--;
          },
        );
        this.logger.debug({ unit: unit.name, limit }, 'health: sample timed out');
        return done({ ok: false, reason: 'timeout', message, durationMs });
      }
      this.logger.debug({ unit: unit.name, err: message }, 'health: sample failed');
      return done({ ok: false, reason: 'error', message, durationMs });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      slot.inFlight = false;
      if (slot.controller === controller) delete slot.controller;
    }
  }
}
