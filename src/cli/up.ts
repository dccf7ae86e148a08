import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createCsr,
  createLogger,
  createRegistry,
  errorMessage,
  silentLogger,
  sleep,
} from '../common/index.js';
import { CriRuntime } from '../edge/cri/index.js';
import { LABEL_NODE } from '../edge/pods/index.js';
import { ControlPlaneControllers } from '../controllers/index.js';
import { startApiServer } from '../apiserver/index.js';
import { startCloud, type RunningCloud } from './cloud.js';
import { CloudConfigSchema, EdgeConfigSchema, validateConfig } from './config.js';
import { startEdge, type RunningEdge } from './edge.js';
import { serveMetrics } from './metrics.js';
import {
  createNetns,
  netnsPossible,
  removeLeftoverNetns,
  removeNetns,
  upTag,
  type UpNetns,
} from './netns.js';
import { containerdLoopbackPorts, startStreamsBridge, type StreamsBridge } from './up-streams.js';
import { stringify as stringifyYaml } from 'yaml';

export interface UpOptions {
  stateDir: string;
  apiPort: number;
  hubPort: number;
  /** The cloud core's Prometheus endpoint (`tether status` reads queue depths there); 0 = any free port. */
  metricsPort: number;
  nodeName: string;
  /** Run scripts/setup (packages, containerd, registry, images); needs root. */
  setup: boolean;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** An existing cluster instead of the embedded control plane (no API server, no controllers). */
  kubeconfig?: string;
  /** More edges, each in its own network namespace (root). */
  edges: number;
  /** Create the simulated demo device on the local edge. */
  device: boolean;
  /** The local edge's MQTT bus and local API ports (defaults of a real edge: 1883, 10351). */
  busPort?: number;
  edgeApiPort?: number;
  /** The cloud core's kubelet endpoint for kubectl logs/exec (docs/streams.md). Default 10353. */
  streamsPort?: number;
}

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** containerd of the project, configured and started by scripts/setup (docs/development.md). */
export const PROJECT_CRI_SOCKET = '/run/tether-test/containerd/containerd.sock';

/** What a running `tether up` records in <stateDir>/up.json, for `tether down` and a re-run. */
export interface UpState {
  pid: number;
  kubeconfig: string;
  metricsUrl: string | undefined;
  edges: { name: string; ns: string; hostIf: string; index: number; pid: number | undefined }[];
  /** The containerd streaming forwarders inside the edges' namespaces (up-streams.ts). */
  bridgePids?: number[];
}
const STATE_FILE = 'up.json';

/** On every sandbox and container of up's edges: which state dir's run they belong to. */
const LABEL_UP = 'tether.dev/up';
const upLabel = (stateDir: string): string => upTag(stateDir) || 'default';

