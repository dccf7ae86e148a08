import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import {
  CriRuntime,
  buildContainerConfig,
  buildSandboxConfig,
  protoPath,
  type ContainerId,
  type Pod,
  type SandboxId,
} from '../../../src/edge/cri/index.js';

/**
 * What actually goes over the wire: a fake CRI server decodes our requests with the same
 * .proto and records them; the responses it sends exercise the decoding side.
 */
type Call = ServerUnaryCall<Record<string, unknown>, unknown>;
type Reply = sendUnaryData<unknown>;

const seen = new Map<string, Record<string, unknown>>();
let dir: string;
let server: Server;
let rt: CriRuntime;

function record(name: string, response: unknown) {
  return (call: Call, cb: Reply): void => {
    seen.set(name, call.request);
    cb(null, response);
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-cri-wire-'));
  const socket = path.join(dir, 'cri.sock');
  const def = loadSync(protoPath(), { keepCase: true, longs: String, enums: String, defaults: true });
  server = new Server();
  server.addService(def['runtime.v1.RuntimeService'] as ServiceDefinition, {
    RunPodSandbox: record('RunPodSandbox', { pod_sandbox_id: 'sb1' }),
    CreateContainer: record('CreateContainer', { container_id: 'c1' }),
    ListContainers: record('ListContainers', {
      containers: [
        {
          id: 'c1',
          pod_sandbox_id: 'sb1',
          metadata: { name: 'main', attempt: 3 },
          image: { image: 'img:1' },
          image_ref: 'sha256:ab',
          state: 'CONTAINER_EXITED',
          created_at: '1764178843888788741',
          labels: { a: 'b' },
        },
      ],
    }),
    ContainerStatus: record('ContainerStatus', {
      status: {
        id: 'c1',
        state: 'CONTAINER_EXITED',
        created_at: '1764178843888788741',
        started_at: '1764178843988788741',
        finished_at: '1764178844088788742',
        exit_code: 137,
        reason: 'OOMKilled',
        mounts: [
          { container_path: '/d', host_path: '/h', readonly: true, propagation: 'PROPAGATION_BIDIRECTIONAL' },
        ],
        log_path: '/var/log/pods/x/main/3.log',
      },
    }),
    ListContainerStats: record('ListContainerStats', {
      stats: [
        {
          attributes: { id: 'c1', metadata: { name: 'main', attempt: 0 } },
          cpu: { timestamp: '5', usage_core_nano_seconds: { value: '123456789' } },
          memory: { timestamp: '6', working_set_bytes: { value: '4096' } },
        },
      ],
    }),
    ExecSync: record('ExecSync', {
      stdout: Buffer.from([0xff, 0x00, 0x41]),
      stderr: Buffer.alloc(0),
      exit_code: 0,
    }),
    PortForward: record('PortForward', { url: 'http://127.0.0.1:1/portforward/x' }),
    StopContainer: record('StopContainer', {}),
  });
  server.addService(def['runtime.v1.ImageService'] as ServiceDefinition, {
    PullImage: record('PullImage', { image_ref: 'sha256:cd' }),
    ImageStatus: record('ImageStatus', {
      image: { id: 'sha256:cd', repo_tags: ['img:1'], size: '5000000', uid: { value: '0' }, username: '' },
    }),
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (e) => {
      if (e) reject(e);
      else resolve();
    });
  });
  rt = new CriRuntime(
    { endpoint: socket, createLogDirectory: false },
    { logger: silentLogger(), registry: createRegistry() },
  );
  await rt.start();
});

afterAll(async () => {
  await rt.stop();
  await new Promise<void>((resolve) => {
    server.tryShutdown(() => {
      resolve();
    });
  });
  await rm(dir, { recursive: true, force: true });
});

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1' },
  spec: {
    containers: [
      {
        name: 'main',
        image: 'img:1',
        env: [{ name: 'E', value: 'v' }],
        securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN'] } },
        resources: { limits: { cpu: '1', memory: '1Gi' } },
      },
    ],
    hostNetwork: true,
  },
};

