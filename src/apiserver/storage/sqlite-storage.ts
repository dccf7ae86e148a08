/**
 * `Storage` on one SQLite file (kine's idea — etcd semantics on a SQL revision log —
 * written for an in-process, synchronous driver). See schema.ts for the tables and
 * watcher.ts for the watch protocol.
 *
 * Durability: WAL journal; `synchronous = FULL` by default. In WAL mode a committed
 * transaction is in the WAL file (the OS page cache) before `commit` returns, so with
 * either FULL or NORMAL an acknowledged write survives SIGKILL of this process (tested).
 * The difference is a host crash or power loss: NORMAL fsyncs only at checkpoints, so the
 * last acknowledged writes can roll back — and then a revision that clients and edge
 * nodes already hold as a resourceVersion would be handed out again for different
 * content, breaking DESIGN §2's "compare resourceVersions" resync. FULL fsyncs the WAL at
 * each commit, as etcd fsyncs its WAL before acknowledging. Measured (bench/storage.ts, this
 * 2-core VM, 1.2 KB pods): FULL ≈ 200–250 creates/s (one ~4 ms fsync each), NORMAL ≈ 5,500/s.
 * 200 writes/s is well above what the control plane of one small site writes (a Lease
 * renewal per node every 10 s, status changes), and a lost acknowledged write is
 * unrecoverable while slowness is visible, so FULL is the default; NORMAL is an option for
 * throwaway clusters (CI, demos) where a host crash loses the whole cluster anyway.
 *
 * Exclusive locking: the watch fan-out only sees writes made through this object, so a
 * second writer (another process on the same file) would silently break watch. The file
 * is opened with `locking_mode = EXCLUSIVE`; a second open fails with STORAGE_LOCKED.
 */
import { statSync } from 'node:fs';

import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { z } from 'zod';

import {
  ConfigError,
  err,
  ok,
  silentLogger,
  type Logger,
  type Registry,
  type Result,
} from '../../common/index.js';
import { isUniqueViolation, StorageError, StorageFailure, translateFailure } from './errors.js';
import { decodeContinue, encodeContinue, prefixEnd } from './keys.js';
import { StorageMetrics } from './metrics.js';
import { migrate } from './schema.js';
import type {
  JsonObject,
  ListOptions,
  ListResult,
  Storage,
  StorageErrorLike,
  StoredObject,
  WatchEvent,
  WatchOptions,
  Watcher,
} from './types.js';
import { LogWatcher, type WatchSource } from './watcher.js';

export const SqliteStorageConfigSchema = z
  .object({
    /** See the file comment: FULL survives host crashes, NORMAL only process crashes. */
    synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
    /** Default per-watcher buffer when WatchOptions.maxBuffered is not given. */
    watchMaxBuffered: z.number().int().positive().default(1000),
    /** Log rows read per replay step of a watcher that starts in the past. */
    watchPageSize: z.number().int().positive().default(500),
    /** Revisions compacted per transaction, so a large compaction is not one huge write. */
    compactBatch: z.number().int().positive().default(10_000),
    /** How long open() waits for a lock held by another process before STORAGE_LOCKED. */
    lockTimeoutMs: z.number().int().nonnegative().default(1000),
  })
  .strict();

export type SqliteStorageConfig = z.input<typeof SqliteStorageConfigSchema>;

export interface SqliteStorageDeps {
  logger?: Logger;
  /** Metrics go here; without one they are kept but not exported. */
  registry?: Registry;
}

interface LatestRow {
  revision: number;
  create_revision: number;
  value: string;
}

interface ListRow {
  key: string;
  revision: number;
  create_revision: number;
  value: string;
}

interface LogRow {
  revision: number;
  key: string;
  created: number;
  deleted: number;
  create_revision: number;
  value: string;
  p_revision: number | null;
  p_create_revision: number | null;
  p_value: string | null;
}

type WriteOp = 'create' | 'update' | 'delete';

const parseValue = (text: string): JsonObject => JSON.parse(text) as JsonObject;

export class SqliteStorage implements Storage {
  private rev: number;
  private compacted: number;
  private closed = false;
  private readonly watchers = new Set<LogWatcher>();
  private readonly metrics: StorageMetrics;
  private readonly stmtCache = new Map<string, Statement>();
  private readonly source: WatchSource;

