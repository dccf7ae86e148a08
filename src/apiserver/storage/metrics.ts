/** Prometheus metrics of the SQLite store, on the registry the composition root injects. */
import { Counter, Gauge, type Registry } from 'prom-client';

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

  constructor(registry: Registry | undefined, src: StorageGaugeSources) {
    const registers = registry === undefined ? [] : [registry];
    this.writes = new Counter({
      name: 'tether_apiserver_storage_writes_total',
      help: 'Committed writes to the API server store, by operation.',
      labelNames: ['op'],
      registers,
    });
    this.writesRejected = new Counter({
      name: 'tether_apiserver_storage_writes_rejected_total',
      help: 'Writes refused by the store (conflict, not found, already exists), by operation and reason.',
      labelNames: ['op', 'reason'],
      registers,
    });
    this.slowWatcherCloses = new Counter({
      name: 'tether_apiserver_storage_slow_watcher_closes_total',
      help: 'Watchers closed because they fell behind their buffer or behind compaction.',
      registers,
    });
    this.compactions = new Counter({
      name: 'tether_apiserver_storage_compactions_total',
      help: 'Compactions that removed history.',
      registers,
    });
    new Gauge({
      name: 'tether_apiserver_storage_db_size_bytes',
      help: 'Size of the SQLite database file plus its write-ahead log.',
      registers,
      collect() {
        this.set(src.dbSizeBytes());
      },
    });
    new Gauge({
      name: 'tether_apiserver_storage_watchers',
      help: 'Open watchers.',
      registers,
      collect() {
        this.set(src.watchers());
      },
    });
    new Gauge({
      name: 'tether_apiserver_storage_revision',
      help: 'Latest committed revision.',
      registers,
      collect() {
        this.set(src.currentRevision());
      },
    });
    new Gauge({
      name: 'tether_apiserver_storage_compacted_revision',
      help: 'Revision up to which history has been compacted.',
      registers,
      collect() {
        this.set(src.compactedRevision());
      },
    });
  }
}
