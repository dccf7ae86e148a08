import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createSecureContext, type SecureContext } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import { Counter, Gauge, Histogram } from 'prom-client';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import {
  Backoff,
  ConfigError,
  errorMessage,
  Heartbeat,
  type Logger,
  type Registry,
} from '../../common/index.js';
import {
  decode,
  encode,
  mayReceive,
  messageId,
  PROTOCOL_VERSION,
  type Body,
  type Envelope,
  type InventoryItem,
  type MessageId,
  type NodeName,
  type ObjectKey,
  type SessionSettings,
  type StatusWrite,
  type SyncBody,
  type Uid,
} from '../../protocol/index.js';

const buildLinkConfigSchema = () =>
  z.object({
    /** e.g. wss://cloud.example.com:10350 */
    cloudUrl: z.string().regex(/^wss:\/\//, 'must be a wss:// URL (the link is always TLS)'),
    tls: z.object({ certPem: z.string().min(1), keyPem: z.string().min(1), caPem: z.string().min(1) }),
    agentVersion: z.string().default('0.1.0'),
    reconnect: z
      .object({
        initialMs: z.number().int().min(1).default(500),
        maxMs: z.number().int().min(1).default(30_000),
        /**
         * While the cloud refuses connections (its port is closed: a cloud core restarting),
         * retry within this bound instead of the exponential back-off — for the first
         * `refusedWindowMs` of the outage only. A refusal costs the cloud nothing (its kernel
         * answers), and a restart is usually back within seconds: in a 5,000-edge restart the
         * full-jitter back-off had edges sleeping up to 16 s after the cloud listened (issue 12).
         */
        refusedRetryMaxMs: z.number().int().min(1).default(3000),
        refusedWindowMs: z.number().int().min(0).default(60_000),
      })
      .prefault({}),
    /** Upstream writes sent and not yet acked. */
    outboxWindow: z.number().int().min(1).max(10_000).default(32),
    /** Resend an unacked upstream write after this long. */
    statusAckTimeoutMs: z.number().int().min(10).default(15_000),
    /** How often the outbox is checked for new writes (writers also kick it). */
    outboxPollMs: z.number().int().min(10).default(250),
    /**
     * The whole connect — TCP, TLS, hello → welcome — must finish within this. 30 s like
     * client-go's dial timeout and KubeEdge's edgehub: in a reconnect storm the cloud's accept queue
     * is full and SYNs are retransmitted at 1, 3, 7, 15 s; at 10 s nearly half the handshakes the
     * hub started were for edges that then gave up, and went back into a back-off (issue 12).
     */
    handshakeTimeoutMs: z.number().int().min(10).default(30_000),
  });
export const LinkConfigSchema = lazySchema(buildLinkConfigSchema);
export type LinkConfig = z.input<typeof LinkConfigSchema>;

/** The part of the edge store the link needs (STYLE §7: narrow seams). */
export interface LinkStore {
  applySync(msg: SyncBody): 'applied' | 'duplicate' | 'absent';
  inventory(): InventoryItem[];
  pending(
    limit: number,
    exclude: ReadonlySet<string>,
  ): { id: MessageId; key: ObjectKey; uid?: Uid; write: StatusWrite }[];
  settle(id: MessageId): boolean;
}

/** Messages the link does not handle itself (queries, streams) go to this handler. */
export interface LinkHandler {
  message(env: Envelope, link: Link): void;
}

export type LinkState = 'idle' | 'connecting' | 'online' | 'backoff' | 'stopped';

export interface LinkEvents {
  online: [{ node: NodeName; session: string; settings: SessionSettings; features: readonly string[] }];
  offline: [{ reason: string }];
  /** The cloud refused the connection (HTTP status and its reason), e.g. an expired certificate. */
  refused: [{ status: number; reason: string }];
  rtt: [{ rttMs: number; skewMs: number }];
  applied: [{ msg: SyncBody; outcome: 'applied' | 'duplicate' | 'absent' }];
}

/**
 * The edge end of the channel (DESIGN §2): one outbound TLS WebSocket, reconnected with capped,
 * jittered back-off; inventory on every (re)connect; downstream changes acked only after the
 * store committed them; the outbox drained within a window and removed only on the cloud's ack.
 */
export class Link extends EventEmitter<LinkEvents> {
  readonly name = 'link';
  private readonly cfg: z.output<typeof LinkConfigSchema>;
  private ws: WebSocket | undefined;
  private stateValue: LinkState = 'idle';
  private readonly backoff: Backoff;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeat: Heartbeat | undefined;
  private settings: SessionSettings | undefined;
  private features: readonly string[] = [];
  /** outbox ids sent on this connection → when */
  private readonly inflight = new Map<string, number>();
  private handler: LinkHandler | undefined;
  private tls: { certPem: string; keyPem: string; caPem: string };
  private secureContext: SecureContext | undefined;
  private stopping = false;
  private lastRtt: { rttMs: number; skewMs: number } | undefined;
  /** when the current run of failed attempts began (refusedWindowMs), and how the last one failed */
  private failingSince: number | undefined;
  private lastFailure: 'refused' | 'other' = 'other';
  readonly counters = {
    applied: 0,
    duplicates: 0,
    acksSent: 0,
    statusAcked: 0,
    statusRejected: 0,
    connects: 0,
    /** connection attempts, and the failed ones by what the edge saw (issue 12, reconnect storm) */
    attempts: 0,
    refused: 0,
    resets: 0,
    timeouts: 0,
  };
  private readonly metrics;

  constructor(
    config: LinkConfig,
    private readonly store: LinkStore,
    private readonly log: Logger,
    registry: Registry,
  ) {
    super();
    const parsed = LinkConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid link configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.tls = this.cfg.tls;
    this.backoff = new Backoff({ initialMs: this.cfg.reconnect.initialMs, maxMs: this.cfg.reconnect.maxMs });
    const registers = [registry];
    this.metrics = {
      online: new Gauge({
        name: 'tether_edge_link_online',
        help: '1 while the link to the cloud is up',
        registers,
      }),
      connects: new Counter({
        name: 'tether_edge_link_connects_total',
        help: 'Successful connections',
        registers,
      }),
      rtt: new Histogram({
        name: 'tether_edge_link_rtt_seconds',
        help: 'Round-trip time of keepalive pings',
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers,
      }),
      rejected: new Counter({
        name: 'tether_edge_link_rejected_frames_total',
        help: 'Frames from the cloud refused by the edge, by reason',
        labelNames: ['reason'],
        registers,
      }),
    };
  }

  /**
   * New client credentials (a rotated certificate, issue 5), used from the next connect on: the
   * live connection stays up, since its certificate was valid when the handshake proved it.
   */
  setTls(creds: { certPem: string; keyPem: string; caPem: string }): void {
    this.tls = { certPem: creds.certPem, keyPem: creds.keyPem, caPem: creds.caPem };
    this.secureContext = undefined;
  }

  setHandler(h: LinkHandler): void {
    this.handler = h;
  }

  get state(): LinkState {
    return this.stateValue;
  }
  get rtt(): { rttMs: number; skewMs: number } | undefined {
    return this.lastRtt;
  }
  /** The feature flags of the cloud's last welcome (protocol CLOUD_FEATURES); [] before the first. */
  get cloudFeatures(): readonly string[] {
    return this.features;
  }

  start(): Promise<void> {
    this.stopping = false;
    this.connect();
    this.pollTimer = setInterval(() => {
      this.pump();
    }, this.cfg.outboxPollMs);
    this.pollTimer.unref();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stateValue = 'stopped';
    clearTimeout(this.retryTimer);
    clearInterval(this.pollTimer);
    this.heartbeat?.stop();
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => {
          resolve();
        });
        // a socket still in its TLS handshake is destroyed, not closed: close() would wait on a
        // peer that may never answer and leave the TCP socket open
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1001, 'edge stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    this.metrics.online.set(0);
  }

  /** New writes are in the outbox: send them now rather than at the next poll. */
  kick(): void {
    setImmediate(() => {
      this.pump();
    });
  }

  /** Sends a message if online (streams, query replies); false otherwise. */
  send(body: Body, id: MessageId = messageId(randomUUID())): boolean {
    const ws = this.ws;
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(encode({ v: PROTOCOL_VERSION, id, ts: Date.now(), ...body }));
    return true;
  }

  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  /** Drops the connection as a cut link would (for tests and `tether edge reconnect`). */
  dropConnection(): void {
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.stopping) return;
    this.stateValue = 'connecting';
    this.counters.attempts++;
    const url = `${this.cfg.cloudUrl.replace(/\/$/, '')}/v1/connect`;
    // One parsed context per set of credentials, not per attempt (issue 12, reconnect storm):
    // parsing the PEM key, certificate and CA cost 2–6 ms of CPU per connection attempt, more
    // than the handshake's own crypto, and a storm is many attempts. ws hands its options to
    // tls.connect, which takes `secureContext`; its type does not list it.
    const options: ClientOptions & { secureContext: SecureContext } = {
      secureContext: (this.secureContext ??= createSecureContext({
        cert: this.tls.certPem,
        key: this.tls.keyPem,
        ca: this.tls.caPem,
      })),
      handshakeTimeout: this.cfg.handshakeTimeoutMs,
      maxPayload: 64 * 1024 * 1024,
    };
    const ws = new WebSocket(url, options);
    this.ws = ws;
    let welcomed = false;
    const welcomeTimer = setTimeout(() => {
      if (welcomed) return;
      // an opening handshake that timed out is counted by its error below
      if (ws.readyState === WebSocket.OPEN) this.counters.timeouts++;
      ws.terminate();
    }, this.cfg.handshakeTimeoutMs);
    welcomeTimer.unref();
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const reason = body.trim() || `HTTP ${res.statusCode ?? 0}`;
        this.log.error({ status: res.statusCode, reason }, 'the cloud refused the connection');
        this.emit('refused', { status: res.statusCode ?? 0, reason });
        ws.terminate();
      });
    });
    ws.on('open', () => {
      this.send({ kind: 'hello', agentVersion: this.cfg.agentVersion, protocols: [PROTOCOL_VERSION] });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.heartbeat?.alive();
      if (!isBinary) {
        this.metrics.rejected.inc({ reason: 'MALFORMED' });
        return;
      }
      const r = decode(data, { maxFrameBytes: 64 * 1024 * 1024 });
      if (!r.ok) {
        this.metrics.rejected.inc({ reason: r.error.code });
        this.log.warn({ code: r.error.code, err: r.error.message }, 'refused a frame from the cloud');
        this.send({
          kind: 'nack',
          of: 'message',
          reason: 'INVALID',
          message: `${r.error.code}: ${r.error.message}`,
          retryable: false,
        });
        return;
      }
      const env = r.value;
      if (!welcomed) {
        if (env.kind !== 'welcome') {
          this.log.warn({ kind: env.kind }, 'expected welcome first; ignoring');
          return;
        }
        welcomed = true;
        clearTimeout(welcomeTimer);
        this.onWelcome(env);
        return;
      }
      try {
        this.dispatch(env);
      } catch (e) {
        this.log.error({ err: errorMessage(e), kind: env.kind }, 'failed to handle a message');
      }
    });
    ws.on('error', (e) => {
      const code = (e as { code?: unknown }).code;
      this.lastFailure = code === 'ECONNREFUSED' ? 'refused' : 'other';
      if (code === 'ECONNREFUSED') this.counters.refused++;
      else if (code === 'ECONNRESET' || code === 'EPIPE') this.counters.resets++;
      else if (e.message.includes('timed out')) this.counters.timeouts++;
      this.log.debug({ err: errorMessage(e) }, 'link socket error');
    });
    ws.on('close', (code, reason) => {
      clearTimeout(welcomeTimer);
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.heartbeat?.stop();
      this.inflight.clear();
      const wasOnline = this.stateValue === 'online';
      this.metrics.online.set(0);
      const why = `${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`;
      if (wasOnline) {
        this.log.warn({ reason: why }, 'link to the cloud lost');
        this.emit('offline', { reason: why });
      }
      if (this.stopping) return;
      this.stateValue = 'backoff';
      const delay = this.retryDelay();
      this.lastFailure = 'other';
      this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnecting');
      this.retryTimer = setTimeout(() => {
        this.connect();
      }, delay);
      this.retryTimer.unref();
    });
  }

  /**
   * The next reconnect delay: the exponential back-off, except early in an outage where the cloud
   * refuses (not listening: restarting), which is retried within refusedRetryMaxMs. Overload
   * (a connection closed by the hub's admission, a handshake timeout) still backs off.
   */
  private retryDelay(): number {
    const now = Date.now();
    this.failingSince ??= now;
    const { refusedRetryMaxMs, refusedWindowMs } = this.cfg.reconnect;
    if (this.lastFailure !== 'refused' || now - this.failingSince >= refusedWindowMs)
      return this.backoff.next();
    // Refusals do not escalate the back-off: an edge the restarted cloud then turns away (its
    // admission queue full) backs off from 0.5 s, not from the 30 s cap that a run of refusals
    // would have reached — which is what left a restart's last edges asleep long after the rest.
    return Math.round(refusedRetryMaxMs * (0.1 + 0.9 * Math.random()));
  }

  private onWelcome(env: Envelope<'welcome'>): void {
    this.settings = env.settings;
    this.features = env.features ?? [];
    this.stateValue = 'online';
    this.backoff.reset();
    this.failingSince = undefined;
    this.counters.connects++;
    this.metrics.connects.inc();
    this.metrics.online.set(1);
    this.sendInventory(env.settings.inventoryChunk);
    this.heartbeat = new Heartbeat({
      intervalMs: env.settings.keepaliveMs,
      missedLimit: env.settings.missedPongLimit,
      ping: () => this.send({ kind: 'ping' }),
      dead: (missed) => {
        this.log.warn({ missed }, 'cloud missed keepalives; reconnecting');
        this.ws?.terminate();
      },
    });
    this.heartbeat.start();
    this.log.info({ session: env.session, node: env.node }, 'link online');
    this.emit('online', {
      node: env.node,
      session: env.session,
      settings: env.settings,
      features: this.features,
    });
    this.pump();
  }

  /** DESIGN §2: on every (re)connect the edge reports everything it holds. */
  private sendInventory(chunkSize: number): void {
    const items = this.store.inventory();
    for (let chunk = 0, i = 0; chunk === 0 || i < items.length; chunk++, i += chunkSize) {
      const part = items.slice(i, i + chunkSize);
      this.send({ kind: 'inventory', chunk, last: i + chunkSize >= items.length, items: part });
    }
  }

  private dispatch(env: Envelope): void {
    if (!mayReceive('edge', env.kind)) {
      this.metrics.rejected.inc({ reason: 'UNEXPECTED' });
      this.send({
        kind: 'nack',
        of: 'message',
        ref: env.id,
        reason: 'UNSUPPORTED',
        message: `the edge does not accept ${env.kind}`,
        retryable: false,
      });
      return;
    }
    switch (env.kind) {
      case 'sync':
        this.onSync(env);
        return;
      case 'ack':
        if (env.of === 'status') {
          this.inflight.delete(env.ref);
          if (this.store.settle(env.ref)) this.counters.statusAcked++;
          this.pump();
        }
        return;
      case 'nack':
        if (env.of === 'status') {
          this.inflight.delete(env.ref);
          if (!env.retryable) {
            // Kubernetes refused it for good (e.g. the pod is gone): keeping it would block nothing
            // but would be retried forever, so it leaves the outbox — logged and counted.
            this.store.settle(env.ref);
            this.counters.statusRejected++;
            this.log.warn(
              { ref: env.ref, reason: env.reason, message: env.message },
              'the cloud refused an upstream write',
            );
          }
        } else {
          this.log.warn(
            { of: env.of, reason: env.reason, message: env.message },
            'the cloud refused a message',
          );
        }
        return;
      case 'ping':
        this.send({ kind: 'pong', ref: env.id, echo: env.ts });
        return;
      case 'pong': {
        const now = Date.now();
        const rttMs = now - env.echo;
        const skewMs = env.ts - (env.echo + rttMs / 2);
        this.lastRtt = { rttMs, skewMs };
        this.metrics.rtt.observe(rttMs / 1000);
        this.emit('rtt', this.lastRtt);
        return;
      }
      case 'query':
        if (env.method === 'resync') {
          this.send({ kind: 'reply', ref: env.id, method: 'resync', result: { accepted: true } });
          this.sendInventory(this.settings?.inventoryChunk ?? 1000);
          return;
        }
        this.forward(env);
        return;
      case 'welcome':
        return;
      default:
        this.forward(env);
    }
  }

  private forward(env: Envelope): void {
    if (this.handler === undefined) {
      if (env.kind === 'query')
        this.send({
          kind: 'reply',
          ref: env.id,
          method: 'error',
          code: 'UNSUPPORTED',
          message: `no handler for ${env.method}`,
        });
      return;
    }
    this.handler.message(env, this);
  }

  /** DESIGN §2: ack only after the change is durable in the edge store. */
  private onSync(msg: Envelope<'sync'>): void {
    let outcome: 'applied' | 'duplicate' | 'absent';
    try {
      outcome = this.store.applySync(msg);
    } catch (e) {
      this.log.error(
        { err: errorMessage(e), seq: msg.seq },
        'could not store a change; the cloud will retry',
      );
      this.send({
        kind: 'nack',
        of: 'sync',
        seq: msg.seq,
        reason: 'STORE_FAILED',
        message: errorMessage(e),
        retryable: true,
      });
      return;
    }
    if (outcome === 'duplicate') this.counters.duplicates++;
    else this.counters.applied++;
    this.send({ kind: 'ack', of: 'sync', seq: msg.seq });
    this.counters.acksSent++;
    this.emit('applied', { msg, outcome });
  }

  /** Sends outbox items within the window; resends those unacked for too long. */
  private pump(): void {
    if (this.stateValue !== 'online') return;
    const now = Date.now();
    for (const [id, at] of this.inflight)
      if (now - at > this.cfg.statusAckTimeoutMs) this.inflight.delete(id);
    const room = this.cfg.outboxWindow - this.inflight.size;
    if (room <= 0) return;
    for (const item of this.store.pending(room, new Set(this.inflight.keys()))) {
      const sent = this.send(
        {
          kind: 'status',
          key: item.key,
          ...(item.uid === undefined ? {} : { uid: item.uid }),
          write: item.write,
        },
        item.id,
      );
      if (!sent) return;
      this.inflight.set(item.id, now);
    }
  }
}
