/**
 * A real `tether edge run` process for the edge end-to-end tests (test/e2e/edge-*.test.ts):
 * its YAML config against a ChannelHarness cloud, with everything it creates in containerd
 * scoped by a per-run label so the test can remove exactly that.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CriRuntime } from '../../../src/edge/cri/index.js';
import type { ChannelHarness } from '../../support/channel.js';
import { freePort, tether, type Proc } from '../../support/procs.js';
import { removeCgroupTree } from '../cri/helpers.js';
import { TEST_RUN_LABEL } from '../pods/helpers.js';

export interface EdgeProcess {
  name: string;
  run: string;
  dataDir: string;
  configFile: string;
  proc: Proc;
}

export interface EdgeProcessOptions {
  criSocket: string;
  /** Merged over the generated config (top-level sections replaced key by key). */
  health?: Record<string, unknown>;
}

/** Writes the config and starts `tether edge run` (fast timings; own MQTT and API ports). */
export async function startEdgeProcess(
  h: ChannelHarness,
  name: string,
  opts: EdgeProcessOptions,
): Promise<EdgeProcess> {
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
      url: `wss://127.0.0.1:${h.hubPort}`,
      certFile: join(h.dir, `${name}.crt`),
      keyFile: join(h.dir, `${name}.key`),
      caFile: join(h.dir, 'ca.crt'),
    },
    node: { leaseRenewMs: 1000, statusCheckMs: 500 },
    pods: {
      criSocket: opts.criSocket,
      rootDir: join(dataDir, 'pods'),
      podLogsRoot: join(dataDir, 'logs'),
      reconcileIntervalMs: 500,
      backoffInitialMs: 1000,
      backoffMaxMs: 4000,
      cgroupRoot: `/tether-test-pods-${run}`,
      extraLabels: { [TEST_RUN_LABEL]: run },
    },
    devices: { bus: { mode: 'embedded', host: '127.0.0.1', port: await freePort() } },
    api: { port: 0 },
    health: opts.health ?? {},
    logLevel: 'warn',
  };
  writeFileSync(configFile, stringify(config));
  const proc = tether(['edge', 'run', '--config', configFile]);
  return { name, run, dataDir, configFile, proc };
}

/** Stops the process, then removes every sandbox/container and pod cgroup of its run. */
export async function removeEdgeProcess(e: EdgeProcess, rt: CriRuntime | undefined): Promise<void> {
  await e.proc.kill('SIGTERM');
  if (rt !== undefined) {
    const labels = { [TEST_RUN_LABEL]: e.run };
    for (const c of await rt.listContainers({ labels }).catch(() => [])) {
      await rt.stopContainer(c.id, 0).catch(() => undefined);
      await rt.removeContainer(c.id).catch(() => undefined);
    }
    for (const b of await rt.listPodSandbox({ labels }).catch(() => [])) {
      await rt.stopPodSandbox(b.id).catch(() => undefined);
      await rt.removePodSandbox(b.id).catch(() => undefined);
    }
  }
  await removeCgroupTree(`/tether-test-pods-${e.run}`);
}

/** The endpoint the agent wrote for `tether edge health`. */
export async function apiEndpoint(e: EdgeProcess): Promise<{ url: string; tokenFile: string }> {
  return JSON.parse(await readFile(join(e.dataDir, 'api.json'), 'utf8')) as {
    url: string;
    tokenFile: string;
  };
}
