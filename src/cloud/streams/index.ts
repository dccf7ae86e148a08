/**
 * Streams (issue 8): kubectl logs/exec/attach/port-forward into edge containers. The cloud core
 * serves a kubelet endpoint for the API server and relays each stream over the channel of the
 * pod's node (docs/streams.md).
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { z } from 'zod';
import { ConfigError, type Logger, type Registry } from '../../common/index.js';
import type { Envelope } from '../../protocol/index.js';
import type { EdgeSession, Hub, HubHandler } from '../hub/index.js';
import { StreamEndpoint } from './endpoint.js';
import { kubePodLocator, type PodLocator } from './locate.js';
import { IptablesRedirect } from './redirect.js';
import { StreamRelay } from './relay.js';

export {
  StreamEndpoint,
  StreamEndpointConfigSchema,
  logOptions,
  hostOnly,
  nodeProxyName,
  type NodeAddresses,
  type StreamEndpointConfig,
} from './endpoint.js';
export {
  StreamRelay,
  RelayStream,
  StreamOpenError,
  StreamLimitError,
  MAX_CHUNK,
  DEFAULT_WINDOW,
  type StreamSink,
} from './relay.js';
export { kubePodLocator, type PodLocator, type PodPlace, type LocateResult } from './locate.js';
export { IptablesRedirect, type RedirectConfig } from './redirect.js';
export { statusOf } from './remotecommand.js';

export const CloudStreamsConfigSchema = z.object({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(10353),
  tls: z.object({ certPem: z.string().min(1), keyPem: z.string().min(1), clientCaPem: z.string().min(1) }),
  /**
   * The port written into each edge Node's status.daemonEndpoints.kubeletEndpoint.Port (what an
   * upstream API server dials). Default: the endpoint's listening port.
   */
  advertisePort: z.number().int().min(1).max(65535).optional(),
  /** `iptables`: DNAT <edge address>:<advertised port> on this host to the endpoint (upstream API server here). */
  redirect: z.enum(['none', 'iptables']).default('none'),
  redirectChain: z.string().min(1).max(28).default('TETHER-STREAMS'),
  /** An open the edge must answer (stdin credit, a finite log) fails after this long in silence. */
  answerTimeoutMs: z.number().int().min(100).default(30_000),
  /** Streams open at once per edge node; more get 429 (the edge's own limit is 64 too). */
  maxPerNode: z.number().int().min(1).max(10_000).default(64),
  window: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
});
export type CloudStreamsConfig = z.input<typeof CloudStreamsConfigSchema>;

/** Relay + endpoint + (optional) redirect, as one component; `wrap` the hub handler with it. */
export class CloudStreams {
  readonly name = 'streams';
  readonly relay: StreamRelay;
  readonly endpoint: StreamEndpoint;
  private redirect: IptablesRedirect | undefined;
  private readonly cfg: z.output<typeof CloudStreamsConfigSchema>;
  private readonly pendingAddresses = new Set<string>();
  /** address → node, from the Node statuses the edges write (metrics requests by Host). */
  private readonly addressNode = new Map<string, string>();

  constructor(
    config: CloudStreamsConfig,
    hub: Hub,
    kube: CoreV1Api | PodLocator,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const parsed = CloudStreamsConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid streams configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.relay = new StreamRelay(hub, log.child({ part: 'relay' }), registry, {
      window: this.cfg.window,
      answerTimeoutMs: this.cfg.answerTimeoutMs,
      maxPerNode: this.cfg.maxPerNode,
    });
    hub.setStreamHandler(this.relay);
    const locator = 'locate' in kube ? kube : kubePodLocator(kube);
    this.endpoint = new StreamEndpoint(
      { host: this.cfg.host, port: this.cfg.port, tls: this.cfg.tls },
      this.relay,
      locator,
      log.child({ part: 'endpoint' }),
      registry,
      { byAddress: (a) => this.addressNode.get(a) },
    );
  }

  /** The port edge Nodes advertise as their kubelet port. */
  get advertisedPort(): number {
    return this.cfg.advertisePort ?? this.endpoint.port;
  }

  async start(): Promise<void> {
    await this.endpoint.start();
    if (this.cfg.redirect === 'iptables') {
      const host = ['0.0.0.0', '::', ''].includes(this.cfg.host) ? '127.0.0.1' : this.cfg.host;
      const r = new IptablesRedirect(
        {
          chain: this.cfg.redirectChain,
          port: this.advertisedPort,
          toHost: host,
          toPort: this.endpoint.port,
        },
        this.log.child({ part: 'redirect' }),
      );
      for (const a of this.pendingAddresses) r.add(a);
      await r.start();
      this.redirect = r;
    }
  }

  async stop(): Promise<void> {
    this.relay.stop();
    await this.endpoint.stop();
    await this.redirect?.stop();
    this.redirect = undefined;
  }

  /** Waits until redirect rules for the addresses seen so far are installed (tests). */
  async redirectSettled(): Promise<void> {
    await this.redirect?.settled();
  }

  /**
   * The cloud owns where a node's kubelet endpoint is: the Node status an edge writes gets
   * daemonEndpoints.kubeletEndpoint.Port = our endpoint, and its addresses feed the redirect.
   */
  wrap(inner: HubHandler): HubHandler {
    const rewrite = (s: EdgeSession, env: Envelope): Envelope => {
      if (env.kind !== 'status' || env.write.type !== 'nodeStatus') return env;
      const payload = env.write.payload;
      const status = (payload['status'] ?? {}) as Record<string, unknown>;
      const addrs = Array.isArray(status['addresses']) ? (status['addresses'] as unknown[]) : [];
      for (const a of addrs) {
        const address = (a as { address?: unknown }).address;
        if (typeof address !== 'string') continue;
        this.addressNode.set(address, s.node);
        if (this.redirect !== undefined) this.redirect.add(address);
        else this.pendingAddresses.add(address);
      }
      const de = (status['daemonEndpoints'] ?? {}) as Record<string, unknown>;
      return {
        ...env,
        write: {
          ...env.write,
          payload: {
            ...payload,
            status: {
              ...status,
              daemonEndpoints: { ...de, kubeletEndpoint: { Port: this.advertisedPort } },
            },
          },
        },
      };
    };
    const wrapped: HubHandler = {
      sessionOpened: (s: EdgeSession, hello) => {
        inner.sessionOpened(s, hello);
      },
      message: (s, env) => {
        inner.message(s, rewrite(s, env));
      },
      sessionClosed: (s, reason) => {
        inner.sessionClosed(s, reason);
      },
    };
    if (inner.admit !== undefined) {
      const admit = inner.admit.bind(inner);
      wrapped.admit = (node, cert) => admit(node, cert);
    }
    return wrapped;
  }
}
