import { constants } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { duplicateListener } from './listeners.js';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import {
  certInfoOf,
  ConfigError,
  errorMessage,
  type CertInfo,
  type Logger,
  type Registry,
} from '../../common/index.js';
import {
  decode,
  mayReceive,
  nodeName,
  PROTOCOL_VERSION,
  type Envelope,
  type Hello,
  type NodeName,
  type SessionSettings,
} from '../../protocol/index.js';
import { KeepaliveWheel } from './keepalive.js';
import { EdgeSession, type CloseReason, type SessionHooks } from './session.js';

export const HubConfigSchema = z.object({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(10350),
  tls: z.object({ certPem: z.string().min(1), keyPem: z.string().min(1), caPem: z.string().min(1) }),
  settings: z
    .object({
      windowSize: z.number().int().min(1).max(10_000).default(64),
      keepaliveMs: z.number().int().min(50).default(15_000),
      missedPongLimit: z.number().int().min(1).default(3),
      maxFrameBytes: z
        .number()
        .int()
        .min(1024)
        .default(4 * 1024 * 1024),
      inventoryChunk: z.number().int().min(1).default(1000),
    })
    .prefault({}),
  /** A session whose socket holds more than this many unsent bytes gets no new sync traffic. */
  maxBufferedBytes: z
    .number()
    .int()
    .min(1024)
    .default(8 * 1024 * 1024),
  /** How long an edge has to send `hello` after the TLS handshake. */
  helloTimeoutMs: z.number().int().min(10).default(10_000),
  /**
   * TLS handshakes in progress at most (the limit adapts below it to the delay of the cloud's event
   * loop: it starts at 64 and falls to 16 while callbacks wait > 500 ms). Connections beyond it
   * wait, unread, in the hub's admission queue (issue 12, reconnect
   * storm): a cloud that starts the handshakes of 10,000 reconnecting edges at once spends its CPU
   * on handshakes whose clients time out meanwhile, and none completes.
   */
  maxPendingHandshakes: z.number().int().min(1).default(256),
  /**
   * Connections held (TCP accepted, not yet read) waiting for a handshake slot. Beyond this a new
   * connection is closed at once (refused reason busy) and its edge backs off. Held instead of
   * closed because a closed edge backs off for up to 30 s (it cannot tell busy from down): in a
   * reconnect storm, closing them cost most edges several idle back-offs (issue 12).
   */
  maxQueuedConnections: z.number().int().min(0).default(4096),
  /**
   * A held connection whose handshake has not started within this long is closed (refused reason
   * busy): its edge gives up the whole connect after 30 s (link handshakeTimeoutMs, counted from
   * its SYN, which may have waited in the kernel's full accept queue), so starting TLS later would
   * be work for a client already gone.
   */
  queueWaitMs: z.number().int().min(1).default(20_000),
  /**
   * Listening handles on the hub's socket (src/cloud/hub/listeners.ts): libuv accepts one
   * connection per handle and event-loop iteration, and a busy cloud turns 10–100 iterations a
   * second — in a reconnect storm the kernel's accept queue sat full while the hub's own
   * admission queue was empty (issue 12).
   */
  acceptors: z.number().int().min(1).max(64).default(64),
  /** The kernel's accept queue (listen backlog; Linux caps it at net.core.somaxconn). */
  listenBacklog: z.number().int().min(1).default(4096),
  /** A TLS handshake not finished in this long is abandoned (Node's default is 120 s). */
  handshakeTimeoutMs: z.number().int().min(100).default(15_000),
  /**
   * Whether the cloud also sends keepalive pings. Edges always ping (and read the rtt and clock
   * skew from the pongs), so by default only they do: any frame from the edge is its sign of life.
   */
  cloudPings: z.boolean().default(false),
});
export type HubConfig = z.input<typeof HubConfigSchema>;

