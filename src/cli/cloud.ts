import { readFileSync } from 'node:fs';
import { createLogger, createRegistry, startAll, type Logger, type Registry } from '../common/index.js';
import { Hub } from '../cloud/hub/index.js';
import { KubeClient, loadKubeConfig } from '../cloud/kube/index.js';
import { SyncController } from '../cloud/sync/index.js';
import type { CloudConfig } from './config.js';

export interface RunningCloud {
  hub: Hub;
  sync: SyncController;
  registry: Registry;
  log: Logger;
  stop(): Promise<void>;
}

/** The cloud core's composition root (DESIGN §1): components wired by hand, stopped in reverse. */
export async function startCloud(cfg: CloudConfig): Promise<RunningCloud> {
  const log = createLogger({ level: cfg.logLevel, name: 'cloud' });
  const registry = createRegistry({ defaultMetrics: true });
  const kc = loadKubeConfig({
    ...(cfg.kubeconfig === undefined ? {} : { kubeconfig: cfg.kubeconfig }),
    inCluster: cfg.inCluster,
  });
  const kube = new KubeClient(kc, log.child({ component: 'kube' }));
  const hub = new Hub(
    {
      host: cfg.hub.host,
      port: cfg.hub.port,
      tls: {
        certPem: readFileSync(cfg.hub.certFile, 'utf8'),
        keyPem: readFileSync(cfg.hub.keyFile, 'utf8'),
        caPem: readFileSync(cfg.hub.caFile, 'utf8'),
      },
      settings: { keepaliveMs: cfg.hub.keepaliveMs, windowSize: cfg.hub.windowSize },
    },
    log.child({ component: 'hub' }),
    registry,
  );
  const sync = new SyncController(kube, hub, log.child({ component: 'sync' }), registry);
  hub.setHandler(sync);
  // sync first: the hub accepts edges only once the caches can answer their inventories
  const stop = await startAll([sync, hub]);
  return { hub, sync, registry, log, stop };
}
