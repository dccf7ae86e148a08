import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeStore } from '../../src/edge/store/index.js';
import { keyId, nodeName } from '../../src/protocol/index.js';
import { ChannelHarness, eventually, podManifest } from '../support/channel.js';
import { freePort, tether, type Proc } from '../support/procs.js';

const NS = 'default';
const cmKey = (name: string) => ({ group: '', version: 'v1', kind: 'ConfigMap', namespace: NS, name });

async function cmVersions(h: ChannelHarness, prefix: string): Promise<Map<string, string>> {
  const items = (await h.core.listNamespacedConfigMap({ namespace: NS })).items.filter((c) =>
    c.metadata!.name!.startsWith(prefix),
  );
  return new Map(items.map((c) => [keyId(cmKey(c.metadata!.name!)), c.metadata!.resourceVersion!]));
}

function storeVersions(store: EdgeStore, prefix: string): Map<string, string> {
  return new Map(
    store
      .list({ group: '', kind: 'ConfigMap', namespace: NS })
      .filter((o) => o.key.name.startsWith(prefix))
      .map((o) => [keyId(o.key), o.resourceVersion as string]),
  );
}

const same = (a: Map<string, string>, b: Map<string, string>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

/** Files a `tether cloud` / `tether edge run` child needs, written from the harness's CA. */
async function writeCloudConfig(h: ChannelHarness, port: number): Promise<string> {
  const pair = await h.ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  writeFileSync(join(h.dir, 'hub.crt'), pair.certPem);
  writeFileSync(join(h.dir, 'hub.key'), pair.keyPem);
  writeFileSync(join(h.dir, 'ca.crt'), h.ca.certPem);
  const file = join(h.dir, 'cloud.yaml');
  writeFileSync(
    file,
    [
      `kubeconfig: ${h.cp.kubeconfigPath}`,
      'hub:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      `  certFile: ${join(h.dir, 'hub.crt')}`,
      `  keyFile: ${join(h.dir, 'hub.key')}`,
      `  caFile: ${join(h.dir, 'ca.crt')}`,
      '  keepaliveMs: 1000',
      'logLevel: warn',
    ].join('\n'),
  );
  return file;
}

async function writeEdgeConfig(
  h: ChannelHarness,
  name: string,
  port: number,
): Promise<{ file: string; dataDir: string }> {
  const cert = await h.edgeCert(name);
  writeFileSync(join(h.dir, `${name}.crt`), cert.certPem);
  writeFileSync(join(h.dir, `${name}.key`), cert.keyPem);
  writeFileSync(join(h.dir, 'ca.crt'), h.ca.certPem);
  const dataDir = join(h.dir, `${name}-data`);
  const file = join(h.dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `nodeName: ${name}`,
      `dataDir: ${dataDir}`,
      'cloud:',
      `  url: wss://127.0.0.1:${port}`,
      `  certFile: ${join(h.dir, `${name}.crt`)}`,
      `  keyFile: ${join(h.dir, `${name}.key`)}`,
      `  caFile: ${join(h.dir, 'ca.crt')}`,
      'node:',
      '  leaseRenewMs: 1000',
      '  statusCheckMs: 1000',
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
  return { file, dataDir };
}

async function referencingPod(
  h: ChannelHarness,
  pod: string,
  node: string,
  prefix: string,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++)
    await h.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: `${prefix}${i}` }, data: { v: '0' } },
    });
  await h.core.createNamespacedPod({
    namespace: NS,
    body: podManifest(pod, node, {
      volumes: Array.from({ length: n }, (_, i) => ({ name: `v${i}`, configMap: { name: `${prefix}${i}` } })),
    }),
  });
}

