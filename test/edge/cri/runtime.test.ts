import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CriError,
  LABEL_MANAGED,
  buildContainerConfig,
  buildSandboxConfig,
  type ContainerId,
  type CriRuntime,
  type Pod,
  type SandboxConfig,
  type SandboxId,
} from '../../../src/edge/cri/index.js';
import {
  SHELL_IMAGE,
  TEST_RUN_LABEL,
  newRuntime,
  removeCgroupTree,
  removeRunSandboxes,
  testPod,
  waitFor,
} from './helpers.js';

const RUN = randomUUID().slice(0, 8);
const CGROUP_ROOT = `/tether-test-cri-${RUN}`;
const MEMORY_CAPACITY = 4 * 1024 ** 3;

let rt: CriRuntime;
let logsRoot: string;

beforeAll(async () => {
  rt = newRuntime();
  await rt.start();
  logsRoot = await mkdtemp(path.join(tmpdir(), 'tether-cri-logs-'));
  await rt.pullImage(SHELL_IMAGE);
});

afterEach(async () => {
  await removeRunSandboxes(rt, RUN);
});

afterAll(async () => {
  await removeRunSandboxes(rt, RUN).catch(() => undefined);
  await rt.stop();
  await removeCgroupTree(CGROUP_ROOT);
  await rm(logsRoot, { recursive: true, force: true });
});

function sandboxFor(pod: Pod): SandboxConfig {
  const r = buildSandboxConfig(pod, { podLogsRoot: logsRoot, cgroupRoot: CGROUP_ROOT });
  if (!r.ok) throw r.error;
  return r.value;
}

async function runContainer(
  pod: Pod,
  opts: { start?: boolean } = {},
): Promise<{ sandboxId: SandboxId; sandbox: SandboxConfig; containerId: ContainerId }> {
  const sandbox = sandboxFor(pod);
  const sandboxId = await rt.runPodSandbox(sandbox);
  const c = pod.spec.containers[0]!;
  const cfg = buildContainerConfig(pod, c, { memoryCapacityBytes: MEMORY_CAPACITY });
  if (!cfg.ok) throw cfg.error;
  const containerId = await rt.createContainer(sandboxId, cfg.value, sandbox);
  if (opts.start !== false) await rt.startContainer(containerId);
  return { sandboxId, sandbox, containerId };
}

async function exited(id: ContainerId): Promise<Awaited<ReturnType<CriRuntime['containerStatus']>>> {
  return waitFor(`container ${id} to exit`, async () => {
    const s = await rt.containerStatus(id);
    return s.state === 'exited' ? s : undefined;
  });
}

