/**
 * Harness for channel tests: a control plane (embedded or upstream, by TETHER_CONTROL_PLANE),
 * a cloud core (hub + sync controller) over real mTLS, and edges (store + link) with
 * certificates issued by the cloud CA. Everything in-process; fault tests with separate
 * processes and network namespaces build on the same pieces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  CertificateAuthority,
  createCsr,
  createLogger,
  createRegistry,
  silentLogger,
  type Registry,
} from '../../src/common/index.js';
import { EDGE_GROUP, Hub } from '../../src/cloud/hub/index.js';
import { KubeClient } from '../../src/cloud/kube/index.js';
import { SyncController, type LeaseRenewerConfig } from '../../src/cloud/sync/index.js';
import { EdgeStore } from '../../src/edge/store/index.js';
import { Link } from '../../src/edge/link/index.js';
import { startControlPlane, type ControlPlane } from './controlplane.js';

export interface Cloud {
  hub: Hub;
  sync: SyncController;
  registry: Registry;
  url: string;
  stop(): Promise<void>;
}

export interface Edge {
  name: string;
  store: EdgeStore;
  link: Link;
  dbPath: string;
  stop(): Promise<void>;
}

export class ChannelHarness {
  cp!: ControlPlane;
  ca!: CertificateAuthority;
  core!: CoreV1Api;
  kc!: KubeConfig;
  dir!: string;
  private serving!: { certPem: string; keyPem: string };
  private readonly stops: (() => Promise<void>)[] = [];
  hubPort = 0;

  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'tether-channel-'));
    this.cp = await startControlPlane();
    this.kc = new KubeConfig();
    this.kc.loadFromFile(this.cp.kubeconfigPath);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.ca = await CertificateAuthority.create('tether-test-ca');
    this.serving = await this.ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  }

  /**
   * A cloud core as `tether cloud` and `tether up` run it: it renews connected nodes' Leases from
   * link liveness (leaseByCloud, issue 12), every second — the harness's edges and the tests'
   * lifecycle controllers assume a 1 s lease with 4 s of grace. `leases: false` keeps the old path
   * (edges renew through the channel), for the tests of that path and of older edges.
   */
  async startCloud(
    opts: {
      keepaliveMs?: number;
      windowSize?: number;
      host?: string;
      devices?: boolean;
      leases?: LeaseRenewerConfig | false;
    } = {},
  ): Promise<Cloud> {
    const host = opts.host ?? '127.0.0.1';
    const serving =
      host === '127.0.0.1'
        ? this.serving
        : await this.ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1', host] });
    const registry = createRegistry();
    const log = process.env['TETHER_TEST_LOG']
      ? createLogger({ level: process.env['TETHER_TEST_LOG'] })
      : silentLogger();
    const hub = new Hub(
      {
        host,
        port: this.hubPort,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: this.ca.certPem },
        settings: {
          keepaliveMs: opts.keepaliveMs ?? 1000,
          missedPongLimit: 3,
          windowSize: opts.windowSize ?? 64,
        },
      },
      log,
      registry,
    );
    const sync = new SyncController(new KubeClient(this.kc, log), hub, log, registry, {
      queue: { stallTimeoutMs: 30_000 },
      tickMs: 200,
      devices: opts.devices === true,
      ...(opts.leases === false ? {} : { leases: opts.leases ?? { renewIntervalSeconds: 1 } }),
    });
    hub.setHandler(sync);
    await sync.start();
    await hub.start();
    this.hubPort = hub.port; // a restarted cloud comes back on the same port
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await hub.stop();
      await sync.stop();
    };
    this.stops.push(stop);
    return { hub, sync, registry, url: `wss://${host}:${hub.port}`, stop };
  }

  async edgeCert(name: string): Promise<{ certPem: string; keyPem: string }> {
    const { csrPem, keyPem } = await createCsr(name);
    return { certPem: await this.ca.signClientCsr(csrPem, name, [EDGE_GROUP]), keyPem };
  }

  async startEdge(
    name: string,
    opts: { dbPath?: string; cert?: { certPem: string; keyPem: string } } = {},
  ): Promise<Edge> {
    const dbPath = opts.dbPath ?? join(this.dir, `${name}.db`);
    const store = new EdgeStore({ path: dbPath });
    store.open();
    const cert = opts.cert ?? (await this.edgeCert(name));
    const link = new Link(
      {
        cloudUrl: `wss://127.0.0.1:${this.hubPort}`,
        tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: this.ca.certPem },
        reconnect: { initialMs: 50, maxMs: 500 },
        outboxPollMs: 50,
        statusAckTimeoutMs: 2000,
      },
      store,
      silentLogger(),
      createRegistry(),
    );
    await link.start();
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      await link.stop();
      store.close();
    };
    this.stops.push(stop);
    return { name, store, link, dbPath, stop };
  }

  async stop(): Promise<void> {
    for (const s of this.stops.splice(0).reverse()) await s().catch(() => undefined);
    await this.cp.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `fn` returns a truthy value or the deadline passes (then throws with the last value). */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as Exclude<T, false | 0 | '' | null | undefined>;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const podManifest = (name: string, node: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }], ...extra },
});