async function burst(
  h: ChannelHarness,
  prefix: string,
  n: number,
  count: number,
  from: number,
  during?: (i: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i % n}`;
    await h.core.replaceNamespacedConfigMap({
      namespace: NS,
      name,
      body: { metadata: { name }, data: { v: String(from + i) } },
    });
    await during?.(i);
  }
}

describe('channel — processes killed with SIGKILL', () => {
  const h = new ChannelHarness();
  beforeAll(async () => {
    await h.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('channel — SIGKILL of the cloud core during a burst: after restart nothing acked is lost and nothing held is re-sent', async () => {
    const port = await freePort();
    const cfg = await writeCloudConfig(h, port);
    let cloud: Proc = tether(['cloud', '--config', cfg]);
    h.hubPort = port;
    const edge = await h.startEdge('edge-ck');
    const arrivalsAfterRestart = new Map<string, number>();
    let restarted = false;
    edge.link.on('applied', ({ msg }) => {
      if (restarted)
        arrivalsAfterRestart.set(keyId(msg.key), (arrivalsAfterRestart.get(keyId(msg.key)) ?? 0) + 1);
    });
    await eventually(() => edge.link.state === 'online', `edge online (cloud output: ${cloud.output()})`);
    await referencingPod(h, 'ck-pod', 'edge-ck', 'ck-', 10);
    await eventually(
      async () => same(storeVersions(edge.store, 'ck-'), await cmVersions(h, 'ck-')),
      'initial sync',
    );

    await burst(h, 'ck-', 10, 300, 1, async (i) => {
      if (i === 100) await cloud.kill('SIGKILL');
    });
    expect(cloud.child.signalCode).toBe('SIGKILL');
    const heldBeforeRestart = storeVersions(edge.store, 'ck-');
    cloud = tether(['cloud', '--config', cfg]);
    restarted = true;
    try {
      const want = await cmVersions(h, 'ck-');
      await eventually(
        () => same(storeVersions(edge.store, 'ck-'), want),
        'convergence after the cloud restart',
      );
      // nothing the edge already held was sent again, and each changed object arrived once
      expect(edge.link.counters.duplicates).toBe(0);
      for (const [k, n] of arrivalsAfterRestart) {
        expect(n).toBe(1);
        expect(heldBeforeRestart.get(k)).not.toBe(want.get(k));
      }
    } finally {
      await cloud.kill('SIGTERM');
      await edge.stop();
    }
  });

  it('channel — SIGKILL of the edge while online and while offline: it restarts from its store and converges, registered in the API', async () => {
    const cloud = await h.startCloud();
    const { file, dataDir } = await writeEdgeConfig(h, 'edge-ek', h.hubPort);
    await referencingPod(h, 'ek-pod', 'edge-ek', 'ek-', 10);
    let edge = tether(['edge', 'run', '--config', file]);
    const dbPath = join(dataDir, 'edge.db');
    const peek = (): Map<string, string> => {
      const s = new EdgeStore({ path: dbPath });
      try {
        s.open();
        return storeVersions(s, 'ek-');
      } catch {
        return new Map();
      } finally {
        s.close();
      }
    };
    await eventually(
      async () => same(peek(), await cmVersions(h, 'ek-')),
      `initial sync (edge output: ${edge.output()})`,
    );
    // the node registered itself through the channel: labels, nodeInfo, lease
    // the Node is created first, then its status lands: wait for the status, not just the object
    const node = await eventually(async () => {
      const n = await h.core.readNode({ name: 'edge-ek' }).catch(() => undefined);
      return n?.status?.nodeInfo?.kubeletVersion ? n : false;
    }, 'Node object with its status');
    expect(node.metadata?.labels?.['node-role.kubernetes.io/edge']).toBe('');
    expect(node.metadata?.labels?.['kubernetes.io/arch']).toBe('amd64');
    expect(node.status?.nodeInfo?.kubeletVersion).toMatch(/tether/);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const { CoordinationV1Api } = await import('@kubernetes/client-node');
    const lease = await eventually(
      async () =>
        (await h.kc
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ name: 'edge-ek', namespace: 'kube-node-lease' })
          .catch(() => undefined)) ?? false,
      'Lease',
    );
    expect(lease.spec?.holderIdentity).toBe('edge-ek');

    // online: SIGKILL mid-burst, restart, converge
    const q = cloud.sync.queue(nodeName('edge-ek'))!;
    await burst(h, 'ek-', 10, 100, 1, async (i) => {
      if (i === 40) await edge.kill('SIGKILL');
    });
    const sentBefore = q.counters.sent;
    edge = tether(['edge', 'run', '--config', file]);
    await eventually(
      async () => same(peek(), await cmVersions(h, 'ek-')),
      'convergence after the edge restart',
    );
    // at most the 10 ConfigMaps (+ pod and node) travel again, never one per change
    expect(q.counters.sent - sentBefore).toBeLessThanOrEqual(12);
    expect(q.counters.redundant).toBe(0);

    // offline: the cloud goes away, the edge is SIGKILLed and restarted with no cloud, then the cloud returns
    await cloud.stop();
    await edge.kill('SIGKILL');
    edge = tether(['edge', 'run', '--config', file]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(edge.child.exitCode).toBeNull(); // it runs on its own
    expect(peek().size).toBe(10); // from its store
    await burst(h, 'ek-', 10, 30, 1000);
    await h.startCloud();
    try {
      await eventually(
        async () => same(peek(), await cmVersions(h, 'ek-')),
        'convergence after the offline restart',
      );
    } finally {
      await edge.kill('SIGTERM');
    }
  });
});
