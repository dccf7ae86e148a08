/**
 * The storage contract of the embedded API server (kine-like, STYLE §9/§10): a flat
 * key space with one global, monotonic revision that becomes every object's
 * resourceVersion. The REST layer above knows Kubernetes; this layer knows only keys,
 * revisions and JSON values.
 *
 * Keys look like `/registry/<group or 'core'>/<resource>/<namespace or '_'>/<name>`;
 * a list or watch takes a prefix (e.g. `/registry/core/pods/default/`).
 */
import type { Result } from '../../common/index.js';
import type { TetherError } from '../../common/index.js';

export type JsonObject = { [k: string]: unknown };

export interface StoredObject {
  readonly key: string;
  /** The revision of the write that produced this value (= metadata.resourceVersion). */
  readonly modRevision: number;
  /** The revision of the write that created the key (survives updates, reset by delete+create). */
  readonly createRevision: number;
  readonly value: JsonObject;
}

export interface ListOptions {
  /** Max items to return; 0/undefined = all. */
  limit?: number;
  /** Opaque token from a previous page (encodes the snapshot revision and the last key). */
  continue?: string;
  /**
   * Read at this revision (a consistent snapshot for pagination); undefined = latest.
   * A revision older than the compacted one fails with StorageError 'COMPACTED'.
   */
  revision?: number;
}

export interface ListResult {
  readonly items: readonly StoredObject[];
  /** The snapshot revision the list reflects (the list's resourceVersion). */
  readonly revision: number;
  /** Present when more items remain. */
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export type WatchEvent =
  | { readonly type: 'ADDED'; readonly object: StoredObject }
  | { readonly type: 'MODIFIED'; readonly object: StoredObject; readonly previous: StoredObject }
  | {
      readonly type: 'DELETED';
      /** The last value, with modRevision set to the revision of the delete. */
      readonly object: StoredObject;
    };

export interface WatchOptions {
  /**
   * Deliver every event with revision > fromRevision (as upstream: watch "from" an RV
   * means changes after it). Older than the compacted revision → StorageError 'COMPACTED'.
   */
  fromRevision: number;
  /** Bounded buffer (events). A watcher that falls further behind is closed with reason 'SLOW'. */
  maxBuffered?: number;
}

export interface Watcher {
  /** Events in revision order; ends when the watcher is closed. */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent>;
  /** The latest revision known to the store, for bookmarks. */
  readonly progressRevision: number;
  /** Why the watch ended ('CLOSED' when closed by the consumer or the store stopped). */
  readonly closedReason: 'CLOSED' | 'SLOW' | undefined;
  close(): void;
}

export type StorageErrorCode =
  'NOT_FOUND' | 'ALREADY_EXISTS' | 'CONFLICT' | 'COMPACTED' | 'INVALID_CONTINUE' | 'CLOSED';

export interface StorageErrorLike extends TetherError {
  readonly code: StorageErrorCode;
}

export interface Storage {
  /** Latest committed revision. */
  currentRevision(): number;
  /** Oldest revision still answerable by list/watch (everything before is compacted). */
  compactedRevision(): number;
  get(key: string): StoredObject | undefined;
  list(prefix: string, opts?: ListOptions): Result<ListResult, StorageErrorLike>;
  count(prefix: string): number;
  create(key: string, value: JsonObject): Result<StoredObject, StorageErrorLike>;
  /** Fails with 'CONFLICT' when expectedModRevision is given and differs; 'NOT_FOUND' when absent. */
  update(
    key: string,
    value: JsonObject,
    expectedModRevision?: number,
  ): Result<StoredObject, StorageErrorLike>;
  /** Returns the deleted object with modRevision = the delete's revision. */
  delete(key: string, expectedModRevision?: number): Result<StoredObject, StorageErrorLike>;
  watch(prefix: string, opts: WatchOptions): Result<Watcher, StorageErrorLike>;
  /** Drop revision history at or below `revision` (never the latest value of a live key). */
  compact(revision: number): void;
}
