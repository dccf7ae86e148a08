import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import {
  isUniqueViolation,
  StorageFailure,
  translateFailure,
} from '../../../src/apiserver/storage/errors.js';

const sqlite = (code: string): Error => new Database.SqliteError('whatever the message says', code);

describe('storage errors', () => {
  it('storage — SQLite errors are translated by extended code, never by message', () => {
    const cases: [string, string][] = [
      ['SQLITE_BUSY', 'STORAGE_LOCKED'],
      ['SQLITE_BUSY_SNAPSHOT', 'STORAGE_LOCKED'],
      ['SQLITE_FULL', 'STORAGE_FULL'],
      ['SQLITE_IOERR_FSYNC', 'STORAGE_IO'],
      ['SQLITE_CORRUPT_INDEX', 'STORAGE_CORRUPT'],
      ['SQLITE_NOTADB', 'STORAGE_CORRUPT'],
      ['SQLITE_READONLY_DBMOVED', 'STORAGE_READONLY'],
      ['SQLITE_MISMATCH', 'STORAGE_INTERNAL'],
    ];
    for (const [code, want] of cases) {
      const out = translateFailure(sqlite(code), 'op');
      expect(out).toBeInstanceOf(StorageFailure);
      expect((out as StorageFailure).code, code).toBe(want);
      expect((out as StorageFailure).cause).toBeInstanceOf(Error);
    }
    expect(isUniqueViolation(sqlite('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(true);
    expect(isUniqueViolation(sqlite('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(isUniqueViolation(sqlite('SQLITE_CONSTRAINT_NOTNULL'))).toBe(false);
    // A message that merely mentions UNIQUE is not a uniqueness violation.
    expect(isUniqueViolation(new Error('UNIQUE constraint failed: kv_latest.key'))).toBe(false);
    // Bugs (non-SQLite errors) pass through unchanged.
    const bug = new TypeError('x');
    expect(translateFailure(bug, 'op')).toBe(bug);
  });
});
