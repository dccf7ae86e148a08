/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are generated classes used as plain JSON data, as in src/cloud/kube */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import {
  createLogger,
  createRegistry,
  errorMessage,
  startAll,
  type Component,
  type Logger,
  type Registry,
} from '../common/index.js';
import {
  CertRotation,
  CloudPki,
  edgeSecurity,
  JoinService,
  Revocations,
  TokenStore,
  type HubTls,
} from '../cloud/bootstrap/index.js';
import { Hub } from '../cloud/hub/index.js';
import { KubeClient, loadKubeConfig } from '../cloud/kube/index.js';
import { CloudStreams } from '../cloud/streams/index.js';
import { SyncController } from '../cloud/sync/index.js';
import { nodeName } from '../protocol/index.js';
import type { CloudConfig } from './config.js';

/** Where the cloud core publishes the address edges dial (kubeadm's cluster-info, for `tether token create`). */
export const CLOUD_INFO = { namespace: 'tether-system', name: 'tether-cloud' } as const;

export interface RunningCloud {
  hub: Hub;
  sync: SyncController;
  /** The kubelet endpoint and stream relay; undefined when streams are off or have no client CA. */
  streams: CloudStreams | undefined;
  /** Undefined with operator-provided hub certificates (hub.certFile…): no joins, no rotation then. */
  pki: CloudPki | undefined;
  tokens: TokenStore;
  revocations: Revocations;
  /** `wss://<first advertised name>:<listening port>`: what join commands tell edges to dial. */
  url: string;
  registry: Registry;
  log: Logger;
  stop(): Promise<void>;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** The names edges dial (serving-certificate SANs); the first is the one join commands print. */
export function advertisedHosts(cfg: CloudConfig): string[] {
  if (cfg.hub.advertise !== undefined) return [...cfg.hub.advertise];
  if (!WILDCARD.has(cfg.hub.host)) return [cfg.hub.host];
  return [...new Set(['127.0.0.1', 'localhost', hostname().toLowerCase()])];
}

function wssUrl(host: string, port: number): string {
  return `wss://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * The cloud core's composition root (DESIGN §1): components wired by hand, stopped in reverse.
 * Edge identity (issue 5): the CA lives in Kubernetes (CloudPki), the hub serves a certificate
 * from it and answers joins (JoinService); admission refuses revoked certificates and
 * `certRotate` queries are answered over the channel (edgeSecurity around the sync controller).
 */
export async function startCloud(cfg: CloudConfig): Promise<RunningCloud> {
  const log = createLogger({ level: cfg.logLevel, name: 'cloud' });
  const registry = createRegistry({ defaultMetrics: true });
  const kc = loadKubeConfig({
    ...(cfg.kubeconfig === undefined ? {} : { kubeconfig: cfg.kubeconfig }),
    inCluster: cfg.inCluster,
  });
  const kube = new KubeClient(kc, log.child({ component: 'kube' }));
  const hosts = advertisedHosts(cfg);
  const { certFile, keyFile, caFile } = cfg.hub;
  const fileTls = certFile !== undefined && keyFile !== undefined && caFile !== undefined;

  let pki: CloudPki | undefined;
  let tls: HubTls;
  if (fileTls) {
    tls = {
      certPem: readFileSync(certFile, 'utf8'),
      keyPem: readFileSync(keyFile, 'utf8'),
      caPem: readFileSync(caFile, 'utf8'),
    };
  } else {
    pki = new CloudPki(
      {
        serving: {
          dnsNames: hosts.filter((h) => isIP(h) === 0),
          ips: hosts.filter((h) => isIP(h) !== 0),
        },
        edgeCertValidMs: cfg.bootstrap.edgeCertValidMs,
      },
      kube,
      log.child({ component: 'pki' }),
    );
    // Before the hub exists: its serving certificate comes from this CA.
    await pki.start();
    tls = await pki.hubTls();
  }
  const tokens = new TokenStore(kube, log.child({ component: 'tokens' }));
  const revocations = new Revocations(kube, log.child({ component: 'revocations' }), {
    refreshMs: cfg.bootstrap.revocationRefreshMs,
  });
  const joins: JoinService | undefined =
    pki === undefined
      ? undefined
      : new JoinService(pki, tokens, kube, log.child({ component: 'join' }), registry, {
          maxFailures: cfg.bootstrap.maxJoinFailuresPerMinute,
          windowMs: 60_000,
          // Called only during a request, when `hub` below exists.
          isConnected: (n: string): boolean => hub.session(nodeName(n)) !== undefined,
        });
  const hub: Hub = new Hub(
    {
      host: cfg.hub.host,
      port: cfg.hub.port,
      tls,
      settings: { keepaliveMs: cfg.hub.keepaliveMs, windowSize: cfg.hub.windowSize },
      acceptors: cfg.hub.acceptors,
      maxPendingHandshakes: cfg.hub.maxPendingHandshakes,
      maxQueuedConnections: cfg.hub.maxQueuedConnections,
      listenBacklog: cfg.hub.listenBacklog,
    },
    log.child({ component: 'hub' }),
    registry,
    joins,
  );
  const sync = new SyncController(kube, hub, log.child({ component: 'sync' }), registry, {
    devices: cfg.devices.enabled,
    deviceStatusPerSecond: cfg.devices.statusWritesPerSecond,
    leases: {
      enabled: cfg.leases.byCloud,
      renewIntervalSeconds: cfg.leases.renewIntervalSeconds,
      leaseDurationSeconds: cfg.leases.leaseDurationSeconds,
      maxInFlight: cfg.leases.maxInFlight,
      busyRenewIntervalSeconds: cfg.leases.busyRenewIntervalSeconds,
    },
  });
  // Rotation signs with the cloud CA; with operator-provided certificates there is none to sign with.
  const rotation =
    pki === undefined ? undefined : new CertRotation(pki, log.child({ component: 'rotation' }), revocations);
  const security =
    rotation === undefined
      ? undefined
      : edgeSecurity(sync, { revocations, rotation, hub, log: log.child({ component: 'security' }) });
  const sc = cfg.streams;
  const streams =
    sc.enabled && sc.clientCAFile !== undefined
      ? new CloudStreams(
          {
            host: sc.host,
            port: sc.port,
            // The API server does not verify kubelet serving certificates unless told to; the hub's is fine.
            tls: {
              certPem: tls.certPem,
              keyPem: tls.keyPem,
              clientCaPem: readFileSync(sc.clientCAFile, 'utf8'),
            },
            redirect: sc.redirect,
            maxPerNode: sc.maxPerNode,
            ...(sc.advertisePort === undefined ? {} : { advertisePort: sc.advertisePort }),
          },
          hub,
          kube.core,
          log.child({ component: 'streams' }),
          registry,
        )
      : undefined;
  if (sc.enabled && streams === undefined)
    log.warn('streams.clientCAFile is not set: kubectl logs/exec into edge pods are not available');
  const handler = security ?? sync;
  hub.setHandler(streams === undefined ? handler : streams.wrap(handler));
  const publish: Component = {
    name: 'cloud-info',
    start: async () => {
      if (pki === undefined) return; // no joins without the cloud CA: nothing to publish
      await publishCloudInfo(kube, wssUrl(hosts[0] ?? '127.0.0.1', hub.port), pki.pin).catch((e: unknown) => {
        // Not fatal: `tether token create --cloud URL` works without it.
        log.warn(
          { err: errorMessage(e) },
          `could not publish the cloud address in ${CLOUD_INFO.namespace}/${CLOUD_INFO.name}`,
        );
      });
    },
    stop: () => Promise.resolve(),
  };
  const securityStop: Component = {
    name: 'edge-security',
    start: () => Promise.resolve(),
    stop: () => {
      security?.dispose();
      return Promise.resolve();
    },
  };
  // revocations before the hub: admission must know the list before the first edge connects;
  // sync before the hub: the caches must answer the edges' inventories.
  // Operator-provided certificates keep the channel exactly as before: no revocation list to poll.
  const stop = await startAll([
    ...(security === undefined ? [] : [revocations, securityStop]),
    sync,
    // before the hub: Node statuses carry the endpoint's port from the first connection on
    ...(streams === undefined ? [] : [streams]),
    hub,
    publish,
  ]);
  const url = wssUrl(hosts[0] ?? '127.0.0.1', hub.port);
  log.info(
    { url, advertise: hosts, caCertHash: pki?.pin, joins: joins !== undefined },
    pki === undefined
      ? 'cloud core started with operator-provided hub certificates (no joins)'
      : 'cloud core started',
  );
  return {
    hub,
    sync,
    streams,
    pki,
    tokens,
    revocations,
    url,
    registry,
    log,
    stop,
  };
}

/** Writes tether-system/tether-cloud {url, caCertHash} (public data, like kubeadm's cluster-info). */
async function publishCloudInfo(
  kube: KubeClient,
  url: string,
  caCertHash: string | undefined,
): Promise<void> {
  const { namespace, name } = CLOUD_INFO;
  const data: Record<string, string> = { url, ...(caCertHash === undefined ? {} : { caCertHash }) };
  const core = kube.core;
  try {
    const cm = await core.readNamespacedConfigMap({ name, namespace });
    cm.data = data;
    await core.replaceNamespacedConfigMap({ name, namespace, body: cm });
    return;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 404) throw e;
  }
  await core.createNamespacedConfigMap({
    namespace,
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'tether' } },
      data,
    },
  });
}
