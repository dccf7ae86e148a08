import { mkdir } from 'node:fs/promises';
import { Client, credentials, type ClientUnaryCall, Metadata } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import { ConfigError, LifecycleError, type Component, type Logger } from '../../common/index.js';
import {
  containerConfigToWire,
  containerFilterToWire,
  containerFromWire,
  containerStatusFromWire,
  fsFromWire,
  imageFromWire,
  sandboxConfigToWire,
  sandboxFilterToWire,
  sandboxFromWire,
  sandboxStatusFromWire,
  statsFromWire,
} from './convert.js';
import { CriError, toCriError } from './errors.js';
import { imageMethod, runtimeMethod } from './proto.js';
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerId,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  ExecOptions,
  ExecSyncResult,
  Image,
  ImageFsInfo,
  Labels,
  PullAuth,
  RuntimeClient,
  RuntimeStatus,
  RuntimeVersion,
  SandboxConfig,
  SandboxFilter,
  SandboxId,
  SandboxStatus,
  SandboxSummary,
} from './types.js';
import type { ImageMethod, Method, RuntimeMethod, WResponses } from './wire.js';

/** Default CRI endpoint of the project's test containerd (common.md), overridable by env. */
export const DEFAULT_TEST_CRI_SOCKET = '/run/tether-test/containerd/containerd.sock';

const buildCriRuntimeConfigSchema = () =>
  z
    .object({
      /** A unix socket path or a `unix://` URL. */
      endpoint: z.string().min(1),
      /**
       * Deadline of every ordinary call. 2 min like kubelet's --runtime-request-timeout;
       * ExecSync and StopContainer get their own timeout added on top, as kubelet does.
       */
      requestTimeoutMs: z.number().int().positive().default(120_000),
      /** Image pulls are slow on edge links; kubelet sets no deadline at all. */
      pullTimeoutMs: z
        .number()
        .int()
        .positive()
        .default(15 * 60_000),
      /** Kubelet's limit for CRI responses (ListContainers on a busy node). */
      maxMessageBytes: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      /** Reconnect quickly when containerd comes back (gRPC's default backs off up to 120 s). */
      maxReconnectBackoffMs: z.number().int().positive().default(5_000),
      /** Create the sandbox's log directory before RunPodSandbox, as kubelet does. */
      createLogDirectory: z.boolean().default(true),
    })
    .strict();
export const CriRuntimeConfigSchema = lazySchema(buildCriRuntimeConfigSchema);

export type CriRuntimeConfig = z.input<typeof CriRuntimeConfigSchema>;
type ResolvedConfig = z.output<typeof CriRuntimeConfigSchema>;

export interface CriRuntimeDeps {
  logger: Logger;
  registry: Registry;
}

function target(endpoint: string): string {
  return endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
}

function existingOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * The CRI v1 client (RuntimeService + ImageService) over one gRPC channel to a unix socket.
 * `start()` opens the channel, `stop()` cancels calls in flight and closes it.
 */
export class CriRuntime implements RuntimeClient, Component {
  readonly name = 'cri';
  private readonly config: Readonly<ResolvedConfig>;
  private readonly log: Logger;
  private client: Client | undefined;
  private readonly inflight = new Set<ClientUnaryCall>();
  private readonly latency: Histogram<'method'>;
  private readonly errors: Counter<'method' | 'code'>;

  constructor(config: CriRuntimeConfig, deps: CriRuntimeDeps) {
    const parsed = CriRuntimeConfigSchema.safeParse(config);
    if (!parsed.success) {
      throw new ConfigError(
        'invalid CRI runtime config',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    }
    this.config = Object.freeze(parsed.data);
    this.log = deps.logger.child({ component: 'cri' });
    const registry = deps.registry;
    this.latency = existingOr(
      registry,
      'tether_cri_call_duration_seconds',
      () =>
        new Histogram({
          name: 'tether_cri_call_duration_seconds',
          help: 'Latency of CRI calls by method',
          labelNames: ['method'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
          registers: [registry],
        }),
    );
    this.errors = existingOr(
      registry,
      'tether_cri_call_errors_total',
      () =>
        new Counter({
          name: 'tether_cri_call_errors_total',
          help: 'Failed CRI calls by method and error code',
          labelNames: ['method', 'code'] as const,
          registers: [registry],
        }),
    );
  }

  get endpoint(): string {
    return target(this.config.endpoint);
  }

  start(): Promise<void> {
    if (this.client !== undefined) return Promise.resolve();
    // The channel connects lazily; a missing socket shows up as UNAVAILABLE on the first call.
    this.client = new Client(target(this.config.endpoint), credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.config.maxMessageBytes,
      'grpc.max_send_message_length': this.config.maxMessageBytes,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': this.config.maxReconnectBackoffMs,
      // Unix sockets have no host name; containerd ignores :authority anyway.
      'grpc.default_authority': 'localhost',
    });
    this.log.debug({ endpoint: this.endpoint }, 'cri channel opened');
    return Promise.resolve();
  }

  stop(): Promise<void> {
    for (const call of this.inflight) call.cancel();
    this.inflight.clear();
    this.client?.close();
    this.client = undefined;
    return Promise.resolve();
  }

  // ---- generic unary call with deadline, metrics and error mapping

  private call<M extends Method>(
    service: 'runtime' | 'image',
    method: M,
    request: object,
    deadlineMs: number = this.config.requestTimeoutMs,
  ): Promise<WResponses[M]> {
    const client = this.client;
    if (client === undefined) {
      return Promise.reject(new LifecycleError(`CRI ${method} called while the runtime client is stopped`));
    }
    const def =
      service === 'runtime' ? runtimeMethod(method as RuntimeMethod) : imageMethod(method as ImageMethod);
    const startedAt = process.hrtime.bigint();
    return new Promise<WResponses[M]>((resolve, reject) => {
      const call = client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (error, response) => {
          this.inflight.delete(call);
          this.latency.observe({ method }, Number(process.hrtime.bigint() - startedAt) / 1e9);
          if (error !== null) {
            const e = toCriError(method, error);
            this.errors.inc({ method, code: e.code });
            this.log.debug({ method, code: e.code, grpcCode: e.grpcCode, err: e.message }, 'cri call failed');
            reject(e);
            return;
          }
          resolve(response as WResponses[M]);
        },
      );
      this.inflight.add(call);
    });
  }

