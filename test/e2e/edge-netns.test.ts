import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../src/edge/store/index.js';
import { keyId, nodeName } from '../../src/protocol/index.js';
import { ChannelHarness, eventually, podManifest } from '../support/channel.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { tether, type Proc } from '../support/procs.js';

const NS = 'default';

/**
 * DESIGN §9: an edge in its own network namespace, its link cut by taking the veth down — a real
 * half-open TCP connection, not a polite close.
 */
describe('edge in its own network namespace', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: Proc | undefined;

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
  });
  afterAll(async () => {
    await edge?.kill('SIGKILL');
    host.remove();
    await h.stop();
  });

  it(
    'edge netns — a cut link is detected on both sides; 1,000 changes made meanwhile arrive as one message per object, deletes included',
    { timeout: 180_000 },
    async () => {
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
      const cert = await h.edgeCert('edge-ns');
      for (const [f, v] of [
        ['edge-ns.crt', cert.certPem],
        ['edge-ns.key', cert.keyPem],
        ['ca.crt', h.ca.certPem],
      ] as const)
        writeFileSync(join(h.dir, f), v);
      const dataDir = join(h.dir, 'edge-ns-data');
      const cfg = join(h.dir, 'edge-ns.yaml');
      writeFileSync(
        cfg,
        [
          'nodeName: edge-ns',
          `dataDir: ${dataDir}`,
          'cloud:',
          `  url: wss://${host.hostIp}:${cloud.hub.port}`,
          `  certFile: ${join(h.dir, 'edge-ns.crt')}`,
          `  keyFile: ${join(h.dir, 'edge-ns.key')}`,
          `  caFile: ${join(h.dir, 'ca.crt')}`,
          // no runtime or bus in these channel tests: Ready does not depend on a runtime, and
          // several edges on one host must not share the bus or API ports
          'pods:',
          '  enabled: false',
          'devices:',
          '  enabled: false',
          'api:',
          '  enabled: false',
          'logLevel: warn',
        ].join('\n'),
      );
      for (let i = 0; i < 5; i++)
        await h.core.createNamespacedConfigMap({
          namespace: NS,
          body: { metadata: { name: `ns-${i}` }, data: { v: '0' } },
        });
      const podWith = (name: string, cms: number[]) =>
        podManifest(name, 'edge-ns', {
          volumes: cms.map((i) => ({ name: `v${i}`, configMap: { name: `ns-${i}` } })),
        });
      await h.core.createNamespacedPod({ namespace: NS, body: podWith('ns-a', [0, 1, 2]) });
      await h.core.createNamespacedPod({ namespace: NS, body: podWith('ns-b', [3, 4]) });

      edge = tether(['edge', 'run', '--config', cfg], {}, host.ns);
      const held = (): Map<string, string> => {
        const s = new EdgeStore({ path: join(dataDir, 'edge.db') });
        try {
          s.open();
          return new Map(s.inventory().map((i) => [keyId(i.key), i.resourceVersion as string]));
        } catch {
          return new Map();
        } finally {
          s.close();
        }
      };
      const want = async (): Promise<Map<string, string>> => {
        const cms = (await h.core.listNamespacedConfigMap({ namespace: NS })).items;
        const pods = (await h.core.listNamespacedPod({ namespace: NS })).items.filter(
          (p) => p.spec?.nodeName === 'edge-ns',
        );
        // Projected sources count too: on a real cluster every pod gets the kube-root-ca.crt
        // ConfigMap through its kube-api-access volume, and the node receives it.
        const used = new Set(
          pods.flatMap((p) =>
            (p.spec?.volumes ?? []).flatMap((v) => [
              v.configMap?.name,
              ...(v.projected?.sources ?? []).map((s) => s.configMap?.name),
            ]),
          ),
        );
        return new Map(
          cms
            .filter((c) => used.has(c.metadata!.name))
            .map((c) => [
              keyId({ group: '', version: 'v1', kind: 'ConfigMap', namespace: NS, name: c.metadata!.name! }),
              c.metadata!.resourceVersion!,
            ]),
        );
      };
      const cmsConverged = async (): Promise<boolean> => {
        const have = new Map([...held()].filter(([k]) => k.includes('/ConfigMap/')));
        const w = await want();
        return have.size === w.size && [...w].every(([k, v]) => have.get(k) === v);
      };
      await eventually(cmsConverged, `initial sync (edge output: ${edge.output()})`, 30_000);
      await eventually(() => cloud.hub.session(nodeName('edge-ns')), 'session');

      host.cut();
      // half-open on the cloud side: found by missed keepalives, within 3 × 500 ms plus a tick
      const cutAt = Date.now();
      await eventually(
        () => cloud.hub.session(nodeName('edge-ns')) === undefined,
        'cloud notices the dead link',
        10_000,
      );
      expect(Date.now() - cutAt).toBeLessThan(5_000);

      const q = cloud.sync.queue(nodeName('edge-ns'))!;
      for (let i = 0; i < 1000; i++) {
        const name = `ns-${i % 5}`;
        await h.core.replaceNamespacedConfigMap({
          namespace: NS,
          name,
          body: { metadata: { name }, data: { v: String(i + 1) } },
        });
      }
      await h.core.deleteNamespacedPod({ namespace: NS, name: 'ns-b', gracePeriodSeconds: 0 });
      const sentBefore = q.counters.sent;

      host.restore();
      await eventually(cmsConverged, 'convergence after the link returns', 60_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\nedge output:\n${edge?.output() ?? ''}`);
      });
      await eventually(
        () => !held().has(keyId({ group: '', version: 'v1', kind: 'Pod', namespace: NS, name: 'ns-b' })),
        'pod deleted on the edge',
      );
      // 3 ConfigMaps updated, 2 ConfigMaps and 1 pod deleted: 6 messages at most, not 1,000
      expect(q.counters.sent - sentBefore).toBeLessThanOrEqual(7);
      expect(q.counters.redundant).toBe(0);
    },
  );
});
