import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, Watch, type V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { LocalApi } from '../../../src/edge/api/index.js';
import { CLOUD_RV_ANNOTATION, humanDuration } from '../../../src/edge/metaserver/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { resourceVersion, uid, type JsonObject, type ObjectKey } from '../../../src/protocol/index.js';
import { eventually } from '../../support/channel.js';

const run = promisify(execFile);
const KUBECTL = '/usr/bin/kubectl';

let dir: string;
let store: EdgeStore;
let api: LocalApi | undefined;
let token: string;
let seq = 0;
const cloudRv = new Map<string, number>();

const podKey = (ns: string, name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'Pod',
  namespace: ns,
  name,
});
const cmKey = (ns: string, name: string): ObjectKey => ({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  namespace: ns,
  name,
});

/** What the channel does: a downstream upsert applied to the store (cloud RV increasing per object). */
function put(
  key: ObjectKey,
  body: Record<string, unknown>,
  u = `uid-${key.kind}-${key.namespace ?? ''}-${key.name}`,
): void {
  const id = `${key.kind}/${key.namespace ?? ''}/${key.name}`;
  const rv = (cloudRv.get(id) ?? 100) + 1;
  cloudRv.set(id, rv);
  const meta = (body['metadata'] ?? {}) as Record<string, unknown>;
  const object = {
    apiVersion: 'v1',
    kind: key.kind,
    ...body,
    metadata: {
      ...meta,
      name: key.name,
      ...(key.namespace === undefined ? {} : { namespace: key.namespace }),
      uid: u,
      resourceVersion: String(rv),
      creationTimestamp: new Date(Date.now() - 5 * 60_000).toISOString(),
    },
  } as JsonObject;
  store.applySync({
    kind: 'sync',
    op: 'upsert',
    seq: ++seq,
    key,
    uid: uid(u),
    resourceVersion: resourceVersion(String(rv)),
    object,
  });
}
function del(key: ObjectKey, u = `uid-${key.kind}-${key.namespace ?? ''}-${key.name}`): void {
  store.applySync({
    kind: 'sync',
    op: 'delete',
    seq: ++seq,
    key,
    uid: uid(u),
    resourceVersion: resourceVersion('0'),
  });
}
const pod = (labels: Record<string, string> = {}, phase = 'Running'): Record<string, unknown> => ({
  metadata: { labels },
  spec: { nodeName: 'edge-1', containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }] },
  status: { phase, podIP: '10.0.0.5', containerStatuses: [{ name: 'c', ready: true, restartCount: 2 }] },
});

async function startApi(
  opts: { changeRetention?: number; bookmarkIntervalMs?: number } = {},
): Promise<LocalApi> {
  store.close();
  store = new EdgeStore({
    path: path.join(dir, 'edge.db'),
    ...(opts.changeRetention === undefined ? {} : { changeRetention: opts.changeRetention }),
  });
  store.open();
  api = new LocalApi(
    {
      port: 0,
      tokenFile: path.join(dir, 'api.token'),
      kubeconfigFile: path.join(dir, 'metaserver.kubeconfig'),
      tls: {
        caFile: path.join(dir, 'ca.crt'),
        certFile: path.join(dir, 'api.crt'),
        keyFile: path.join(dir, 'api.key'),
      },
      metaserver:
        opts.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: opts.bookmarkIntervalMs },
    },
    {
      health: () => undefined,
      logger: silentLogger(),
      store,
      registry: createRegistry(),
      nodeName: 'edge-1',
    },
  );
  await api.start();
  token = (await readFile(path.join(dir, 'api.token'), 'utf8')).trim();
  return api;
}

const kubectl = async (...args: string[]): Promise<string> =>
  (
    await run(KUBECTL, ['--kubeconfig', path.join(dir, 'metaserver.kubeconfig'), ...args], {
      timeout: 30_000,
    })
  ).stdout;

