/**
 * The kubelet endpoint of the cloud core (issue 8): what kube-apiserver dials for pods/log,
 * exec, attach and portforward of pods on edge nodes. It authenticates the API server by its
 * kubelet client certificate, finds the pod's node through Kubernetes and relays over that
 * node's channel. Edge certificates are never accepted here.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { certInfo, ConfigError, errorMessage, type Logger, type Registry } from '../../common/index.js';
import {
  METRICS_PATHS,
  nodeName,
  uid as toUid,
  type LogsOptions,
  type MetricsPath,
  type StreamTarget,
} from '../../protocol/index.js';
import type { PodLocator } from './locate.js';
import { StreamLimitError, type StreamRelay } from './relay.js';
import {
  SPDY_EXEC_PROTOCOLS,
  SPDY_PORTFORWARD_PROTOCOL,
  spdyExec,
  spdyPortForward,
  WS_PORTFORWARD_TUNNEL,
  WS_PROTOCOLS,
  wsExec,
  wsPortForward,
  type ExecParams,
} from './remotecommand.js';

export const StreamEndpointConfigSchema = z.object({
  host: z.string().default('0.0.0.0'),
  /** 10250 is the kubelet's; the cloud's default keeps clear of a kubelet on the same host. */
  port: z.number().int().min(0).max(65535).default(10353),
  tls: z.object({
    certPem: z.string().min(1),
    keyPem: z.string().min(1),
    /** CA(s) of the API server's kubelet client certificate (--kubelet-client-certificate). */
    clientCaPem: z.string().min(1),
  }),
  /** Certificates with one of these organisations are refused (edges must never open streams). */
  refuseGroups: z.array(z.string()).default(['tether:edges']),
  /** How long a logs response waits for the edge's first frame before sending headers. */
  headerWaitMs: z.number().int().min(0).default(1000),
});
export type StreamEndpointConfig = z.input<typeof StreamEndpointConfigSchema>;

/** What kube-apiserver's nodes/proxy puts in X-Forwarded-Uri: the node part of its path. */
const NODE_PROXY = /^\/api\/v1\/nodes\/([^/]+)\/proxy(?:\/|$)/;

/** `[scheme:]name[:port]` (apimachinery net.SplitSchemeNamePort) → name. */
export function nodeProxyName(id: string): string {
  const parts = id.split(':');
  switch (parts.length) {
    case 1:
      return parts[0] ?? '';
    case 2:
      return parts[0] ?? '';
    case 3:
      return parts[1] ?? '';
    default:
      return '';
  }
}

/** The host of a Host header: `1.2.3.4:10250` → `1.2.3.4`, `[::1]:10250` → `::1`. */
export function hostOnly(h: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
  if (v6?.[1] !== undefined) return v6[1];
  const i = h.lastIndexOf(':');
  return i >= 0 && h.indexOf(':') === i ? h.slice(0, i) : h;
}

/** Which node has an address (learnt from the Node statuses the edges write). */
export interface NodeAddresses {
  byAddress(address: string): string | undefined;
}

const ROUTE = /^\/(containerLogs|exec|attach|portForward)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/;

const truthy = (v: string | null): boolean => v !== null && ['1', 'true', 'True', 'TRUE'].includes(v);

function intParam(q: URLSearchParams, k: string): number | undefined | 'bad' {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : 'bad';
}

export class StreamEndpoint {
  readonly name = 'stream-endpoint';
  private readonly cfg: z.output<typeof StreamEndpointConfigSchema>;
  private server: Server | undefined;
  private readonly wss: WebSocketServer;
  private readonly metrics;

