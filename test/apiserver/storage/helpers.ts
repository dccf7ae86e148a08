import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach } from 'vitest';

import {
  SqliteStorage,
  type SqliteStorageConfig,
  type SqliteStorageDeps,
  type StorageErrorLike,
  type WatchEvent,
  type Watcher,
} from '../../../src/apiserver/storage/index.js';
import type { Result } from '../../../src/common/index.js';

/** A temp dir per test and every store opened in it, closed and removed after the test. */
export function useTempStores(): {
  dir: () => string;
  open: (name?: string, config?: SqliteStorageConfig, deps?: SqliteStorageDeps) => SqliteStorage;
} {
  const dirs: string[] = [];
  const stores: SqliteStorage[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'tether-storage-'));
    dirs.push(d);
    return d;
  };
  return {
    dir,
    open: (name = join(dir(), 'store.db'), config = {}, deps = {}) => {
      const s = SqliteStorage.open(name, config, deps);
      stores.push(s);
      return s;
    },
  };
}

export function unwrap<T>(r: Result<T, StorageErrorLike>): T {
  if (!r.ok) throw new Error(`unexpected ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export function errorCode<T>(r: Result<T, StorageErrorLike>): string {
  if (r.ok) throw new Error('expected an error, got a value');
  return r.error.code;
}

/** Takes `n` events from a watcher, failing after `ms`. */
export async function take(w: Watcher, n: number, ms = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  if (n === 0) return out;
  const it = w[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${out.length}/${n} events`));
    }, ms);
  });
  try {
    while (out.length < n) {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done === true) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

export const obj = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: 'ConfigMap',
  metadata: { name },
  ...extra,
});