function readState(stateDir: string): UpState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8')) as UpState;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One progress line per step, to stderr (stdout stays for data). */
function step(n: number, total: number, what: string): () => void {
  const started = Date.now();
  process.stderr.write(`[${n}/${total}] ${what}…`);
  return () => {
    process.stderr.write(` done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  };
}

function writePair(
  dir: string,
  name: string,
  pair: { certPem: string; keyPem: string },
): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

export interface RunningUp {
  kubeconfig: string;
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

const exec = promisify(execFile);

async function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
  return stdout;
}

/** The simulated demo device (DESIGN §5 "a simulated device for demos"): a thermostat with a setpoint. */
export function demoDeviceManifest(nodeName: string): string {
  return `apiVersion: devices.tether.dev/v1alpha1
kind: DeviceModel
metadata: { name: thermostat, namespace: default }
spec:
  properties:
    - { name: temperature, type: float, unit: C, minimum: -40, maximum: 125 }
    - { name: setpoint, type: int, accessMode: ReadWrite, minimum: 5, maximum: 35 }
---
apiVersion: devices.tether.dev/v1alpha1
kind: Device
metadata: { name: thermo-sim, namespace: default }
spec:
  nodeName: ${nodeName}
  deviceModelRef: { name: thermostat }
  protocol: { type: simulated }
  collectIntervalMs: 2000
  properties:
    - name: temperature
      visitor: { simulated: { pattern: sine, base: 21, amplitude: 3, periodMs: 60000 } }
    - name: setpoint
      desired: { value: "21" }
      visitor: { simulated: { pattern: constant, base: 21 } }
`;
}

/** An extra edge: `tether edge run` in its own network namespace, as a child process. */
function startNetnsEdge(
  ns: string,
  configFile: string,
  logFile: string,
): { child: ChildProcess; stop: () => Promise<void> } {
  const out = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    // bin/tether: the built dist/ with plain node when it is current (else the sources), with the
    // edge unit's V8 flags — the same agent and footprint as a real edge (docs/benchmarks.md)
    ['netns', 'exec', ns, join(REPO_ROOT, 'bin/tether'), 'edge', 'run', '--config', configFile],
    {
      stdio: ['ignore', out, out],
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        TETHER_NODE_FLAGS:
          process.env['TETHER_NODE_FLAGS'] ??
          '--max-semi-space-size=1 --optimize-for-size --lite-mode --bytecode-old-age=1',
      },
    },
  );
  closeSync(out);
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        // the edge agent stops in seconds; pods keep running (DESIGN §3) until `tether down`
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * `tether up` (DESIGN §8, issue 11): the embedded control plane (or an existing cluster), the
 * cloud core, one local edge, optional extra edges in network namespaces and a simulated device,
 * state kept in `stateDir` between runs. Each step reports progress; a failure stops what was
 * started and says what to do.
 */
export async function up(given: UpOptions): Promise<RunningUp> {
  // absolute: processes are recognised as this state dir's by it (stopLeftovers)
  const opts: UpOptions = { ...given, stateDir: resolve(given.stateDir) };
  const total = 5 + (opts.edges > 0 ? 1 : 0) + (opts.device ? 1 : 0);
  let n = 0;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  const earlier = readState(opts.stateDir);
  if (earlier !== undefined && earlier.pid !== process.pid && alive(earlier.pid))
    throw new Error(
      `tether up is already running (pid ${earlier.pid}) with ${opts.stateDir}: use it (export KUBECONFIG=${earlier.kubeconfig}), or stop it with Ctrl-C or \`tether down\``,
    );
  if (opts.edges > 0 && !netnsPossible())
    throw new Error(
      '--edges needs root and iproute2 (each extra edge gets a network namespace): run it with sudo',
    );
  // What an earlier run on this state dir left when it was killed (SIGKILL: no clean-up ran):
  // its namespace edges and forwarders still run, its namespaces and veths still exist.
  if (earlier !== undefined) await stopLeftovers(opts.stateDir, earlier);
  if (netnsPossible()) removeLeftoverNetns(upTag(opts.stateDir));
  const state: UpState = { pid: process.pid, kubeconfig: '', metricsUrl: undefined, edges: [] };
  const save = (): void => {
    writeFileSync(join(opts.stateDir, STATE_FILE), JSON.stringify(state, null, 2));
  };
  try {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    save();
    stops.push(() => {
      rmSync(join(opts.stateDir, STATE_FILE), { force: true });
      return Promise.resolve();
    });

    let done = step(++n, total, 'machine: packages, containerd, local registry, images');
    if (opts.setup) {
      if (process.getuid?.() !== 0)
        throw new Error('setting up the machine needs root: run `sudo tether up` (or pass --no-setup)');
      const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/setup')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`machine setup failed:\n${r.stdout}${r.stderr}`);
      done();
    } else process.stderr.write(' skipped (--no-setup)\n');

    let kubeconfig: string;
    const streamsPort = opts.streamsPort ?? 10353;
    // With the embedded API server, kubectl logs/exec take the shorter path: every kubelet
    // connection goes to the cloud core's endpoint, which relays over the edge's own link.
    let kubeletClientCA: string | undefined;
    if (opts.kubeconfig === undefined) {
      done = step(
        ++n,
        total,
        `control plane: embedded Kubernetes API server on 127.0.0.1:${opts.apiPort}, controllers, Device CRDs`,
      );
      const api = await startApiServer({
        dataDir: join(opts.stateDir, 'apiserver'),
        port: opts.apiPort,
        kubeletProxy: { host: '127.0.0.1', port: streamsPort },
      });
      kubeletClientCA = api.kubeletClientCAPath;
      stops.push(() => api.stop());
      const controllers = new ControlPlaneControllers(
        { kubeconfigPath: api.kubeconfigPath },
        { logger: createLogger({ level: opts.logLevel, name: 'controllers' }), registry: createRegistry() },
      );
      await controllers.start();
      stops.push(() => controllers.stop());
      kubeconfig = api.kubeconfigPath;
    } else {
      done = step(++n, total, `control plane: the existing cluster of ${opts.kubeconfig}, Device CRDs`);
      kubeconfig = opts.kubeconfig;
    }
    state.kubeconfig = kubeconfig;
    save();
    await kubectl(kubeconfig, ['apply', '-f', join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml')]).catch(
      (e: unknown) => {
        throw new Error(
          `could not install the Device CRDs with ${kubeconfig} (is the cluster up, and is this an admin kubeconfig?): ${errorMessage(e)}`,
        );
      },
    );
    done();

    // Namespaces before the cloud: the hub's serving certificate must name the addresses they dial.
    const spaces: UpNetns[] = [];
    if (opts.edges > 0) {
      done = step(++n, total, `network namespaces for ${opts.edges} more edge(s)`);
      const tag = upTag(opts.stateDir);
      for (let i = 1; i <= opts.edges; i++) {
        const ns = createNetns(tag, i);
        spaces.push(ns);
        stops.push(() => {
          removeNetns(ns);
          return Promise.resolve();
        });
      }
      done();
    }

    const hubHost = spaces.length > 0 ? '0.0.0.0' : '127.0.0.1';
    done = step(
      ++n,
      total,
      `cloud core: hub on ${hubHost}:${opts.hubPort}, metrics on 127.0.0.1:${opts.metricsPort}`,
    );
    // The cloud CA lives in Kubernetes (a Secret), as with a real cluster: `tether token create`
    // and `tether edge join` add more edges to this cloud.
    const pki = join(opts.stateDir, 'pki');
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    const cloudCfg = validateConfig(
      {
        kubeconfig,
        hub: {
          host: hubHost,
          port: opts.hubPort,
          advertise: ['127.0.0.1', 'localhost', hostname(), ...spaces.map((s) => s.hostIp)],
        },
        // An existing cluster's kubelet client CA is not known here: its streams need `tether cloud`
        // with streams.clientCAFile (docs/streams.md).
        streams:
          kubeletClientCA === undefined
            ? { enabled: false }
            : { host: '127.0.0.1', port: streamsPort, clientCAFile: kubeletClientCA },
        logLevel: opts.logLevel,
      },
      CloudConfigSchema,
      'cloud configuration',
    );
    const cloud: RunningCloud = await startCloud(cloudCfg);
    stops.push(() => cloud.stop());
    const metrics = await serveMetrics(cloud.registry, '127.0.0.1', opts.metricsPort).catch((e: unknown) => {
      throw new Error(
        `cannot serve the cloud metrics on 127.0.0.1:${opts.metricsPort}: ${errorMessage(e)} (pass --metrics-port)`,
      );
    });
    stops.push(() => metrics.close());
    state.metricsUrl = metrics.url;
    save();
    done();
    if (cloud.pki === undefined)
      throw new Error('the cloud core runs without its CA; cannot issue the local edge certificates');
    const cloudPki = cloud.pki;
    writeFileSync(join(pki, 'ca.crt'), cloudPki.caPem);

    /** Edge config with a certificate straight from the CA: no token needed on the same machine. */
    const edgeConfig = async (name: string, url: string): Promise<Record<string, unknown>> => {
      const { csrPem, keyPem } = await createCsr(name);
      const pair = writePair(pki, `edge-${name}`, { certPem: await cloudPki.signEdge(csrPem, name), keyPem });
      return {
        nodeName: name,
        dataDir: join(opts.stateDir, 'edge', name),
        cloud: { url, ...pair, caFile: join(pki, 'ca.crt') },
        // the project's own containerd, started by scripts/setup (step 1)
        pods: {
          criSocket: PROJECT_CRI_SOCKET,
          rootDir: join(opts.stateDir, 'pods', name),
          // The pod manager takes sandboxes with its labels but no pod in its store for orphans
          // and removes them: two runs with the same node names on the shared containerd would
          // remove each other's pods without a label of their own.
          extraLabels: { [LABEL_UP]: upLabel(opts.stateDir) },
        },
        logLevel: opts.logLevel,
      };
    };

    done = step(++n, total, `edge node ${opts.nodeName}: store, link, registration, device bus`);
    const edgeCfg = validateConfig(
      {
        ...(await edgeConfig(opts.nodeName, `wss://127.0.0.1:${cloud.hub.port}`)),
        // the namespace edges have their own loopback; only this one shares the host's ports
        ...(opts.busPort === undefined
          ? {}
          : { devices: { bus: { mode: 'embedded', host: '127.0.0.1', port: opts.busPort } } }),
        ...(opts.edgeApiPort === undefined ? {} : { api: { port: opts.edgeApiPort } }),
      },
      EdgeConfigSchema,
      'edge configuration',
    );
    const edge: RunningEdge = await startEdge(edgeCfg);
    stops.push(() => edge.stop());
    done();

    const names = [opts.nodeName];
    let bridge: StreamsBridge | undefined;
    if (spaces.length > 0) {
      // kubectl logs/exec into pods of the namespace edges: containerd's streaming server on
      // their loopback too (why: up-streams.ts).
      bridge = await startStreamsBridge(opts.stateDir, containerdLoopbackPorts());
      const b = bridge;
      stops.push(() => b.stop());
      for (const s of spaces) b.addNamespace(s.ns);
      state.bridgePids = [...b.pids];
      save();
    }
    if (spaces.length > 0) {
      done = step(
        ++n,
        total,
        `edges ${spaces.map((s) => `${opts.nodeName}-${s.index}`).join(', ')} in namespaces`,
      );
      for (const s of spaces) {
        const name = `${opts.nodeName}-${s.index}`;
        const raw = await edgeConfig(name, `wss://${s.hostIp}:${cloud.hub.port}`);
        validateConfig(raw, EdgeConfigSchema, 'edge configuration');
        const dir = join(opts.stateDir, 'edge', name);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const file = join(dir, 'edge.yaml');
        writeFileSync(file, stringifyYaml(raw), { mode: 0o600 });
        const e = startNetnsEdge(s.ns, file, join(dir, 'edge.log'));
        stops.push(e.stop);
        state.edges.push({ name, ns: s.ns, hostIf: s.hostIf, index: s.index, pid: e.child.pid });
        names.push(name);
      }
      save();
      done();
    }

    done = step(++n, total, `waiting for ${names.join(', ')} to be Ready in the API`);
    const deadline = Date.now() + 90_000;
    for (const name of names)
      for (;;) {
        const out = await kubectlJson(kubeconfig, ['get', 'node', name, '-o', 'json']);
        const ready = (out?.status?.conditions ?? []).find((c) => c.type === 'Ready');
        if (ready?.status === 'True') break;
        if (Date.now() > deadline)
          throw new Error(
            `node ${name} did not become Ready within 90 s; its log: ${name === opts.nodeName ? 'above (--log-level info)' : join(opts.stateDir, 'edge', name, 'edge.log')}`,
          );
        await sleep(500);
      }
    done();

    if (opts.device) {
      done = step(
        ++n,
        total,
        `simulated device thermo-sim on ${opts.nodeName}: waiting for its first values`,
      );
      const file = join(opts.stateDir, 'demo-device.yaml');
      writeFileSync(file, demoDeviceManifest(opts.nodeName));
      await kubectl(kubeconfig, ['apply', '-f', file]);
      const until = Date.now() + 60_000;
      for (;;) {
        const d = (await kubectlJson(kubeconfig, ['get', 'device', 'thermo-sim', '-o', 'json'])) as
          { status?: { properties?: { name: string; reported?: { value: string } }[] } } | undefined;
        if (d?.status?.properties?.some((p) => p.reported !== undefined) === true) break;
        if (Date.now() > until) {
          process.stderr.write(' no values yet (the device bus may be starting; see `kubectl get devices`)');
          break;
        }
        await sleep(500);
      }
      done();
    }

    const statusCmd = `bin/tether status${opts.metricsPort === 10352 ? '' : ` --metrics-url ${metrics.url}`}`;
    const tries: [string, string][] = [
      [`export KUBECONFIG=${kubeconfig}`, ''],
      ['kubectl get nodes -o wide', `${names.join(', ')}: Ready, role edge`],
      ...(opts.device
        ? ([['kubectl get devices -o yaml', 'thermo-sim: live values in .status']] as [string, string][])
        : []),
      ['kubectl create deployment web --image=localhost:5000/tether/shell:1 -- httpd -f -p 8080', ''],
      [statusCmd, 'the fleet at a glance'],
      ...(spaces[0] === undefined
        ? []
        : ([
            [
              `ip link set ${spaces[0].hostIf} down`,
              `cut ${opts.nodeName}-1 off the cloud (\`up\` restores it)`,
            ],
          ] as [string, string][])),
    ];
    const width = Math.max(...tries.map(([c]) => c.length));
    process.stdout.write(
      [
        '',
        'Tether is up. Try:',
        '',
        ...tries.map(([c, why]) => (why === '' ? `  ${c}` : `  ${c.padEnd(width)}   # ${why}`)),
        '',
        `Walkthrough: README.md. Ctrl-C stops everything; state is kept in ${opts.stateDir} (\`tether down\` removes it).`,
        '',
      ].join('\n'),
    );
    return { kubeconfig, metricsUrl: metrics.url, stop: stopAll };
  } catch (e) {
    process.stderr.write(' failed\n');
    await stopAll();
    throw e;
  }
}

interface NodeJson {
  status?: { conditions?: { type: string; status: string }[] };
}

// Asynchronous on purpose: the API server kubectl talks to lives in this very process.
async function kubectlJson(kubeconfig: string, args: string[]): Promise<NodeJson | undefined> {
  try {
    return JSON.parse(await kubectl(kubeconfig, args)) as NodeJson;
  } catch {
    return undefined;
  }
}

async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(200);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH')
      throw new Error(`could not stop pid ${pid}: ${errorMessage(e)}`);
  }
}

