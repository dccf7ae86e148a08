/** The embedded API server's storage: the contract and its SQLite implementation. */
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