  private rt<M extends RuntimeMethod>(
    method: M,
    request: object,
    deadlineMs?: number,
  ): Promise<WResponses[M]> {
    return this.call('runtime', method, request, deadlineMs);
  }

  private img<M extends ImageMethod>(
    method: M,
    request: object,
    deadlineMs?: number,
  ): Promise<WResponses[M]> {
    return this.call('image', method, request, deadlineMs);
  }

  // ---- RuntimeService

  async version(): Promise<RuntimeVersion> {
    // "v1" is the CRI API version we speak (the request's `version` field).
    const r = await this.rt('Version', { version: 'v1' });
    return {
      version: r.version,
      runtimeName: r.runtime_name,
      runtimeVersion: r.runtime_version,
      runtimeApiVersion: r.runtime_api_version,
    };
  }

  async status(verbose = false): Promise<RuntimeStatus> {
    const r = await this.rt('Status', { verbose });
    const conditions = (r.status?.conditions ?? []).map((c) => ({ ...c }));
    const isTrue = (type: string): boolean => conditions.some((c) => c.type === type && c.status);
    // kubelet's runtime health check: RuntimeReady and NetworkReady must both be true.
    const out: RuntimeStatus = { conditions, ready: isTrue('RuntimeReady') && isTrue('NetworkReady') };
    const config = r.info?.['config'];
    if (config !== undefined) {
      try {
        const img = (JSON.parse(config) as { sandboxImage?: unknown }).sandboxImage;
        if (typeof img === 'string' && img !== '') out.sandboxImage = img;
      } catch {
        // not containerd's JSON: no sandbox image known
      }
    }
    return out;
  }

  async runPodSandbox(config: SandboxConfig, runtimeHandler = ''): Promise<SandboxId> {
    if (this.config.createLogDirectory && config.logDirectory !== '') {
      // kubelet creates the pod log directory before RunPodSandbox (kuberuntime_sandbox.go);
      // containerd only creates the per-container subdirectories.
      await mkdir(config.logDirectory, { recursive: true, mode: 0o755 });
    }
    const r = await this.rt('RunPodSandbox', {
      config: sandboxConfigToWire(config),
      runtime_handler: runtimeHandler,
    });
    this.log.debug({ sandbox: r.pod_sandbox_id, pod: config.metadata.name }, 'sandbox running');
    return r.pod_sandbox_id as SandboxId;
  }

  async stopPodSandbox(id: SandboxId): Promise<void> {
    await this.rt('StopPodSandbox', { pod_sandbox_id: id });
  }

  async removePodSandbox(id: SandboxId): Promise<void> {
    await this.rt('RemovePodSandbox', { pod_sandbox_id: id });
  }

  async podSandboxStatus(id: SandboxId): Promise<SandboxStatus> {
    const r = await this.rt('PodSandboxStatus', { pod_sandbox_id: id, verbose: false });
    if (r.status === null)
      throw new CriError('NOT_FOUND', 'PodSandboxStatus', undefined, `no status for ${id}`);
    return sandboxStatusFromWire(r.status);
  }

  async listPodSandbox(filter?: SandboxFilter): Promise<SandboxSummary[]> {
    const r = await this.rt('ListPodSandbox', { filter: sandboxFilterToWire(filter) });
    return r.items.map(sandboxFromWire);
  }

  async createContainer(
    sandboxId: SandboxId,
    config: ContainerConfig,
    sandbox: SandboxConfig,
  ): Promise<ContainerId> {
    const r = await this.rt('CreateContainer', {
      pod_sandbox_id: sandboxId,
      config: containerConfigToWire(config),
      sandbox_config: sandboxConfigToWire(sandbox),
    });
    return r.container_id as ContainerId;
  }

