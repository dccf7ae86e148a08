/**
 * The edge bundle (scripts/build-edge.ts → dist/bundle/tether-edge.mjs, what bin/tether runs for
 * `tether edge run` when the build is current; issue 12 footprint). Built here into a temp dir
 * from the current sources and run with plain node: the same usage and configuration errors as the
 * sources, and a real agent — mTLS link to a cloud core, a pod through the project's containerd
 * (the bundled grpc-js + protobufjs, int64 timestamps), SIGTERM — so a bundling mistake (a
 * library that breaks when inlined, a file looked up next to its module) fails here, not on a device.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../src/common/index.js';
import { CriRuntime, DEFAULT_TEST_CRI_SOCKET } from '../../src/edge/cri/index.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { REPO_ROOT } from '../support/controlplane.js';
import { freePort } from '../support/procs.js';
import { removeCgroupTree } from '../edge/cri/helpers.js';
import { TEST_RUN_LABEL } from '../edge/pods/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tether-edge-bundle-'));
const out = join(dir, 'bundle');
const BUNDLE = join(out, 'tether-edge.mjs');
const SOCKET = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;

function run(
  cmd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
      (e, stdout, stderr) => {
        resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, stdout, stderr });
      },
    );
  });
}
const fromSources = (args: readonly string[]) =>
  run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args]);
const fromBundle = (args: readonly string[]) => run(process.execPath, [BUNDLE, ...args]);

beforeAll(async () => {
  // the bundle loads its external packages from node_modules beside or above it, as in dist/
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const b = await run(process.execPath, ['--import', 'tsx', 'scripts/build-edge.ts', out]);
  expect(b.code, b.stderr).toBe(0);
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('cli — the edge bundle', () => {
  it('cli — one ASCII-only file with the CRI proto beside it; native addons and lazy libraries stay outside', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    // one non-ASCII character makes V8 keep the whole source as UTF-16 (twice the memory)
    expect([...text].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
    expect(existsSync(join(out, 'cri.proto'))).toBe(true);
    expect(existsSync(`${BUNDLE}.map`)).toBe(false);
    // loaded from node_modules: the addon statically, the lazy libraries only by import()
    expect(text).toMatch(/from\s*"better-sqlite3"/);
    for (const lazy of ['mqtt', 'aedes', 'modbus-serial', '@peculiar/x509'])
      expect(text, lazy).toMatch(new RegExp(`import\\(\\s*"${lazy.replace('/', '\\/')}"\\s*\\)`));
    expect(text).not.toMatch(/from\s*"(mqtt|aedes|@peculiar\/x509|@kubernetes\/client-node)"/);
    // nothing of the cloud (the edge must not even contain the Kubernetes client's users)
    expect(text).not.toContain('SyncController');
    // identifiers are not minified, so error classes keep their names (TetherError takes `name`
    // from the class): esbuild suffixes a class only when two modules declare the same name —
    // today only commander's own two, whose names nothing shows
    const renamed = [...text.matchAll(/\b([A-Za-z]+Error)\d+\s*=\s*class\b/g)].map((m) => m[1]);
    expect([...new Set(renamed)].sort()).toEqual(['CommanderError', 'InvalidArgumentError']);
    expect(text).toMatch(/\bConfigError\s*=\s*class\b/);
  });

  it('cli — usage and configuration errors are the same as from the sources', async () => {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(
      typo,
      'nodeName: e1\ndataDir: /tmp/x\ncloud:\n  url: wss://127.0.0.1:1\n  certFile: a\n  keyFile: b\n  caFile: c\npods:\n  criSockt: /x\n',
    );
    for (const args of [
      ['edge', 'run', '--config', typo],
      ['edge', 'run'],
      ['edge', 'run', '--config', join(dir, 'missing.yaml')],
    ]) {
      const [b, s] = await Promise.all([fromBundle(args), fromSources(args)]);
      expect(b.code, args.join(' ')).toBe(2);
      expect(b.code).toBe(s.code);
      expect(b.stderr).toBe(s.stderr);
    }
    const help = await fromBundle(['edge', 'run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tether edge run [options]');
  }, 120_000);

  it('cli — the bundled agent joins the cloud, runs a pod through containerd and stops on SIGTERM', async () => {
    const h = new ChannelHarness();
    const node = 'edge-bundle';
    const runId = Math.random().toString(16).slice(2, 10);
    const rt = new CriRuntime({ endpoint: SOCKET }, { logger: silentLogger(), registry: createRegistry() });
    let agent: ReturnType<typeof spawn> | undefined;
    let log = '';
    try {
      await h.start();
      await rt.start();
      await h.startCloud();
      const cert = await h.edgeCert(node);
      writeFileSync(join(h.dir, 'edge.crt'), cert.certPem);
      writeFileSync(join(h.dir, 'edge.key'), cert.keyPem);
      writeFileSync(join(h.dir, 'ca.crt'), h.ca.certPem);
      const dataDir = join(h.dir, 'data');
      const config = join(h.dir, 'edge.yaml');
      writeFileSync(
        config,
        stringify({
          nodeName: node,
          dataDir,
          cloud: {
            url: `wss://127.0.0.1:${String(h.hubPort)}`,
            certFile: join(h.dir, 'edge.crt'),
            keyFile: join(h.dir, 'edge.key'),
            caFile: join(h.dir, 'ca.crt'),
          },
          pods: {
            criSocket: SOCKET,
            rootDir: join(dataDir, 'pods'),
            podLogsRoot: join(dataDir, 'logs'),
            cgroupRoot: `/tether-test-bundle-${runId}`,
            extraLabels: { [TEST_RUN_LABEL]: runId },
          },
          devices: { bus: { mode: 'embedded', host: '127.0.0.1', port: await freePort() } },
          api: { port: 0 },
          logLevel: 'warn',
        }),
      );
      const child = spawn(process.execPath, [BUNDLE, 'edge', 'run', '--config', config], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_ENV: 'production' },
      });
      agent = child;
      child.stdout.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));

      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`the agent exited ${String(child.exitCode)}: ${log}`);
          const n = await h.core.readNode({ name: node }).catch(() => undefined);
          return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        },
        'node Ready',
        120_000,
      );
      await h.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name: 'bundled', namespace: 'default' },
          spec: { nodeName: node, containers: [{ name: 'c', image: 'localhost:5000/tether/pause:1' }] },
        },
      });
      const pod = await eventually(
        async () => {
          const p = await h.core.readNamespacedPod({ name: 'bundled', namespace: 'default' });
          return p.status?.phase === 'Running' ? p : undefined;
        },
        'pod Running',
        180_000,
      );
      // CRI timestamps are int64 nanoseconds: decoded through the bundled protobufjs + long, a
      // precision or unit mistake would put startedAt far from now
      const startedAt = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt;
      expect(startedAt).toBeInstanceOf(Date);
      expect(Math.abs((startedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(3_600_000);
      expect(child.exitCode).toBeNull();

      const exited = new Promise<number | null>((resolve) => {
        child.once('exit', (code) => {
          resolve(code);
        });
      });
      child.kill('SIGTERM');
      expect(await exited, log).toBe(0);
    } finally {
      if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
      const labels = { [TEST_RUN_LABEL]: runId };
      for (const c of await rt.listContainers({ labels }).catch(() => [])) {
        await rt.stopContainer(c.id, 0).catch(() => undefined);
        await rt.removeContainer(c.id).catch(() => undefined);
      }
      for (const b of await rt.listPodSandbox({ labels }).catch(() => [])) {
        await rt.stopPodSandbox(b.id).catch(() => undefined);
        await rt.removePodSandbox(b.id).catch(() => undefined);
      }
      await removeCgroupTree(`/tether-test-bundle-${runId}`);
      await rt.stop();
      await h.stop();
    }
  }, 400_000);
});