describe('edge/cri wire encoding', () => {
  it('edge/cri — sandbox and container configs encode with upstream field names, enums and wrappers', async () => {
    const sb = buildSandboxConfig(pod);
    const cc = buildContainerConfig(pod, pod.spec.containers[0]!, {
      memoryCapacityBytes: 2 ** 33,
      envFrom: [{ key: 'BIN', value: new Uint8Array([0xff, 0xfe]) }],
    });
    if (!sb.ok || !cc.ok) throw new Error('build failed');
    expect(await rt.runPodSandbox(sb.value)).toBe('sb1');
    const run = seen.get('RunPodSandbox') as any;
    expect(run.config.metadata).toEqual({ name: 'p', uid: 'u-1', namespace: 'ns', attempt: 0 });
    expect(run.config.linux.security_context.namespace_options).toMatchObject({
      network: 'NODE',
      pid: 'CONTAINER',
    });
    expect(run.config.linux.security_context.seccomp.profile_type).toBe('RuntimeDefault');
    expect(run.config.linux.cgroup_parent).toBe('/kubepods/podu-1');

    expect(await rt.createContainer('sb1' as SandboxId, cc.value, sb.value)).toBe('c1');
    const create = seen.get('CreateContainer') as any;
    expect(create.pod_sandbox_id).toBe('sb1');
    expect(create.sandbox_config.metadata.uid).toBe('u-1');
    const c = create.config;
    expect(c.image.image).toBe('img:1');
    expect(c.log_path).toBe('main/0.log');
    // int64 fields arrive as strings (longs: String); a set run_as_user of 0 is still present.
    expect(c.linux.resources).toMatchObject({
      cpu_shares: '1024',
      cpu_quota: '100000',
      cpu_period: '100000',
      memory_limit_in_bytes: String(2 ** 30),
      oom_score_adj: '-997',
    });
    expect(c.linux.security_context.run_as_user).toEqual({ value: '0' });
    expect(c.linux.security_context.run_as_group).toBeNull();
    expect(c.linux.security_context.capabilities.add_capabilities).toEqual(['NET_ADMIN']);
    // KeyValue.value is bytes: binary Secret data survives unchanged.
    const envs = Object.fromEntries(
      (c.envs as { key: string; value: Buffer }[]).map((e) => [e.key, [...e.value]] as const),
    );
    expect(envs).toEqual({ BIN: [0xff, 0xfe], E: [...Buffer.from('v')] });
  });

  it('edge/cri — pull credentials and filters go out as upstream messages', async () => {
    expect(
      await rt.pullImage('reg.example/app:1', { username: 'u', password: 'p', serverAddress: 'reg.example' }),
    ).toBe('sha256:cd');
    const pull = seen.get('PullImage') as any;
    expect(pull.image.image).toBe('reg.example/app:1');
    expect(pull.auth).toMatchObject({
      username: 'u',
      password: 'p',
      server_address: 'reg.example',
      auth: '',
    });

    await rt.listContainers({ sandboxId: 'sb1' as SandboxId, state: 'running', labels: { k: 'v' } });
    expect((seen.get('ListContainers') as any).filter).toEqual({
      id: '',
      pod_sandbox_id: 'sb1',
      state: { state: 'CONTAINER_RUNNING' },
      label_selector: { k: 'v' },
    });

    await rt.stopContainer('c1' as ContainerId, 30);
    expect((seen.get('StopContainer') as any).timeout).toBe('30');
    await rt.portForward('sb1' as SandboxId, [80, 443]);
    expect((seen.get('PortForward') as any).port).toEqual([80, 443]);
  });

  it('edge/cri — responses decode into typed results: nanosecond bigints, enums, optional stats', async () => {
    const [ctr] = await rt.listContainers();
    expect(ctr).toMatchObject({ id: 'c1', sandboxId: 'sb1', state: 'exited', imageRef: 'sha256:ab' });
    expect(ctr!.metadata).toEqual({ name: 'main', attempt: 3 });
    expect(ctr!.createdAtNs).toBe(1764178843888788741n);

    const st = await rt.containerStatus('c1' as ContainerId);
    expect(st.reason).toBe('OOMKilled');
    expect(st.exitCode).toBe(137);
    expect(st.finishedAtNs - st.startedAtNs).toBe(100000001n);
    expect(st.mounts).toEqual([
      { containerPath: '/d', hostPath: '/h', readonly: true, propagation: 'bidirectional' },
    ]);

    const [stats] = await rt.listContainerStats();
    expect(stats!.cpu).toEqual({ timestampNs: 5n, usageCoreNanoSeconds: 123456789 });
    expect(stats!.memory).toEqual({ timestampNs: 6n, workingSetBytes: 4096 });
    expect(stats!.writableLayer).toBeUndefined();

    const ex = await rt.execSync('c1' as ContainerId, ['x'], 0);
    expect([...ex.stdout]).toEqual([0xff, 0x00, 0x41]);

    const img = await rt.imageStatus('img:1');
    expect(img).toEqual({
      id: 'sha256:cd',
      repoTags: ['img:1'],
      repoDigests: [],
      size: 5000000,
      uid: 0,
      username: '',
      pinned: false,
    });
  });
});
