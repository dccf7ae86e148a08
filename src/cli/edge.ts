import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLogger,
  createRegistry,
  startAll,
  type Component,
  type Logger,
  type Registry,
} from '../common/index.js';
import { discoverHardware } from '../edge/hardware/index.js';
import { Link } from '../edge/link/index.js';
import { NodeReporter } from '../edge/node/index.js';
import { EdgeStore } from '../edge/store/index.js';
import type { EdgeConfig } from './config.js';

export interface RunningEdge {
  store: EdgeStore;
  link: Link;
  reporter: NodeReporter;
  registry: Registry;
  log: Logger;
  stop(): Promise<void>;
}

/** The edge core's composition root: store first, then everything that reads or writes it. */
export async function startEdge(cfg: EdgeConfig): Promise<RunningEdge> {
  const log = createLogger({ level: cfg.logLevel, name: 'edge' });
  const registry = createRegistry({ defaultMetrics: true });
  const store = new EdgeStore({ path: join(cfg.dataDir, 'edge.db'), registry });
  const storeComponent: Component = {
    name: 'store',
    start: () => {
      store.open();
      return Promise.resolve();
    },
    stop: () => {
      store.close();
      return Promise.resolve();
    },
  };
  const link = new Link(
    {
      cloudUrl: cfg.cloud.url,
      tls: {
        certPem: readFileSync(cfg.cloud.certFile, 'utf8'),
        keyPem: readFileSync(cfg.cloud.keyFile, 'utf8'),
        caPem: readFileSync(cfg.cloud.caFile, 'utf8'),
      },
    },
    store,
    log.child({ component: 'link' }),
    registry,
  );
  const reporter = new NodeReporter(
    {
      nodeName: cfg.nodeName,
      dataDir: cfg.dataDir,
      leaseRenewMs: cfg.node.leaseRenewMs,
      statusCheckMs: cfg.node.statusCheckMs,
      extraLabels: cfg.node.labels,
    },
    {
      hardware: () => discoverHardware({ root: cfg.hardwareRoot }),
      runtimeVersion: () => Promise.resolve('containerd://unknown'),
      online: () => link.state === 'online',
      outbox: store,
      kick: () => {
        link.kick();
      },
    },
    log.child({ component: 'node' }),
  );
  link.on('online', () => {
    reporter.connected();
  });
  const stop = await startAll([storeComponent, reporter, link]);
  return { store, link, reporter, registry, log, stop };
}
