/**
 * Periodic compaction (upstream kube-apiserver compacts etcd every 5 minutes to the
 * revision it saw at the previous run; kine keeps the last 1000 revisions). Each tick
 * records (time, current revision) and compacts to the newest revision that satisfies
 * every retention rule given: at least `keepRevisions` revisions back, and at least
 * `keepMs` of history (the revision current `keepMs` ago, from the recorded samples).
 */
import { z } from 'zod';

import {
  ConfigError,
  DisposableStore,
  errorMessage,
  silentLogger,
  type Component,
  type Logger,
} from '../../common/index.js';

export const CompactorConfigSchema = z
  .object({
    intervalMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** Keep at least this many of the latest revisions. */
    keepRevisions: z.number().int().nonnegative().optional(),
    /** Keep at least this much history (ms). Defaults to 5 minutes when neither rule is given. */
    keepMs: z.number().int().nonnegative().optional(),
  })
  .strict();

export type CompactorConfig = z.input<typeof CompactorConfigSchema>;

/** The two methods the compactor uses (a hand-written fake suffices in unit tests). */
export interface Compactable {
  currentRevision(): number;
  compactedRevision(): number;
  compact(revision: number): void;
}

export interface CompactorDeps {
  logger?: Logger;
  /** Clock (ms); injectable for tests. */
  now?: () => number;
}

export class StorageCompactor implements Component {
  readonly name = 'storage-compactor';
  private readonly config: {
    intervalMs: number;
    keepRevisions: number | undefined;
    keepMs: number | undefined;
  };
  private readonly logger: Logger;
  private readonly now: () => number;
  /** (time, revision) samples, oldest first; pruned to what keepMs still needs. */
  private samples: { at: number; revision: number }[] = [];
  private disposables: DisposableStore | undefined;

  constructor(
    private readonly storage: Compactable,
    config: CompactorConfig = {},
    deps: CompactorDeps = {},
  ) {
    const parsed = CompactorConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new ConfigError(
        'invalid compactor configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    }
    const c = parsed.data;
    const neither = c.keepRevisions === undefined && c.keepMs === undefined;
    this.config = Object.freeze({
      intervalMs: c.intervalMs,
      keepRevisions: c.keepRevisions,
      keepMs: neither ? 5 * 60_000 : c.keepMs,
    });
    this.logger = deps.logger ?? silentLogger();
    this.now = deps.now ?? Date.now;
  }

  start(): Promise<void> {
    if (this.disposables !== undefined) return Promise.resolve();
    this.disposables = new DisposableStore();
    this.record();
    this.disposables.interval(() => {
      this.tick();
    }, this.config.intervalMs);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    const d = this.disposables;
    this.disposables = undefined;
    this.samples = [];
    await d?.dispose();
  }

  /** The revision the next run would compact to (0 = nothing yet). */
  target(): number {
    const now = this.now();
    const current = this.storage.currentRevision();
    let target = current;
    if (this.config.keepRevisions !== undefined)
      target = Math.min(target, current - this.config.keepRevisions);
    if (this.config.keepMs !== undefined) {
      const cutoff = now - this.config.keepMs;
      // The revision current at `cutoff` is at most that of the newest sample taken before it.
      let atCutoff = 0;
      for (const s of this.samples) if (s.at <= cutoff) atCutoff = s.revision;
      target = Math.min(target, atCutoff);
    }
    return Math.max(0, target);
  }

  /** One run: record a sample, compact if the target moved. Errors are logged, not thrown. */
  tick(): number {
    this.record();
    const target = this.target();
    try {
      if (target > this.storage.compactedRevision()) this.storage.compact(target);
    } catch (e) {
      this.logger.error({ err: errorMessage(e), target }, 'compaction failed');
    }
    this.prune();
    return target;
  }

  private record(): void {
    this.samples.push({ at: this.now(), revision: this.storage.currentRevision() });
  }

  /** Drop samples older than the newest one still at or before the cutoff. */
  private prune(): void {
    if (this.config.keepMs === undefined) {
      this.samples = this.samples.slice(-1);
      return;
    }
    const cutoff = this.now() - this.config.keepMs;
    let keepFrom = 0;
    this.samples.forEach((s, i) => {
      if (s.at <= cutoff) keepFrom = i;
    });
    this.samples = this.samples.slice(keepFrom);
  }
}