  constructor(
    config: StreamEndpointConfig,
    private readonly relay: StreamRelay,
    private readonly locator: PodLocator,
    private readonly log: Logger,
    registry: Registry,
    private readonly nodes?: NodeAddresses,
  ) {
    const parsed = StreamEndpointConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid stream endpoint configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered: Set<string>) => {
        for (const p of [WS_PORTFORWARD_TUNNEL, ...WS_PROTOCOLS]) if (offered.has(p)) return p;
        return false;
      },
    });
    this.metrics = {
      requests: new Counter({
        name: 'tether_stream_endpoint_requests_total',
        help: 'Requests to the kubelet endpoint, by kind and outcome',
        labelNames: ['kind', 'outcome'],
        registers: [registry],
      }),
    };
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : this.cfg.port;
  }

  async start(): Promise<void> {
    const server = createServer({
      cert: this.cfg.tls.certPem,
      key: this.cfg.tls.keyPem,
      ca: this.cfg.tls.clientCaPem,
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void this.onRequest(req, res).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'stream endpoint request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      void this.onUpgrade(req, socket, head).catch((e: unknown) => {
        this.log.error({ err: errorMessage(e) }, 'stream endpoint upgrade failed');
        socket.destroy();
      });
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.port, this.cfg.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ port: this.port }, 'kubelet endpoint listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((r) => {
      server.close(() => {
        r();
      });
    });
  }

  /** Only the API server's kubelet client certificate; an edge's is refused even if the CA matches. */
  private authenticate(socket: TLSSocket): { ok: true } | { ok: false; status: number; message: string } {
    const peer = socket.getPeerX509Certificate();
    if (peer === undefined) return { ok: false, status: 401, message: 'Unauthorized' };
    if (!socket.authorized) return { ok: false, status: 401, message: 'Unauthorized' };
    const info = certInfo(peer.toString());
    if (info.organizations.some((o) => this.cfg.refuseGroups.includes(o)))
      return { ok: false, status: 403, message: `Forbidden (user=${info.commonName})` };
    return { ok: true };
  }

  private async resolve(
    ns: string,
    pod: string,
    container: string | undefined,
  ): Promise<
    { ok: true; node: string; target: StreamTarget } | { ok: false; status: number; message: string }
  > {
    const r = await this.locator.locate(ns, pod);
    if (!r.ok) return r;
    if (container !== undefined && !r.value.containers.includes(container))
      return { ok: false, status: 404, message: `container "${container}" not found in pod "${ns}/${pod}"` };
    return {
      ok: true,
      node: r.value.node,
      target: {
        namespace: ns,
        pod,
        ...(r.value.uid === '' ? {} : { uid: toUid(r.value.uid) }),
        ...(container === undefined ? {} : { container }),
      },
    };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(message);
    };
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- an https server's sockets are TLSSockets
    const auth = this.authenticate(req.socket as TLSSocket);
    if (!auth.ok) {
      this.metrics.requests.inc({ kind: 'http', outcome: 'refused' });
      text(auth.status, auth.message);
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/healthz') {
      text(200, 'ok');
      return;
    }
    const metricsPath = METRICS_PATHS.find((p) => p === url.pathname.replace(/\/+$/, ''));
    if (metricsPath !== undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        text(405, 'method not allowed');
        return;
      }
      const node = this.nodeOf(req);
      if (!node.ok) {
        this.metrics.requests.inc({ kind: 'metrics', outcome: 'no-node' });
        text(400, node.message);
        return;
      }
      this.scrape(req, res, node.node, metricsPath);
      return;
    }
    const m = ROUTE.exec(url.pathname);
    if (m?.[1] !== 'containerLogs' || m[4] === undefined) {
      text(404, `404 page not found`);
      return;
    }
    if (req.method !== 'GET') {
      text(405, 'method not allowed');
      return;
    }
    const [ns, pod, container] = [m[2] ?? '', m[3] ?? '', m[4]].map(decodeURIComponent) as [
      string,
      string,
      string,
    ];
    const q = url.searchParams;
    const opts = logOptions(q);
    if (typeof opts === 'string') {
      text(400, opts);
      return;
    }
    const where = await this.resolve(ns, pod, container);
    if (!where.ok) {
      this.metrics.requests.inc({ kind: 'logs', outcome: 'not-found' });
      text(where.status, where.message);
      return;
    }
    this.logs(req, res, where.node, where.target, opts);
  }

  private logs(
    req: IncomingMessage,
    res: ServerResponse,
    node: string,
    target: StreamTarget,
    opts: LogsOptions,
  ): void {
    let headersSent = false;
    const head = (): void => {
      if (headersSent) return;
      headersSent = true;
      clearTimeout(timer);
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
    };
    // A finite log waits for the edge's first frame, so an edge error becomes the HTTP status;
    // a follow on a quiet container must not hold the headers back for ever.
    const timer = setTimeout(head, opts.follow ? this.cfg.headerWaitMs : 2 ** 31 - 1);
    timer.unref();
    const r = this.relay.open(nodeName(node), target, opts, {
      data: (_ch, data, done) => {
        head();
        // The response's own buffer is the bound: credit returns when the socket took the bytes.
        res.write(data, () => {
          done();
        });
      },
      end: (end) => {
        clearTimeout(timer);
        if (end.type === 'error' && !headersSent) {
          headersSent = true;
          this.metrics.requests.inc({ kind: 'logs', outcome: 'error' });
          // kubelet answers log errors with 400 + text; the API server turns that into a BadRequest Status.
          res.writeHead(400, {
            'content-type': 'text/plain; charset=utf-8',
          });
          res.end(end.message);
          return;
        }
        head();
        this.metrics.requests.inc({ kind: 'logs', outcome: end.type });
        res.end();
      },
    });
    if (!r.ok) {
      clearTimeout(timer);
      res.writeHead(r.error instanceof StreamLimitError ? 429 : 503, {
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end(r.error.message);
      return;
    }
    const stream = r.stream;
    res.on('close', () => {
      stream.cancel();
    });
    req.on('close', () => {
      if (!res.writableEnded) stream.cancel();
    });
  }

  /**
   * Which node a kubelet-path request without a pod (metrics) means: our endpoint serves every
   * edge, and the connection came to it through a redirect, so the node is not in the address.
   * - X-Forwarded-Uri: kube-apiserver's nodes/proxy wraps its transport with the proxy
   *   Transport (apimachinery util/proxy/transport.go), which always sets it to
   *   `/api/v1/nodes/<name>/proxy/<path>` (replacing any client value); the embedded server does
   *   the same. Only an authenticated API server gets here, so the header is trusted.
   * - Host: a client that dials the node directly (metrics-server, Prometheus with node
   *   addresses) sends Host `<node address>:<port>`; the address maps to the node through the
   *   addresses in the Node statuses the edges wrote.
   */
  private nodeOf(req: IncomingMessage): { ok: true; node: string } | { ok: false; message: string } {
    const fwd = req.headers['x-forwarded-uri'];
    const m = typeof fwd === 'string' ? NODE_PROXY.exec(fwd) : null;
    if (m?.[1] !== undefined) {
      const name = nodeProxyName(decodeURIComponent(m[1]));
      if (name !== '') return { ok: true, node: name };
    }
    const host = hostOnly(req.headers.host ?? '');
    const byAddr = host === '' ? undefined : this.nodes?.byAddress(host);
    if (byAddr !== undefined) return { ok: true, node: byAddr };
    return {
      ok: false,
      message: `cannot tell which edge node is meant: no X-Forwarded-Uri of a nodes/proxy request and the Host "${host}" is no edge node's address`,
    };
  }

  /** One metrics scrape of an edge: a finite stream, answered like a non-follow log. */
  private scrape(req: IncomingMessage, res: ServerResponse, node: string, path: MetricsPath): void {
    let headersSent = false;
    const head = (): void => {
      if (headersSent) return;
      headersSent = true;
      // what a kubelet answers for the Prometheus text format
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    };
    const r = this.relay.open(
      nodeName(node),
      { namespace: '', pod: '' },
      { type: 'metrics', path },
      {
        data: (_ch, data, done) => {
          head();
          res.write(data, () => {
            done();
          });
        },
        end: (end) => {
          if (end.type === 'error' && !headersSent) {
            headersSent = true;
            this.metrics.requests.inc({ kind: 'metrics', outcome: 'error' });
            // 502: the node is reachable but its agent failed or did not answer (an old agent)
            res.writeHead(r.ok && r.stream.timedOut ? 504 : 502, {
              'content-type': 'text/plain; charset=utf-8',
            });
            res.end(`${end.message}\n`);
            return;
          }
          head();
          this.metrics.requests.inc({ kind: 'metrics', outcome: end.type });
          res.end();
        },
      },
    );
    if (!r.ok) {
      this.metrics.requests.inc({ kind: 'metrics', outcome: 'unavailable' });
      res.writeHead(r.error instanceof StreamLimitError ? 429 : 503, {
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end(`${r.error.message}\n`);
      return;
    }
    const stream = r.stream;
    res.on('close', () => {
      stream.cancel();
    });
    req.on('close', () => {
      if (!res.writableEnded) stream.cancel();
    });
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const fail = (status: number, message: string): void => {
      const body = `${message}\n`;
      socket.end(
        `HTTP/1.1 ${String(status)} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- an https server's upgrade socket is its TLSSocket
    const auth = this.authenticate(socket as TLSSocket);
    if (!auth.ok) {
      this.metrics.requests.inc({ kind: 'upgrade', outcome: 'refused' });
      fail(auth.status, auth.message);
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    const m = ROUTE.exec(url.pathname);
    const kind = m?.[1];
    if (m === null || kind === undefined || kind === 'containerLogs') {
      fail(404, '404 page not found');
      return;
    }
    const ns = decodeURIComponent(m[2] ?? '');
    const pod = decodeURIComponent(m[3] ?? '');
    const container = m[4] === undefined ? undefined : decodeURIComponent(m[4]);
    if (kind !== 'portForward' && container === undefined) {
      fail(400, 'a container name is required');
      return;
    }
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const q = url.searchParams;
    const where = await this.resolve(ns, pod, kind === 'portForward' ? undefined : container);
    if (!where.ok) {
      this.metrics.requests.inc({ kind, outcome: 'not-found' });
      fail(where.status, where.message);
      return;
    }
    const node = nodeName(where.node);
    // refuse before the upgrade, so the client sees 429 rather than an error on an open stream
    const limit = this.relay.atLimit(node);
    if (limit !== undefined) {
      this.metrics.requests.inc({ kind, outcome: 'limit' });
      fail(429, limit.message);
      return;
    }
    const log = this.log.child({ node, pod: `${ns}/${pod}`, kind });
    if (kind === 'portForward') {
      const ports = q
        .getAll('port')
        .map(Number)
        .filter((n) => Number.isInteger(n));
      const ctx = { relay: this.relay, node, target: where.target, ports, log };
      if (upgrade === 'websocket') {
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (ws.protocol !== WS_PORTFORWARD_TUNNEL) {
            ws.close(1002, 'port-forward needs the SPDY/3.1+portforward.k8s.io tunnel');
            return;
          }
          wsPortForward(ws, ctx);
        });
      } else if (upgrade === 'spdy/3.1') {
        if (!offered(req).includes(SPDY_PORTFORWARD_PROTOCOL)) {
          fail(403, `unable to upgrade: the only supported protocol is ${SPDY_PORTFORWARD_PROTOCOL}`);
          return;
        }
        switchToSpdy(socket, head, SPDY_PORTFORWARD_PROTOCOL);
        spdyPortForward(socket, ctx);
      } else fail(400, 'Upgrade request required');
      this.metrics.requests.inc({ kind, outcome: 'upgraded' });
      return;
    }
    const params: ExecParams = {
      type: kind === 'exec' ? 'exec' : 'attach',
      command: q.getAll('command'),
      stdin: truthy(q.get('input')) || truthy(q.get('stdin')),
      stdout: truthy(q.get('output')) || truthy(q.get('stdout')),
      stderr: truthy(q.get('error')) || truthy(q.get('stderr')),
      tty: truthy(q.get('tty')),
    };
    if (kind === 'exec' && params.command.length === 0) {
      fail(400, 'you must specify at least one command for the container');
      return;
    }
    if (!params.stdin && !params.stdout && !params.stderr) {
      fail(400, 'you must specify at least one of stdin, stdout, stderr');
      return;
    }
    const ctx = { relay: this.relay, node, target: where.target, params, log };
    if (upgrade === 'websocket') {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        if (!(WS_PROTOCOLS as readonly string[]).includes(ws.protocol)) {
          ws.close(1002, 'supported protocols: v5.channel.k8s.io, v4.channel.k8s.io');
          return;
        }
        wsExec(ws, ws.protocol, ctx);
      });
    } else if (upgrade === 'spdy/3.1') {
      const offer = offered(req);
      const chosen = SPDY_EXEC_PROTOCOLS.find((p) => offer.includes(p));
      if (chosen === undefined) {
        fail(
          403,
          `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offer)}, server supports ${JSON.stringify(SPDY_EXEC_PROTOCOLS)}`,
        );
        return;
      }
      switchToSpdy(socket, head, chosen);
      spdyExec(socket, ctx);
    } else {
      fail(400, 'Upgrade request required');
      return;
    }
    this.metrics.requests.inc({ kind, outcome: 'upgraded' });
  }
}

/** X-Stream-Protocol-Version may repeat or be comma-joined. */
function offered(req: IncomingMessage): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if ((req.rawHeaders[i] ?? '').toLowerCase() === 'x-stream-protocol-version')
      out.push(...(req.rawHeaders[i + 1] ?? '').split(',').map((s) => s.trim()));
  return out.filter((s) => s !== '');
}

function switchToSpdy(socket: Duplex, head: Buffer, protocol: string): void {
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.byteLength > 0) socket.unshift(head);
}

/** kubelet /containerLogs query → the contract's LogsOptions, or the error text. */
export function logOptions(q: URLSearchParams): LogsOptions | string {
  const tailLines = intParam(q, 'tailLines');
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const limitBytes = intParam(q, 'limitBytes');
  if (tailLines === 'bad' || (tailLines !== undefined && tailLines < 0))
    return 'tailLines must be a non-negative integer';
  if (sinceSeconds === 'bad' || (sinceSeconds !== undefined && sinceSeconds < 1))
    return 'sinceSeconds must be a positive integer';
  if (limitBytes === 'bad' || (limitBytes !== undefined && limitBytes < 1))
    return 'limitBytes must be a positive integer';
  const sinceTime = q.get('sinceTime') ?? undefined;
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime)))
    return `sinceTime is not an RFC 3339 time: ${sinceTime}`;
  if (sinceTime !== undefined && sinceSeconds !== undefined)
    return 'at most one of sinceTime or sinceSeconds may be specified';
  return {
    type: 'logs',
    follow: truthy(q.get('follow')),
    timestamps: truthy(q.get('timestamps')),
    previous: truthy(q.get('previous')),
    ...(tailLines === undefined ? {} : { tailLines }),
    ...(sinceSeconds === undefined ? {} : { sinceSeconds }),
    ...(sinceTime === undefined ? {} : { sinceTime }),
    ...(limitBytes === undefined ? {} : { limitBytes }),
  };
}
