import type Database from 'better-sqlite3';
import type { EdgeStore } from './store.js';
import { translate } from './errors.js';

/** One property's twin: what the cloud wants and what the device last said, with times (ms). */
export interface TwinRow {
  readonly property: string;
  readonly desired?: string;
  readonly desiredAt?: number;
  readonly reported?: string;
  readonly reportedAt?: number;
}

export interface Sample {
  readonly value: string;
  readonly at: number;
}

export interface ReportedWrite {
  readonly device: string;
  readonly property: string;
  readonly value: string;
  readonly at: number;
}

export interface DeviceState {
  readonly online: boolean;
  readonly reason: string;
  readonly message: string;
  readonly changedAt: number;
  readonly lastOnline?: number;
}

/**
 * Device twins in the edge store (issue 9, DESIGN §5 "Offline"): they survive restarts, so
 * the node keeps reading and writing devices from its local twin while the cloud is away.
 * Tables come from MIGRATIONS[1]. The history of each property is a ring of `historySize`
 * samples (slot = seq mod size), so its size is bounded whatever the sampling rate.
 * `device` is the Device's object key id (protocol keyId).
 */
export class TwinStore {
  private readonly db: Database.Database;
  private readonly stmts: {
    get: Database.Statement;
    upsertReported: Database.Statement;
    history: Database.Statement;
    setDesired: Database.Statement;
    clearDesired: Database.Statement;
  };

  constructor(
    store: EdgeStore,
    private readonly historySize = 120,
  ) {
    if (!Number.isInteger(historySize) || historySize < 1)
      throw new RangeError('historySize must be a positive integer');
    this.db = store.database;
    this.stmts = {
      get: this.db.prepare(
        'SELECT reported, history_seq FROM device_twins WHERE device = ? AND property = ?',
      ),
      upsertReported: this.db.prepare(
        `INSERT INTO device_twins (device, property, reported, reported_at, history_seq) VALUES (@device, @property, @value, @at, 1)
         ON CONFLICT(device, property) DO UPDATE SET reported = excluded.reported, reported_at = excluded.reported_at,
           history_seq = device_twins.history_seq + 1`,
      ),
      history: this.db.prepare(
        `INSERT INTO device_history (device, property, slot, seq, value, at) VALUES (@device, @property, @slot, @seq, @value, @at)
         ON CONFLICT(device, property, slot) DO UPDATE SET seq = excluded.seq, value = excluded.value, at = excluded.at`,
      ),
      setDesired: this.db.prepare(
        `INSERT INTO device_twins (device, property, desired, desired_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(device, property) DO UPDATE SET desired = excluded.desired, desired_at = excluded.desired_at`,
      ),
      clearDesired: this.db.prepare(
        'UPDATE device_twins SET desired = NULL, desired_at = NULL WHERE device = ? AND property = ?',
      ),
    };
  }

  /**
   * Records reported values in one transaction (one fsync for a whole polling round) and
   * returns the writes whose value differs from the twin's previous reported value.
   */
  recordReported(writes: readonly ReportedWrite[]): ReportedWrite[] {
    if (writes.length === 0) return [];
    try {
      return this.db.transaction(() => {
        const changed: ReportedWrite[] = [];
        for (const w of writes) {
          const prev = this.stmts.get.get(w.device, w.property) as
            { reported: string | null; history_seq: number } | undefined;
          if (prev?.reported !== w.value) changed.push(w);
          this.stmts.upsertReported.run(w);
          const seq = (prev?.history_seq ?? 0) + 1;
          this.stmts.history.run({ ...w, slot: seq % this.historySize, seq });
        }
        return changed;
      })();
    } catch (e) {
      throw translate(e, 'recording reported device values');
    }
  }

  /** Sets (or clears, with undefined) a desired value; true when it changed. */
  setDesired(device: string, property: string, value: string | undefined, at: number): boolean {
    try {
      const cur = this.db
        .prepare('SELECT desired FROM device_twins WHERE device = ? AND property = ?')
        .get(device, property) as { desired: string | null } | undefined;
      if ((cur?.desired ?? undefined) === value) return false;
      if (value === undefined) this.stmts.clearDesired.run(device, property);
      else this.stmts.setDesired.run(device, property, value, at);
      return true;
    } catch (e) {
      throw translate(e, `setting desired ${property} of ${device}`);
    }
  }

  twins(device: string): TwinRow[] {
    const rows = this.db
      .prepare(
        'SELECT property, desired, desired_at, reported, reported_at FROM device_twins WHERE device = ? ORDER BY property',
      )
      .all(device) as {
      property: string;
      desired: string | null;
      desired_at: number | null;
      reported: string | null;
      reported_at: number | null;
    }[];
    return rows.map((r) => ({
      property: r.property,
      ...(r.desired === null ? {} : { desired: r.desired }),
      ...(r.desired_at === null ? {} : { desiredAt: r.desired_at }),
      ...(r.reported === null ? {} : { reported: r.reported }),
      ...(r.reported_at === null ? {} : { reportedAt: r.reported_at }),
    }));
  }

  /** The property's recent samples, oldest first (at most historySize). */
  history(device: string, property: string): Sample[] {
    return this.db
      .prepare('SELECT value, at FROM device_history WHERE device = ? AND property = ? ORDER BY seq')
      .all(device, property) as Sample[];
  }

  setState(device: string, s: DeviceState): void {
    this.db
      .prepare(
        `INSERT INTO device_state (device, online, reason, message, changed_at, last_online) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(device) DO UPDATE SET online = excluded.online, reason = excluded.reason, message = excluded.message,
           changed_at = excluded.changed_at, last_online = excluded.last_online`,
      )
      .run(device, s.online ? 1 : 0, s.reason, s.message, s.changedAt, s.lastOnline ?? null);
  }

  state(device: string): DeviceState | undefined {
    const r = this.db.prepare('SELECT * FROM device_state WHERE device = ?').get(device) as
      | { online: number; reason: string; message: string; changed_at: number; last_online: number | null }
      | undefined;
    if (r === undefined) return undefined;
    return {
      online: r.online === 1,
      reason: r.reason,
      message: r.message,
      changedAt: r.changed_at,
      ...(r.last_online === null ? {} : { lastOnline: r.last_online }),
    };
  }

  /** Drops properties no longer in the spec (and their history). */
  retainProperties(device: string, keep: readonly string[]): void {
    const placeholders = keep.map(() => '?').join(',');
    const not = keep.length === 0 ? '' : ` AND property NOT IN (${placeholders})`;
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM device_twins WHERE device = ?${not}`).run(device, ...keep);
      this.db.prepare(`DELETE FROM device_history WHERE device = ?${not}`).run(device, ...keep);
    })();
  }

  removeDevice(device: string): void {
    this.db.transaction(() => {
      this.retainProperties(device, []);
      this.db.prepare('DELETE FROM device_state WHERE device = ?').run(device);
    })();
  }

  /** Every device that has a twin (for clean-up of devices deleted while the agent was down). */
  devices(): string[] {
    return (
      this.db
        .prepare('SELECT device FROM device_twins UNION SELECT device FROM device_state ORDER BY 1')
        .all() as { device: string }[]
    ).map((r) => r.device);
  }
}