  async startContainer(id: ContainerId): Promise<void> {
    await this.rt('StartContainer', { container_id: id });
  }

  async stopContainer(id: ContainerId, timeoutSeconds: number): Promise<void> {
    // As kubelet: the grace period plus the request timeout, so a slow stop is not cut short.
    await this.rt(
      'StopContainer',
      { container_id: id, timeout: Math.max(0, Math.floor(timeoutSeconds)) },
      this.config.requestTimeoutMs + Math.max(0, timeoutSeconds) * 1000,
    );
  }

  async removeContainer(id: ContainerId): Promise<void> {
    await this.rt('RemoveContainer', { container_id: id });
  }

  async listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]> {
    const r = await this.rt('ListContainers', { filter: containerFilterToWire(filter) });
    return r.containers.map(containerFromWire);
  }

  async containerStatus(id: ContainerId): Promise<ContainerStatus> {
    const r = await this.rt('ContainerStatus', { container_id: id, verbose: false });
    if (r.status === null)
      throw new CriError('NOT_FOUND', 'ContainerStatus', undefined, `no status for ${id}`);
    return containerStatusFromWire(r.status);
  }

  async reopenContainerLog(id: ContainerId): Promise<void> {
    await this.rt('ReopenContainerLog', { container_id: id });
  }

  async execSync(id: ContainerId, cmd: readonly string[], timeoutSeconds: number): Promise<ExecSyncResult> {
    const t = Math.max(0, Math.floor(timeoutSeconds));
    const r = await this.rt(
      'ExecSync',
      { container_id: id, cmd: [...cmd], timeout: t },
      this.config.requestTimeoutMs + t * 1000,
    );
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exit_code };
  }

  async exec(id: ContainerId, o: ExecOptions): Promise<string> {
    const r = await this.rt('Exec', {
      container_id: id,
      cmd: [...o.cmd],
      tty: o.tty ?? false,
      stdin: o.stdin ?? false,
      stdout: o.stdout ?? true,
      // A TTY merges stderr into stdout; CRI rejects tty together with stderr.
      stderr: (o.stderr ?? true) && !(o.tty ?? false),
    });
    return r.url;
  }

  async attach(id: ContainerId, o: Omit<ExecOptions, 'cmd'>): Promise<string> {
    const r = await this.rt('Attach', {
      container_id: id,
      tty: o.tty ?? false,
      stdin: o.stdin ?? false,
      stdout: o.stdout ?? true,
      stderr: (o.stderr ?? true) && !(o.tty ?? false),
    });
    return r.url;
  }

  async portForward(sandboxId: SandboxId, ports: readonly number[]): Promise<string> {
    const r = await this.rt('PortForward', { pod_sandbox_id: sandboxId, port: [...ports] });
    return r.url;
  }

  async containerStats(id: ContainerId): Promise<ContainerStats | undefined> {
    const r = await this.rt('ContainerStats', { container_id: id });
    return r.stats === null ? undefined : statsFromWire(r.stats);
  }

  async listContainerStats(
    filter: { id?: ContainerId; sandboxId?: SandboxId; labels?: Labels } = {},
  ): Promise<ContainerStats[]> {
    const r = await this.rt('ListContainerStats', {
      filter: {
        id: filter.id ?? '',
        pod_sandbox_id: filter.sandboxId ?? '',
        label_selector: { ...filter.labels },
      },
    });
    return r.stats.map(statsFromWire);
  }

  // ---- ImageService

  async pullImage(image: string, auth?: PullAuth, sandbox?: SandboxConfig): Promise<string> {
    const r = await this.img(
      'PullImage',
      {
        image: { image },
        auth:
          auth === undefined
            ? null
            : {
                username: auth.username ?? '',
                password: auth.password ?? '',
                auth: auth.auth ?? '',
                server_address: auth.serverAddress ?? '',
                identity_token: auth.identityToken ?? '',
                registry_token: auth.registryToken ?? '',
              },
        sandbox_config: sandbox === undefined ? null : sandboxConfigToWire(sandbox),
      },
      this.config.pullTimeoutMs,
    );
    // Never log `auth`: it carries registry credentials.
    this.log.debug({ image, ref: r.image_ref }, 'image pulled');
    return r.image_ref;
  }

  async imageStatus(image: string): Promise<Image | undefined> {
    const r = await this.img('ImageStatus', { image: { image }, verbose: false });
    // CRI: a missing image is a nil `image`, not an error.
    return r.image === null || r.image.id === '' ? undefined : imageFromWire(r.image);
  }

  async listImages(image?: string): Promise<Image[]> {
    const r = await this.img('ListImages', { filter: image === undefined ? null : { image: { image } } });
    return r.images.map(imageFromWire);
  }

  async removeImage(image: string): Promise<void> {
    await this.img('RemoveImage', { image: { image } });
  }

  async imageFsInfo(): Promise<ImageFsInfo> {
    const r = await this.img('ImageFsInfo', {});
    return {
      imageFilesystems: r.image_filesystems.map(fsFromWire),
      containerFilesystems: r.container_filesystems.map(fsFromWire),
    };
  }
}
