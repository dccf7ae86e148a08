/**
 * The embedded API server's storage: the contract (types.ts) and its SQLite implementation.
 *
 *   const storage = SqliteStorage.open(join(dataDir, 'state.db'), { synchronous: 'FULL' }, { logger, registry });
 *   const compactor = new StorageCompactor(storage, { intervalMs: 300_000 }, { logger });
 *   await compactor.start();  …  await compactor.stop(); storage.close();
 *
 * Expected outcomes (NOT_FOUND, ALREADY_EXISTS, CONFLICT, COMPACTED, INVALID_CONTINUE,
 * CLOSED) come back as `StorageError` values in a Result; failures of the database itself
 * (disk full, I/O, corruption, file locked by another process) are thrown as `StorageFailure`.
 * Watch events are shared between watchers: treat them as immutable (clone before editing).
 */
export type * from './types.js';
export { StorageError, StorageFailure, type StorageFailureCode } from './errors.js';
export {
  SqliteStorage,
  SqliteStorageConfigSchema,
  type SqliteStorageConfig,
  type SqliteStorageDeps,
} from './sqlite-storage.js';
export {
  StorageCompactor,
  CompactorConfigSchema,
  type CompactorConfig,
  type CompactorDeps,
  type Compactable,
} from './compactor.js';
export { SCHEMA_VERSION } from './schema.js';
