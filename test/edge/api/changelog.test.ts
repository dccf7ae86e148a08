import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { LocalApi } from '../../../src/edge/api/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { MIGRATIONS } from '../../../src/edge/store/schema.js';
import { resourceVersion, uid, type ObjectKey, type SyncBody } from '../../../src/protocol/index.js';

const key = (name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  namespace: 'ns',
  name,
});
let n = 0;
const upsert = (name: string, value: string): SyncBody => ({
  kind: 'sync',
  op: 'upsert',
  seq: ++n,
  key: key(name),
  uid: uid(`u-${name}`),
  resourceVersion: resourceVersion(String(++n)),
  object: { metadata: { name, namespace: 'ns' }, data: { value } },
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-changelog-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('edge/api change log', () => {
  it('metaserver — a watch resumes from its resourceVersion across an agent restart (the change log is in SQLite)', async () => {
    const file = path.join(dir, 'edge.db');
    let store = new EdgeStore({ path: file });
    store.open();
    store.applySync(upsert('a', '1'));
    const seen = store.revision;
    store.applySync(upsert('a', '2'));
    store.applySync({
      kind: 'sync',
      op: 'delete',
      seq: ++n,
      key: key('a'),
      uid: uid('u-a'),
      resourceVersion: resourceVersion('0'),
    });
    store.close();

    store = new EdgeStore({ path: file });
    store.open();
    const api = new LocalApi(
      { port: 0, tokenFile: path.join(dir, 'api.token') },
      { health: () => undefined, logger: silentLogger(), store, registry: createRegistry() },
    );
    await api.start();
    try {
      const token = (await import('node:fs')).readFileSync(path.join(dir, 'api.token'), 'utf8').trim();
      const r = await fetch(`${api.url}/api/v1/configmaps?watch=1&resourceVersion=${seen}&timeoutSeconds=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const events = (await r.text())
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              type: string;
              object: { metadata: { resourceVersion: string }; data: { value: string } };
            },
        );
      expect(
        events.map((e) => `${e.type} ${e.object.data.value} @${e.object.metadata.resourceVersion}`),
      ).toEqual([
        `MODIFIED 2 @${seen + 1}`,
        `DELETED 2 @${seen + 2}`, // a DELETED carries the last object the node held
      ]);
    } finally {
      await api.stop();
      store.close();
    }
  });

  it('metaserver — migrating a store written before the change log: watches resume from its current revision, not before', () => {
    const file = path.join(dir, 'old.db');
    // a store at schema 2, as the agent before migration 3 left it
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    for (const [i, m] of MIGRATIONS.slice(0, 2).entries()) {
      db.exec(m);
      db.pragma(`user_version = ${i + 1}`);
    }
    db.prepare(
      `INSERT INTO objects (key_id, grp, version, kind, namespace, name, uid, resource_version, body, local_rev, updated_at)
       VALUES ('k', '', 'v1', 'ConfigMap', 'ns', 'old', 'u-old', '5', '{"metadata":{"name":"old"}}', 7, 0)`,
    ).run();
    db.prepare(`INSERT INTO meta (k, v) VALUES ('localRev', '9')`).run();
    db.close();

    const store = new EdgeStore({ path: file });
    store.open();
    try {
      expect(store.revision).toBe(9);
      expect(store.oldestResumableRevision).toBe(9);
      expect(store.changesSince(8, { group: '', kind: 'ConfigMap' })).toBeUndefined();
      expect(store.changesSince(9, { group: '', kind: 'ConfigMap' })).toEqual([]);
      store.applySync(upsert('old', 'x'));
      expect(store.changesSince(9, { group: '', kind: 'ConfigMap' })?.map((c) => c.rev)).toEqual([10]);
      expect(store.revision).toBe(10);
    } finally {
      store.close();
    }
  });

  it('metaserver — the change log is trimmed to its retention and the floor moves with it', () => {
    const store = new EdgeStore({ path: path.join(dir, 'trim.db'), changeRetention: 100 });
    store.open();
    try {
      for (let i = 0; i < 600; i++) store.applySync(upsert(`c${i % 7}`, String(i)));
      expect(store.revision).toBe(600);
      // trimmed in batches of 256 revisions: at 512 everything up to 412 went
      expect(store.oldestResumableRevision).toBe(412);
      expect(store.changesSince(411, { group: '', kind: 'ConfigMap' })).toBeUndefined();
      expect(store.changesSince(412, { group: '', kind: 'ConfigMap' })).toHaveLength(188);
      const rows = (store.database.prepare('SELECT COUNT(*) AS c FROM changes').get() as { c: number }).c;
      expect(rows).toBe(188);
    } finally {
      store.close();
    }
  });

  it('metaserver — the change log also stays within its byte budget (large objects trim it sooner)', () => {
    const store = new EdgeStore({ path: path.join(dir, 'bytes.db'), changeRetentionBytes: 50_000 });
    store.open();
    try {
      for (let i = 0; i < 512; i++) store.applySync(upsert(`big${i % 3}`, 'x'.repeat(1000) + String(i)));
      const { bytes, rows } = store.database
        .prepare(
          'SELECT SUM(length(body) + COALESCE(length(prev), 0)) AS bytes, COUNT(*) AS rows FROM changes',
        )
        .get() as { bytes: number; rows: number };
      // trimmed at revision 512 to what fits 50 kB; changes since are still all there
      expect(bytes).toBeLessThanOrEqual(50_000);
      expect(rows).toBeGreaterThan(10);
      expect(store.oldestResumableRevision).toBe(512 - rows);
      expect(
        store.changesSince(store.oldestResumableRevision, { group: '', kind: 'ConfigMap' }),
      ).toHaveLength(rows);
      expect(
        store.changesSince(store.oldestResumableRevision - 1, { group: '', kind: 'ConfigMap' }),
      ).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('metaserver — the edge’s own pod status is served over the cloud’s copy and changes it as a watch event; a new incarnation starts clean', async () => {
    const store = new EdgeStore({ path: path.join(dir, 'overlay.db') });
    store.open();
    const api = new LocalApi(
      { port: 0, tokenFile: path.join(dir, 'api.token') },
      { health: () => undefined, logger: silentLogger(), store, registry: createRegistry() },
    );
    await api.start();
    const pk: ObjectKey = { group: '', version: 'v1', kind: 'Pod', namespace: 'ns', name: 'web' };
    const podSync = (u: string, cloudRv: string): SyncBody => ({
      kind: 'sync',
      op: 'upsert',
      seq: ++n,
      key: pk,
      uid: uid(u),
      resourceVersion: resourceVersion(cloudRv),
      object: {
        metadata: { name: 'web', namespace: 'ns', uid: u },
        spec: { nodeName: 'n' },
        status: { phase: 'Pending' },
      },
    });
    try {
      const token = (await import('node:fs')).readFileSync(path.join(dir, 'api.token'), 'utf8').trim();
      const get = async (q: string): Promise<string> =>
        (
          await fetch(`${api.url}/api/v1/namespaces/ns/pods${q}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).text();
      store.applySync(podSync('u1', '1'));
      const from = store.revision;
      const running = { phase: 'Running', podIP: '10.1.1.1' };
      store.enqueue(pk, { type: 'podStatus', payload: running }, uid('u1'));
      store.enqueue(pk, { type: 'podStatus', payload: running }, uid('u1')); // same status: no new revision
      store.enqueue(pk, { type: 'podStatus', payload: { deleted: true } }, uid('u1')); // a marker, not a status
      expect(store.revision).toBe(from + 1);
      expect(store.outboxDepth()).toBe(1); // the outbox itself is unchanged: coalesced as before
      const one = JSON.parse(await get('/web')) as { status: unknown; metadata: { resourceVersion: string } };
      expect(one.status).toEqual(running);
      expect(one.metadata.resourceVersion).toBe(String(from + 1));
      // the status change is a MODIFIED in a watch, and a field selector on status.phase follows it
      const events = (
        await get(`?watch=1&resourceVersion=${from}&timeoutSeconds=1&fieldSelector=status.phase%3DRunning`)
      )
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { status: { phase: string } } });
      expect(events.map((e) => `${e.type} ${e.object.status.phase}`)).toEqual(['ADDED Running']);
      // a spec change from the cloud keeps the edge's status
      store.applySync(podSync('u1', '2'));
      expect((JSON.parse(await get('/web')) as { status: unknown }).status).toEqual(running);
      // a new incarnation (new uid) does not inherit it, and a status for the old uid is ignored
      store.applySync(podSync('u2', '3'));
      store.enqueue(pk, { type: 'podStatus', payload: running }, uid('u1'));
      expect((JSON.parse(await get('/web')) as { status: unknown }).status).toEqual({ phase: 'Pending' });
    } finally {
      await api.stop();
      store.close();
    }
  });
});