/** Upper layer of the hub: the sync controller, streams, devices. */
export interface HubHandler {
  /** Extra admission check (revoked certificates, deleted nodes): a string refuses with that reason. */
  admit?(node: NodeName, cert: CertInfo): string | undefined;
  sessionOpened(s: EdgeSession, hello: Hello): void;
  message(s: EdgeSession, env: Envelope): void;
  sessionClosed(s: EdgeSession, reason: CloseReason): void;
}

/** Stream frames (issue 8) go to this handler instead of the HubHandler. */
export interface StreamFrameHandler {
  frame(s: EdgeSession, env: Envelope): void;
  sessionClosed(s: EdgeSession): void;
}

/** Handshake limit: where it starts, its floor, and how often it follows the event loop's delay. */
const START_HANDSHAKES = 64;
const MIN_HANDSHAKES = 16;
const TUNE_MS = 250;
/** Event-loop delay (p99, ms) above which the limit falls, and below which it grows. */
const LAG_HIGH_MS = 500;
const LAG_LOW_MS = 200;

const STREAM_KINDS: ReadonlySet<string> = new Set(['streamData', 'streamWindow', 'streamClose']);

/** Serves the edge bootstrap (token + CSR → certificate) on the same port, without a client certificate. */
export interface BootstrapHandler {
  /** `source.remoteAddress` keys the failed-attempt rate limit (docs/security.md). */
  join(
    req: {
      token: string;
      csr: string;
      node: string;
    },
    source?: { remoteAddress?: string },
  ): Promise<
    { ok: true; certificate: string; caBundle: string } | { ok: false; status: number; message: string }
  >;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
export const EDGE_GROUP = 'tether:edges';

/**
 * The cloud hub (DESIGN §2): a TLS WebSocket server with one session per edge node. Identity
 * comes only from the verified client certificate (CN = node name, O = tether:edges); a second
 * connection of the same node replaces the first; bad frames are refused with a reason and
 * never take the hub down.
 */
export class Hub {
  readonly name = 'hub';
  private readonly cfg: z.output<typeof HubConfigSchema>;
  private server: Server | undefined;
  /** The listening socket: connections wait here (unread) for a handshake slot, then go to `server`. */
  private tcp: TcpServer | undefined;
  /**
   * Connections handed to the TLS server and not closed yet: stop() destroys them, or a handshake
   * in progress would hold server.close() until handshakeTimeoutMs.
   */
  private readonly admitted = new Set<Socket>();
  /** more listening handles on the same socket (acceptors − 1; listeners.ts) */
  private listeners: TcpServer[] = [];
  private readonly queue: { socket: Socket; at: number }[] = [];
  private queueHead = 0;
  private queueTimer: NodeJS.Timeout | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sessions = new Map<NodeName, EdgeSession>();
  /**
   * Upgraded, hello not yet seen: not in `sessions`, so stop() closes them from here. One left open
   * when stop() began said hello after it and became a session of a stopped hub, and the listening
   * socket's close() waited for as long as its edge kept pinging (test/cloud/hub-stop.test.ts).
   */
  private readonly ungreeted = new Set<EdgeSession>();
  private stopping = false;
  private readonly metrics;
  private handler: HubHandler | undefined;
  private streams: StreamFrameHandler | undefined;
  private readonly features = new Set<string>();
  /** TLS handshakes accepted and not finished (maxPendingHandshakes) */
  private handshakes = 0;
  /** handshakes allowed in progress now, tuned to the event loop's delay (see tune()) */
  private limitNow: number;
  /** the event loop's delay over the current tuning window (tune()) */
  private delay: IntervalHistogram | undefined;
  /** its p99 in ms, smoothed (tune()) */
  private lagMs = 0;
  private tuneTimer: NodeJS.Timeout | undefined;
  /** one keepalive timer for all sessions, and the live byte counters (issue 12) */
  private readonly hooks: SessionHooks;