  private readonly sGetLatest: Statement<[string], LatestRow>;
  private readonly sInsertLatest: Statement<[string, number, number]>;
  private readonly sUpdateLatest: Statement<[number, string]>;
  private readonly sDeleteLatest: Statement<[string]>;
  private readonly sInsertLog: Statement<[number, string, number, number, number, number, string]>;
  private readonly sLastRevOfKey: Statement<[string], number | null>;
  private readonly sCompactPrev: Statement<[number, number]>;
  private readonly sCompactTombstones: Statement<[number, number]>;
  private readonly sSetMeta: Statement<[number, string]>;
  /** One transaction wrapper for every write (better-sqlite3 rolls back if `fn` throws). */
  private readonly tx: Database.Transaction<(fn: () => unknown) => unknown>;

  private constructor(
    private readonly db: Db,
    readonly path: string,
    private readonly config: z.output<typeof SqliteStorageConfigSchema>,
    private readonly logger: Logger,
    registry: Registry | undefined,
  ) {
    this.compacted =
      db.prepare<[], number>(`SELECT value FROM meta WHERE name = 'compact_revision'`).pluck().get() ?? 0;
    const maxRev = db.prepare<[], number | null>('SELECT MAX(revision) FROM kv').pluck().get() ?? 0;
    // Rows above the watermark are never deleted, so this is the last revision handed out.
    this.rev = Math.max(maxRev, this.compacted);

    this.sGetLatest = db.prepare(
      'SELECT kv.revision, kv.create_revision, kv.value FROM kv_latest l JOIN kv ON kv.revision = l.revision WHERE l.key = ?',
    );
    this.sInsertLatest = db.prepare(
      'INSERT INTO kv_latest (key, revision, create_revision) VALUES (?, ?, ?)',
    );
    this.sUpdateLatest = db.prepare('UPDATE kv_latest SET revision = ? WHERE key = ?');
    this.sDeleteLatest = db.prepare('DELETE FROM kv_latest WHERE key = ?');
    this.sInsertLog = db.prepare(
      'INSERT INTO kv (revision, key, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.sLastRevOfKey = db
      .prepare<[string], number | null>('SELECT MAX(revision) FROM kv WHERE key = ?')
      .pluck();
    // Compaction of (from, to]: every row there supersedes its prev_revision row, which is
    // therefore history; tombstones there are history too. What remains at or below `to`
    // is exactly the latest row of each key still live at `to` (etcd's compaction rule).
    this.sCompactPrev = db.prepare(
      'DELETE FROM kv WHERE revision IN (SELECT prev_revision FROM kv WHERE revision > ? AND revision <= ? AND prev_revision > 0)',
    );
    this.sCompactTombstones = db.prepare(
      'DELETE FROM kv WHERE revision > ? AND revision <= ? AND deleted = 1',
    );
    this.sSetMeta = db.prepare('UPDATE meta SET value = ? WHERE name = ?');
    this.tx = db.transaction((fn: () => unknown) => fn());

    this.source = {
      currentRevision: () => this.rev,
      compactedRevision: () => this.compacted,
      readEvents: (prefix, after, limit) => this.readEvents(prefix, after, limit),
      detach: (w) => {
        this.watchers.delete(w);
      },
    };
    this.metrics = new StorageMetrics(registry, {
      dbSizeBytes: () => this.dbSizeBytes(),
      watchers: () => this.watchers.size,
      currentRevision: () => this.rev,
      compactedRevision: () => this.compacted,
    });
  }

  /**
   * Opens (creating if needed) the store at `path`: exclusive lock, WAL, integrity check
   * (`PRAGMA quick_check`), schema migrations. Throws ConfigError or StorageFailure.
   */
  static open(path: string, config: SqliteStorageConfig = {}, deps: SqliteStorageDeps = {}): SqliteStorage {
    const parsed = SqliteStorageConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new ConfigError(
        'invalid storage configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    }
    if (path === '' || path === ':memory:') {
      throw new ConfigError('storage needs a file path (an in-memory database is not durable)');
    }
    const cfg = parsed.data;
    const logger = deps.logger ?? silentLogger();
    let db: Db;
    try {
      db = new Database(path, { timeout: cfg.lockTimeoutMs });
    } catch (e) {
      throw translateFailure(e, `opening ${path}`);
    }
    try {
      // Must precede the switch to WAL, so the WAL index lives in heap memory, not -shm.
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal')
        throw new StorageFailure('STORAGE_INTERNAL', `could not enable WAL (journal_mode=${String(mode)})`);
      db.pragma(`synchronous = ${cfg.synchronous}`);
      // After a checkpoint, truncate the WAL back to this size instead of keeping its peak.
      db.pragma('journal_size_limit = 16777216');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        throw new StorageFailure('STORAGE_CORRUPT', `integrity check of ${path} failed: ${String(check)}`);
      }
      migrate(db);
      const storage = new SqliteStorage(db, path, cfg, logger, deps.registry);
      logger.info(
        { path, revision: storage.rev, compactedRevision: storage.compacted, synchronous: cfg.synchronous },
        'storage opened',
      );
      return storage;
    } catch (e) {
      db.close();
      throw translateFailure(e, `opening ${path}`);
    }
  }

  /** Closes every watcher (reason 'CLOSED') and the database. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watchers]) w.close('CLOSED');
    this.stmtCache.clear();
    this.metrics.dispose();
    this.db.close();
    this.logger.info({ path: this.path, revision: this.rev }, 'storage closed');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  currentRevision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  get(key: string): StoredObject | undefined {
    this.assertOpen();
    const row = this.run(() => this.sGetLatest.get(key), 'get');
    return row === undefined ? undefined : toStored(key, row.revision, row.create_revision, row.value);
  }

  count(prefix: string): number {
    this.assertOpen();
    const end = prefixEnd(prefix);
    return this.run(() => this.countLatest(prefix, end), 'count');
  }

  /**
   * Lists live keys under `prefix` in key order. `revision` <= 0 means latest (as etcd's
   * Range); a revision above the current one reads the current state (upstream's
   * "NotOlderThan"); callers wanting an exact future revision compare currentRevision().
   * With `continue`, the token's snapshot revision is used and `revision` is ignored.
   */
  list(prefix: string, opts: ListOptions = {}): Result<ListResult, StorageErrorLike> {
    if (this.closed) return err(closedError());
    let snapshot = this.rev;
    let start = prefix;
    if (opts.continue !== undefined && opts.continue !== '') {
      const token = decodeContinue(opts.continue, prefix);
      if (!token.ok) return err(token.error);
      if (token.revision > this.rev) {
        return err(
          new StorageError('INVALID_CONTINUE', 'continue key is not valid: revision is in the future'),
        );
      }
      if (token.revision < this.compacted) return err(compactedError(token.revision, this.compacted, true));
      snapshot = token.revision;
      // Upstream's keyFunc + "\x00": the smallest key after the last one returned.
      start = `${token.lastKey}\u0000`;
    } else if (opts.revision !== undefined && opts.revision > 0) {
      if (opts.revision < this.compacted) return err(compactedError(opts.revision, this.compacted, false));
      snapshot = Math.min(opts.revision, this.rev);
    }
    const limit = opts.limit !== undefined && opts.limit > 0 ? Math.floor(opts.limit) : undefined;
    const end = prefixEnd(prefix);
    const latest = snapshot === this.rev;
    const rows = this.run(
      () => (latest ? this.listLatest(start, end, limit) : this.listAt(snapshot, start, end, limit)),
      'list',
    );
    const more = limit !== undefined && rows.length > limit;
    if (more) rows.length = limit;
    const items = rows.map((r) => toStored(r.key, r.revision, r.create_revision, r.value));
    const last = items.at(-1);
    if (!more || last === undefined) return ok({ items, revision: snapshot });
    const after = `${last.key}\u0000`;
    const remaining = this.run(
      () => (latest ? this.countLatest(after, end) : this.countAt(snapshot, after, end)),
      'list',
    );
    return ok({
      items,
      revision: snapshot,
      continue: encodeContinue(snapshot, prefix, last.key),
      remainingItemCount: remaining,
    });
  }

  create(key: string, value: JsonObject): Result<StoredObject, StorageErrorLike> {
    if (this.closed) return err(closedError());
    const text = serialize(value);
    const next = this.rev + 1;
    const outcome = this.write('create', () => {
      try {
        this.sInsertLatest.run(key, next, next);
      } catch (e) {
        // kv_latest's primary key is the uniqueness check (translated by code, STYLE §10).
        if (isUniqueViolation(e)) return false;
        throw e;
      }
      const prev = this.sLastRevOfKey.get(key) ?? 0;
      this.sInsertLog.run(next, key, 1, 0, next, prev, text);
      return true;
    });
    if (!outcome) {
      this.metrics.writesRejected.inc({ op: 'create', reason: 'ALREADY_EXISTS' });
      return err(new StorageError('ALREADY_EXISTS', `key ${key} already exists`));
    }
    this.committed('create', next, key, () => ({ type: 'ADDED', object: toStored(key, next, next, text) }));
    return ok(toStored(key, next, next, text));
  }

  update(
    key: string,
    value: JsonObject,
    expectedModRevision?: number,
  ): Result<StoredObject, StorageErrorLike> {
    if (this.closed) return err(closedError());
    const text = serialize(value);
    const next = this.rev + 1;
    const outcome = this.write('update', () => {
      const cur = this.sGetLatest.get(key);
      if (cur === undefined) return 'NOT_FOUND' as const;
      if (expectedModRevision !== undefined && cur.revision !== expectedModRevision)
        return 'CONFLICT' as const;
      this.sInsertLog.run(next, key, 0, 0, cur.create_revision, cur.revision, text);
      this.sUpdateLatest.run(next, key);
      return cur;
    });
    if (outcome === 'NOT_FOUND' || outcome === 'CONFLICT') {
      this.metrics.writesRejected.inc({ op: 'update', reason: outcome });
      return err(rejection(outcome, key, expectedModRevision));
    }
    const createRev = outcome.create_revision;
    this.committed('update', next, key, () => ({
      type: 'MODIFIED',
      object: toStored(key, next, createRev, text),
      previous: toStored(key, outcome.revision, createRev, outcome.value),
    }));
    return ok(toStored(key, next, createRev, text));
  }

  delete(key: string, expectedModRevision?: number): Result<StoredObject, StorageErrorLike> {
    if (this.closed) return err(closedError());
    const next = this.rev + 1;
    const outcome = this.write('delete', () => {
      const cur = this.sGetLatest.get(key);
      if (cur === undefined) return 'NOT_FOUND' as const;
      if (expectedModRevision !== undefined && cur.revision !== expectedModRevision)
        return 'CONFLICT' as const;
      // The tombstone carries the last value: DELETED events and old-revision reads need it.
      this.sInsertLog.run(next, key, 0, 1, cur.create_revision, cur.revision, cur.value);
      this.sDeleteLatest.run(key);
      return cur;
    });
    if (outcome === 'NOT_FOUND' || outcome === 'CONFLICT') {
      this.metrics.writesRejected.inc({ op: 'delete', reason: outcome });
      return err(rejection(outcome, key, expectedModRevision));
    }
    this.committed('delete', next, key, () => ({
      type: 'DELETED',
      object: toStored(key, next, outcome.create_revision, outcome.value),
    }));
    return ok(toStored(key, next, outcome.create_revision, outcome.value));
  }

  watch(prefix: string, opts: WatchOptions): Result<Watcher, StorageErrorLike> {
    if (this.closed) return err(closedError());
    // A non-number here is a caller bug (the REST layer parses resourceVersion), not a value.
    if (!Number.isFinite(opts.fromRevision)) throw new TypeError(`watch fromRevision ${opts.fromRevision}`);
    const from = Math.max(0, Math.floor(opts.fromRevision));
    if (from < this.compacted) return err(compactedError(from, this.compacted, false));
    // A buffer below 1 would close every watcher on its first event.
    const maxBuffered = Math.max(1, Math.floor(opts.maxBuffered ?? this.config.watchMaxBuffered));
    const pageSize = Math.max(1, Math.min(this.config.watchPageSize, maxBuffered));
    // The first replay page is read in the constructor, in this same tick (watcher.ts).
    const w = this.run(
      () =>
        new LogWatcher(this.source, prefix, from, maxBuffered, pageSize, () => {
          this.metrics.slowWatcherCloses.inc();
        }),
      'watch',
    );
    if (w.closedReason === undefined) this.watchers.add(w);
    return ok(w);
  }

  /**
   * Drops history at or below `revision` (clamped to the current revision), in batches of
   * `compactBatch` revisions, each batch one transaction that also moves the durable
   * watermark. Replaying watchers overtaken by it are closed with 'SLOW'.
   */
  compact(revision: number): void {
    this.assertOpen();
    const target = Math.min(Math.floor(revision), this.rev);
    if (target <= this.compacted) return;
    const started = this.compacted;
    const t0 = performance.now();
    let deleted = 0;
    while (this.compacted < target) {
      const from = this.compacted;
      const to = Math.min(target, from + this.config.compactBatch);
      deleted += this.run(
        () =>
          this.tx.immediate(() => {
            const a = this.sCompactPrev.run(from, to).changes;
            const b = this.sCompactTombstones.run(from, to).changes;
            this.sSetMeta.run(to, 'compact_revision');
            return a + b;
          }) as number,
        'compact',
      );
      this.compacted = to;
    }
    for (const w of [...this.watchers]) w.compacted(target);
    this.metrics.compactions.inc();
    // Debug: the compactor calls this in many small steps and logs once per run.
    this.logger.debug(
      { from: started, to: target, deletedRows: deleted, ms: Math.round(performance.now() - t0) },
      'storage compacted',
    );
  }

  /** Size of the database file plus its WAL, for the db-size gauge and health checks. */
  dbSizeBytes(): number {
    let total = 0;
    for (const p of [this.path, `${this.path}-wal`]) {
      try {
        total += statSync(p).size;
      } catch {
        // The WAL may not exist (after a clean close); that is size 0.
      }
    }
    return total;
  }

  /** Runs `PRAGMA quick_check` now (for the health judgement unit "SQLite integrity"). */
  quickCheck(): string {
    this.assertOpen();
    return String(this.run(() => this.db.pragma('quick_check', { simple: true }), 'quick_check'));
  }

  // ---- internals -------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Runs a database step, turning SQLite failures into StorageFailure (by code). */
  private run<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (e) {
      throw translateFailure(e, `storage ${what}`);
    }
  }

