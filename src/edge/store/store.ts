import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Registry } from '../../common/index.js';
import { Counter, Gauge } from 'prom-client';
import {
  keyId,
  messageId,
  resourceVersion as rv,
  uid as toUid,
  type InventoryItem,
  type JsonObject,
  type MessageId,
  type ObjectKey,
  type ResourceVersion,
  type StatusWrite,
  type SyncBody,
  type Uid,
} from '../../protocol/index.js';
import { EdgeStoreError, translate } from './errors.js';
import { MIGRATIONS } from './schema.js';

export interface StoredObject {
  readonly key: ObjectKey;
  readonly uid: Uid;
  readonly resourceVersion: ResourceVersion;
  readonly object: JsonObject;
  /** Local, monotonic change counter of the edge store (for local watches). */
  readonly localRev: number;
}

/** The outcome of applying one downstream change. */
export type ApplyOutcome =
  /** written (or deleted) */
  | 'applied'
  /** the store already held exactly this uid and resourceVersion: nothing written (a redundant send) */
  | 'duplicate'
  /** a delete for an object the store does not hold with that uid: nothing to do */
  | 'absent';

export interface OutboxItem {
  readonly id: MessageId;
  readonly key: ObjectKey;
  readonly uid?: Uid;
  readonly write: StatusWrite;
  readonly enqueuedAt: number;
}

export type StoreChange =
  | {
      readonly type: 'upsert';
      readonly object: StoredObject;
      /** The object this upsert replaced, if the store held one (for local watches' selectors). */
      readonly previous?: JsonObject;
    }
  | {
      readonly type: 'delete';
      readonly key: ObjectKey;
      readonly uid: Uid;
      readonly localRev: number;
      /** The last object the store held (a local watch's DELETED event carries it). */
      readonly object?: JsonObject;
    };

/**
 * One entry of the store's change log (migration 3), as a local watch replays it. Objects are
 * the *served view*: the cloud's object with the status the edge itself last reported (migration 4).
 */
export interface LoggedChange {
  readonly rev: number;
  readonly group: string;
  readonly kind: string;
  readonly type: 'upsert' | 'delete';
  /** The object after an upsert, or the last object held before a delete. */
  readonly object: JsonObject;
  /** The object an upsert replaced, when there was one. */
  readonly previous?: JsonObject;
}

export interface EdgeStoreOptions {
  readonly path: string;
  readonly registry?: Registry;
  readonly now?: () => number;
  /**
   * How many recent changes the change log keeps for local watches to resume from (default
   * 10,000); a watch from an older revision gets 410 Gone and relists.
   */
  readonly changeRetention?: number;
  /**
   * And at most about this many bytes of object text (default 16 MiB): a node's status every
   * few seconds must not grow the store on a small device; older changes go first.
   */
  readonly changeRetentionBytes?: number;
}

/** Status writes whose payload is the whole `.status` of an object the node holds. */
const OVERLAID: Readonly<Partial<Record<StatusWrite['type'], string>>> = {
  podStatus: 'Pod',
  nodeStatus: 'Node',
  deviceStatus: 'Device',
};

interface ObjectRow {
  key_id: string;
  grp: string;
  version: string;
  kind: string;
  namespace: string | null;
  name: string;
  uid: string;
  resource_version: string;
  body: string;
  local_rev: number;
}
interface OutboxRow {
  id: string;
  key_json: string;
  uid: string | null;
  write_type: string;
  payload: string;
  enqueued_at: number;
}

/**
 * The edge's durable memory (DESIGN §2, §3): every object the node holds and an outbox of
 * upstream writes. SQLite in WAL mode with synchronous=FULL: an edge host loses power, not just
 * processes, and a change is acked to the cloud only after it is here (DESIGN §2) — so a commit
 * must survive power loss, not only SIGKILL.
 */