  constructor(
    config: HubConfig,
    private readonly log: Logger,
    registry: Registry,
    private readonly bootstrap?: BootstrapHandler,
  ) {
    const parsed = HubConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid hub configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.limitNow = Math.min(START_HANDSHAKES, this.cfg.maxPendingHandshakes);
    const registers = [registry];
    this.metrics = {
      connected: new Gauge({
        name: 'tether_hub_connected_nodes',
        help: 'Edge nodes with an open session',
        registers,
        collect: () => {
          this.metrics.connected.set(this.sessions.size);
        },
      }),
      rejected: new Counter({
        name: 'tether_hub_rejected_frames_total',
        help: 'Frames refused by the hub, by reason',
        labelNames: ['reason'],
        registers,
      }),
      refused: new Counter({
        name: 'tether_hub_refused_connections_total',
        help: 'Connections refused before a session, by reason',
        labelNames: ['reason'],
        registers,
      }),
      bytesIn: new Counter({
        name: 'tether_hub_bytes_in_total',
        help: 'Bytes received from edges',
        registers,
      }),
      bytesOut: new Counter({
        name: 'tether_hub_bytes_out_total',
        help: 'Bytes sent to edges',
        registers,
      }),
      // issue 12, reconnect storm: what admission does second by second
      handshakes: new Counter({
        name: 'tether_hub_handshakes_total',
        help: 'TLS connections by outcome: accepted (TCP), shed (closed before TLS, busy), completed, failed (TLS error, reset, timeout)',
        labelNames: ['result'],
        registers,
      }),
      pending: new Gauge({
        name: 'tether_hub_pending_handshakes',
        help: 'TLS handshakes in progress',
        registers,
        collect: () => {
          this.metrics.pending.set(this.handshakes);
        },
      }),
      limit: new Gauge({
        name: 'tether_hub_handshake_limit',
        help: 'TLS handshakes allowed in progress now (adaptive, at most maxPendingHandshakes)',
        registers,
        collect: () => {
          this.metrics.limit.set(this.limitNow);
        },
      }),
      queued: new Gauge({
        name: 'tether_hub_queued_connections',
        help: 'Connections accepted and held unread, waiting for a handshake slot (admission queue)',
        registers,
        collect: () => {
          this.metrics.queued.set(this.queuedConnections);
        },
      }),
      listeners: new Gauge({
        name: 'tether_hub_listening_handles',
        help: 'Listening handles accepting on the hub socket (acceptors; fewer if the helper failed)',
        registers,
        collect: () => {
          this.metrics.listeners.set(this.tcp === undefined ? 0 : 1 + this.listeners.length);
        },
      }),
      ungreeted: new Gauge({
        name: 'tether_hub_ungreeted_sessions',
        help: 'WebSocket sessions open whose edge has not said hello yet',
        registers,
        collect: () => {
          this.metrics.ungreeted.set(this.ungreeted.size);
        },
      }),
      hellos: new Counter({
        name: 'tether_hub_sessions_opened_total',
        help: 'Sessions greeted (hello received, welcome sent)',
        registers,
      }),
    };
    const bytesOut = this.metrics.bytesOut;
    this.hooks = {
      keepalive: new KeepaliveWheel({
        intervalMs: this.cfg.settings.keepaliveMs,
        missedLimit: this.cfg.settings.missedPongLimit,
      }),
      // counted as sent, not at session close, so idle bytes per edge can be read from /metrics
      sent: (n) => {
        bytesOut.inc(n);
      },
    };
  }

  setHandler(h: HubHandler): void {
    this.handler = h;
  }

  /**
   * Announces a feature in every welcome from now on (protocol CLOUD_FEATURES): the component
   * that provides it says so here, whatever wraps the hub handler.
   */
  offer(feature: string): void {
    this.features.add(feature);
  }

  /** Routes streamData/streamWindow/streamClose to the stream relay (without one they are dropped). */
  setStreamHandler(h: StreamFrameHandler): void {
    this.streams = h;
  }

  get settings(): SessionSettings {
    return this.cfg.settings;
  }

  get maxBufferedBytes(): number {
    return this.cfg.maxBufferedBytes;
  }

  session(node: NodeName): EdgeSession | undefined {
    return this.sessions.get(node);
  }

  /** How many TLS handshakes may be in progress now (tests, metrics). */
  get handshakeLimit(): number {
    return this.limitNow;
  }

