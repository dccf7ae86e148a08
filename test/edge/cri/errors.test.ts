import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, LifecycleError, createRegistry, silentLogger } from '../../../src/common/index.js';
import {
  CriError,
  CriRuntime,
  protoPath,
  type ContainerId,
  type SandboxId,
} from '../../../src/edge/cri/index.js';

/**
 * A hand-written fake CRI server (real gRPC on a real unix socket) answering with chosen
 * status codes — and misleading messages, to prove errors are mapped by code, not text.
 */
type Call = ServerUnaryCall<unknown, unknown>;
type Reply = sendUnaryData<unknown>;

let dir: string;
let server: Server;
let fakeSocket: string;
const slowCalls: (() => void)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-cri-fake-'));
  fakeSocket = path.join(dir, 'fake.sock');
  const def = loadSync(protoPath(), { keepCase: true, longs: String, enums: String, defaults: true });
  const rtService = def['runtime.v1.RuntimeService'] as ServiceDefinition;
  server = new Server();
  server.addService(rtService, {
    Version: (_call: Call, cb: Reply) => {
      cb(null, { version: '0.1.0', runtime_name: 'fake', runtime_version: '1', runtime_api_version: 'v1' });
    },
    ContainerStatus: (_call: Call, cb: Reply) => {
      cb({ code: status.NOT_FOUND, details: 'the socket is unavailable (not really)' });
    },
    StartContainer: (_call: Call, cb: Reply) => {
      cb({ code: status.INTERNAL, details: 'not found (but actually internal)' });
    },
    RemoveContainer: (_call: Call, cb: Reply) => {
      cb({ code: status.UNAVAILABLE, details: 'runtime shutting down' });
    },
    // Never answers until the test releases it: exercises deadlines and stop().
    StopPodSandbox: (_call: Call, cb: Reply) => {
      slowCalls.push(() => {
        cb(null, {});
      });
    },
    Status: (_call: Call, cb: Reply) => {
      cb(null, {
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true, reason: '', message: '' },
            { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni' },
          ],
        },
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${fakeSocket}`, ServerCredentials.createInsecure(), (e) => {
      if (e) reject(e);
      else resolve();
    });
  });
});

afterAll(async () => {
  for (const release of slowCalls.splice(0)) release();
  await new Promise<void>((resolve) => {
    server.tryShutdown(() => {
      resolve();
    });
  });
  await rm(dir, { recursive: true, force: true });
});

function runtime(
  endpoint: string,
  requestTimeoutMs = 30_000,
): { rt: CriRuntime; registry: ReturnType<typeof createRegistry> } {
  const registry = createRegistry();
  return {
    rt: new CriRuntime({ endpoint, requestTimeoutMs }, { logger: silentLogger(), registry }),
    registry,
  };
}

describe('edge/cri errors', () => {
  it('edge/cri — socket down → CriError UNAVAILABLE at once, not after the deadline', async () => {
    const { rt, registry } = runtime(path.join(dir, 'nobody-listens.sock'), 60_000);
    await rt.start();
    try {
      const e = await rt.version().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CriError);
      expect((e as CriError).code).toBe('UNAVAILABLE');
      expect((e as CriError).method).toBe('Version');
      const metric = await registry.getSingleMetric('tether_cri_call_errors_total')!.get();
      expect(metric.values).toContainEqual(
        expect.objectContaining({ value: 1, labels: { method: 'Version', code: 'UNAVAILABLE' } }),
      );
    } finally {
      await rt.stop();
    }
  });

  it('edge/cri — when the runtime comes back the same client recovers without a restart', async () => {
    const later = path.join(dir, 'later.sock');
    const registry = createRegistry();
    const rt = new CriRuntime(
      { endpoint: later, requestTimeoutMs: 5_000, maxReconnectBackoffMs: 300 },
      { logger: silentLogger(), registry },
    );
    await rt.start();
    const late = new Server();
    try {
      expect(((await rt.version().catch((x: unknown) => x)) as CriError).code).toBe('UNAVAILABLE');
      const def = loadSync(protoPath(), { keepCase: true, longs: String, enums: String, defaults: true });
      late.addService(def['runtime.v1.RuntimeService'] as ServiceDefinition, {
        Version: (_call: Call, cb: Reply) => {
          cb(null, {
            version: '0.1.0',
            runtime_name: 'late',
            runtime_version: '1',
            runtime_api_version: 'v1',
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        late.bindAsync(`unix://${later}`, ServerCredentials.createInsecure(), (e) => {
          if (e) reject(e);
          else resolve();
        });
      });
      let name = '';
      for (let i = 0; i < 50 && name === ''; i++) {
        name = await rt.version().then(
          (v) => v.runtimeName,
          () => '',
        );
        if (name === '') await new Promise((r) => setTimeout(r, 100));
      }
      expect(name).toBe('late');
    } finally {
      await rt.stop();
      late.forceShutdown();
    }
  });

  it('edge/cri — errors map by gRPC status code, never by message text', async () => {
    const { rt } = runtime(fakeSocket);
    await rt.start();
    try {
      expect((await rt.version()).runtimeName).toBe('fake');
      const nf = await rt.containerStatus('c1' as ContainerId).catch((x: unknown) => x);
      expect((nf as CriError).code).toBe('NOT_FOUND');
      expect((nf as CriError).grpcCode).toBe(status.NOT_FOUND);
      const internal = await rt.startContainer('c1' as ContainerId).catch((x: unknown) => x);
      expect((internal as CriError).code).toBe('RUNTIME');
      const unavailable = await rt.removeContainer('c1' as ContainerId).catch((x: unknown) => x);
      expect((unavailable as CriError).code).toBe('UNAVAILABLE');
      // An rpc the fake does not implement: UNIMPLEMENTED → RUNTIME.
      const unimpl = await rt.listImages().catch((x: unknown) => x);
      expect((unimpl as CriError).code).toBe('RUNTIME');
    } finally {
      await rt.stop();
    }
  });

  it('edge/cri — a call that outlives its deadline is CriError DEADLINE; latency is recorded', async () => {
    const { rt, registry } = runtime(fakeSocket, 200);
    await rt.start();
    try {
      const e = await rt.stopPodSandbox('s1' as SandboxId).catch((x: unknown) => x);
      expect((e as CriError).code).toBe('DEADLINE');
      await rt.version();
      const h = await registry.getSingleMetric('tether_cri_call_duration_seconds')!.get();
      const counts = h.values.filter(
        (v) => (v as { metricName?: string }).metricName === 'tether_cri_call_duration_seconds_count',
      );
      expect(counts).toContainEqual(expect.objectContaining({ labels: { method: 'Version' }, value: 1 }));
      expect(counts).toContainEqual(
        expect.objectContaining({ labels: { method: 'StopPodSandbox' }, value: 1 }),
      );
    } finally {
      await rt.stop();
    }
  });

  it('edge/cri — a peer that accepts but never speaks gRPC gives DEADLINE, not a hang', async () => {
    const mute = path.join(dir, 'mute.sock');
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((r) => srv.listen(mute, r));
    const { rt } = runtime(mute, 300);
    await rt.start();
    try {
      const e = await rt.version().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CriError);
      expect((e as CriError).code).toBe('DEADLINE');
    } finally {
      await rt.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => {
        srv.close(() => {
          r();
        });
      });
    }
  });

  it('edge/cri — stop() cancels calls in flight; calls after stop are a LifecycleError', async () => {
    const { rt } = runtime(fakeSocket);
    await rt.start();
    const pending = rt.stopPodSandbox('s2' as SandboxId).catch((x: unknown) => x);
    await new Promise((r) => setTimeout(r, 100));
    await rt.stop();
    const e = await pending;
    expect(e).toBeInstanceOf(CriError);
    const after = await rt.version().catch((x: unknown) => x);
    expect(after).toBeInstanceOf(LifecycleError);
  });

  it('edge/cri — status reports ready only when RuntimeReady and NetworkReady are both true', async () => {
    const { rt } = runtime(fakeSocket);
    await rt.start();
    try {
      const s = await rt.status();
      expect(s.ready).toBe(false);
      expect(s.conditions.find((c) => c.type === 'NetworkReady')?.reason).toBe('NetworkPluginNotReady');
    } finally {
      await rt.stop();
    }
  });

  it('edge/cri — invalid config is a ConfigError at construction', () => {
    expect(
      () => new CriRuntime({ endpoint: '' }, { logger: silentLogger(), registry: createRegistry() }),
    ).toThrow(ConfigError);
    expect(
      () =>
        new CriRuntime(
          { endpoint: '/x', requestTimeoutMs: -1 },
          { logger: silentLogger(), registry: createRegistry() },
        ),
    ).toThrow(ConfigError);
  });

  it('edge/cri — two runtimes can share one metrics registry', () => {
    const registry = createRegistry();
    const a = new CriRuntime({ endpoint: '/a' }, { logger: silentLogger(), registry });
    const b = new CriRuntime({ endpoint: 'unix:///b' }, { logger: silentLogger(), registry });
    expect(a.endpoint).toBe('unix:///a');
    expect(b.endpoint).toBe('unix:///b');
  });
});
