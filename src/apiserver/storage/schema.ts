/**
 * The on-disk schema, versioned through `PRAGMA user_version` (= number of migrations
 * applied). Migrations only ever append; a file written by a newer Tether is refused.
 *
 * kv         the revision log (one row per write, kine's `kine` table): `revision` is the
 *            rowid, so the log is stored in revision order and watch replay is a range scan.
 *            A delete writes a tombstone row (deleted = 1) that carries the last value.
 * kv_latest  one row per *live* key → its latest revision: the "current state" index used
 *            by get/list/count at the latest revision, and the uniqueness check of create
 *            (its primary key turns a duplicate create into SQLITE_CONSTRAINT_PRIMARYKEY).
 * meta       named integers; `compact_revision` is the compaction watermark.
 *
 * The current revision is not stored: it is max(max(kv.revision), compact_revision).
 * Compaction deletes only rows at or below the watermark it records in the same
 * transaction, so a revision is never handed out twice, even across restarts.
 */
import type { Database } from 'better-sqlite3';

import { StorageFailure } from './errors.js';

export const MIGRATIONS: readonly string[] = [
  // 1: the revision log, the latest-value index and the metadata table.
  `
  CREATE TABLE kv (
    revision        INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL,
    created         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision   INTEGER NOT NULL,
    value           TEXT    NOT NULL
  );
  CREATE INDEX kv_key_revision ON kv (key, revision);
  CREATE TABLE kv_latest (
    key             TEXT    PRIMARY KEY,
    revision        INTEGER NOT NULL,
    create_revision INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO meta (name, value) VALUES ('compact_revision', 0);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the missing migrations, each in its own transaction with its version bump. */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StorageFailure(
      'STORAGE_SCHEMA',
      `database schema version ${current} is newer than this build supports (${SCHEMA_VERSION})`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v] ?? '';
    db.transaction(() => {
      db.exec(sql);
      // PRAGMA takes no bound parameters; v is a number we computed.
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
