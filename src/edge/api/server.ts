import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import {
  CertificateAuthority,
  certInfo,
  ConfigError,
  errorMessage,
  LifecycleError,
  TetherError,
  type Component,
  type Logger,
  type Registry,
} from '../../common/index.js';
import {
  isMetaserverPath,
  Metaserver,
  MetaserverConfigSchema,
  statusBody,
  writeMetaserverKubeconfig,
  type MetaStore,
} from '../metaserver/index.js';

/** File names in the edge data directory: the token, and the bound endpoint for `tether edge health`. */
export const API_TOKEN_FILE = 'api.token';
export const API_ENDPOINT_FILE = 'api.json';

const buildLocalApiConfigSchema = () =>
  z
    .object({
      /** Loopback only by default: the endpoint is for the node's operator, not the network. */
      host: z.string().min(1).default('127.0.0.1'),
      /** 0 picks a free port; the bound address is written to `endpointFile`. */
      port: z.number().int().min(0).max(65535).default(10351),
      /** Bearer token file; created with mode 0600 when missing. */
      tokenFile: z.string().min(1),
      /** Where the bound URL and token file path are written for `tether edge health`. */
      endpointFile: z.string().min(1).optional(),
      /**
       * Where to write a kubeconfig (0600, with the token) for the metaserver, so
       * `kubectl --kubeconfig <file>` works on the node. Only with a store (deps.store).
       */
      kubeconfigFile: z.string().min(1).optional(),
      /**
       * TLS on the same port (the first byte of a connection tells TLS from plain HTTP): kubectl
       * sends a bearer token only over TLS (kubernetes/kubectl#744). A self-signed local CA and a
       * serving certificate for the host are created in these files when missing or expiring.
       */
      tls: z
        .object({ caFile: z.string().min(1), certFile: z.string().min(1), keyFile: z.string().min(1) })
        .strict()
        .optional(),
      /** Watch tuning of the metaserver (docs/metaserver.md). */
      metaserver: MetaserverConfigSchema.prefault({}),
    })
    .strict();
export const LocalApiConfigSchema = lazySchema(buildLocalApiConfigSchema);
export type LocalApiConfig = z.input<typeof LocalApiConfigSchema>;

/** What the endpoint serves: the health component's current evaluation, JSON-ready. */
export interface HealthView {
  verdict: string;
  statusString: string;
  reasons: string[];
  at: string;
  units: {
    unit: string;
    mode: string;
    critical: boolean;
    state: string;
    value?: number;
    output?: string;
    at?: string;
    stale: boolean;
    lastError?: string;
  }[];
  startup?: { verdict: string; uncleanShutdown: boolean; admitNewPods: boolean; admitReason: string };
}

export interface LocalApiDeps {
  readonly health: () => HealthView | undefined;
  readonly logger: Logger;
  /**
   * The edge store: when given, the same listener serves the metaserver, a read-only Kubernetes
   * API (/api, /apis, /version) over what the node holds (issue 6, docs/metaserver.md).
   */
  readonly store?: MetaStore;
  readonly registry?: Registry;
  /** Names the kubeconfig's context (tether-edge-<node>). */
  readonly nodeName?: string;
}

/** The contents of `endpointFile`. */
export interface EndpointInfo {
  url: string;
  tokenFile: string;
}

export class LocalApiError extends TetherError {
  readonly code = 'LOCAL_API';
}

/** Reads the token file, creating it (0600, random 32 bytes hex) when it does not exist. */
export async function ensureToken(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  });
  if (existing !== undefined && existing.trim() !== '') {
    // A token readable by others is no secret: tighten it rather than refuse to start.
    await chmod(file, 0o600);
    return existing.trim();
  }
  await mkdir(dirname(file), { recursive: true });
  const token = randomBytes(32).toString('hex');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return token;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The edge's local JSON endpoint (issue 10: the verdict "in `tether` CLI output"): `/healthz`
 * and `/health`, on loopback, bearer-token protected so other local users cannot read it.
 */
