/**
 * What one Lease renewal costs the cloud's process (issue 12: renewals are the cloud's most
 * frequent write, 1,000/s at 10,000 edges): `npx tsx bench/kube-writes.ts [--writes 4000]
 * [--leases 200] [--concurrency 16]`. The embedded API server runs in this process; the writer
 * runs in a child, so the CPU time printed is the client's alone (process.cpuUsage of the child).
 * Two clients, the same merge patch of a Lease's spec over one keep-alive connection pool:
 * @kubernetes/client-node's typed API (what KubeClient.renewLease used) and a raw JSON request
 * (src/common/kube-raw.ts). Prints JSON and a summary line per client.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { startApiServer } from '../src/apiserver/index.js';
import { kubeRequest, reuseConnections } from '../src/common/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}
const WRITES = Number(arg('writes', '4000'));
const LEASES = Number(arg('leases', '200'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const NS = 'kube-node-lease';

type Client = 'client-node' | 'raw';
interface Result {
  client: Client;
  writes: number;
  wallMs: number;
  cpuUsPerWrite: number;
  writesPerSec: number;
}

async function writer(kubeconfig: string, client: Client): Promise<Result> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  reuseConnections(kc);
  const api = kc.makeApiClient(CoordinationV1Api);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const one = async (i: number): Promise<void> => {
    const name = `lease-${String(i % LEASES)}`;
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString() };
    if (client === 'client-node')
      await api.patchNamespacedLease({ name, namespace: NS, body: { spec } }, merge);
    else
      await kubeRequest(
        kc,
        'PATCH',
        `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${name}`,
        { spec },
        'application/merge-patch+json',
      );
  };
  // warm-up: connections, JIT
  for (let i = 0; i < 200; i++) await one(i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < WRITES) await one(next++);
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    client,
    writes: WRITES,
    wallMs: Math.round(wallMs),
    cpuUsPerWrite: Math.round((cpu.user + cpu.system) / WRITES),
    writesPerSec: Math.round((WRITES / wallMs) * 1000),
  };
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await writer(process.argv[3] ?? '', (process.argv[4] ?? 'raw') as Client);
    process.send?.(r);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-bench-kube-writes-'));
  const api = await startApiServer({ dataDir, port: 0, storage: { synchronous: 'NORMAL' } });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: NS } } })
      .catch(() => undefined); // present already
    const coord = kc.makeApiClient(CoordinationV1Api);
    for (let i = 0; i < LEASES; i++)
      await coord.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: `lease-${String(i)}` }, spec: { holderIdentity: `lease-${String(i)}` } },
      });
    const results: Result[] = [];
    // ABBA: the API server's store grows between runs
    for (const client of ['client-node', 'raw', 'raw', 'client-node'] as const) {
      const child = fork(fileURLToPath(import.meta.url), ['--child', api.kubeconfigPath, client], {
        execArgv: ['--import', 'tsx'],
      });
      const r = await new Promise<Result>((resolve, reject) => {
        child.once('message', (m) => {
          resolve(m as Result);
        });
        child.once('exit', (code) => {
          reject(new Error(`writer exited ${String(code)}`));
        });
      });
      child.kill();
      results.push(r);
      console.error(
        `${r.client}: ${String(r.cpuUsPerWrite)} µs of client CPU per Lease patch, ${String(r.writesPerSec)} writes/s (${String(CONCURRENCY)} in flight)`,
      );
    }
    console.log(
      JSON.stringify(
        { date: new Date().toISOString(), writes: WRITES, concurrency: CONCURRENCY, results },
        null,
        2,
      ),
    );
  } finally {
    await api.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
