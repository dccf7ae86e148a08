import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createLogger,
  createRegistry,
  errorMessage,
  startAll,
  type Component,
  type Logger,
  type Registry,
} from '../common/index.js';
import { API_ENDPOINT_FILE, API_TOKEN_FILE, healthView, LocalApi } from '../edge/api/index.js';
import { METASERVER_KUBECONFIG_FILE } from '../edge/metaserver/index.js';
import { CriRuntime } from '../edge/cri/index.js';
import { DeviceManager } from '../edge/devices/index.js';
import { discoverHardware } from '../edge/hardware/index.js';
import {
  edgeProbes,
  FileHealthStore,
  HealthMonitor,
  nodePressureConditions,
  type HealthEvent,
  type Verdict,
} from '../edge/health/index.js';
import { Link } from '../edge/link/index.js';
import { EdgeStreams } from '../edge/streams/index.js';
import { NodeReporter, type ConditionSource } from '../edge/node/index.js';
import { PodManager, TokenManager } from '../edge/pods/index.js';
import { EdgeStore } from '../edge/store/index.js';
import { CLOUD_FEATURES, type ObjectKey } from '../protocol/index.js';
import type { EdgeConfig } from './config.js';
import { lockDataDir } from './datadir-lock.js';

export interface RunningEdge {
  store: EdgeStore;
  link: Link;
  reporter: NodeReporter;
  health: HealthMonitor;
  pods: PodManager | undefined;
  devices: DeviceManager | undefined;
  api: LocalApi | undefined;
  /** Logs/exec/attach/port-forward from the cloud (issue 8); absent without pods. */
  streams: EdgeStreams | undefined;
  registry: Registry;
  log: Logger;
  stop(): Promise<void>;
}

/** Files the edge keeps in its data directory besides the store. */
export const EDGE_FILES = {
  store: 'edge.db',
  healthRecord: 'health.json',
  cleanShutdown: 'clean-shutdown',
  apiToken: API_TOKEN_FILE,
  apiEndpoint: API_ENDPOINT_FILE,
} as const;

const OPTIONAL_RETRY_MS = 10_000;

function component(
  name: string,
  start: () => Promise<void> | void,
  stop: () => Promise<void> | void,
): Component {
  return {
    name,
    start: async () => {
      await start();
    },
    stop: async () => {
      await stop();
    },
  };
}

/**
 * A component the node can run without (device bus, local API): a failed start — a taken port,
 * a dead external broker — is logged and retried, and never stops pods (DESIGN §3 autonomy).
 * Its health shows in the units (mqtt) and the log instead.
 */
function optional(c: Component, log: Logger, onAttempt?: () => void): Component {
  let retry: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;
  const attempt = async (): Promise<void> => {
    onAttempt?.();
    try {
      await c.start();
      running = true;
      if (stopped) {
        running = false;
        await c.stop();
      }
    } catch (e) {
      if (stopped) return;
      log.error(
        { component: c.name, err: errorMessage(e), retryMs: OPTIONAL_RETRY_MS },
        'start failed; retrying',
      );
      retry = setTimeout(() => {
        retry = undefined;
        void attempt();
      }, OPTIONAL_RETRY_MS);
      retry.unref();
    }
  };
  return {
    name: c.name,
    start: async () => {
      stopped = false;
      await attempt();
    },
    stop: async () => {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      if (running) {
        running = false;
        await c.stop();
      }
    },
  };
}