  /** One write transaction; the in-memory revision moves only after it commits. */
  private write<T>(op: WriteOp, fn: () => T): T {
    return this.run(() => this.tx.immediate(fn) as T, op);
  }

  /** After a commit: advance the revision, count it, fan out to live watchers. */
  private committed(op: WriteOp, revision: number, key: string, makeEvent: () => WatchEvent): void {
    this.rev = revision;
    this.metrics.writes.inc({ op });
    let event: WatchEvent | undefined;
    for (const w of this.watchers) {
      if (!w.wants(key, revision)) continue;
      // Built once and shared by every watcher: consumers must not mutate events.
      event ??= makeEvent();
      w.deliver(event);
    }
  }

  private stmt<P extends unknown[], R>(sql: string): Statement<P, R> {
    let s = this.stmtCache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s as unknown as Statement<P, R>;
  }

  private listLatest(start: string, end: string | undefined, limit: number | undefined): ListRow[] {
    const sql =
      'SELECT l.key, kv.revision, kv.create_revision, kv.value FROM kv_latest l JOIN kv ON kv.revision = l.revision ' +
      `WHERE l.key >= ?${end === undefined ? '' : ' AND l.key < ?'} ORDER BY l.key LIMIT ?`;
    return this.stmt<unknown[], ListRow>(sql).all(...bounds(start, end), sqlLimit(limit));
  }

