/** Watch semantics over raw HTTP: from a resourceVersion, initial state, selectors, bookmarks, timeout, 410. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, configMap, startTestServer, watchEvents, type TestServer } from './harness.js';

let s: TestServer;
const CM = '/api/v1/namespaces/default/configmaps';

beforeAll(async () => {
  s = await startTestServer({ compaction: { intervalMs: 100, keepRevisions: 1 } });
});
afterAll(async () => {
  await s.stop();
});

describe('apiserver watch', () => {
  it('apiserver watch — from a resourceVersion: only later events, as JSON lines', async () => {
    const a = await api(s, 'POST', CM, configMap('wa'));
    const rv = a.body.metadata.resourceVersion as string;
    const p = watchEvents(s, `${CM}?watch=1&resourceVersion=${rv}`, (ev) => ev.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    await api(s, 'POST', CM, configMap('wb'));
    await api(s, 'PATCH', `${CM}/wa`, { data: { x: '1' } });
    const { events, status } = await p;
    expect(status).toBe(200);
    expect(events.map((e) => `${String(e.type)}:${String(e.object.metadata.name)}`)).toEqual([
      'ADDED:wb',
      'MODIFIED:wa',
    ]);
    expect(Number(events[1].object.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
  });

  it('apiserver watch — without resourceVersion: synthetic ADDED for existing objects first', async () => {
    const { events } = await watchEvents(
      s,
      `${CM}?watch=true&fieldSelector=metadata.name%3Dwa`,
      (ev) => ev.length >= 1,
    );
    expect(events[0].type).toBe('ADDED');
    expect(events[0].object.metadata.name).toBe('wa');
  });

  it('apiserver watch — label selector transitions map to ADDED and DELETED', async () => {
    await api(s, 'POST', CM, configMap('sel', {}, { on: 'no' }));
    const start = await api(s, 'GET', CM);
    const p = watchEvents(
      s,
      `${CM}?watch=1&labelSelector=on%3Dyes&resourceVersion=${String(start.body.metadata.resourceVersion)}`,
      (ev) => ev.length >= 2,
    );
    await new Promise((r) => setTimeout(r, 100));
    await api(s, 'PATCH', `${CM}/sel`, { metadata: { labels: { on: 'yes' } } });
    await api(s, 'PATCH', `${CM}/sel`, { metadata: { labels: { on: 'off' } } });
    const { events } = await p;
    expect(events.map((e) => String(e.type))).toEqual(['ADDED', 'DELETED']);
  });

  it('apiserver watch — bookmarks carry a resourceVersion when allowed', async () => {
    const { events } = await watchEvents(
      s,
      `${CM}?watch=1&allowWatchBookmarks=true&resourceVersion=${String((await api(s, 'GET', CM)).body.metadata.resourceVersion)}`,
      (ev) => ev.some((e) => e.type === 'BOOKMARK'),
    );
    const bm = events.find((e) => e.type === 'BOOKMARK');
    expect(bm.object.kind).toBe('ConfigMap');
    expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('apiserver watch — timeoutSeconds ends the stream', async () => {
    const t0 = Date.now();
    const { status } = await watchEvents(
      s,
      `${CM}?watch=1&timeoutSeconds=1&resourceVersion=0`,
      () => false,
      10_000,
    );
    expect(status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('apiserver watch — a compacted resourceVersion is an ERROR event with a 410 Expired Status', async () => {
    const first = await api(s, 'POST', CM, configMap('old'));
    for (let i = 0; i < 5; i++) await api(s, 'POST', CM, configMap(`n${i}`));
    await new Promise((r) => setTimeout(r, 400));
    const { events, status } = await watchEvents(
      s,
      `${CM}?watch=1&resourceVersion=${String(first.body.metadata.resourceVersion)}`,
      (ev) => ev.length >= 1,
    );
    expect(status).toBe(200);
    expect(events[0].type).toBe('ERROR');
    expect(events[0].object).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
    });
    expect(events[0].object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    const list = await api(
      s,
      'GET',
      `${CM}?resourceVersion=${String(first.body.metadata.resourceVersion)}&resourceVersionMatch=Exact`,
    );
    expect(list.status).toBe(410);
  });

  it('apiserver watch — as=Table events for kubectl get -w', async () => {
    const rv = String((await api(s, 'GET', CM)).body.metadata.resourceVersion);
    const p = watchEvents(s, `${CM}?watch=1&resourceVersion=${rv}`, (ev) => ev.length >= 1, 10_000, {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });
    await new Promise((r) => setTimeout(r, 100));
    await api(s, 'POST', CM, configMap('tbl'));
    const { events } = await p;
    expect(events[0].object.kind).toBe('Table');
    expect(events[0].object.rows[0].cells[0]).toBe('tbl');
  });
});

describe('apiserver watch list', () => {
  it('apiserver watch — sendInitialEvents streams the current state, then an initial-events-end bookmark', async () => {
    await api(s, 'POST', CM, configMap('wl'));
    const { events } = await watchEvents(
      s,
      `${CM}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dwl`,
      (ev) => ev.some((e) => e.type === 'BOOKMARK'),
    );
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'wl' } } });
    const bm = events.find((e) => e.type === 'BOOKMARK');
    expect(bm.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });

  it('apiserver watch — PartialObjectMetadata lists carry only metadata', async () => {
    await api(s, 'POST', CM, configMap('pom', { secret: 'x' }));
    const r = await api(s, 'GET', CM, undefined, {
      headers: {
        Accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json',
      },
    });
    expect(r.body.kind).toBe('PartialObjectMetadataList');
    expect(r.body.items[0].kind).toBe('PartialObjectMetadata');
    expect(r.body.items[0].data).toBeUndefined();
    expect(r.body.items[0].metadata.name).toBeDefined();
  });
});

describe('apiserver watch slow consumers', () => {
  it('apiserver watch — a watcher that stops reading is closed; a fast one gets every event', async () => {
    const slowServer = await startTestServer({ watch: { maxBuffered: 5 } });
    try {
      const rv = String((await api(slowServer, 'GET', CM)).body.metadata.resourceVersion);
      const total = 45;
      let fastSeen = 0;
      const fast = watchEvents(
        slowServer,
        `${CM}?watch=1&resourceVersion=${rv}`,
        (ev) => {
          fastSeen = ev.length;
          return ev.length >= total;
        },
        60_000,
      );
      const { request } = await import('node:https');
      const slowReq = request(new URL(`${CM}?watch=1&resourceVersion=${rv}`, slowServer.url), {
        ca: slowServer.caPem,
        cert: slowServer.adminCert,
        key: slowServer.adminKey,
        agent: false,
      });
      slowReq.on('response', (res) => {
        res.pause(); // never reads: the socket and then the watcher's buffer fill up
      });
      slowReq.on('error', () => undefined);
      slowReq.end();
      await new Promise((r) => setTimeout(r, 200));
      const big = 'x'.repeat(1_000_000);
      for (let i = 0; i < total; i++) {
        await api(slowServer, 'POST', CM, configMap(`big${i}`, { big }));
        // A fast consumer keeps up with the writes; the paused one falls ever further behind.
        while (fastSeen < i + 1) await new Promise((r) => setTimeout(r, 5));
      }
      const { events } = await fast;
      expect(events.length).toBe(total);
      // The paused client cannot see the close (it reads nothing), so ask the server: no open
      // watch remains although the slow client still holds its connection.
      const watching = async (): Promise<string> =>
        (await api(slowServer, 'GET', '/metrics')).text
          .split('\n')
          .find((l) => l.startsWith('tether_apiserver_watchers{resource="configmaps"}')) ?? '';
      for (let i = 0; i < 50 && !(await watching()).endsWith(' 0'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await watching()).toBe('tether_apiserver_watchers{resource="configmaps"} 0');
      slowReq.destroy();
    } finally {
      await slowServer.stop();
    }
  });
});