/** Whether `pid` is still a process of this state dir (its command line names it): no pid reuse victim. */
function ours(pid: number | undefined, stateDir: string): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(resolve(stateDir));
  } catch {
    return false;
  }
}

/** Stops the namespace edges and streaming forwarders a run on this state dir recorded, if still ours. */
async function stopLeftovers(stateDir: string, state: UpState): Promise<void> {
  if (state.pid !== process.pid && alive(state.pid)) return;
  for (const pid of [...state.edges.map((e) => e.pid), ...(state.bridgePids ?? [])])
    if (pid !== undefined && ours(pid, stateDir)) await stopPid(pid);
}

/**
 * `tether down`: stops a running `tether up` (by its state file), its namespace edges and their
 * namespaces, the pods its edges ran on the project's containerd, and removes its state.
 */
export async function down(given: string): Promise<string> {
  const stateDir = resolve(given);
  const state = readState(stateDir);
  const done: string[] = [];
  if (state !== undefined) {
    if (state.pid !== process.pid && alive(state.pid)) {
      await stopPid(state.pid);
      done.push(`stopped tether up (pid ${state.pid})`);
    }
    await stopLeftovers(stateDir, state);
    for (const e of state.edges) {
      removeNetns(e);
      done.push(`removed edge ${e.name} and namespace ${e.ns}`);
    }
  }
  if (netnsPossible()) removeLeftoverNetns(upTag(stateDir));
  const pods = await removePods(stateDir).catch(() => 0);
  if (pods > 0) done.push(`removed ${pods} pod sandbox(es) of its edges`);
  if (!existsSync(stateDir)) return [...done, `nothing to remove: ${stateDir} does not exist`].join('\n');
  rmSync(stateDir, { recursive: true, force: true });
  return [...done, `removed ${stateDir}`].join('\n');
}

/**
 * Pods outlive the edge agent on purpose (DESIGN §3); `down` removes those of up's edges: the
 * sandboxes on the project's containerd labelled with this state dir's run and a node whose data
 * dir is in it.
 */
async function removePods(stateDir: string): Promise<number> {
  let nodes: string[];
  try {
    nodes = readdirSync(join(stateDir, 'edge'));
  } catch {
    return 0;
  }
  if (nodes.length === 0 || !existsSync(PROJECT_CRI_SOCKET)) return 0;
  const cri = new CriRuntime(
    { endpoint: PROJECT_CRI_SOCKET },
    { logger: silentLogger(), registry: createRegistry() },
  );
  let removed = 0;
  await cri.start();
  try {
    for (const node of nodes)
      for (const sb of await cri.listPodSandbox({
        labels: { [LABEL_NODE]: node, [LABEL_UP]: upLabel(stateDir) },
      })) {
        await cri.stopPodSandbox(sb.id).catch(() => undefined);
        await cri.removePodSandbox(sb.id).then(
          () => removed++,
          () => undefined,
        );
      }
  } finally {
    await cri.stop();
  }
  return removed;
}
