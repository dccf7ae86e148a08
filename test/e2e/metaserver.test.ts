import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../src/common/index.js';
import { LocalApi } from '../../src/edge/api/index.js';
import { ChannelHarness, eventually, podManifest, type Cloud } from '../support/channel.js';

const run = promisify(execFile);
const NS = 'default';
const NODE = 'edge-meta';

/**
 * Issue 6, Done when: "kubectl (with a kubeconfig for the metaserver) and @kubernetes/client-node
 * list and watch pods on the edge while the cloud is unreachable". A real control plane, a real
 * cloud core over mTLS, an edge (store + link) with the local API on top of its store.
 */
describe('e2e — edge metaserver', () => {
  const h = new ChannelHarness();
  let cloud: Cloud;
  let api: LocalApi | undefined;

  beforeAll(async () => {
    await h.start();
    cloud = await h.startCloud();
  });
  afterAll(async () => {
    await api?.stop();
    await h.stop();
  });

  it('metaserver — kubectl and client-node list and watch the node’s pods with the cloud down; a pod created meanwhile reaches the open watches after reconnect', async () => {
    const edge = await h.startEdge(NODE);
    api = new LocalApi(
      {
        port: 0,
        tokenFile: path.join(h.dir, 'api.token'),
        kubeconfigFile: path.join(h.dir, 'metaserver.kubeconfig'),
        tls: {
          caFile: path.join(h.dir, 'api-ca.crt'),
          certFile: path.join(h.dir, 'api.crt'),
          keyFile: path.join(h.dir, 'api.key'),
        },
      },
      {
        health: () => undefined,
        logger: silentLogger(),
        store: edge.store,
        registry: createRegistry(),
        nodeName: NODE,
      },
    );
    await api.start();
    const kubeconfig = path.join(h.dir, 'metaserver.kubeconfig');
    const kubectl = async (...args: string[]): Promise<string> =>
      (await run('/usr/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 })).stdout;

    await h.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'meta-settings' }, data: { mode: 'edge' } },
    });
    await h.core.createNamespacedPod({
      namespace: NS,
      body: podManifest('meta-web', NODE, {
        volumes: [{ name: 'cfg', configMap: { name: 'meta-settings' } }],
      }),
    });
    await h.core.createNamespacedPod({
      namespace: NS,
      body: podManifest('elsewhere', 'other-node'),
    });
    const podKey = (name: string) => ({ group: '', version: 'v1', kind: 'Pod', namespace: NS, name });
    await eventually(
      () =>
        edge.store.get(podKey('meta-web')) !== undefined &&
        edge.store.get({ group: '', version: 'v1', kind: 'ConfigMap', namespace: NS, name: 'meta-settings' }),
      'the pod and its ConfigMap at the edge',
      30_000,
    );

    // The cloud becomes unreachable.
    await cloud.stop();
    await eventually(() => edge.link.state !== 'online', 'the link to notice the cloud is gone', 30_000);

    const pods = await kubectl('get', 'pods', '-A', '--no-headers');
    expect(pods).toMatch(/^default\s+meta-web\s+0\/1\s+\S+\s+0\s+\S+$/m);
    expect(pods).not.toContain('elsewhere'); // only what belongs to the node
    const cm = parse(await kubectl('get', 'configmap', 'meta-settings', '-o', 'yaml')) as {
      data: Record<string, string>;
    };
    expect(cm.data).toEqual({ mode: 'edge' });

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.listNamespacedPod({ namespace: NS })).items.map((p) => p.metadata?.name)).toEqual([
      'meta-web',
    ]);
    const informer = makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () =>
      core.listNamespacedPod({ namespace: NS }),
    );
    const added: string[] = [];
    informer.on('add', (p: V1Pod) => added.push(p.metadata?.name ?? ''));
    await informer.start();
    const watcher = spawn(
      '/usr/bin/kubectl',
      ['--kubeconfig', kubeconfig, 'get', 'pods', '-w', '--no-headers'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let watchOut = '';
    watcher.stdout.on('data', (d: Buffer) => (watchOut += d.toString()));
    watcher.stderr.on('data', (d: Buffer) => (watchOut += d.toString()));
    try {
      await eventually(() => added.includes('meta-web'), 'the informer to list the pod offline');
      await eventually(() => /^meta-web\s/m.test(watchOut), 'kubectl -w to list the pod offline');

      // A pod created while the edge is cut off arrives once the link is back — in the open watches.
      await h.core.createNamespacedPod({ namespace: NS, body: podManifest('meta-late', NODE) });
      cloud = await h.startCloud();
      await eventually(() => added.includes('meta-late'), 'the informer to see the new pod', 60_000);
      await eventually(() => /^meta-late\s/m.test(watchOut), 'kubectl -w to print the new pod', 60_000);
      expect(
        informer
          .list()
          .map((p) => p.metadata?.name)
          .sort(),
      ).toEqual(['meta-late', 'meta-web']);
      const token = (await readFile(path.join(h.dir, 'api.token'), 'utf8')).trim();
      expect(token).not.toBe('');
      expect((await fetch(`${api.url}/api/v1/pods`)).status).toBe(401);
    } finally {
      await informer.stop();
      watcher.kill('SIGTERM');
      await new Promise((r) => watcher.once('exit', r));
    }
  });
});