export class EdgeStore {
  private db: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly viewListeners = new Set<(c: LoggedChange) => void>();
  private readonly now: () => number;
  private readonly metrics: {
    applied: Counter;
    duplicates: Counter;
    outboxDepth: Gauge;
  };
  private localRev = 0;
  private orderNo = 0;
  private changeFloor = 0;
  private readonly retention: number;
  private readonly retentionBytes: number;

  constructor(private readonly opts: EdgeStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.retention = Math.max(1, Math.floor(opts.changeRetention ?? 10_000));
    this.retentionBytes = Math.max(1024, Math.floor(opts.changeRetentionBytes ?? 16 * 1024 * 1024));
    const registers = opts.registry === undefined ? [] : [opts.registry];
    this.metrics = {
      applied: new Counter({
        name: 'tether_edge_store_applied_total',
        help: 'Downstream changes applied to the edge store, by operation and outcome',
        labelNames: ['op', 'outcome'],
        registers,
      }),
      duplicates: new Counter({
        name: 'tether_edge_redundant_receives_total',
        help: 'Upserts received for a version the store already held (must stay 0)',
        registers,
      }),
      outboxDepth: new Gauge({
        name: 'tether_edge_outbox_depth',
        help: 'Upstream writes waiting in the outbox',
        registers,
        collect: () => {
          if (this.db !== undefined) this.metrics.outboxDepth.set(this.outboxDepth());
        },
      }),
    };
  }

