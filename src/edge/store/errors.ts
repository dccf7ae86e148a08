import { TetherError } from '../../common/index.js';

export type EdgeStoreErrorCode = 'STORE_CORRUPT' | 'STORE_IO' | 'STORE_CLOSED' | 'STORE_SCHEMA_TOO_NEW';

/** A failure of the edge store, classified by SQLite's error code, never its message (STYLE §10). */
export class EdgeStoreError extends TetherError {
  constructor(
    readonly code: EdgeStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps a better-sqlite3 error to our codes (SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_FULL, SQLITE_IOERR…). */
export function translate(e: unknown, what: string): EdgeStoreError {
  const code = (e as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : '';
  if (c.startsWith('SQLITE_CORRUPT') || c === 'SQLITE_NOTADB')
    return new EdgeStoreError('STORE_CORRUPT', `${what}: the edge store is corrupt (${c})`, { cause: e });
  return new EdgeStoreError('STORE_IO', `${what}: ${c || 'edge store error'}`, { cause: e });
}
