import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { SCHEMA_VERSION, SqliteStorage, StorageFailure } from '../../../src/apiserver/storage/index.js';
import { ConfigError } from '../../../src/common/index.js';
import { errorCode, obj, unwrap, useTempStores } from './helpers.js';

describe('storage crud', () => {
  const t = useTempStores();

  it('storage — create, update, delete each take the next global revision', () => {
    const s = t.open();
    expect(s.currentRevision()).toBe(0);
    const a = unwrap(s.create('/registry/core/configmaps/default/a', obj('a')));
    expect(a).toMatchObject({ modRevision: 1, createRevision: 1, value: obj('a') });
    const b = unwrap(s.create('/registry/core/configmaps/default/b', obj('b')));
    expect(b.modRevision).toBe(2);
    const a2 = unwrap(s.update(a.key, obj('a', { data: { x: '1' } })));
    expect(a2).toMatchObject({ modRevision: 3, createRevision: 1 });
    expect(s.get(a.key)?.value).toEqual(obj('a', { data: { x: '1' } }));
    const gone = unwrap(s.delete(b.key));
    expect(gone).toMatchObject({ key: b.key, modRevision: 4, createRevision: 2, value: obj('b') });
    expect(s.get(b.key)).toBeUndefined();
    expect(s.currentRevision()).toBe(4);
    expect(s.count('/registry/core/configmaps/')).toBe(1);
  });

  it('storage — create of an existing key is ALREADY_EXISTS and takes no revision', () => {
    const s = t.open();
    unwrap(s.create('/k', obj('k')));
    expect(errorCode(s.create('/k', obj('k')))).toBe('ALREADY_EXISTS');
    expect(s.currentRevision()).toBe(1);
  });

  it('storage — create after delete starts a new createRevision', () => {
    const s = t.open();
    unwrap(s.create('/k', obj('k')));
    unwrap(s.delete('/k'));
    const again = unwrap(s.create('/k', obj('k2')));
    expect(again).toMatchObject({ modRevision: 3, createRevision: 3 });
  });

  it('storage — expectedModRevision mismatch is CONFLICT; missing key is NOT_FOUND', () => {
    const s = t.open();
    const a = unwrap(s.create('/k', obj('k')));
    unwrap(s.update('/k', obj('k', { v: 1 }), a.modRevision));
    expect(errorCode(s.update('/k', obj('k', { v: 2 }), a.modRevision))).toBe('CONFLICT');
    expect(errorCode(s.delete('/k', a.modRevision))).toBe('CONFLICT');
    expect(s.get('/k')?.value).toEqual(obj('k', { v: 1 }));
    expect(errorCode(s.update('/missing', obj('m')))).toBe('NOT_FOUND');
    expect(errorCode(s.delete('/missing'))).toBe('NOT_FOUND');
    expect(s.currentRevision()).toBe(2);
  });

  it('storage — returned values are copies the caller cannot use to change the store', () => {
    const s = t.open();
    const input = obj('k', { data: { a: '1' } });
    const created = unwrap(s.create('/k', input));
    (input.metadata as Record<string, unknown>)['name'] = 'changed';
    (created.value['metadata'] as Record<string, unknown>)['name'] = 'changed too';
    expect(s.get('/k')?.value).toEqual(obj('k', { data: { a: '1' } }));
  });

  it('storage — close then reopen keeps data and the revision stays monotonic', () => {
    const path = join(t.dir(), 'db');
    const s1 = SqliteStorage.open(path);
    unwrap(s1.create('/a', obj('a')));
    unwrap(s1.create('/b', obj('b')));
    unwrap(s1.delete('/b'));
    // Compacting the head removes the tombstone at revision 3; the watermark keeps 3 taken.
    s1.compact(3);
    s1.close();
    expect(errorCode(s1.create('/c', obj('c')))).toBe('CLOSED');
    const s2 = t.open(path);
    expect(s2.currentRevision()).toBe(3);
    expect(s2.compactedRevision()).toBe(3);
    expect(s2.get('/a')?.modRevision).toBe(1);
    expect(unwrap(s2.create('/c', obj('c'))).modRevision).toBe(4);
  });

  it('storage — a second open of the same file fails with STORAGE_LOCKED', () => {
    const path = join(t.dir(), 'db');
    t.open(path);
    let caught: unknown;
    try {
      SqliteStorage.open(path, { lockTimeoutMs: 0 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StorageFailure);
    expect((caught as StorageFailure).code).toBe('STORAGE_LOCKED');
  });

  it('storage — a file that is not a database fails with STORAGE_CORRUPT', () => {
    const path = join(t.dir(), 'db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    expect(() => SqliteStorage.open(path)).toThrow(expect.objectContaining({ code: 'STORAGE_CORRUPT' }));
  });

  it('storage — a schema from a newer build is refused', () => {
    const path = join(t.dir(), 'db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => SqliteStorage.open(path)).toThrow(expect.objectContaining({ code: 'STORAGE_SCHEMA' }));
  });

  it('storage — invalid config and in-memory paths are ConfigError', () => {
    expect(() => SqliteStorage.open(':memory:')).toThrow(ConfigError);
    expect(() => SqliteStorage.open(join(t.dir(), 'db'), { synchronous: 'OFF' as 'FULL' })).toThrow(
      ConfigError,
    );
  });

  it('storage — metrics count writes, rejections and report size and revision', async () => {
    const registry = new Registry();
    const s = t.open(undefined, {}, { registry });
    unwrap(s.create('/a', obj('a')));
    unwrap(s.update('/a', obj('a', { v: 1 })));
    errorCode(s.update('/a', obj('a'), 99));
    const text = await registry.metrics();
    expect(text).toMatch(/tether_apiserver_storage_writes_total\{op="create"\} 1/);
    expect(text).toMatch(/tether_apiserver_storage_writes_total\{op="update"\} 1/);
    expect(text).toMatch(/tether_apiserver_storage_writes_rejected_total\{op="update",reason="CONFLICT"\} 1/);
    expect(text).toMatch(/tether_apiserver_storage_revision 2/);
    const size = /tether_apiserver_storage_db_size_bytes (\d+)/.exec(text)?.[1];
    expect(Number(size)).toBeGreaterThan(0);
    expect(s.quickCheck()).toBe('ok');
    // Close unregisters, so a restart in the same process can register again.
    s.close();
    expect(await registry.metrics()).not.toMatch(/tether_apiserver_storage/);
    const again = t.open(s.path, {}, { registry });
    expect(await registry.metrics()).toMatch(/tether_apiserver_storage_revision 2/);
    again.close();
  });
});