  /** Opens (creating if needed), checks integrity, and migrates. */
  open(): void {
    if (this.db !== undefined) return;
    try {
      mkdirSync(dirname(this.opts.path), { recursive: true });
      const db = new Database(this.opts.path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      // 512 KiB of page cache instead of better-sqlite3's build default of 16 MB, which an edge's
      // malloc grew into as its store grew (issue 12, edge RSS: +5 MiB at an 8 MiB store); the
      // file's pages stay in the kernel's page cache, and the store's hot rows are few.
      db.pragma('cache_size = -512');
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        db.close();
        throw new EdgeStoreError(
          'STORE_CORRUPT',
          `edge store ${this.opts.path} failed its integrity check: ${String(check)}`,
        );
      }
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > MIGRATIONS.length) {
        db.close();
        throw new EdgeStoreError(
          'STORE_SCHEMA_TOO_NEW',
          `edge store ${this.opts.path} has schema ${current}, newer than this agent knows (${MIGRATIONS.length}); upgrade the agent`,
        );
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v] ?? '');
          db.pragma(`user_version = ${v + 1}`);
        })();
      }
      this.db = db;
      this.localRev = (
        db.prepare('SELECT COALESCE(MAX(local_rev), 0) AS r FROM objects').get() as { r: number }
      ).r;
      const storedRev = Number(this.getMeta('localRev') ?? 0);
      this.localRev = Math.max(this.localRev, storedRev);
      this.orderNo = (
        db.prepare('SELECT COALESCE(MAX(order_no), 0) AS o FROM outbox').get() as { o: number }
      ).o;
      this.changeFloor = Number(this.getMeta('changeFloor') ?? 0);
    } catch (e) {
      if (e instanceof EdgeStoreError) throw e;
      throw translate(e, `opening edge store ${this.opts.path}`);
    }
  }

  close(): void {
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }

  /**
   * A prepared statement, compiled once per store (issue 12: the outbox poll, inventory and every
   * apply prepared their SQL on each call — sqlite3_prepare was ~5 % of a hollow-edge worker's CPU
   * in a reconnect storm). The SQL texts are constants of this file, so the cache is bounded.
   */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (st === undefined) {
      st = this.conn.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /**
   * The open database, for sibling store modules of this folder that own their own tables
   * (e.g. device twins) and add them through MIGRATIONS. Not for anything outside src/edge/store.
   */
  get database(): Database.Database {
    return this.conn;
  }

  private get conn(): Database.Database {
    if (this.db === undefined) throw new EdgeStoreError('STORE_CLOSED', 'the edge store is not open');
    return this.db;
  }

  /** Subscribe to changes (after they are committed). Returns the unsubscribe function. */
  onChange(fn: (c: StoreChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Subscribe to changes of the served view (after commit): every downstream change, and every
   * status the edge reports for an object it holds. For the metaserver's watches; the pod
   * manager and others use `onChange`, which never fires for the edge's own status writes.
   */
  onViewChange(fn: (c: LoggedChange) => void): () => void {
    this.viewListeners.add(fn);
    return () => this.viewListeners.delete(fn);
  }

  /** The object text with the edge's own latest status of that incarnation, if any. */
  private viewOf(body: string, id: string, uid: string): string {
    const st = this.sql('SELECT uid, body FROM local_status WHERE key_id = ?').get(id) as
      { uid: string; body: string } | undefined;
    if (st?.uid !== uid) return body;
    return JSON.stringify({ ...(JSON.parse(body) as JsonObject), status: JSON.parse(st.body) as JsonObject });
  }

  /**
   * Applies one downstream change durably; the caller acks only after this returns
   * (DESIGN §2). Idempotent: a resend of a version already held writes nothing.
   */
  applySync(msg: SyncBody): ApplyOutcome {
    const id = keyId(msg.key);
    let change: StoreChange | undefined;
    let view: LoggedChange | undefined;
    let outcome: ApplyOutcome;
    try {
      outcome = this.conn.transaction((): ApplyOutcome => {
        const existing = this.sql('SELECT uid, resource_version, body FROM objects WHERE key_id = ?').get(
          id,
        ) as { uid: string; resource_version: string; body: string } | undefined;
        if (msg.op === 'upsert') {
          if (existing?.uid === msg.uid && existing.resource_version === msg.resourceVersion)
            return 'duplicate';
          const localRev = this.bumpRev();
          const body = JSON.stringify(msg.object);
          this.sql(
            `INSERT INTO objects (key_id, grp, version, kind, namespace, name, uid, resource_version, body, local_rev, updated_at)
               VALUES (@id, @grp, @version, @kind, @namespace, @name, @uid, @rv, @body, @localRev, @now)
               ON CONFLICT(key_id) DO UPDATE SET uid = excluded.uid, resource_version = excluded.resource_version,
                 body = excluded.body, local_rev = excluded.local_rev, updated_at = excluded.updated_at`,
          ).run({
            id,
            grp: msg.key.group,
            version: msg.key.version,
            kind: msg.key.kind,
            namespace: msg.key.namespace ?? null,
            name: msg.key.name,
            uid: msg.uid,
            rv: msg.resourceVersion,
            body,
            localRev,
            now: this.now(),
          });
          const prevView = existing === undefined ? undefined : this.viewOf(existing.body, id, existing.uid);
          // a new incarnation does not inherit the old one's status
          if (existing !== undefined && existing.uid !== msg.uid)
            this.sql('DELETE FROM local_status WHERE key_id = ?').run(id);
          const served = this.viewOf(body, id, msg.uid);
          this.logChange(localRev, msg.key, 'upsert', served, prevView);
          view = {
            rev: localRev,
            group: msg.key.group,
            kind: msg.key.kind,
            type: 'upsert',
            object: served === body ? msg.object : (JSON.parse(served) as JsonObject),
            ...(prevView === undefined ? {} : { previous: JSON.parse(prevView) as JsonObject }),
          };
          change = {
            type: 'upsert',
            object: {
              key: msg.key,
              uid: msg.uid,
              resourceVersion: msg.resourceVersion,
              object: msg.object,
              localRev,
            },
            ...(existing === undefined ? {} : { previous: JSON.parse(existing.body) as JsonObject }),
          };
          return 'applied';
        }
        // A delete names the incarnation (uid) it is about; a newer object of the same name stays.
        if (existing?.uid !== msg.uid) return 'absent';
        const localRev = this.bumpRev();
        const lastView = this.viewOf(existing.body, id, existing.uid);
        this.sql('DELETE FROM objects WHERE key_id = ?').run(id);
        this.sql('DELETE FROM local_status WHERE key_id = ?').run(id);
        this.logChange(localRev, msg.key, 'delete', lastView, undefined);
        view = {
          rev: localRev,
          group: msg.key.group,
          kind: msg.key.kind,
          type: 'delete',
          object: JSON.parse(lastView) as JsonObject,
        };
        change = {
          type: 'delete',
          key: msg.key,
          uid: msg.uid,
          localRev,
          object: JSON.parse(existing.body) as JsonObject,
        };
        return 'applied';
      })();
    } catch (e) {
      throw translate(e, `applying ${msg.op} of ${id}`);
    }
    this.metrics.applied.inc({ op: msg.op, outcome });
    if (outcome === 'duplicate') this.metrics.duplicates.inc();
    if (change !== undefined) this.emit(change);
    if (view !== undefined) this.emitView(view);
    return outcome;
  }

  private bumpRev(): number {
    this.localRev++;
    this.sql('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run(
      'localRev',
      String(this.localRev),
    );
    return this.localRev;
  }

  /**
   * Appends to the change log inside the caller's transaction, so the log never disagrees with
   * the objects table. Trimmed in batches (every 256 revisions) to keep the write path cheap.
   */
  private logChange(
    rev: number,
    key: ObjectKey,
    type: 'upsert' | 'delete',
    body: string,
    prev: string | undefined,
  ): void {
    this.sql('INSERT INTO changes (rev, grp, kind, type, body, prev) VALUES (?, ?, ?, ?, ?, ?)').run(
      rev,
      key.group,
      key.kind,
      type,
      body,
      prev ?? null,
    );
    if (rev % 256 !== 0) return;
    let floor = Math.max(this.changeFloor, rev - this.retention);
    // the newest changes that fit the byte budget stay; the first one past it and older go
    const cut = this.sql(
      `SELECT rev FROM (SELECT rev, SUM(length(body) + COALESCE(length(prev), 0)) OVER (ORDER BY rev DESC) AS total
           FROM changes WHERE rev > ?) WHERE total > ? ORDER BY rev DESC LIMIT 1`,
    ).get(floor, this.retentionBytes) as { rev: number } | undefined;
    if (cut !== undefined) floor = Math.max(floor, cut.rev);
    if (floor > this.changeFloor) {
      this.sql('DELETE FROM changes WHERE rev <= ?').run(floor);
      this.sql('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run(
        'changeFloor',
        String(floor),
      );
      this.changeFloor = floor;
    }
  }

  /**
   * The changes of one kind after revision `after`, oldest first, for a local watch to replay;
   * `undefined` when the log no longer reaches back that far (the caller answers 410 Gone).
   */
  changesSince(after: number, filter: { group: string; kind: string }): LoggedChange[] | undefined {
    if (after < this.changeFloor) return undefined;
    const rows = this.sql(
      'SELECT rev, grp, kind, type, body, prev FROM changes WHERE rev > ? AND grp = ? AND kind = ? ORDER BY rev',
    ).all(after, filter.group, filter.kind) as {
      rev: number;
      grp: string;
      kind: string;
      type: string;
      body: string;
      prev: string | null;
    }[];
    return rows.map((r) => ({
      rev: r.rev,
      group: r.grp,
      kind: r.kind,
      type: r.type === 'delete' ? 'delete' : 'upsert',
      object: JSON.parse(r.body) as JsonObject,
      ...(r.prev === null ? {} : { previous: JSON.parse(r.prev) as JsonObject }),
    }));
  }

  /** The oldest revision a local watch can resume from (see `changesSince`). */
  get oldestResumableRevision(): number {
    return this.changeFloor;
  }

  private emitView(c: LoggedChange): void {
    for (const l of this.viewListeners) l(c);
  }

  private emit(c: StoreChange): void {
    for (const l of this.listeners) l(c);
  }

  /** What the node holds, for the inventory sent on every (re)connect (DESIGN §2). */
  inventory(): InventoryItem[] {
    const rows = this.sql(
      'SELECT grp, version, kind, namespace, name, uid, resource_version FROM objects ORDER BY key_id',
    ).all() as Omit<ObjectRow, 'key_id' | 'body' | 'local_rev'>[];
    return rows.map((r) => ({ key: rowKey(r), uid: toUid(r.uid), resourceVersion: rv(r.resource_version) }));
  }

  get(key: ObjectKey): StoredObject | undefined {
    const r = this.sql('SELECT * FROM objects WHERE key_id = ?').get(keyId(key)) as ObjectRow | undefined;
    return r === undefined ? undefined : toStored(r);
  }

  /** Objects of a kind, optionally in one namespace. */
  list(filter: { group: string; kind: string; namespace?: string }): StoredObject[] {
    const rows = (
      filter.namespace === undefined
        ? this.sql('SELECT * FROM objects WHERE grp = ? AND kind = ? ORDER BY key_id').all(
            filter.group,
            filter.kind,
          )
        : this.sql('SELECT * FROM objects WHERE grp = ? AND kind = ? AND namespace = ? ORDER BY key_id').all(
            filter.group,
            filter.kind,
            filter.namespace,
          )
    ) as ObjectRow[];
    return rows.map(toStored);
  }

  /**
   * The served view of a kind (for the metaserver): each object with the status the edge last
   * reported for it overlaid, and `localRev` the revision of the view's last change.
   */
  listView(filter: { group: string; kind: string; namespace?: string }): StoredObject[] {
    const sql = `SELECT o.*, s.uid AS st_uid, s.body AS st_body, s.rev AS st_rev FROM objects o
      LEFT JOIN local_status s ON s.key_id = o.key_id
      WHERE o.grp = ? AND o.kind = ?${filter.namespace === undefined ? '' : ' AND o.namespace = ?'} ORDER BY o.key_id`;
    const args =
      filter.namespace === undefined
        ? [filter.group, filter.kind]
        : [filter.group, filter.kind, filter.namespace];
    const rows = this.sql(sql).all(...args) as (ObjectRow & {
      st_uid: string | null;
      st_body: string | null;
      st_rev: number | null;
    })[];
    return rows.map((r) => {
      const o = toStored(r);
      if (r.st_body === null || r.st_uid !== r.uid) return o;
      return {
        ...o,
        object: { ...o.object, status: JSON.parse(r.st_body) as JsonObject },
        localRev: Math.max(o.localRev, r.st_rev ?? 0),
      };
    });
  }

  /** The store's local revision (for local list/watch). */
  get revision(): number {
    return this.localRev;
  }

  // ── outbox (DESIGN §2 upstream) ──────────────────────────────────────────────────────

  /**
   * Queues an upstream write, coalesced by (write type, object): a newer status of a pod
   * replaces the older one, even one already sent — it gets a new id, so the late ack of the
   * old one cannot remove it. Events are never coalesced.
   */
  enqueue(key: ObjectKey, write: StatusWrite, uid?: Uid): MessageId {
    const id = messageId(randomUUID());
    const coalesceKey = write.type === 'event' ? `event:${id}` : `${write.type}:${keyId(key)}`;
    let view: LoggedChange | undefined;
    try {
      this.conn.transaction(() => {
        this.sql(
          `INSERT INTO outbox (coalesce_key, id, key_json, uid, write_type, payload, enqueued_at, order_no)
             VALUES (@ck, @id, @key, @uid, @type, @payload, @now, @order)
             ON CONFLICT(coalesce_key) DO UPDATE SET id = excluded.id, uid = excluded.uid, payload = excluded.payload,
               enqueued_at = excluded.enqueued_at, order_no = excluded.order_no`,
        ).run({
          ck: coalesceKey,
          id,
          key: JSON.stringify(key),
          uid: uid ?? null,
          type: write.type,
          payload: JSON.stringify(write.payload),
          now: this.now(),
          order: ++this.orderNo,
        });
        view = this.recordLocalStatus(key, write, uid);
      })();
    } catch (e) {
      throw translate(e, `queueing ${write.type} for ${keyId(key)}`);
    }
    if (view !== undefined) this.emitView(view);
    return id;
  }

  /**
   * Keeps the status the edge reports for an object it holds (migration 4), so the served view
   * shows the node's own truth; the cloud does not re-send objects on status-only changes.
   * A change of the view gets a revision and a change-log entry like any other.
   */
  private recordLocalStatus(
    key: ObjectKey,
    write: StatusWrite,
    uid: Uid | undefined,
  ): LoggedChange | undefined {
    if (OVERLAID[write.type] !== key.kind || Object.hasOwn(write.payload, 'deleted')) return undefined;
    const kid = keyId(key);
    const row = this.sql('SELECT uid, body FROM objects WHERE key_id = ?').get(kid) as
      { uid: string; body: string } | undefined;
    if (row === undefined || (uid !== undefined && uid !== row.uid)) return undefined;
    const text = JSON.stringify(write.payload);
    const old = this.sql('SELECT uid, body FROM local_status WHERE key_id = ?').get(kid) as
      { uid: string; body: string } | undefined;
    if (old?.uid === row.uid && old.body === text) return undefined;
    const prevView = this.viewOf(row.body, kid, row.uid);
    const rev = this.bumpRev();
    this.sql(
      `INSERT INTO local_status (key_id, uid, body, rev) VALUES (?, ?, ?, ?)
         ON CONFLICT(key_id) DO UPDATE SET uid = excluded.uid, body = excluded.body, rev = excluded.rev`,
    ).run(kid, row.uid, text, rev);
    const served = this.viewOf(row.body, kid, row.uid);
    this.logChange(rev, key, 'upsert', served, prevView);
    return {
      rev,
      group: key.group,
      kind: key.kind,
      type: 'upsert',
      object: JSON.parse(served) as JsonObject,
      previous: JSON.parse(prevView) as JsonObject,
    };
  }

  /** The oldest `limit` outbox items, excluding ids already in flight. */
  pending(limit: number, exclude: ReadonlySet<string> = new Set()): OutboxItem[] {
    const out: OutboxItem[] = [];
    const rows = this.sql('SELECT * FROM outbox ORDER BY order_no').iterate() as IterableIterator<OutboxRow>;
    for (const r of rows) {
      if (out.length >= limit) break;
      if (exclude.has(r.id)) continue;
      out.push({
        id: messageId(r.id),
        key: JSON.parse(r.key_json) as ObjectKey,
        ...(r.uid === null ? {} : { uid: toUid(r.uid) }),
        write: { type: r.write_type as StatusWrite['type'], payload: JSON.parse(r.payload) as JsonObject },
        enqueuedAt: r.enqueued_at,
      });
    }
    return out;
  }

  /** The cloud acked (or finally refused) item `id`: it leaves the outbox. A superseded id removes nothing. */
  settle(id: MessageId): boolean {
    return this.sql('DELETE FROM outbox WHERE id = ?').run(id).changes > 0;
  }

  outboxDepth(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  // ── small key/value state (health verdict, certificates' metadata, …) ───────────────

  getMeta(k: string): string | undefined {
    const r = this.sql('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined;
    return r?.v;
  }

  setMeta(k: string, v: string): void {
    this.sql('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run(k, v);
  }

  /** PRAGMA integrity_check, for the health unit (DESIGN §4). */
  integrityOk(): boolean {
    return this.conn.pragma('quick_check', { simple: true }) === 'ok';
  }
}

function rowKey(r: Pick<ObjectRow, 'grp' | 'version' | 'kind' | 'namespace' | 'name'>): ObjectKey {
  return r.namespace === null
    ? { group: r.grp, version: r.version, kind: r.kind, name: r.name }
    : { group: r.grp, version: r.version, kind: r.kind, namespace: r.namespace, name: r.name };
}

function toStored(r: ObjectRow): StoredObject {
  return {
    key: rowKey(r),
    uid: toUid(r.uid),
    resourceVersion: rv(r.resource_version),
    object: JSON.parse(r.body) as JsonObject,
    localRev: r.local_rev,
  };
}
