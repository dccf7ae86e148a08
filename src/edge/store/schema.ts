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
  // 2: device twins (src/edge/store/twins.ts): desired/reported per property, a bounded ring of
  // reported samples per property, and each device's Online state (issue 9, DESIGN §5)
  `
  CREATE TABLE device_twins (
    device TEXT NOT NULL,
    property TEXT NOT NULL,
    desired TEXT,
    desired_at INTEGER,
    reported TEXT,
    reported_at INTEGER,
    history_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, property)
  ) STRICT;
  CREATE TABLE device_history (
    device TEXT NOT NULL,
    property TEXT NOT NULL,
    slot INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    value TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (device, property, slot)
  ) STRICT;
  CREATE TABLE device_state (
    device TEXT PRIMARY KEY,
    online INTEGER NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    last_online INTEGER
  ) STRICT;
  `,
  // 3: change log for the metaserver's watch (docs/metaserver.md): one row per local revision,
  // bounded by EdgeStoreOptions.changeRetention. \`body\` is the object after an upsert or the last
  // held object of a delete; \`prev\` the object before an upsert, so a watch with a selector can
  // turn "stopped matching" into DELETED as the API server does. changeFloor: the oldest
  // revision a watch can resume from (all later changes are in the log); an existing store starts
  // its log at its current revision.
  `
  CREATE TABLE changes (
    rev INTEGER PRIMARY KEY,
    grp TEXT NOT NULL,
    kind TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    prev TEXT
  ) STRICT;
  INSERT INTO meta (k, v) VALUES ('changeFloor', CAST(MAX(
    COALESCE((SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'localRev'), 0),
    COALESCE((SELECT MAX(local_rev) FROM objects), 0)) AS TEXT))
    ON CONFLICT(k) DO UPDATE SET v = excluded.v;
  `,
  // 4: the latest status the edge itself reported for an object it holds (pod, node, device
  // status from the outbox path), so the metaserver serves the node's own truth instead of the
  // cloud's copy, which the channel does not re-send on status-only changes (docs/metaserver.md).
  // \`uid\` binds it to one incarnation; \`rev\` is the store revision of the last status change.
  `
  CREATE TABLE local_status (
    key_id TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    body TEXT NOT NULL,
    rev INTEGER NOT NULL
  ) STRICT;
  `,
];
