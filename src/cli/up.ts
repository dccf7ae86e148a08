import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsr, createLogger, createRegistry, errorMessage, sleep } from '../common/index.js';
import { ControlPlaneControllers } from '../controllers/index.js';
import { startApiServer } from '../apiserver/index.js';
import { startCloud, type RunningCloud } from './cloud.js';
import { CloudConfigSchema, EdgeConfigSchema, validateConfig } from './config.js';
import { startEdge, type RunningEdge } from './edge.js';

export interface UpOptions {
  stateDir: string;
  apiPort: number;
  hubPort: number;
  nodeName: string;
  /** Run scripts/setup (packages, containerd, registry, images); needs root. */
  setup: boolean;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** containerd of the project, configured and started by scripts/setup (docs/development.md). */
export const PROJECT_CRI_SOCKET = '/run/tether-test/containerd/containerd.sock';

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
  stop(): Promise<void>;
}

/**
 * `tether up` (DESIGN §8): the embedded control plane, the cloud core and one local edge on this
 * machine, state kept in `stateDir` between runs. Each step reports progress; a failure stops
 * what was started and says what to do.
 */
export async function up(opts: UpOptions): Promise<RunningUp> {
  const total = 5;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(opts.stateDir, 'up.pid'), String(process.pid));
    stops.push(() => {
      rmSync(join(opts.stateDir, 'up.pid'), { force: true });
      return Promise.resolve();
    });

    let done = step(1, total, 'machine: packages, containerd, local registry, images');
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

    done = step(
      2,
      total,
      `control plane: embedded Kubernetes API server on 127.0.0.1:${opts.apiPort}, controllers, Device CRDs`,
    );
    const api = await startApiServer({ dataDir: join(opts.stateDir, 'apiserver'), port: opts.apiPort });
    stops.push(() => api.stop());
    const controllers = new ControlPlaneControllers(
      { kubeconfigPath: api.kubeconfigPath },
      { logger: createLogger({ level: opts.logLevel, name: 'controllers' }), registry: createRegistry() },
    );
    await controllers.start();
    stops.push(() => controllers.stop());
    await promisify(execFile)('kubectl', [
      '--kubeconfig',
      api.kubeconfigPath,
      'apply',
      '-f',
      join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml'),
    ]).catch((e: unknown) => {
      throw new Error(`could not install the Device CRDs: ${errorMessage(e)}`);
    });
    done();

    done = step(3, total, `cloud core: hub on 127.0.0.1:${opts.hubPort}`);
    // The cloud CA lives in Kubernetes (a Secret), as with a real cluster: `tether token create`
    // and `tether edge join` add more edges to this cloud.
    const pki = join(opts.stateDir, 'pki');
    mkdirSync(pki, { recursive: true, mode: 0o700 });
    const cloudCfg = validateConfig(
      {
        kubeconfig: api.kubeconfigPath,
        hub: { host: '127.0.0.1', port: opts.hubPort, advertise: ['127.0.0.1', 'localhost', hostname()] },
        logLevel: opts.logLevel,
      },
      CloudConfigSchema,
      'cloud configuration',
    );
    const cloud: RunningCloud = await startCloud(cloudCfg);
    stops.push(() => cloud.stop());
    done();

    done = step(4, total, `edge node ${opts.nodeName}: store, link, registration`);
    const { csrPem, keyPem } = await createCsr(opts.nodeName);
    if (cloud.pki === undefined)
      throw new Error('the cloud core runs without its CA; cannot issue the local edge certificate');
    // the local edge gets its certificate straight from the CA: no token needed on the same machine
    const edgePair = writePair(pki, `edge-${opts.nodeName}`, {
      certPem: await cloud.pki.signEdge(csrPem, opts.nodeName),
      keyPem,
    });
    writeFileSync(join(pki, 'ca.crt'), cloud.pki.caPem);
    const edgeCfg = validateConfig(
      {
        nodeName: opts.nodeName,
        dataDir: join(opts.stateDir, 'edge', opts.nodeName),
        cloud: { url: `wss://127.0.0.1:${cloud.hub.port}`, ...edgePair, caFile: join(pki, 'ca.crt') },
        // the project's own containerd, started by scripts/setup (step 1)
        pods: { criSocket: PROJECT_CRI_SOCKET, rootDir: join(opts.stateDir, 'pods') },
        logLevel: opts.logLevel,
      },
      EdgeConfigSchema,
      'edge configuration',
    );
    const edge: RunningEdge = await startEdge(edgeCfg);
    stops.push(() => edge.stop());
    done();

    done = step(5, total, `waiting for node ${opts.nodeName} to be Ready in the API`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const out = await kubectlJson(api.kubeconfigPath, ['get', 'node', opts.nodeName, '-o', 'json']);
      const ready = (out?.status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (ready?.status === 'True') break;
      if (Date.now() > deadline) throw new Error(`node ${opts.nodeName} did not become Ready within 60 s`);
      await sleep(500);
    }
    done();

    process.stdout.write(
      [
        '',
        'Tether is up.',
        '',
        `  export KUBECONFIG=${api.kubeconfigPath}`,
        '  kubectl get nodes -o wide',
        `  kubectl run hello --image=localhost:5000/tether/shell:1 --overrides='{"spec":{"nodeName":"${opts.nodeName}"}}' -- sh -c 'echo hello from the edge; sleep 3600'`,
        '',
        'Ctrl-C stops everything; state is kept in ' + opts.stateDir + ' (`tether down` removes it).',
        '',
      ].join('\n'),
    );
    return { kubeconfig: api.kubeconfigPath, stop: stopAll };
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
    const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
    });
    return JSON.parse(stdout) as NodeJson;
  } catch {
    return undefined;
  }
}

/** `tether down`: stops a running `tether up` (by its pid file) and removes its state. */
export async function down(stateDir: string): Promise<string> {
  const pidFile = join(stateDir, 'up.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50; i++) {
        process.kill(pid, 0);
        await sleep(200);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH')
        throw new Error(`could not stop tether up (pid ${pid}): ${errorMessage(e)}`);
    }
  }
  if (!existsSync(stateDir)) return `nothing to remove: ${stateDir} does not exist`;
  rmSync(stateDir, { recursive: true, force: true });
  return `removed ${stateDir}`;
}