/** EdgeHealthy (DESIGN §4): True only when Healthy; the verdict is the reason, the status string the message. */
function edgeHealthyCondition(health: HealthMonitor): ConditionSource {
  return {
    conditions: () => {
      let ev;
      try {
        ev = health.evaluate();
      } catch {
        return [
          {
            type: 'EdgeHealthy',
            status: 'Unknown',
            reason: 'NotStarted',
            message: 'health component not started',
          },
        ];
      }
      return [
        {
          type: 'EdgeHealthy',
          status: ev.verdict === 'Healthy' ? 'True' : 'False',
          reason: ev.verdict,
          message: ev.statusString,
        },
      ];
    },
  };
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const EVENT_TYPE: Record<Verdict, 'Normal' | 'Warning'> = {
  Healthy: 'Normal',
  Degraded: 'Warning',
  Unhealthy: 'Warning',
};

/**
 * The edge core's composition root (DESIGN §1, §3): store → CRI channel → health (the start-up
 * check runs inside its start, before any pod is admitted) → pods → devices → node reporter →
 * local API → link. Stopped in reverse; stopping the agent leaves pods running.
 */
export async function startEdge(cfg: EdgeConfig): Promise<RunningEdge> {
  const log = createLogger({ level: cfg.logLevel, name: 'edge' });
  const registry = createRegistry({ defaultMetrics: true });
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = new EdgeStore({ path: join(cfg.dataDir, EDGE_FILES.store), registry });
  const nodeKey: ObjectKey = { group: '', version: 'v1', kind: 'Node', name: cfg.nodeName };

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

  const runtime = cfg.pods.enabled
    ? new CriRuntime({ endpoint: cfg.pods.criSocket }, { logger: log, registry })
    : undefined;

  const devices = cfg.devices.enabled
    ? new DeviceManager({
        config: {
          nodeName: cfg.nodeName,
          bus: cfg.devices.bus,
          externalProtocols: [...cfg.devices.externalProtocols],
        },
        store,
        logger: log.child({ component: 'devices' }),
        registry,
      })
    : undefined;
  // The mqtt unit is unknown (not failed) until the device manager's first start attempt:
  // health starts before devices, and the start-up verdict must not blame a bus not yet started.
  let devicesAttempted = false;

  const health = new HealthMonitor({
    config: { ...cfg.health, dataDir: cfg.dataDir },
    logger: log.child({ component: 'health' }),
    registry,
    store: new FileHealthStore(join(cfg.dataDir, EDGE_FILES.healthRecord)),
    markerPath: join(cfg.dataDir, EDGE_FILES.cleanShutdown),
    probes: edgeProbes({
      ...(runtime === undefined ? {} : { runtime }),
      link,
      store: {
        integrityOk: () => store.integrityOk(),
      },
      ...(devices === undefined
        ? {}
        : {
            bus: {
              health: () => ({
                running: devicesAttempted,
                busConnected: devices.health().busConnected,
              }),
            },
          }),
    }),
  });

  // DESIGN §3 start-up check: first the verdict health recorded before pods started; the pod
  // manager asks again while it refuses, and then the live units decide — a containerd that
  // starts after the agent at boot must not keep new pods out until the next restart.
  let startupConsulted = false;
  const admission = (): { admitNewPods: boolean; reason: string } => {
    if (!startupConsulted) {
      startupConsulted = true;
      const r = health.startupReport;
      return { admitNewPods: r.admitNewPods, reason: r.admitReason };
    }
    const failed = health.evaluate().units.filter((u) => u.critical && u.state === 'fail');
    return failed.length === 0
      ? { admitNewPods: true, reason: 'no critical unit failed' }
      : {
          admitNewPods: false,
          reason: `critical unit(s) failed: ${failed.map((u) => u.unit).join(', ')}; running pods keep running`,
        };
  };

  // Service account tokens for projected volumes come from the cloud (docs/kubelet.md).
  const tokens =
    runtime === undefined ? undefined : new TokenManager(store, link, log.child({ component: 'tokens' }));
  const pods =
    runtime === undefined
      ? undefined
      : new PodManager(
          {
            nodeName: cfg.nodeName,
            rootDir: cfg.pods.rootDir,
            podLogsRoot: cfg.pods.podLogsRoot,
            cni: cfg.pods.cni,
            reconcileIntervalMs: cfg.pods.reconcileIntervalMs,
            backoffInitialMs: cfg.pods.backoffInitialMs,
            backoffMaxMs: cfg.pods.backoffMaxMs,
            cgroupRoot: cfg.pods.cgroupRoot,
            extraLabels: cfg.pods.extraLabels,
          },
          {
            store,
            runtime,
            logger: log,
            registry,
            startupCheck: () => Promise.resolve(admission()),
            ...(tokens === undefined ? {} : { tokens }),
          },
        );
  tokens?.onToken(() => {
    pods?.resyncNow();
  });

  // Streams are opened only by the cloud over this node's own link (docs/streams.md); a link drop
  // ends every open stream, as the contract says. Without pods they still serve the metrics scrapes.
  const streams = new EdgeStreams(
    { nodeName: cfg.nodeName, podLogsRoot: cfg.pods.podLogsRoot },
    {
      store,
      ...(runtime === undefined ? {} : { runtime }),
      logger: log.child({ component: 'streams' }),
      registry,
    },
  );
  // Token replies go to the token manager; everything else (streams, queries) to streams.
  link.setHandler({
    message: (env, l) => {
      if (tokens?.message(env) !== true) streams.message(env, l);
    },
  });
  link.on('offline', () => {
    streams.closeAll();
  });

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
      runtimeVersion: async () => {
        if (runtime === undefined) return undefined;
        const v = await runtime.version();
        return `${v.runtimeName}://${v.runtimeVersion}`;
      },
      // Without pods there is no runtime to be unhealthy: Ready is the agent's own.
      runtimeHealth: () =>
        pods === undefined
          ? { healthy: true, reason: '' }
          : { healthy: pods.runtimeHealthy(), reason: pods.runtimeStatusReason() },
      online: () => link.state === 'online',
      leaseByCloud: () => link.cloudFeatures.includes(CLOUD_FEATURES.leaseByCloud),
      outbox: store,
      kick: () => {
        link.kick();
      },
      conditionSources: [edgeHealthyCondition(health), nodePressureConditions(health)],
    },
    log.child({ component: 'node' }),
  );
  const reportNow = (): void => {
    reporter.report(true).catch((e: unknown) => {
      log.warn({ err: errorMessage(e) }, 'node status report failed');
    });
  };
  let reporterStarted = false;

  // Verdict changes → a Kubernetes Event on the Node through the outbox, and the condition at once.
  health.on((e: HealthEvent) => {
    if (e.type !== 'verdict-changed') return;
    const at = rfc3339(e.at);
    try {
      store.enqueue(nodeKey, {
        type: 'event',
        payload: {
          metadata: { name: `${cfg.nodeName}.${randomBytes(8).toString('hex')}`, namespace: 'default' },
          involvedObject: { apiVersion: 'v1', kind: 'Node', name: cfg.nodeName, uid: cfg.nodeName },
          reason: `EdgeHealth${e.verdict}`,
          message: `edge health ${e.previous ?? '(start)'} → ${e.verdict}: ${e.statusString}${
            e.reasons.length > 0 ? `; ${e.reasons.join('; ')}` : ''
          }`,
          type: EVENT_TYPE[e.verdict],
          count: 1,
          firstTimestamp: at,
          lastTimestamp: at,
          reportingComponent: 'tether-edge',
          reportingInstance: cfg.nodeName,
        },
      });
      link.kick();
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not queue the health event');
    }
    if (reporterStarted) reportNow();
  });
  pods?.onRuntimeHealth(() => {
    if (reporterStarted) reportNow();
  });

  const api = cfg.api.enabled
    ? new LocalApi(
        {
          host: cfg.api.host,
          port: cfg.api.port,
          tokenFile: join(cfg.dataDir, EDGE_FILES.apiToken),
          endpointFile: join(cfg.dataDir, EDGE_FILES.apiEndpoint),
          // the metaserver (docs/metaserver.md): kubectl --kubeconfig <dataDir>/metaserver.kubeconfig
          ...(cfg.api.metaserver
            ? {
                kubeconfigFile: join(cfg.dataDir, METASERVER_KUBECONFIG_FILE),
                // kubectl sends its token only over TLS: the same port also speaks https
                tls: {
                  caFile: join(cfg.dataDir, 'api-ca.crt'),
                  certFile: join(cfg.dataDir, 'api.crt'),
                  keyFile: join(cfg.dataDir, 'api.key'),
                },
              }
            : {}),
        },
        {
          logger: log.child({ component: 'api' }),
          registry,
          ...(cfg.api.metaserver ? { store, nodeName: cfg.nodeName } : {}),
          health: () => {
            try {
              return healthView(health.evaluate(), health.startupReport);
            } catch {
              return undefined;
            }
          },
        },
      )
    : undefined;

  let unlock: (() => void) | undefined;
  const components: Component[] = [
    component(
      'data-dir lock',
      () => {
        unlock = lockDataDir(cfg.dataDir);
      },
      () => {
        unlock?.();
      },
    ),
    component(
      'store',
      () => {
        store.open();
      },
      () => {
        store.close();
      },
    ),
    ...(runtime === undefined ? [] : [runtime]),
    health,
    ...(pods === undefined ? [] : [pods]),
    ...(devices === undefined
      ? []
      : [
          optional(devices, log, () => {
            devicesAttempted = true;
          }),
        ]),
    component(
      'node-reporter',
      async () => {
        await reporter.start();
        reporterStarted = true;
      },
      async () => {
        reporterStarted = false;
        await reporter.stop();
      },
    ),
    ...(api === undefined ? [] : [optional(api, log)]),
    streams,
    link,
  ];
  link.on('online', () => {
    reporter.connected();
  });
  const stop = await startAll(components);
  log.info(
    {
      node: cfg.nodeName,
      verdict: health.startupReport.verdict,
      admitNewPods: health.startupReport.admitNewPods,
      api: api?.listening,
    },
    'edge started',
  );
  return { store, link, reporter, health, pods, devices, api, streams, registry, log, stop };
}
