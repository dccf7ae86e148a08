import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError, LifecycleError, TetherError, type Component, type Logger } from '../../common/index.js';

/** File names in the edge data directory: the token, and the bound endpoint for `tether edge health`. */
export const API_TOKEN_FILE = 'api.token';
export const API_ENDPOINT_FILE = 'api.json';

export const LocalApiConfigSchema = z
  .object({
    /** Loopback only by default: the endpoint is for the node's operator, not the network. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port; the bound address is written to `endpointFile`. */
    port: z.number().int().min(0).max(65535).default(10351),
    /** Bearer token file; created with mode 0600 when missing. */
    tokenFile: z.string().min(1),
    /** Where the bound URL and token file path are written for `tether edge health`. */
    endpointFile: z.string().min(1).optional(),
  })
  .strict();
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
  private token = '';
  private boundUrl: string | undefined;

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
    const server = createServer((req, res) => {
      this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => {
        reject(
          new LocalApiError(`cannot listen on ${this.cfg.host}:${this.cfg.port}: ${e.message}`, { cause: e }),
        );
      });
      server.listen(this.cfg.port, this.cfg.host, () => {
        resolve();
      });
    });
    this.server = server;
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : this.cfg.port;
    const host = this.cfg.host.includes(':') ? `[${this.cfg.host}]` : this.cfg.host;
    this.boundUrl = `http://${host}:${port}`;
    if (this.cfg.endpointFile !== undefined) {
      const info: EndpointInfo = { url: this.boundUrl, tokenFile: this.cfg.tokenFile };
      await writeFile(this.cfg.endpointFile, `${JSON.stringify(info)}\n`, { mode: 0o644 });
    }
    this.deps.logger.info({ url: this.boundUrl }, 'local API listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.boundUrl = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
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
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/u.exec(auth);
    if (m?.[1] === undefined || !sameToken(m[1], this.token)) {
      send(401, { error: 'Unauthorized', message: 'a bearer token from the edge token file is required' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, { error: 'MethodNotAllowed', message: `${req.method ?? '?'} is not supported` });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
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
      default:
        send(404, { error: 'NotFound', message: `no such path ${path ?? ''}; try /healthz or /health` });
    }
  }
}
