/** @kubernetes/client-node 1.4 against the embedded API server: list, watch, informer (with a 410 re-list). */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, configMap, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  // Aggressive compaction and short watch timeouts so a reconnecting watch meets a 410.
  s = await startTestServer({
    compaction: { intervalMs: 100, keepRevisions: 1 },
    watch: { minRequestTimeoutSeconds: 1, bookmarkIntervalMs: 300 },
  });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfigPath);
});
afterAll(async () => {
  await s.stop();
});

async function until(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('apiserver client-node', () => {
  it('apiserver client-node — typed list, create and read back', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'cn' } } });
    await core.createNamespacedConfigMap({
      namespace: 'cn',
      body: { metadata: { name: 'a', labels: { x: '1' } }, data: { k: 'v' } },
    });
    const list = await core.listNamespacedConfigMap({ namespace: 'cn', labelSelector: 'x=1' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    const got = await core.readNamespacedConfigMap({ name: 'a', namespace: 'cn' });
    expect(got.data).toEqual({ k: 'v' });
    const err = await core
      .readNamespacedConfigMap({ name: 'missing', namespace: 'cn' })
      .catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(404);
  });

  it('apiserver client-node — watch delivers ADDED, MODIFIED, DELETED in order', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: 'cn' });
    const events: string[] = [];
    const w = new k8s.Watch(kc);
    const req = await w.watch(
      '/api/v1/namespaces/cn/configmaps',
      { resourceVersion: list.metadata?.resourceVersion },
      (type: string, obj: k8s.V1ConfigMap) => {
        events.push(`${type}:${obj.metadata?.name ?? ''}`);
      },
      () => undefined,
    );
    await core.createNamespacedConfigMap({ namespace: 'cn', body: { metadata: { name: 'w1' } } });
    await core.patchNamespacedConfigMap(
      { name: 'w1', namespace: 'cn', body: { data: { a: 'b' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'cn' });
    await until(() => events.length >= 3);
    req.abort();
    expect(events.slice(0, 3)).toEqual(['ADDED:w1', 'MODIFIED:w1', 'DELETED:w1']);
  });

  it('apiserver client-node — informer converges, re-lists after a 410 on reconnect', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    let lists = 0;
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: 'inf' });
    });
    const added: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o: k8s.V1ConfigMap) => added.push(o.metadata?.name ?? ''));
    informer.on('error', (e: unknown) => errors.push(e));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'first' } } });
    await until(() => added.includes('first'));
    // Writes elsewhere move the revision on; compaction (keep 1) leaves the informer's RV behind,
    // so its next watch (server timeout 1–2 s) is answered with 410 Expired and it re-lists.
    for (let i = 0; i < 20; i++)
      await api(s, 'POST', '/api/v1/namespaces/cn/configmaps', configMap(`noise${i}`));
    await until(() => lists >= 2, 20_000);
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'second' } } });
    await until(() => added.includes('second'), 20_000);
    // Errors after stop() are the client's own abort of its request.
    const errorsBeforeStop = [...errors];
    await informer.stop();
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      // kube-root-ca.crt: the root CA publisher's ConfigMap, in every namespace as upstream.
    ).toEqual(['first', 'kube-root-ca.crt', 'second']);
    expect(errorsBeforeStop).toEqual([]);
  });
});