  /**
   * Tunes the handshake limit to the cloud's own load, every TUNE_MS (issue 12, reconnect storm):
   * cut by 30 % while the event loop's delay (p99 over the window, smoothed over ~0.5 s) is above
   * LAG_HIGH_MS, doubled up to maxPendingHandshakes while it is below LAG_LOW_MS. What the limit
   * protects is the edges' 30 s connect timeout: a handshake is a few turns of the loop, so a loop
   * whose callbacks wait long is where handshakes begin to time out and the CPU spent on them is
   * lost (ce2689e; 250 ms while edges gave up after 10 s, 500 ms since they wait 30 s). Not the
   * loop's utilisation, as before: it also counts the time the
   * process waits for a CPU inside a callback, so on a shared machine it read > 90 % while the
   * delay was ~75 ms and held the limit at its floor for 164 s of a 195 s, 10,000-edge storm; and
   * not the handshakes completed per second, as before that: slow clients drove that rate down.
   */
  private tune(): void {
    const h = this.delay;
    // no sample in the window: the sampler's own timer has not run yet (a blocked loop): keep the last
    if (h !== undefined && h.count > 0) {
      this.lagMs = 0.5 * this.lagMs + 0.5 * (h.percentile(99) / 1e6);
      h.reset();
    }
    const max = this.cfg.maxPendingHandshakes;
    if (this.lagMs > LAG_HIGH_MS)
      this.limitNow = Math.max(Math.min(MIN_HANDSHAKES, max), Math.floor(this.limitNow * 0.7));
    else if (this.lagMs < LAG_LOW_MS) this.limitNow = Math.min(max, this.limitNow * 2);
    this.admit();
  }

  /** Edges held for or in a TLS handshake now: the Lease renewer renews less often meanwhile. */
  get admitting(): boolean {
    return this.handshakes > 0 || this.queuedConnections > 0;
  }

