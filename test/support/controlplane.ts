// One way for every e2e/conformance test to get a Kubernetes API server, selected by
// TETHER_CONTROL_PLANE=embedded|upstream (default embedded), so the same tests run
// against our embedded control plane and against a real kube-apiserver (issue 13).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { startApiServer } from '../../src/apiserver/index.js';

export type ControlPlaneKind = 'embedded' | 'upstream';

export interface ControlPlane {
  readonly kind: ControlPlaneKind;
  /** An admin kubeconfig (system:masters on upstream). */
  readonly kubeconfigPath: string;
  /**
   * A kubeconfig for the cloud core's identity: user tether-cloud in group tether:cloud, with a
   * bearer token. Embedded: its built-in role; upstream: a ClusterRole mirroring it
   * (scripts/upstream). For authorization (403) tests.
   */
  readonly cloudKubeconfigPath: string;
  /** The server URL, e.g. https://127.0.0.1:40123 */
  readonly server: string;
  /**
   * Upstream only: the CA that signed the API server's kubelet client certificate
   * (CN kube-apiserver-kubelet-client, O system:masters). A kubelet endpoint (the cloud
   * core's, for logs/exec) must trust it to accept the API server's connections.
   */
  readonly kubeletClientCAPath?: string;
  stop(): Promise<void>;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const UPSTREAM_SCRIPT = path.join(REPO_ROOT, 'scripts/upstream');

/** Where `scripts/upstream build` puts the binary (keep in sync with the script). */
export function upstreamBinary(): string {
  return path.join(process.env.TETHER_CACHE ?? '/var/cache/tether', 'upstream', 'kube-apiserver');
}

/** True when an upstream kube-apiserver has been built on this machine. */
export function upstreamAvailable(): boolean {
  return existsSync(upstreamBinary());
}

export function controlPlaneKind(): ControlPlaneKind {
  const v = process.env.TETHER_CONTROL_PLANE ?? 'embedded';
  if (v === 'embedded' || v === 'upstream') return v;
  throw new Error(`TETHER_CONTROL_PLANE must be "embedded" or "upstream", not "${v}"`);
}

export interface ControlPlaneOptions {
  /**
   * Upstream only: run kube-controller-manager and kube-scheduler beside the API server
   * (default true, like a real cluster). The differential tests turn them off to compare
   * the API servers alone, without controllers writing to the objects mid-test. Ignored
   * with TETHER_UPSTREAM_REUSE=1 (the shared instance is what it is).
   */
  controllers?: boolean;
  /**
   * Compact the store every this many seconds, keeping one interval of history (upstream:
   * `--etcd-compaction-interval`, default 5 min; embedded: its compactor), so a test can
   * see 410 Gone for a resourceVersion a few seconds old. Not with TETHER_UPSTREAM_REUSE=1.
   */
  compactionIntervalSeconds?: number;
  /**
   * Upstream only: false runs kube-apiserver with `--watch-cache=false`, so watches and
   * lists at a resourceVersion are served by etcd and a compacted one is 410 Gone at once
   * (the watch cache keeps events watchable for 75 s or more). Default true, as in a cluster.
   */
  watchCache?: boolean;
}

export async function startControlPlane(
  kind: ControlPlaneKind = controlPlaneKind(),
  opts: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  switch (kind) {
    case 'embedded':
      return startEmbedded(opts);
    case 'upstream':
      return startUpstream(opts);
  }
}

// ------------------------------------------------------------------ upstream

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

async function upstreamScript(
  cmd: 'start' | 'stop' | 'status',
  stateDir: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return run('bash', [UPSTREAM_SCRIPT, cmd], {
    env: { ...process.env, ...extraEnv, TETHER_UPSTREAM_DIR: stateDir },
    timeoutMs: 240_000,
  });
}

/**
 * The upstream kube-apiserver (+ etcd, + controllers when built) via scripts/upstream.
 * With TETHER_UPSTREAM_REUSE=1 it uses the shared instance in TETHER_UPSTREAM_DIR (starting
 * it if needed) and never stops it: whoever started it outside the tests stops it. Otherwise
 * every call gets a private instance in its own state dir, so test files can run in parallel.
 */
async function startUpstream(opts: ControlPlaneOptions): Promise<ControlPlane> {
  if (!upstreamAvailable()) {
    throw new Error(`no kube-apiserver at ${upstreamBinary()}: run \`bash scripts/upstream build\` first`);
  }
  const reuse = process.env.TETHER_UPSTREAM_REUSE === '1';
  const stateDir = reuse ? (process.env.TETHER_UPSTREAM_DIR ?? '/run/tether-upstream') : privateStateDir();
  const res = await upstreamScript('start', stateDir, {
    ...(opts.controllers === false ? { TETHER_UPSTREAM_CONTROLLERS: '0' } : {}),
    ...(opts.compactionIntervalSeconds === undefined
      ? {}
      : { TETHER_UPSTREAM_COMPACTION_INTERVAL: `${opts.compactionIntervalSeconds}s` }),
    ...(opts.watchCache === false ? { TETHER_UPSTREAM_WATCH_CACHE: '0' } : {}),
    // A private instance dies with this process even if stop() never runs (killed run).
    ...(reuse ? {} : { TETHER_UPSTREAM_OWNER_PID: String(process.pid) }),
  });
  if (res.code !== 0) {
    if (!reuse) rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`scripts/upstream start failed (exit ${res.code}):\n${res.stderr}`);
  }
  const kubeconfigPath = res.stdout.trim().split('\n').at(-1) ?? '';
  const server = serverOf(kubeconfigPath);
  let stopped = false;
  return {
    kind: 'upstream',
    kubeconfigPath,
    cloudKubeconfigPath: path.join(path.dirname(kubeconfigPath), 'cloud.kubeconfig'),
    server,
    kubeletClientCAPath: path.join(stateDir, 'pki', 'ca.crt'),
    stop: async () => {
      if (reuse || stopped) return;
      stopped = true;
      const r = await upstreamScript('stop', stateDir);
      if (r.code !== 0) throw new Error(`scripts/upstream stop failed (exit ${r.code}):\n${r.stderr}`);
    },
  };
}

