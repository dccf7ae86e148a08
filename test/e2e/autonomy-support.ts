/**
 * Fault-injection pieces shared by the autonomy/liveness/devices-offline/unclean-shutdown
 * end-to-end tests: a real `tether edge run` process inside an edge network namespace (so a
 * cut link is a real event, DESIGN §9), restartable with the same data directory (SIGKILL +
 * restart = an edge reboot), and the embedded control plane's controllers with short timings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { createRegistry, silentLogger } from '../../src/common/index.js';
import {
  ControlPlaneControllers,
  InformerFactory,
  Kube,
  NodeLifecycleController,
  type ControllerName,
} from '../../src/controllers/index.js';
import type { EdgeProcess } from '../edge/node/edge-process.js';
import { TEST_RUN_LABEL } from '../edge/pods/helpers.js';
import type { ChannelHarness, Cloud } from '../support/channel.js';
import { REPO_ROOT } from '../support/controlplane.js';
import type { EdgeHost } from '../support/netns.js';
import { tether } from '../support/procs.js';

export interface NetnsEdge extends EdgeProcess {
  host: EdgeHost;
  /** Starts `tether edge run` again on the same config and data directory. */
  restart(): void;
}

export interface NetnsEdgeOptions {
  /** containerd's CRI socket; absent: pods disabled (Ready does not depend on a runtime). */
  criSocket?: string;
  devices?: boolean;
  /** Local API on 127.0.0.1 inside the namespace. */
  api?: boolean;
  health?: Record<string, unknown>;
}

/**
 * Writes the edge config (cloud at the host end of the veth) and starts the agent inside the
 * namespace. Fast timings: lease every second, status checked every 500 ms.
 */
export async function startNetnsEdge(
  h: ChannelHarness,
  cloud: Cloud,
  host: EdgeHost,
  name: string,
  opts: NetnsEdgeOptions = {},
): Promise<NetnsEdge> {
  const run = Math.random().toString(16).slice(2, 10);
  const cert = await h.edgeCert(name);
  writeFileSync(join(h.dir, `${name}.crt`), cert.certPem);
  writeFileSync(join(h.dir, `${name}.key`), cert.keyPem);
  writeFileSync(join(h.dir, 'ca.crt'), h.ca.certPem);
  const dataDir = join(h.dir, `${name}-data`);
  const configFile = join(h.dir, `${name}.yaml`);
  const config = {
    nodeName: name,
    dataDir,
    cloud: {
      url: cloud.url,
      certFile: join(h.dir, `${name}.crt`),
      keyFile: join(h.dir, `${name}.key`),
      caFile: join(h.dir, 'ca.crt'),
    },
    node: { leaseRenewMs: 1000, statusCheckMs: 500 },
    pods:
      opts.criSocket === undefined
        ? { enabled: false }
        : {
            criSocket: opts.criSocket,
            rootDir: join(dataDir, 'pods'),
            podLogsRoot: join(dataDir, 'logs'),
            reconcileIntervalMs: 500,
            backoffInitialMs: 1000,
            backoffMaxMs: 4000,
            cgroupRoot: `/tether-test-pods-${run}`,
            extraLabels: { [TEST_RUN_LABEL]: run },
          },
    // the namespace has a loopback of its own: the standard port is free there
    devices:
      opts.devices === true
        ? { bus: { mode: 'embedded', host: '127.0.0.1', port: 1883 } }
        : { enabled: false },
    api: opts.api === true ? { port: 0 } : { enabled: false },
    health: opts.health ?? {},
    logLevel: 'warn',
  };
  writeFileSync(configFile, stringify(config));
  const e: NetnsEdge = {
    name,
    run,
    dataDir,
    configFile,
    host,
    proc: tether(['edge', 'run', '--config', configFile], {}, host.ns),
    restart: () => {
      e.proc = tether(['edge', 'run', '--config', configFile], {}, host.ns);
    },
  };
  return e;
}

/**
 * The embedded control plane's controllers against the harness's API server (the embedded
 * API server runs none by itself), with a node-monitor grace period short enough for a test.
 */
export async function startControllers(
  h: ChannelHarness,
  controllers: ControllerName[],
  gracePeriodSeconds = 4,
): Promise<ControlPlaneControllers> {
  const c = new ControlPlaneControllers(
    { controllers, nodeLifecycle: { gracePeriodSeconds, monitorPeriodSeconds: 0.5 } },
    { logger: silentLogger(), registry: createRegistry(), kubeConfig: h.kc },
  );
  await c.start();
  return c;
}

/**
 * The node lifecycle controller alone, with upstream's MarkPodsNotReady switched on (the
 * shared ControlPlaneControllers config has no switch for it).
 */
export async function startLifecycleMarkingPods(
  h: ChannelHarness,
  gracePeriodSeconds = 4,
): Promise<{ stop(): Promise<void> }> {
  const kube = new Kube(h.kc);
  const informers = new InformerFactory(kube, silentLogger());
  const c = new NodeLifecycleController(
    { kube, informers, logger: silentLogger(), registry: createRegistry() },
    { gracePeriodMs: gracePeriodSeconds * 1000, monitorPeriodMs: 500, markPodsNotReady: true },
  );
  await c.start();
  return {
    stop: async () => {
      await c.stop();
      await informers.stop();
    },
  };
}

/**
 * The Modbus TCP test device (test/edge/devices/fixtures/modbus-server.ts) started inside the
 * edge's namespace, so the device stays reachable from the edge while the edge's link to the
 * cloud is cut — as a sensor on the edge's own LAN would.
 */
export class NetnsModbus {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(ns: string, port: number): Promise<NetnsModbus> {
    const script = join(REPO_ROOT, 'test/edge/devices/fixtures/modbus-server.ts');
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, String(port)],
      {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const listening = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => {
        reject(new Error(`modbus server exited ${String(code)}`));
      });
      lines.on('line', (l) => {
        const m = /^listening (\d+)$/.exec(l);
        if (m !== null) resolve(Number(m[1]));
      });
    });
    return new NetnsModbus(listening, child);
  }

  set(kind: 'holding' | 'input', addr: number, value: number): void {
    this.child.stdin?.write(`${kind} ${String(addr)} ${String(value)}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}
