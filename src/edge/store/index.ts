export {
  EdgeStore,
  type ApplyOutcome,
  type EdgeStoreOptions,
  type LoggedChange,
  type OutboxItem,
  type StoredObject,
  type StoreChange,
} from './store.js';
export { EdgeStoreError, type EdgeStoreErrorCode } from './errors.js';