function privateStateDir(): string {
  // /run is tmpfs: etcd's fsyncs cost nothing there. Fall back to the temp dir.
  for (const base of ['/run', tmpdir()]) {
    try {
      return mkdtempSync(path.join(base, 'tether-upstream-'));
    } catch {
      // not writable; try the next one
    }
  }
  throw new Error('no writable directory for the upstream state');
}

function serverOf(kubeconfigPath: string): string {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`${kubeconfigPath} has no current cluster`);
  return cluster.server;
}

// ------------------------------------------------------------------ embedded

async function startEmbedded(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tether-embedded-'));
  const every = opts.compactionIntervalSeconds;
  const cloudToken = randomBytes(24).toString('hex');
  try {
    const srv = await startApiServer({
      dataDir,
      port: 0,
      tokens: [{ token: cloudToken, user: 'tether-cloud', groups: ['tether:cloud'] }],
      // Like upstream's compactor: each run compacts to the revision of the run before.
      ...(every === undefined ? {} : { compaction: { intervalMs: every * 1000, keepMs: every * 1000 } }),
      // Like upstream without kube-controller-manager: no default ServiceAccount and
      // kube-root-ca.crt appear in new namespaces (the differential tests compare bare servers).
      ...(opts.controllers === false ? { serviceAccounts: { perNamespaceObjects: false } } : {}),
    });
    const cloudKubeconfigPath = path.join(dataDir, 'cloud.kubeconfig');
    writeTokenKubeconfig(srv.kubeconfigPath, cloudKubeconfigPath, 'tether-cloud', cloudToken);
    let stopped = false;
    return {
      kind: 'embedded',
      kubeconfigPath: srv.kubeconfigPath,
      cloudKubeconfigPath,
      server: srv.url,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        try {
          await srv.stop();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** A copy of `from` (its cluster and CA) that authenticates as `user` with a bearer token. */
function writeTokenKubeconfig(from: string, to: string, user: string, token: string): void {
  const kc = new KubeConfig();
  kc.loadFromFile(from);
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`${from} has no current cluster`);
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  writeFileSync(to, out.exportConfig(), { mode: 0o600 });
}

// ------------------------------------------------------------------ clients

export const KUBECTL_VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'] as const;
export type KubectlVersion = (typeof KUBECTL_VERSIONS)[number];

/** The real kubectl of a minor version (google-cloud-sdk ships one per minor), or Debian's. */
export function kubectlPath(version?: KubectlVersion): string {
  return version === undefined ? '/usr/bin/kubectl' : `/usr/lib/google-cloud-sdk/bin/kubectl.${version}`;
}

export interface KubectlOptions {
  version?: KubectlVersion;
  /** stdin, e.g. a manifest for `apply -f -`. */
  input?: string;
  /** Resolve with a non-zero exit instead of rejecting (for tests of failures). */
  allowFailure?: boolean;
  timeoutMs?: number;
}

/** Runs the real kubectl against the control plane; rejects on a non-zero exit unless allowFailure. */
export async function kubectl(
  cp: Pick<ControlPlane, 'kubeconfigPath'>,
  args: readonly string[],
  opts: KubectlOptions = {},
): Promise<RunResult> {
  // Discovery cache per control plane, so two servers on reused ports never share one.
  const cacheDir = path.join(path.dirname(cp.kubeconfigPath), '.kubectl-cache');
  mkdirSync(cacheDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: cp.kubeconfigPath };
  const bin = kubectlPath(opts.version);
  const res = await run(bin, ['--kubeconfig', cp.kubeconfigPath, '--cache-dir', cacheDir, ...args], {
    env,
    ...(opts.input === undefined ? {} : { input: opts.input }),
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  if (res.code !== 0 && opts.allowFailure !== true) {
    throw new Error(`${path.basename(bin)} ${args.join(' ')} exited ${res.code}:\n${res.stderr}`);
  }
  return res;
}

/** A @kubernetes/client-node KubeConfig for the control plane. */
export function kubeConfigFor(cp: Pick<ControlPlane, 'kubeconfigPath'>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  return kc;
}

/** Whether a given kind of control plane can be started on this machine right now. */
export function controlPlaneAvailable(kind: ControlPlaneKind): boolean {
  return kind === 'upstream' ? upstreamAvailable() : true;
}
