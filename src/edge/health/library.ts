import { errorMessage, silentLogger, type Logger } from '../../common/index.js';
import { DEFAULT_RULE, combine, type CombinationRule } from './rule.js';
import { formatStatusString } from './status-string.js';
import type { HealthStore } from './store.js';
import type {
  Evaluation,
  HealthEvent,
  UnitName,
  UnitOutput,
  UnitSnapshot,
  UnitState,
  Verdict,
  VerdictRecord,
} from './types.js';
import type { UnitDescriptor } from './unit.js';

export interface StateLibraryOptions {
  rule?: CombinationRule;
  store?: HealthStore;
  now?: () => Date;
  logger?: Logger;
}

interface Entry {
  desc: Pick<UnitDescriptor, 'name' | 'mode' | 'critical' | 'weight' | 'freshnessMs'>;
  output?: UnitOutput;
  lastError?: { message: string; at: Date };
  lastState: UnitState;
}

export function stateOf(output: UnitOutput): UnitState {
  if (output.mode === 'yesno') return output.result === '01' ? 'ok' : 'fail';
  return output.grade === 'ok' ? 'ok' : output.grade === 'warn' ? 'warn' : 'fail';
}

/**
 * The state library (the seed's 状态库, DESIGN §4): the latest time-stamped output of each
 * unit; outputs older than their unit's freshness limit count as unknown; the combination
 * rule turns the rest into a verdict and the status string. Emits typed events when a unit's
 * state or the verdict changes, and persists each new verdict through the HealthStore.
 */
export class StateLibrary {
  private readonly entries = new Map<UnitName, Entry>();
  private readonly listeners = new Set<(e: HealthEvent) => void>();
  private readonly rule: CombinationRule;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private verdict: Verdict | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: StateLibraryOptions = {}) {
    this.rule = opts.rule ?? DEFAULT_RULE;
    this.now = opts.now ?? (() => new Date());
    this.logger = opts.logger ?? silentLogger();
  }

  register(desc: Entry['desc']): void {
    if (this.entries.has(desc.name)) throw new Error(`unit ${desc.name} is already registered`);
    this.entries.set(desc.name, { desc, lastState: 'unknown' });
  }

  unregister(name: UnitName): void {
    this.entries.delete(name);
  }

  has(name: UnitName): boolean {
    return this.entries.has(name);
  }

  record(output: UnitOutput): void {
    const e = this.entries.get(output.unit);
    if (e === undefined) throw new Error(`unit ${output.unit} is not registered`);
    // Outputs can arrive out of order (a slow sample finishing after a faster, later one).
    if (e.output !== undefined && e.output.at > output.at) return;
    e.output = output;
  }

  recordError(name: UnitName, message: string, at: Date = this.now()): void {
    const e = this.entries.get(name);
    if (e !== undefined) e.lastError = { message, at };
  }

  /** Events: verdict and unit-state changes. Returns the unsubscribe function. */
  on(listener: (e: HealthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The current state without side effects. */
  snapshot(): Evaluation {
    const at = this.now();
    const units: UnitSnapshot[] = [];
    for (const e of this.entries.values()) {
      const stale = e.output !== undefined && at.getTime() - e.output.at.getTime() > e.desc.freshnessMs;
      const snap: UnitSnapshot = {
        unit: e.desc.name,
        mode: e.desc.mode,
        critical: e.desc.critical,
        weight: e.desc.weight,
        state: e.output === undefined || stale ? 'unknown' : stateOf(e.output),
        stale,
      };
      if (e.output !== undefined) snap.output = e.output;
      if (e.lastError !== undefined) snap.lastError = e.lastError;
      units.push(snap);
    }
    const { verdict, reasons } = combine(units, this.rule);
    return { verdict, reasons, statusString: formatStatusString(units, at), units, at };
  }

  /** Re-evaluates (freshness included): emits events for what changed and persists a new verdict. */
  evaluate(): Evaluation {
    const ev = this.snapshot();
    for (const u of ev.units) {
      const e = this.entries.get(u.unit);
      if (e === undefined || e.lastState === u.state) continue;
      const previous = e.lastState;
      e.lastState = u.state;
      this.emit({ type: 'unit-changed', unit: u.unit, previous, state: u.state, at: ev.at });
    }
    if (ev.verdict !== this.verdict) {
      const previous = this.verdict;
      this.verdict = ev.verdict;
      this.emit({
        type: 'verdict-changed',
        previous,
        verdict: ev.verdict,
        reasons: ev.reasons,
        statusString: ev.statusString,
        at: ev.at,
      });
      this.persist({
        verdict: ev.verdict,
        reasons: ev.reasons,
        statusString: ev.statusString,
        at: ev.at.toISOString(),
      });
    }
    return ev;
  }

  get currentVerdict(): Verdict | undefined {
    return this.verdict;
  }

  /** Waits for pending saves (stop() and tests). */
  flush(): Promise<void> {
    return this.saving;
  }

  /** Saves the latest record now (e.g. at clean shutdown, so the stored status string is current). */
  saveNow(): Promise<void> {
    const ev = this.snapshot();
    this.persist({
      verdict: ev.verdict,
      reasons: ev.reasons,
      statusString: ev.statusString,
      at: ev.at.toISOString(),
    });
    return this.saving;
  }

  private persist(record: VerdictRecord): void {
    const store = this.opts.store;
    if (store === undefined) return;
    // Saves are chained so the stored record is always the latest verdict, never an older one.
    this.saving = this.saving
      .then(() => store.save(record))
      .catch((e: unknown) => {
        this.logger.warn({ err: errorMessage(e) }, 'health: saving the verdict failed');
      });
  }

  private emit(e: HealthEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.warn({ err: errorMessage(err), event: e.type }, 'health: event listener threw');
      }
    }
  }
}