describe('edge/cri runtime (real containerd)', () => {
  it('edge/cri — version and status answer from containerd', async () => {
    const v = await rt.version();
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
    expect(v.runtimeVersion).not.toBe('');
    const s = await rt.status();
    expect(s.conditions.map((c) => c.type)).toEqual(expect.arrayContaining(['RuntimeReady', 'NetworkReady']));
    expect(s.ready).toBe(true);
  });

  it('edge/cri — images: pull, status, list, fs info; a missing image has no status', async () => {
    const ref = await rt.pullImage(SHELL_IMAGE);
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    const img = await rt.imageStatus(SHELL_IMAGE);
    expect(img?.id).toBe(ref);
    expect(img?.repoTags).toContain(SHELL_IMAGE);
    expect(img?.size).toBeGreaterThan(100_000);
    const list = await rt.listImages();
    expect(list.some((i) => i.id === ref)).toBe(true);
    expect(await rt.imageStatus('localhost:5000/tether/does-not-exist:1')).toBeUndefined();
    // CRI RemoveImage is idempotent: removing an absent image is not an error.
    await expect(rt.removeImage('localhost:5000/tether/does-not-exist:1')).resolves.toBeUndefined();
    const fs = await rt.imageFsInfo();
    expect(fs.imageFilesystems.length).toBeGreaterThan(0);
    expect(fs.imageFilesystems[0]!.mountpoint).not.toBe('');
  });

  it('edge/cri — pulling an image the registry lacks is CriError NOT_FOUND', async () => {
    const e = await rt.pullImage('localhost:5000/tether/does-not-exist:1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CriError);
    expect((e as CriError).code).toBe('NOT_FOUND');
  });

  it('edge/cri — host-network pod: container logs "hello", execSync, stats, listing by label, stop and remove', async () => {
    const pod = testPod(RUN, 'hello', {
      hostNetwork: true,
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sh', '-c', 'echo hello; sleep 30'] }],
    });
    const { sandboxId, sandbox, containerId } = await runContainer(pod);

    const status = await rt.podSandboxStatus(sandboxId);
    expect(status.state).toBe('ready');
    expect(status.namespaceOptions?.network).toBe('node');
    expect(status.metadata).toMatchObject({ name: 'hello', namespace: 'cri-test', uid: pod.metadata.uid });
    expect(status.labels[LABEL_MANAGED]).toBe('true');

    const cs = await rt.containerStatus(containerId);
    expect(cs.state).toBe('running');
    expect(cs.startedAtNs).toBeGreaterThan(0n);
    expect(cs.logPath).toBe(path.join(sandbox.logDirectory, 'main', '0.log'));

    // CRI log format: "<RFC3339Nano> stdout F hello".
    const line = await waitFor('hello in the CRI log', async () => {
      const text = await readFile(cs.logPath, 'utf8').catch(() => '');
      return text.split('\n').find((l) => l.endsWith(' hello'));
    });
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello$/);

    const ex = await rt.execSync(containerId, ['sh', '-c', 'echo hi; echo oops >&2; exit 4'], 10);
    expect(ex.stdout.toString()).toBe('hi\n');
    expect(ex.stderr.toString()).toBe('oops\n');
    expect(ex.exitCode).toBe(4);

    const url = await rt.exec(containerId, { cmd: ['sh'], stdin: true, tty: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\//);

    expect(await rt.attach(containerId, { stdin: true })).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attach\//);
    expect(await rt.portForward(sandboxId, [80])).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portforward\//);

    const stats = await waitFor('container stats', async () => {
      const s = await rt.containerStats(containerId);
      return s?.memory?.workingSetBytes === undefined ? undefined : s;
    });
    expect(stats.id).toBe(containerId);
    expect(stats.memory?.workingSetBytes).toBeGreaterThan(0);
    expect((await rt.listContainerStats({ sandboxId })).map((s) => s.id)).toEqual([containerId]);

    const listed = await rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: RUN, app: 'hello' } });
    expect(listed.map((b) => b.id)).toEqual([sandboxId]);
    const running = await rt.listContainers({ sandboxId, state: 'running' });
    expect(running.map((c) => c.id)).toEqual([containerId]);
    expect(running[0]!.labels['io.kubernetes.container.name']).toBe('main');

    await rt.reopenContainerLog(containerId);
    await rt.stopContainer(containerId, 2);
    const stopped = await rt.containerStatus(containerId);
    expect(stopped.state).toBe('exited');
    expect(await rt.listContainers({ sandboxId, state: 'running' })).toEqual([]);
    await rt.removeContainer(containerId);
    await rt.stopPodSandbox(sandboxId);
    await rt.removePodSandbox(sandboxId);
    expect(await rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: RUN } })).toEqual([]);

    const gone = await rt.containerStatus(containerId).catch((x: unknown) => x);
    expect(gone).toBeInstanceOf(CriError);
    expect((gone as CriError).code).toBe('NOT_FOUND');
  });

  it('edge/cri — a CNI-networked sandbox gets a pod IP', async () => {
    const pod = testPod(RUN, 'cni', {
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '30'] }],
    });
    const sandbox = sandboxFor(pod);
    const id = await rt.runPodSandbox(sandbox);
    const s = await rt.podSandboxStatus(id);
    expect(s.namespaceOptions?.network).toBe('pod');
    expect(s.ip).toMatch(/^10\.88\.\d+\.\d+$/);
  });

  it('edge/cri — a container that exits 3 reports exit code 3 and reason Error', async () => {
    const pod = testPod(RUN, 'exit3', {
      hostNetwork: true,
      containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sh', '-c', 'exit 3'] }],
    });
    const { containerId } = await runContainer(pod);
    const s = await exited(containerId);
    expect(s.exitCode).toBe(3);
    expect(s.reason).toBe('Error');
    // containerd records startedAt when Start returns but finishedAt from the shim's exit event, so a
    // process that exits at once can finish ~1 ms "before" it started (seen in CI): allow 1 s of skew
    expect(s.finishedAtNs).toBeGreaterThanOrEqual(s.startedAtNs - 1_000_000_000n);
  });

  it('edge/cri — a container over its memory limit is OOMKilled', async () => {
    const pod = testPod(RUN, 'oom', {
      hostNetwork: true,
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          // `tail` keeps an unbounded line buffer on input without newlines.
          command: ['sh', '-c', 'tail /dev/zero'],
          resources: { limits: { memory: '32Mi' } },
        },
      ],
    });
    const { containerId } = await runContainer(pod);
    const s = await exited(containerId);
    expect(s.reason).toBe('OOMKilled');
    expect(s.exitCode).toBe(137);
  });

  it('edge/cri — env, args expansion, working dir and a hostPath mount reach the container', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tether-cri-vol-'));
    try {
      const pod = testPod(RUN, 'env', {
        hostNetwork: true,
        volumes: [{ name: 'data', hostPath: { path: dir } }],
        containers: [
          {
            name: 'main',
            image: SHELL_IMAGE,
            command: ['sh', '-c'],
            args: ['echo "$GREETING $(WHO)" > /data/out; pwd >> /data/out; sleep 30'],
            workingDir: '/tmp',
            env: [
              { name: 'WHO', value: 'edge' },
              { name: 'GREETING', value: 'hello-$(WHO)' },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
      });
      const { containerId } = await runContainer(pod);
      const out = await waitFor('the container to write /data/out', async () => {
        const t = await readFile(path.join(dir, 'out'), 'utf8').catch(() => '');
        return t.includes('\n/tmp') ? t : undefined;
      });
      expect(out).toBe('hello-edge edge\n/tmp\n');
      const env = await rt.execSync(containerId, ['sh', '-c', 'echo $POD'], 10);
      expect(env.stdout.toString()).toBe('env\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('edge/cri — CPU and memory limits land in the container cgroup (cgroup v1)', async () => {
    const pod = testPod(RUN, 'limits', {
      hostNetwork: true,
      containers: [
        {
          name: 'main',
          image: SHELL_IMAGE,
          command: ['sleep', '30'],
          resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
        },
      ],
    });
    const { containerId } = await runContainer(pod);
    const read = async (f: string): Promise<string> =>
      (await rt.execSync(containerId, ['cat', f], 10)).stdout.toString().trim();
    expect(await read('/sys/fs/cgroup/cpu/cpu.shares')).toBe('256');
    expect(await read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')).toBe('50000');
    expect(await read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')).toBe('100000');
    expect(await read('/sys/fs/cgroup/memory/memory.limit_in_bytes')).toBe(String(128 * 1024 * 1024));
  });
});