  /** TLS handshakes in progress (tests, metrics). */
  get pendingHandshakes(): number {
    return this.handshakes;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Connections held for a handshake slot (tests, metrics). */
  get queuedConnections(): number {
    return this.queue.length - this.queueHead;
  }

  /** The bound address (port 0 in tests picks a free one). */
  get port(): number {
    const a = this.tcp?.address();
    return typeof a === 'object' && a !== null ? a.port : this.cfg.port;
  }

  async start(): Promise<void> {
    if (this.handler === undefined) throw new Error('hub started without a handler');
    this.stopping = false;
    const server = createServer({
      cert: this.cfg.tls.certPem,
      key: this.cfg.tls.keyPem,
      ca: this.cfg.tls.caPem,
      requestCert: true,
      // Verified below per request, so a refused edge gets a specific reason instead of a TLS alert.
      rejectUnauthorized: false,
      // No stateless TLS 1.3 session tickets (issue 12, memory per edge): each connection kept its
      // ticket state with the peer certificate, ~15 KB of OpenSSL memory per connected edge
      // (bench/tls-memory.ts: mTLS 57.6 → 42.0 KB per idle connection). Edges never resume a
      // session (every reconnect is a full handshake), so nothing is lost.
      secureOptions: constants.SSL_OP_NO_TICKET,
      handshakeTimeout: this.cfg.handshakeTimeoutMs,
    });
    // Every connection handed to `server` ends its handshake in exactly one of secureConnection
    // or tlsClientError (errors, resets, the handshake timeout).
    server.on('secureConnection', () => {
      this.handshakes--;
      this.metrics.handshakes.inc({ result: 'completed' });
      this.admit();
    });
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.cfg.settings.maxFrameBytes,
      // issue 12, memory per edge: no zlib context per connection (frames are small MessagePack,
      // and TLS is the expensive part anyway), and no second set of every socket beside `sessions`
      perMessageDeflate: false,
      clientTracking: false,
    });
    server.on('request', (req, res) => {
      void this.onRequest(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onUpgrade(req, socket, head, wss);
    });
    server.on('tlsClientError', (e) => {
      this.handshakes--;
      this.metrics.handshakes.inc({ result: 'failed' });
      this.metrics.refused.inc({ reason: 'tls' });
      this.log.debug({ err: errorMessage(e) }, 'TLS handshake failed');
      this.admit();
    });
    this.server = server;
    this.wss = wss;
    // pauseOnConnect: a held connection is not read (its ClientHello waits in the kernel) until
    // admit() hands it to the TLS server, so holding one costs a socket, not CPU.
    const tcp = createTcpServer({ pauseOnConnect: true }, (socket) => {
      this.held(socket);
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ port: this.cfg.port, host: this.cfg.host, backlog: this.cfg.listenBacklog }, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.tcp = tcp;
    this.listeners = await duplicateListener(
      tcp,
      this.cfg.acceptors - 1,
      (socket) => {
        this.held(socket);
      },
      this.log,
      this.cfg.listenBacklog,
    );
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    this.tuneTimer = setInterval(() => {
      this.tune();
    }, TUNE_MS);
    this.tuneTimer.unref();
    this.log.info({ port: this.port }, 'hub listening');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const tcp = this.tcp;
    this.tcp = undefined;
    const closed =
      tcp === undefined
        ? Promise.resolve()
        : new Promise<void>((r) =>
            tcp.close(() => {
              r();
            }),
          );
    const listeners = this.listeners;
    this.listeners = [];
    const extraClosed = listeners.map(
      (l) =>
        new Promise<void>((r) =>
          l.close(() => {
            r();
          }),
        ),
    );
    clearTimeout(this.queueTimer);
    clearInterval(this.tuneTimer);
    this.tuneTimer = undefined;
    this.delay?.disable();
    this.delay = undefined;
    this.queueTimer = undefined;
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i]?.socket.destroy();
    this.queue.length = 0;
    this.queueHead = 0;
    for (const s of [...this.sessions.values(), ...this.ungreeted])
      s.close('shutdown', 'cloud core shutting down');
    this.hooks.keepalive.stop();
    this.wss?.close();
    const server = this.server;
    this.server = undefined;
    for (const socket of this.admitted) socket.destroy();
    this.admitted.clear();
    if (server !== undefined) {
      server.closeAllConnections();
      // it never listened itself (connections come from `tcp`): close() only ends its bookkeeping
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
    }
    await Promise.all([closed, ...extraClosed]);
  }

  /** A TCP connection accepted (on any listening handle): held unread for admission. */
  private held(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.metrics.handshakes.inc({ result: 'accepted' });
    // a held socket is not read, but may still see an error; the TLS server handles it after
    socket.on('error', () => undefined);
    if (this.queuedConnections >= this.cfg.maxQueuedConnections && this.handshakes >= this.limitNow) {
      this.shed(socket);
      return;
    }
    this.queue.push({ socket, at: Date.now() });
    this.admit();
  }

  private shed(socket: Socket): void {
    this.metrics.handshakes.inc({ result: 'shed' });
    this.metrics.refused.inc({ reason: 'busy' });
    socket.destroy();
  }

  /**
   * Hands held connections to the TLS server, oldest first, while handshake slots are free;
   * closes those held longer than queueWaitMs (their edges are about to give up). Runs when a
   * connection arrives, when a handshake ends, and on a timer while connections are held.
   */
  private admit(): void {
    const server = this.server;
    if (server === undefined) return;
    const now = Date.now();
    const limit = this.limitNow;
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      if (next === undefined) break;
      const expired = now - next.at > this.cfg.queueWaitMs;
      if (!expired && this.handshakes >= limit) break;
      this.queueHead++;
      if (expired || next.socket.destroyed) {
        this.shed(next.socket);
        continue;
      }
      this.handshakes++;
      this.metrics.handshakes.inc({ result: 'started' });
      const socket = next.socket;
      this.admitted.add(socket);
      socket.once('close', () => this.admitted.delete(socket));
      server.emit('connection', socket);
    }
    // compact now and then instead of shift() per connection (O(n) each)
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    if (this.queuedConnections > 0 && this.queueTimer === undefined) {
      this.queueTimer = setTimeout(() => {
        this.queueTimer = undefined;
        this.admit();
      }, 100);
      this.queueTimer.unref();
    }
  }