  /**
   * The state at `revision` from the log: for each key the latest row at or below it,
   * unless that row is a tombstone. Scans (key, revision) in key order so LIMIT stops early.
   */
  private listAt(
    revision: number,
    start: string,
    end: string | undefined,
    limit: number | undefined,
  ): ListRow[] {
    const sql =
      'SELECT kv.key, kv.revision, kv.create_revision, kv.value FROM kv ' +
      `WHERE kv.key >= ?${end === undefined ? '' : ' AND kv.key < ?'} AND kv.revision <= ? AND kv.deleted = 0 ` +
      'AND kv.revision = (SELECT MAX(r.revision) FROM kv r WHERE r.key = kv.key AND r.revision <= ?) ' +
      'ORDER BY kv.key LIMIT ?';
    return this.stmt<unknown[], ListRow>(sql).all(...bounds(start, end), revision, revision, sqlLimit(limit));
  }

  private countLatest(start: string, end: string | undefined): number {
    const sql = `SELECT COUNT(*) FROM kv_latest WHERE key >= ?${end === undefined ? '' : ' AND key < ?'}`;
    return (
      this.stmt<unknown[], number>(sql)
        .pluck()
        .get(...bounds(start, end)) ?? 0
    );
  }

  private countAt(revision: number, start: string, end: string | undefined): number {
    const sql =
      'SELECT COUNT(*) FROM kv ' +
      `WHERE kv.key >= ?${end === undefined ? '' : ' AND kv.key < ?'} AND kv.revision <= ? AND kv.deleted = 0 ` +
      'AND kv.revision = (SELECT MAX(r.revision) FROM kv r WHERE r.key = kv.key AND r.revision <= ?)';
    return (
      this.stmt<unknown[], number>(sql)
        .pluck()
        .get(...bounds(start, end), revision, revision) ?? 0
    );
  }

