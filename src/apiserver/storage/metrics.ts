/**
 * Prometheus metrics of the SQLite store, on the registry the composition root injects.
 * `dispose()` (on close) unregisters them, so a component restarted in the same process
 * can register them again (prom-client refuses duplicate names).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

const NAMES = {
  writes: 'tether_apiserver_storage_writes_total',
  writesRejected: 'tether_apiserver_storage_writes_rejected_total',
  slowWatcherCloses: 'tether_apiserver_storage_slow_watcher_closes_total',
  compactions: 'tether_apiserver_storage_compactions_total',
  dbSize: 'tether_apiserver_storage_db_size_bytes',
  watchers: 'tether_apiserver_storage_watchers',
  revision: 'tether_apiserver_storage_revision',
  compactedRevision: 'tether_apiserver_storage_compacted_revision',
} as const;

export interface StorageGaugeSources {
  dbSizeBytes(): number;
  watchers(): number;
  currentRevision(): number;
  compactedRevision(): number;
}

export class StorageMetrics {
  readonly writes: Counter<'op'>;
  readonly writesRejected: Counter<'op' | 'reason'>;
  readonly slowWatcherCloses: Counter;
  readonly compactions: Counter;

  constructor(
    private readonly registry: Registry | undefined,
    src: StorageGaugeSources,
  ) {
    const registers = registry === undefined ? [] : [registry];
    this.writes = new Counter({
      name: NAMES.writes,
      help: 'Committed writes to the API server store, by operation.',
      labelNames: ['op'],
      registers,
    });
    this.writesRejected = new Counter({
      name: NAMES.writesRejected,
      help: 'Writes refused by the store (conflict, not found, already exists), by operation and reason.',
      labelNames: ['op', 'reason'],
      registers,
    });
    this.slowWatcherCloses = new Counter({
      name: NAMES.slowWatcherCloses,
      help: 'Watchers closed because they fell behind their buffer or behind compaction.',
      registers,
    });
    this.compactions = new Counter({
      name: NAMES.compactions,
      help: 'Compaction steps that moved the compacted revision.',
      registers,
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge(NAMES.dbSize, 'Size of the SQLite database file plus its write-ahead log.', () =>
      src.dbSizeBytes(),
    );
    gauge(NAMES.watchers, 'Open watchers.', () => src.watchers());
    gauge(NAMES.revision, 'Latest committed revision.', () => src.currentRevision());
    gauge(NAMES.compactedRevision, 'Revision up to which history has been compacted.', () =>
      src.compactedRevision(),
    );
  }

  /** Unregisters every metric of this store. */
  dispose(): void {
    if (this.registry === undefined) return;
    for (const name of Object.values(NAMES)) this.registry.removeSingleMetric(name);
  }
}
