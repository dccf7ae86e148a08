/**
 * Versioned schema of the edge store. Each migration runs once, in order, in one transaction;
 * `PRAGMA user_version` records how far a file has come. Never edit a released migration:
 * append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: objects the node holds, the upstream outbox, and small key/value state
  `
  CREATE TABLE objects (
    key_id TEXT PRIMARY KEY,
    grp TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    namespace TEXT,
    name TEXT NOT NULL,
    uid TEXT NOT NULL,
    resource_version TEXT NOT NULL,
    body TEXT NOT NULL,
    local_rev INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX objects_kind ON objects (grp, kind, namespace, name);
  CREATE TABLE outbox (
    coalesce_key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    key_json TEXT NOT NULL,
    uid TEXT,
    write_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    order_no INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX outbox_order ON outbox (order_no);
  CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) STRICT;
  `,
];
