/**
 * Storage errors (STYLE §10/§11). Expected outcomes (not found, conflict, compacted, …)
 * are `StorageError` values inside a `Result`; environment failures (disk full, I/O error,
 * corruption, a second process holding the file) are thrown as `StorageFailure`.
 * SQLite errors are recognised by their extended result code (`err.code`), never by
 * message text — the opposite of KubeEdge's `strings.Contains(err, "UNIQUE")`.
 */
import { TetherError } from '../../common/index.js';
import type { StorageErrorCode, StorageErrorLike } from './types.js';

export class StorageError extends TetherError implements StorageErrorLike {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type StorageFailureCode =
  | 'STORAGE_LOCKED'
  | 'STORAGE_CORRUPT'
  | 'STORAGE_IO'
  | 'STORAGE_FULL'
  | 'STORAGE_READONLY'
  | 'STORAGE_SCHEMA'
  | 'STORAGE_INTERNAL';

/** A failure of the database itself (not of the request): thrown, not returned. */
export class StorageFailure extends TetherError {
  constructor(
    readonly code: StorageFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The extended result code of a better-sqlite3 `SqliteError`, or undefined for anything else. */
export function sqliteCode(e: unknown): string | undefined {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('SQLITE_')) {
    return e.code;
  }
  return undefined;
}

/** True when `e` is a SQLite uniqueness violation (primary key or unique index). */
export function isUniqueViolation(e: unknown): boolean {
  const code = sqliteCode(e);
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Maps an unexpected SQLite error to a `StorageFailure` by result code (the primary code
 * is the extended code's prefix, e.g. SQLITE_IOERR_FSYNC → SQLITE_IOERR). Non-SQLite
 * errors are returned unchanged: they are bugs and must surface as they are.
 */
export function translateFailure(e: unknown, what: string): unknown {
  const code = sqliteCode(e);
  if (code === undefined) return e;
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
  const failure = (c: StorageFailureCode, why: string): StorageFailure =>
    new StorageFailure(c, `${what}: ${why} (${code})`, { cause: e });
  switch (primary) {
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return failure('STORAGE_LOCKED', 'the database is in use by another connection or process');
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
      return failure('STORAGE_CORRUPT', 'the database file is corrupt or not a database');
    case 'SQLITE_FULL':
      return failure('STORAGE_FULL', 'the disk is full');
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_CANTOPEN':
      return failure('STORAGE_READONLY', 'the database cannot be opened for writing');
    case 'SQLITE_IOERR':
      return failure('STORAGE_IO', 'an I/O error occurred');
    default:
      return failure('STORAGE_INTERNAL', 'unexpected SQLite error');
  }
}