  /** Log rows for watch replay, with the previous row joined for MODIFIED events. */
  private readEvents(prefix: string, after: number, limit: number): WatchEvent[] {
    const end = prefixEnd(prefix);
    // `+kv.key` keeps the planner on the rowid (= revision) range: replay wants revision
    // order and must stop at LIMIT, not sort every matching row of the key index.
    const sql =
      'SELECT kv.revision, kv.key, kv.created, kv.deleted, kv.create_revision, kv.value, ' +
      'p.revision AS p_revision, p.create_revision AS p_create_revision, p.value AS p_value ' +
      'FROM kv LEFT JOIN kv p ON p.revision = kv.prev_revision AND kv.created = 0 AND kv.deleted = 0 ' +
      `WHERE kv.revision > ? AND +kv.key >= ?${end === undefined ? '' : ' AND +kv.key < ?'} ` +
      'ORDER BY kv.revision LIMIT ?';
    const rows = this.run(
      () => this.stmt<unknown[], LogRow>(sql).all(after, ...bounds(prefix, end), limit),
      'watch',
    );
    return rows.map((r) => toEvent(r));
  }
}

function toEvent(r: LogRow): WatchEvent {
  const object = toStored(r.key, r.revision, r.create_revision, r.value);
  if (r.deleted === 1) return { type: 'DELETED', object };
  if (r.created === 1) return { type: 'ADDED', object };
  if (r.p_revision === null || r.p_value === null || r.p_create_revision === null) {
    // Compaction keeps the previous row of every row above the watermark (schema.ts).
    throw new StorageFailure(
      'STORAGE_INTERNAL',
      `revision ${r.revision} of ${r.key}: previous row is missing`,
    );
  }
  return {
    type: 'MODIFIED',
    object,
    previous: toStored(r.key, r.p_revision, r.p_create_revision, r.p_value),
  };
}

