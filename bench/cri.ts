/**
 * CRI step latencies against the test containerd: RunPodSandbox, CreateContainer,
 * StartContainer, StopContainer, StopPodSandbox, RemoveContainer, RemovePodSandbox,
 * p50/p99 over N pods (default 20), for host-network and CNI-bridge sandboxes.
 *
 *   npx tsx bench/cri.ts [--pods 20]        (needs `bash scripts/setup` first)
 *
 * Prints one JSON object on stdout, then a human summary on stderr.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRegistry, silentLogger } from '../src/common/index.js';
import {
  CriRuntime,
  DEFAULT_TEST_CRI_SOCKET,
  buildContainerConfig,
  buildSandboxConfig,
  type Pod,
} from '../src/edge/cri/index.js';

const IMAGE = 'localhost:5000/tether/shell:1';
const STEPS = [
  'runPodSandbox',
  'createContainer',
  'startContainer',
  'stopContainer',
  'stopPodSandbox',
  'removeContainer',
  'removePodSandbox',
] as const;
type Step = (typeof STEPS)[number];

const argPods = process.argv.indexOf('--pods');
const PODS = argPods > 0 ? Number(process.argv[argPods + 1]) : 20;
const RUN = randomUUID().slice(0, 8);
const CGROUP_ROOT = `/tether-bench-cri-${RUN}`;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  return v;
}

async function removeCgroups(): Promise<void> {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return;
  const rmDeep = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) await rmDeep(path.join(dir, e.name));
    }
    await rmdir(dir).catch(() => undefined);
  };
  for (const ctrl of await readdir(root)) {
    const dir = path.join(root, ctrl, CGROUP_ROOT);
    if (existsSync(dir)) await rmDeep(dir);
  }
}

async function benchMode(
  rt: CriRuntime,
  logs: string,
  hostNetwork: boolean,
): Promise<Record<Step, number[]>> {
  const samples = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
  for (let i = 0; i < PODS; i++) {
    const pod: Pod = {
      metadata: {
        name: `bench-${i}`,
        namespace: 'bench',
        uid: randomUUID(),
        labels: { 'tether.dev/bench': RUN },
      },
      spec: {
        hostNetwork,
        containers: [
          {
            name: 'main',
            image: IMAGE,
            // PID 1 ignores SIGTERM without a handler; trap it so StopContainer measures a clean stop.
            command: ['sh', '-c', 'trap "exit 0" TERM; touch /tmp/ready; sleep 3600 & wait'],
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
          },
        ],
      },
    };
    const sb = buildSandboxConfig(pod, { podLogsRoot: logs, cgroupRoot: CGROUP_ROOT });
    if (!sb.ok) throw sb.error;
    const cc = buildContainerConfig(pod, pod.spec.containers[0]!, { memoryCapacityBytes: 4 * 1024 ** 3 });
    if (!cc.ok) throw cc.error;
    const sandboxId = await timed(samples.runPodSandbox, () => rt.runPodSandbox(sb.value));
    const id = await timed(samples.createContainer, () => rt.createContainer(sandboxId, cc.value, sb.value));
    await timed(samples.startContainer, () => rt.startContainer(id));
    // Untimed: wait until the trap is installed, or a stop racing the shell waits out the grace period.
    while ((await rt.execSync(id, ['test', '-f', '/tmp/ready'], 5)).exitCode !== 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await timed(samples.stopContainer, () => rt.stopContainer(id, 10));
    await timed(samples.stopPodSandbox, () => rt.stopPodSandbox(sandboxId));
    await timed(samples.removeContainer, () => rt.removeContainer(id));
    await timed(samples.removePodSandbox, () => rt.removePodSandbox(sandboxId));
  }
  return samples;
}

async function main(): Promise<void> {
  const endpoint = process.env['TETHER_CRI_SOCKET'] ?? DEFAULT_TEST_CRI_SOCKET;
  const rt = new CriRuntime({ endpoint }, { logger: silentLogger(), registry: createRegistry() });
  await rt.start();
  const logs = await mkdtemp(path.join(tmpdir(), 'tether-bench-cri-'));
  const result: Record<string, unknown> = {
    bench: 'cri',
    pods: PODS,
    runtime: await rt.version(),
    unit: 'ms',
  };
  try {
    await rt.pullImage(IMAGE);
    for (const [mode, hostNetwork] of [
      ['hostNetwork', true],
      ['cni', false],
    ] as const) {
      const samples = await benchMode(rt, logs, hostNetwork);
      result[mode] = Object.fromEntries(
        STEPS.map((s) => {
          const sorted = [...samples[s]].sort((a, b) => a - b);
          return [s, { p50: +quantile(sorted, 0.5).toFixed(1), p99: +quantile(sorted, 0.99).toFixed(1) }];
        }),
      );
    }
  } finally {
    for (const b of await rt.listPodSandbox({ labels: { 'tether.dev/bench': RUN } })) {
      for (const c of await rt.listContainers({ sandboxId: b.id })) {
        await rt.stopContainer(c.id, 0).catch(() => undefined);
        await rt.removeContainer(c.id).catch(() => undefined);
      }
      await rt.stopPodSandbox(b.id).catch(() => undefined);
      await rt.removePodSandbox(b.id).catch(() => undefined);
    }
    await rt.stop();
    await rm(logs, { recursive: true, force: true });
    await removeCgroups();
  }
  console.log(JSON.stringify(result));
  for (const mode of ['hostNetwork', 'cni']) {
    const m = result[mode] as Record<Step, { p50: number; p99: number }>;
    console.error(`\n${mode} (${PODS} pods, ms)`);
    for (const s of STEPS)
      console.error(
        `  ${s.padEnd(18)} p50 ${String(m[s].p50).padStart(7)}  p99 ${String(m[s].p99).padStart(7)}`,
      );
  }
}

await main();
