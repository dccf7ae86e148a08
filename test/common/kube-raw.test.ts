import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cloud/kube/index.js';
import { KubeApiError, kubeRequest, listRaw, silentLogger } from '../../src/common/index.js';
import { startControlPlane, type ControlPlane } from '../support/controlplane.js';

/** Raw JSON lists in pages against a real API server (issue 12: a cloud restart's lists). */
describe('common/kube-raw — paged raw lists and requests', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  const ns = 'kube-raw';
  const names = Array.from({ length: 23 }, (_, i) => `cm-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    cp = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (const name of names)
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name, labels: { set: 'raw' } }, data: { v: name } },
      });
  }, 120_000);

  afterAll(async () => {
    await cp.stop();
  });

  it('listRaw — every item across pages, raw JSON, the list resourceVersion', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps?labelSelector=${encodeURIComponent('set=raw')}`;
    const all = (await listRaw(kc, path, 5)) as {
      items: V1ConfigMap[];
      metadata: { resourceVersion?: string };
    }; // 5 pages: 5+5+5+5+3
    expect(all.items.map((c) => c.metadata?.name).sort()).toEqual(names);
    expect(all.items.map((c) => c.data?.['v']).sort()).toEqual(names);
    // raw: timestamps stay the RFC 3339 strings the server sent (no model classes, no Date)
    for (const c of all.items) expect(typeof c.metadata?.creationTimestamp).toBe('string');
    const rv = all.metadata.resourceVersion ?? '';
    expect(rv).toMatch(/^\d+$/);
    // one page with everything: the same objects
    const one = (await listRaw(kc, path, 500)) as { items: V1ConfigMap[] };
    expect(one.items.map((c) => c.metadata?.resourceVersion).sort()).toEqual(
      all.items.map((c) => c.metadata?.resourceVersion).sort(),
    );
  });

  it('kubeRequest — a missing object is KubeApiError 404 with the server message', async () => {
    const e: unknown = await kubeRequest(kc, 'GET', `/api/v1/namespaces/${ns}/configmaps/absent`).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KubeApiError);
    expect((e as KubeApiError).status).toBe(404);
    expect((e as KubeApiError).code).toBe('KUBE_API');
    expect((e as KubeApiError).message).toMatch(/absent.*not found/);
  });

  it('the cloud informer caches raw listed objects, the same shape as watched ones', async () => {
    const kube = new KubeClient(kc, silentLogger());
    const inf = kube.informer<V1ConfigMap>('configmaps');
    await inf.start();
    try {
      const listed = inf.get('cm-00', ns);
      expect(listed?.data?.['v']).toBe('cm-00');
      expect(typeof listed?.metadata?.creationTimestamp).toBe('string');
      const core = kc.makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm-watched' } } });
      await expect
        .poll(() => inf.get('cm-watched', ns)?.metadata?.name, { timeout: 10_000 })
        .toBe('cm-watched');
      const watched = inf.get('cm-watched', ns);
      expect(typeof watched?.metadata?.creationTimestamp).toBe('string');
      expect(Object.keys(listed?.metadata ?? {})).toEqual(
        expect.arrayContaining(['name', 'namespace', 'uid']),
      );
    } finally {
      await inf.stop();
    }
  });
});