  private refuse(socket: Duplex, status: number, reason: string, metric: string): void {
    this.metrics.refused.inc({ reason: metric });
    const body = `${reason}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Bad Request'}\r\n` +
        `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer): void {
    if (req.url !== '/v1/connect') {
      this.refuse(socket, 400, `unknown path ${req.url ?? ''}; edges connect to /v1/connect`, 'path');
      return;
    }
    // An https server's upgrade socket is its TLSSocket (node:https); the type says Duplex.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    const tls = socket as TLSSocket;
    const peer = tls.getPeerX509Certificate();
    if (peer === undefined) {
      this.refuse(socket, 401, 'no client certificate: join the cloud first (tether edge join)', 'no-cert');
      return;
    }
    if (!tls.authorized) {
      const why = String(tls.authorizationError);
      const reason =
        why === 'CERT_HAS_EXPIRED'
          ? 'client certificate has expired: rejoin with a new token (tether edge join)'
          : `client certificate not accepted: ${why}`;
      this.refuse(socket, 401, reason, why === 'CERT_HAS_EXPIRED' ? 'expired' : 'untrusted');
      return;
    }
    const info = certInfoOf(peer);
    if (!info.organizations.includes(EDGE_GROUP) || !NODE_NAME.test(info.commonName)) {
      this.refuse(socket, 403, `certificate ${info.commonName} is not an edge node certificate`, 'not-edge');
      return;
    }
    const node = nodeName(info.commonName);
    const denied = this.handler?.admit?.(node, info);
    if (denied !== undefined) {
      this.refuse(socket, 403, denied, 'denied');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      this.accept(node, ws);
    });
  }

  private accept(node: NodeName, ws: WebSocket): void {
    const handler = this.handler;
    if (handler === undefined) return;
    if (this.stopping) {
      ws.terminate();
      return;
    }
    const log = this.log.child({ node });
    const s = new EdgeSession(
      node,
      ws,
      this.cfg.settings,
      log,
      (sess, reason) => {
        this.ungreeted.delete(sess);
        if (this.sessions.get(node) === sess) this.sessions.delete(node);
        log.info({ reason, session: sess.id }, 'edge session closed');
        if (sess.greeted) handler.sessionClosed(sess, reason);
        // Contract §10: a link drop ends every stream of that session.
        this.streams?.sessionClosed(sess);
      },
      this.hooks,
    );
    this.ungreeted.add(s);
    let greeted = false;
    const helloTimer = setTimeout(() => {
      s.close('protocol', `no hello within ${this.cfg.helloTimeoutMs} ms`);
    }, this.cfg.helloTimeoutMs);
    helloTimer.unref();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      s.sawTraffic(data.byteLength);
      this.metrics.bytesIn.inc(data.byteLength);
      if (!isBinary) {
        this.reject(
          s,
          'MALFORMED',
          'text frames are not part of the protocol; send binary MessagePack frames',
        );
        return;
      }
      const r = decode(data, { maxFrameBytes: this.cfg.settings.maxFrameBytes });
      if (!r.ok) {
        this.reject(s, r.error.code, r.error.message);
        return;
      }
      const env = r.value;
      if (!greeted) {
        // closed by stop() (or a timeout) while this frame was on its way: never a session
        if (!s.isOpen) return;
        if (env.kind !== 'hello') {
          this.reject(s, 'UNEXPECTED', `the first frame must be hello, got ${env.kind}`);
          s.close('protocol', 'first frame must be hello');
          return;
        }
        if (!env.protocols.includes(PROTOCOL_VERSION)) {
          s.close(
            'protocol',
            `no common protocol version (edge speaks ${env.protocols.join(',')}, cloud ${PROTOCOL_VERSION})`,
          );
          return;
        }
        clearTimeout(helloTimer);
        greeted = true;
        this.ungreeted.delete(s);
        const previous = this.sessions.get(node);
        this.sessions.set(node, s);
        previous?.close('replaced', 'replaced by a newer connection of the same node');
        s.markGreeted();
        this.metrics.hellos.inc();
        s.send({
          kind: 'welcome',
          session: s.id,
          protocol: PROTOCOL_VERSION,
          node,
          serverTime: Date.now(),
          settings: this.cfg.settings,
          ...(this.features.size === 0 ? {} : { features: [...this.features] }),
        });
        s.startKeepalive(this.cfg.cloudPings);
        log.info(
          { session: s.id, agent: env.agentVersion, replaced: previous !== undefined },
          'edge session opened',
        );
        handler.sessionOpened(s, env);
        return;
      }
      switch (env.kind) {
        case 'ping':
          s.send({ kind: 'pong', ref: env.id, echo: env.ts });
          return;
        case 'pong':
          return;
        case 'hello':
          this.reject(s, 'UNEXPECTED', 'hello was already received on this session');
          return;
        default:
          if (!mayReceive('cloud', env.kind)) {
            this.reject(s, 'UNEXPECTED', `the cloud does not accept ${env.kind} messages`, env.id);
            return;
          }
          try {
            if (STREAM_KINDS.has(env.kind)) {
              if (this.streams === undefined) this.metrics.rejected.inc({ reason: 'NO_STREAMS' });
              else this.streams.frame(s, env);
              return;
            }
            handler.message(s, env);
          } catch (e) {
            // A bug in a handler must not take down the session of every other node.
            log.error({ err: errorMessage(e), kind: env.kind }, 'handler failed on a message');
          }
      }
    });
    ws.on('error', (e) => {
      log.warn({ err: errorMessage(e) }, 'edge socket error');
    });
  }

  private reject(s: EdgeSession, code: string, message: string, ref?: string): void {
    this.metrics.rejected.inc({ reason: code });
    this.log.warn({ node: s.node, code, message }, 'refused a frame');
    s.send({
      kind: 'nack',
      of: 'message',
      reason: code === 'UNEXPECTED' ? 'UNSUPPORTED' : 'INVALID',
      message: `${code}: ${message}`,
      retryable: false,
      ...(ref === undefined ? {} : { ref: ref as Envelope['id'] }),
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    try {
      if (req.method === 'GET' && req.url === '/healthz') {
        send(200, { status: 'ok', sessions: this.sessions.size });
        return;
      }
      if (req.method === 'POST' && req.url === '/v1/bootstrap') {
        if (this.bootstrap === undefined) {
          send(404, { message: 'this cloud core does not accept joins' });
          return;
        }
        const body = await readJson(req, 64 * 1024);
        if (!body.ok) {
          send(400, { message: body.message });
          return;
        }
        const parsed = BootstrapRequest.safeParse(body.value);
        if (!parsed.success) {
          send(400, {
            message: `invalid join request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          });
          return;
        }
        const remoteAddress = req.socket.remoteAddress;
        const r = await this.bootstrap.join(
          parsed.data,
          remoteAddress === undefined ? {} : { remoteAddress },
        );
        if (r.ok) send(200, { certificate: r.certificate, caBundle: r.caBundle });
        else send(r.status, { message: r.message });
        return;
      }
      send(404, { message: `no route for ${req.method ?? ''} ${req.url ?? ''}` });
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'hub request failed');
      send(500, { message: 'internal error' });
    }
  }
}

const BootstrapRequest = z.object({
  token: z.string().min(1).max(256),
  csr: z
    .string()
    .min(1)
    .max(16 * 1024),
  node: z.string().regex(NODE_NAME, 'must be a DNS-1123 subdomain (lower case letters, digits, - and .)'),
});

async function readJson(
  req: IncomingMessage,
  limit: number,
): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.byteLength;
    if (size > limit) return { ok: false, message: `request body larger than ${limit} bytes` };
    chunks.push(c);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (e) {
    return { ok: false, message: `request body is not JSON: ${errorMessage(e)}` };
  }
}