async function getJson(
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${api?.url ?? ''}${p}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Opens a raw watch and collects its events until `stop()`. */
async function openWatch(p: string): Promise<{
  events: { type: string; object: Record<string, unknown> }[];
  status: number;
  ended: Promise<void>;
  stop: () => void;
}> {
  const ac = new AbortController();
  const r = await fetch(`${api?.url ?? ''}${p}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ac.signal,
  });
  const events: { type: string; object: Record<string, unknown> }[] = [];
  const ended = (async () => {
    let buf = '';
    const dec = new TextDecoder();
    try {
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Record<string, unknown> });
          buf = buf.slice(i + 1);
        }
      }
    } catch {
      // aborted by stop()
    }
  })();
  return {
    events,
    status: r.status,
    ended,
    stop: () => {
      ac.abort();
    },
  };
}

const names = (events: { type: string; object: Record<string, unknown> }[]): string[] =>
  events.map((e) => `${e.type} ${(e.object['metadata'] as { name?: string } | undefined)?.name ?? ''}`);

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-meta-'));
  store = new EdgeStore({ path: path.join(dir, 'edge.db') });
  store.open();
  seq = 0;
  cloudRv.clear();
});
afterEach(async () => {
  await api?.stop();
  api = undefined;
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('edge/api metaserver', () => {
  it('metaserver — kubectl reads pods, configmaps and discovery through the written kubeconfig (0600)', async () => {
    put(podKey('default', 'web'), pod({ app: 'web' }));
    put(podKey('kube-system', 'agent'), pod({ app: 'agent' }, 'Pending'));
    put(cmKey('default', 'settings'), { data: { mode: 'offline', level: '3' } });
    await startApi();
    expect((await stat(path.join(dir, 'metaserver.kubeconfig'))).mode & 0o777).toBe(0o600);

    const all = await kubectl('get', 'pods', '-A');
    const lines = all.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(/^default\s+web\s+1\/1\s+Running\s+2\s+5m/),
      expect.stringMatching(/^kube-system\s+agent\s+1\/1\s+Pending\s+2\s+5m/),
    ]);
    const wide = await kubectl('get', 'pods', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE$/m);
    expect(wide).toMatch(/^web\s+1\/1\s+Running\s+2\s+5m\S*\s+10\.0\.0\.5\s+edge-1$/m);
    expect(await kubectl('get', 'pods', '-l', 'app=agent', '-A', '-o', 'name')).toBe('pod/agent\n');

    const cm = parse(await kubectl('get', 'configmap', 'settings', '-o', 'yaml')) as Record<
      string,
      Record<string, string>
    >;
    expect(cm['data']).toEqual({ mode: 'offline', level: '3' });
    expect(cm['metadata']?.['resourceVersion']).toBe(
      String(store.get(cmKey('default', 'settings'))?.localRev),
    );
    expect(
      (cm['metadata'] as unknown as { annotations: Record<string, string> }).annotations[CLOUD_RV_ANNOTATION],
    ).toBe('101');
    expect(await kubectl('get', 'cm')).toMatch(/^settings\s+2\s+5m/m);

    expect(await kubectl('get', 'all', '-o', 'name')).toBe('pod/web\n'); // pods and services are in "all"
    expect(
      await kubectl('wait', '--for=jsonpath={.status.phase}=Running', 'pod/web', '--timeout=10s'),
    ).toContain('condition met');
    const resources = await kubectl('api-resources', '--no-headers');
    expect(resources).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(resources).toMatch(/^devices\s+dev\s+devices\.tether\.dev\/v1alpha1\s+true\s+Device$/m);

    const missing = await kubectl('get', 'pod', 'nope').catch((e: unknown) => e as { stderr: string });
    expect(typeof missing === 'object' ? missing.stderr : '').toContain('pods "nope" not found');
    const write = await kubectl('delete', 'pod', 'web').catch((e: unknown) => e as { stderr: string });
    expect(typeof write === 'object' ? write.stderr : '').toContain('read-only');
  });

  it('metaserver — 401 Status without the token, 405 for writes, 404 NotFound Status, /healthz still served', async () => {
    await startApi();
    const url = api?.url ?? '';
    const anon = await fetch(`${url}/api/v1/pods`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const bad = await fetch(`${url}/api/v1/pods`, { headers: { authorization: 'Bearer wrong' } });
    expect(bad.status).toBe(401);
    const post = await fetch(`${url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(post.status).toBe(405);
    expect(await post.json()).toMatchObject({
      kind: 'Status',
      reason: 'MethodNotAllowed',
      message: expect.stringContaining('read-only'),
    });
    const nf = await getJson('/api/v1/namespaces/default/configmaps/none');
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ reason: 'NotFound', details: { name: 'none', kind: 'configmaps' } });
    expect((await getJson('/api/v1/widgets')).status).toBe(404);
    expect((await getJson('/api/v1/namespaces/default/pods/x/log')).body['message']).toContain('subresource');
    const hz = await fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(await hz.text()).toBe('ok');
    expect(
      await fetch(`${url}/apis/devices.tether.dev/v1alpha1`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.json()),
    ).toMatchObject({
      kind: 'APIResourceList',
      resources: expect.arrayContaining([
        expect.objectContaining({ name: 'devices', verbs: ['get', 'list', 'watch'] }),
      ]),
    });
  });

  it('metaserver — list filters by label and field selectors; bad selectors and resourceVersions are 400 with a reason', async () => {
    put(podKey('default', 'a'), pod({ app: 'web', tier: 'front' }));
    put(podKey('default', 'b'), pod({ app: 'web', tier: 'back' }, 'Pending'));
    put(podKey('other', 'c'), pod({ app: 'db' }));
    await startApi();
    const list = async (q: string): Promise<string[]> => {
      const r = await getJson(`/api/v1/pods?${q}`);
      expect(r.status).toBe(200);
      expect(r.body['kind']).toBe('PodList');
      expect((r.body['metadata'] as Record<string, string>)['resourceVersion']).toBe(String(store.revision));
      return (r.body['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort();
    };
    expect(await list('')).toEqual(['a', 'b', 'c']);
    expect(await list(`labelSelector=${encodeURIComponent('app=web,tier!=back')}`)).toEqual(['a']);
    expect(await list(`labelSelector=${encodeURIComponent('app in (web, db),!missing')}`)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await list(`labelSelector=${encodeURIComponent('tier notin (front)')}`)).toEqual(['b', 'c']);
    expect(await list(`labelSelector=tier`)).toEqual(['a', 'b']);
    expect(
      await list(`fieldSelector=${encodeURIComponent('status.phase=Running,metadata.namespace!=other')}`),
    ).toEqual(['a']);
    expect(await list(`fieldSelector=spec.nodeName%3Dedge-1`)).toEqual(['a', 'b', 'c']);
    expect(await list(`fieldSelector=spec.nodeName%3Dedge-2`)).toEqual([]);
    expect(await list('resourceVersion=0')).toEqual(['a', 'b', 'c']);

    const bad = async (q: string, text: string): Promise<void> => {
      const r = await getJson(`/api/v1/pods?${q}`);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
      expect(r.body['message']).toContain(text);
    };
    await bad(`labelSelector=${encodeURIComponent('app in (web')}`, 'expected "," or ")"');
    await bad(`labelSelector=${encodeURIComponent('-bad=x')}`, 'invalid label key');
    await bad(`labelSelector=${encodeURIComponent('a=b c')}`, 'expected "," between requirements');
    await bad(
      `fieldSelector=${encodeURIComponent('spec.containers=x')}`,
      'field label not supported: spec.containers',
    );
    await bad('fieldSelector=nonsense', 'expected field=value');
    await bad('resourceVersion=abc', 'invalid resourceVersion "abc"');
    await bad('resourceVersion=-1', 'invalid resourceVersion');
    await bad('watch=maybe', 'watch=maybe');
    await bad('timeoutSeconds=soon', 'invalid timeoutSeconds');
    await bad('continue=xyz', 'continue');
    const future = await getJson(`/api/v1/pods?resourceVersion=${store.revision + 10}`);
    expect(future.status).toBe(504);
    expect(future.body['message']).toContain('Too large resource version');
  });

  it('metaserver — watch replays from a resourceVersion, streams live changes, and turns selector exits into DELETED', async () => {
    put(podKey('default', 'a'), pod({ app: 'web' }));
    await startApi();
    const from = store.revision;
    put(podKey('default', 'b'), pod({ app: 'web' })); // after `from`: replayed
    const w = await openWatch(
      `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${from}&labelSelector=app%3Dweb`,
    );
    expect(w.status).toBe(200);
    await eventually(() => w.events.length === 1, 'the replayed event');
    put(podKey('default', 'a'), pod({ app: 'web' }, 'Succeeded')); // MODIFIED
    put(podKey('default', 'b'), pod({ app: 'other' })); // leaves the selector: DELETED
    put(podKey('default', 'c'), pod({ app: 'other' })); // never matches: nothing
    put(podKey('default', 'c'), pod({ app: 'web' })); // enters the selector: ADDED
    put(podKey('other', 'd'), pod({ app: 'web' })); // other namespace: nothing
    del(podKey('default', 'a')); // DELETED
    put(podKey('default', 'c'), pod({ app: 'web' }), 'new-uid'); // replaced (new uid): DELETED + ADDED
    await eventually(() => w.events.length === 7, 'seven events');
    expect(names(w.events)).toEqual([
      'ADDED b',
      'MODIFIED a',
      'DELETED b',
      'ADDED c',
      'DELETED a',
      'DELETED c',
      'ADDED c',
    ]);
    const rvs = w.events.map((e) =>
      Number((e.object['metadata'] as Record<string, string>)['resourceVersion']),
    );
    expect(rvs.every((rv, i) => i === 0 || rv >= (rvs[i - 1] ?? 0))).toBe(true);
    expect(rvs.at(-1)).toBe(store.revision);
    expect((w.events[1]?.object['status'] as Record<string, string>)['phase']).toBe('Succeeded');
    w.stop();
    await w.ended;
    await eventually(() => api?.metaserver?.openWatches === 0, 'the watch to close');
  });

  it('metaserver — a watch from a revision older than the change log gets an ERROR event with 410 Expired', async () => {
    put(cmKey('default', 'first'), { data: {} });
    await startApi({ changeRetention: 10 });
    const old = store.revision;
    expect(old).toBe(1);
    for (let i = 0; i < 300; i++) put(cmKey('default', `cm-${i % 5}`), { data: { i: String(i) } });
    expect(store.oldestResumableRevision).toBeGreaterThan(old);
    const w = await openWatch(`/api/v1/configmaps?watch=true&resourceVersion=${old}`);
    expect(w.status).toBe(200);
    await w.ended;
    expect(w.events).toEqual([
      {
        type: 'ERROR',
        object: expect.objectContaining({
          kind: 'Status',
          code: 410,
          reason: 'Expired',
          message: expect.stringContaining('too old resource version'),
        }),
      },
    ]);
    // a resourceVersion still in the log resumes
    const ok = await openWatch(`/api/v1/configmaps?watch=true&resourceVersion=${store.revision - 2}`);
    await eventually(() => ok.events.length === 2, 'two replayed events');
    expect(ok.events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED']);
    ok.stop();
    await ok.ended;
  });

  it('metaserver — bookmarks on request, timeoutSeconds ends the watch, no resourceVersion starts with ADDED for all', async () => {
    put(cmKey('default', 'one'), { data: {} });
    put(cmKey('default', 'two'), { data: {} });
    await startApi({ bookmarkIntervalMs: 100 });
    const w = await openWatch(
      '/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=2',
    );
    await w.ended;
    expect(names(w.events.filter((e) => e.type !== 'BOOKMARK')).sort()).toEqual(['ADDED one', 'ADDED two']);
    const bm = w.events.filter((e) => e.type === 'BOOKMARK');
    expect(bm.length).toBeGreaterThan(2);
    expect(bm[0]?.object).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { resourceVersion: String(store.revision) },
    });

    const initial = await openWatch(
      '/api/v1/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1',
    );
    await initial.ended;
    const end = initial.events.find((e) => e.type === 'BOOKMARK');
    expect(end?.object['metadata']).toEqual({
      resourceVersion: String(store.revision),
      annotations: { 'k8s.io/initial-events-end': 'true' },
    });
    expect(initial.events.indexOf(end ?? { type: '', object: {} })).toBe(2);
  });

  it('metaserver — @kubernetes/client-node lists and its informer follows adds, updates and deletes', async () => {
    put(podKey('default', 'a'), pod({ app: 'web' }));
    await startApi();
    const kc = new KubeConfig();
    kc.loadFromFile(path.join(dir, 'metaserver.kubeconfig'));
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: 'default' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['a']);
    expect(list.metadata?.resourceVersion).toBe(String(store.revision));
    const one = await core.readNamespacedPod({ namespace: 'default', name: 'a' });
    expect(one.status?.phase).toBe('Running');

    const informer = makeInformer(kc, '/api/v1/namespaces/default/pods', () =>
      core.listNamespacedPod({ namespace: 'default' }),
    );
    const seen: string[] = [];
    informer.on('add', (p: V1Pod) => seen.push(`add ${p.metadata?.name ?? ''}`));
    informer.on('update', (p: V1Pod) =>
      seen.push(`update ${p.metadata?.name ?? ''} ${p.status?.phase ?? ''}`),
    );
    informer.on('delete', (p: V1Pod) => seen.push(`delete ${p.metadata?.name ?? ''}`));
    await informer.start();
    try {
      await eventually(() => seen.length === 1, 'the initial add');
      put(podKey('default', 'b'), pod({}));
      put(podKey('default', 'a'), pod({}, 'Failed'));
      del(podKey('default', 'b'));
      await eventually(() => seen.length === 4, 'three more events');
      expect(seen).toEqual(['add a', 'add b', 'update a Failed', 'delete b']);
      expect(informer.list().map((p) => p.metadata?.name)).toEqual(['a']);
    } finally {
      await informer.stop();
    }

    // the plain Watch with a stale resourceVersion: its callback gets the 410 ERROR
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      void new Watch(kc).watch(
        '/api/v1/pods',
        { resourceVersion: String(store.revision + 5) },
        (type, obj: { code?: number }) => errors.push(`${type} ${String(obj.code)}`),
        () => {
          resolve();
        },
      );
    });
    expect(errors).toEqual(['ERROR 410']);
  });

  it('metaserver — kubectl get pods -w prints changes as they reach the store', async () => {
    put(podKey('default', 'a'), pod({}));
    await startApi();
    const child = spawn(
      KUBECTL,
      ['--kubeconfig', path.join(dir, 'metaserver.kubeconfig'), 'get', 'pods', '-w'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => /^a\s+1\/1\s+Running/m.test(out), 'the initial list');
      put(podKey('default', 'b'), pod({}, 'Pending'));
      await eventually(() => /^b\s+1\/1\s+Pending/m.test(out), 'the new pod in the watch');
      put(podKey('default', 'b'), pod({}, 'Running'));
      await eventually(() => /^b\s+1\/1\s+Running/m.test(out), 'the update in the watch');
      expect(out.match(/^NAME\s+READY/gm)?.length).toBe(1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('metaserver — ages print as Kubernetes does', () => {
    expect(
      [5_000, 150_000, 600_000, 3 * 3600_000 + 60_000, 30 * 3600_000, 3 * 86400_000 + 3600_000].map(
        humanDuration,
      ),
    ).toEqual(['5s', '2m30s', '10m', '3h1m', '30h', '3d1h']);
  });
});