export class LocalApi implements Component {
  readonly name = 'local-api';
  private readonly cfg: z.output<typeof LocalApiConfigSchema>;
  private server: Server | undefined;
  private https: HttpsServer | undefined;
  private front: NetServer | undefined;
  private caPem: string | undefined;
  private readonly sockets = new Set<Socket>();
  private token = '';
  private boundUrl: string | undefined;
  private secureUrl: string | undefined;
  private readonly meta: Metaserver | undefined;

  constructor(
    config: LocalApiConfig,
    private readonly deps: LocalApiDeps,
  ) {
    const r = LocalApiConfigSchema.safeParse(config);
    if (!r.success)
      throw new ConfigError(
        'invalid local API config',
        r.error.issues.map((i) => `api.${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = r.data;
    this.meta =
      deps.store === undefined
        ? undefined
        : new Metaserver(this.cfg.metaserver, {
            store: deps.store,
            logger: deps.logger,
            ...(deps.registry === undefined ? {} : { registry: deps.registry }),
          });
  }

  /** The metaserver behind /api and /apis, when the API was given a store. */
  get metaserver(): Metaserver | undefined {
    return this.meta;
  }

  get url(): string {
    if (this.boundUrl === undefined) throw new LifecycleError('local API not started');
    return this.boundUrl;
  }

  /** The bound URL, or undefined while not listening. */
  get listening(): string | undefined {
    return this.boundUrl;
  }

  async start(): Promise<void> {
    if (this.server !== undefined) throw new LifecycleError('local API already started');
    this.token = await ensureToken(this.cfg.tokenFile);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res);
    };
    const server = createServer(handler);
    let https: HttpsServer | undefined;
    if (this.cfg.tls !== undefined) {
      const tls = await ensureServingCert(this.cfg.tls, this.cfg.host);
      this.caPem = tls.caPem;
      https = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler);
      https.on('tlsClientError', (e) => {
        this.deps.logger.debug({ err: e.message }, 'local API TLS handshake failed');
      });
    }
    // One port for both: a TLS connection starts with a handshake record (0x16), HTTP with a method.
    const front = createNetServer((sock: Socket) => {
      this.sockets.add(sock);
      sock.once('close', () => this.sockets.delete(sock));
      // a connection that never says anything is not kept forever
      sock.setTimeout(30_000, () => sock.destroy());
      sock.once('data', (first: Buffer) => {
        sock.setTimeout(0);
        sock.pause();
        sock.unshift(first);
        (https !== undefined && first[0] === 0x16 ? https : server).emit('connection', sock);
        process.nextTick(() => sock.resume());
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      front.once('error', (e) => {
        reject(
          new LocalApiError(`cannot listen on ${this.cfg.host}:${this.cfg.port}: ${e.message}`, { cause: e }),
        );
      });
      front.listen(this.cfg.port, this.cfg.host, () => {
        resolve();
      });
    });
    this.server = server;
    this.https = https;
    this.front = front;
    const addr = front.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.cfg.port;
    const host = this.cfg.host.includes(':') ? `[${this.cfg.host}]` : this.cfg.host;
    this.boundUrl = `http://${host}:${port}`;
    this.secureUrl = https === undefined ? undefined : `https://${host}:${port}`;
    this.meta?.start();
    if (this.meta !== undefined && this.cfg.kubeconfigFile !== undefined)
      await writeMetaserverKubeconfig(this.cfg.kubeconfigFile, {
        url: this.secureUrl ?? this.boundUrl,
        token: this.token,
        ...(this.caPem === undefined ? {} : { caPem: this.caPem }),
        ...(this.deps.nodeName === undefined ? {} : { nodeName: this.deps.nodeName }),
      });
    if (this.cfg.endpointFile !== undefined) {
      const info: EndpointInfo = { url: this.boundUrl, tokenFile: this.cfg.tokenFile };
      await writeFile(this.cfg.endpointFile, `${JSON.stringify(info)}\n`, { mode: 0o644 });
    }
    this.deps.logger.info({ url: this.boundUrl }, 'local API listening');
  }

  /** The https:// URL of the same port, when TLS is configured. */
  get tlsUrl(): string | undefined {
    return this.secureUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    const front = this.front;
    if (server === undefined || front === undefined) return;
    const https = this.https;
    this.server = undefined;
    this.https = undefined;
    this.front = undefined;
    this.boundUrl = undefined;
    this.secureUrl = undefined;
    // end open watches first: a clean end of stream, not a reset connection
    this.meta?.stop();
    server.closeAllConnections();
    https?.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => {
      front.close(() => {
        resolve();
      });
    });
    if (this.cfg.endpointFile !== undefined) await rm(this.cfg.endpointFile, { force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: unknown): void => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        'cache-control': 'no-store',
      });
      res.end(text);
    };
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const meta = this.meta !== undefined && isMetaserverPath(path) ? this.meta : undefined;
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/u.exec(auth);
    if (m?.[1] === undefined || !sameToken(m[1], this.token)) {
      const message = 'a bearer token from the edge token file is required';
      // Kubernetes clients expect a Status body (kubectl prints "You must be logged in to the server")
      send(
        401,
        meta === undefined ? { error: 'Unauthorized', message } : statusBody(401, 'Unauthorized', message),
      );
      return;
    }
    if (meta !== undefined) {
      meta.handle(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, { error: 'MethodNotAllowed', message: `${req.method ?? '?'} is not supported` });
      return;
    }
    const view = this.deps.health();
    switch (path) {
      case '/healthz':
        // Liveness of the agent, like kubelet's /healthz: "ok" while it serves; the verdict is /health's.
        send(200, 'ok');
        return;
      case '/health':
        if (view === undefined) send(503, { error: 'Unavailable', message: 'health component not started' });
        else send(200, view);
        return;
      case '/metrics':
        // the agent's Prometheus metrics for a scraper on the edge host (the cloud reaches them
        // through the API server's nodes/proxy instead: docs/monitoring.md)
        if (this.deps.registry === undefined)
          send(404, { error: 'NotFound', message: 'no metrics registry' });
        else this.serveMetrics(this.deps.registry, res);
        return;
      default:
        send(404, {
          error: 'NotFound',
          message: `no such path ${path}; try /healthz, /health, /metrics or /api`,
        });
    }
  }

  private serveMetrics(registry: Registry, res: ServerResponse): void {
    registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics collection failed: ${errorMessage(e)}`);
      });
  }
}

/**
 * The local API's serving certificate: a self-signed local CA (its key is not kept: nothing else
 * is ever signed) and a certificate for localhost, 127.0.0.1, ::1 and the configured host.
 * Reused across restarts so a copied kubeconfig stays valid; renewed 30 days before expiry.
 */
async function ensureServingCert(
  files: { caFile: string; certFile: string; keyFile: string },
  host: string,
): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const read = (f: string): Promise<string | undefined> =>
    readFile(f, 'utf8').catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    });
  const [caPem, certPem, keyPem] = await Promise.all([
    read(files.caFile),
    read(files.certFile),
    read(files.keyFile),
  ]);
  if (caPem !== undefined && certPem !== undefined && keyPem !== undefined) {
    try {
      if (certInfo(certPem).notAfter.getTime() - Date.now() > 30 * 86_400_000) {
        await chmod(files.keyFile, 0o600);
        return { caPem, certPem, keyPem };
      }
    } catch {
      // unreadable: issue a new one below
    }
  }
  const ca = await CertificateAuthority.create('tether-edge-local-api-ca');
  const ips = [...new Set(['127.0.0.1', '::1', ...(/^[\d.]+$|:/u.test(host) ? [host] : [])])];
  const dnsNames = [...new Set(['localhost', ...(/^[\d.]+$|:/u.test(host) ? [] : [host])])];
  const issued = await ca.issueServer('tether-edge-local-api', { ips, dnsNames });
  await mkdir(dirname(files.keyFile), { recursive: true });
  await writeFile(files.keyFile, issued.keyPem, { mode: 0o600 });
  await chmod(files.keyFile, 0o600);
  await writeFile(files.certFile, issued.certPem, { mode: 0o644 });
  await writeFile(files.caFile, ca.certPem, { mode: 0o644 });
  return { caPem: ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem };
}