function toStored(key: string, modRevision: number, createRevision: number, text: string): StoredObject {
  return { key, modRevision, createRevision, value: parseValue(text) };
}

function serialize(value: JsonObject): string {
  // A non-object here is a caller bug (the REST layer validates bodies), so it throws.
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TypeError('storage value must be a JSON object');
  return JSON.stringify(value);
}

function bounds(start: string, end: string | undefined): string[] {
  return end === undefined ? [start] : [start, end];
}

/** SQLite's "no limit" is LIMIT -1; one extra row tells whether more remain. */
function sqlLimit(limit: number | undefined): number {
  return limit === undefined ? -1 : limit + 1;
}

function closedError(): StorageError {
  return new StorageError('CLOSED', 'storage is closed');
}

function compactedError(revision: number, compacted: number, isContinue: boolean): StorageError {
  return new StorageError(
    'COMPACTED',
    isContinue
      ? `continue token revision ${revision} has been compacted (oldest available ${compacted})`
      : `revision ${revision} has been compacted (oldest available ${compacted})`,
  );
}

function rejection(code: 'NOT_FOUND' | 'CONFLICT', key: string, expected: number | undefined): StorageError {
  return code === 'NOT_FOUND'
    ? new StorageError('NOT_FOUND', `key ${key} not found`)
    : new StorageError('CONFLICT', `key ${key} was modified (expected modRevision ${String(expected)})`);
}
