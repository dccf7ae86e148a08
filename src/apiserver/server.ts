/**
 * The embedded Kubernetes API server component (issue 3): HTTPS, authentication and
 * authorization, discovery, OpenAPI, health and metrics, and the generic REST verbs over
 * the SQLite storage. DESIGN §7: a separate component; cloud and edge reach it over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import {
  ConfigError,
  LifecycleError,
  createRegistry,
  errorMessage,
  silentLogger,
  type Component,
  type Logger,
  type Registry,
} from '../common/index.js';
import { authorize, Authenticator, forbiddenReason, roleOf, type UserInfo } from './auth.js';
import { builtinResources } from './builtins.js';
import { ApiServerConfigSchema, type ApiServerConfig, type ApiServerConfigInput } from './config.js';
import { CrdController } from './crdcontroller.js';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from './discovery.js';
import { ApiError, Errors } from './errors.js';
import type { HandlerContext } from './handlers/context.js';
import { handleCreate } from './handlers/create.js';
import { handleDelete, handleDeleteCollection } from './handlers/delete.js';
import { handleGet } from './handlers/get.js';
import { handleList } from './handlers/list.js';
import { handleFinalize } from './handlers/namespaces.js';
import { handlePatch } from './handlers/patch.js';
import { handleBinding, handleEviction } from './handlers/pods.js';
import {
  handleLog,
  handleNodeProxy,
  kubeletTarget,
  nodeProxyVerb,
  parseNodeProxyPath,
  proxyUpgrade,
  type KubeletClient,
} from './handlers/proxy.js';
import { handleScaleGet, handleScaleUpdate } from './handlers/scale.js';
import { handleUpdate } from './handlers/update.js';
import { handleWatch } from './handlers/watch.js';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
import { OpenApiDocs } from './openapi-serve.js';
import { CertificateAuthority, loadOrIssueClient, loadOrIssueServing } from './pki.js';
import { parseRequest, type ResourceRequest } from './requestinfo.js';
import { ResourceTable, type ResourceInfo } from './resources.js';
import { writeError, writeJson, writeText } from './respond.js';
import { namespaceKey, ObjectStore } from './store.js';
import { loadOrCreateSigningKeys, ServiceAccounts, type ServiceAccountMetrics } from './serviceaccounts.js';
import { SqliteStorage, StorageCompactor } from './storage/index.js';

export const SERVER_VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0-tether.0.1.0' } as const;
export const ADMIN_USER = 'tether-admin';
const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface ApiServerDeps {
  logger?: Logger;
  registry?: Registry;
}

interface Running {
  storage: SqliteStorage;
  compactor: StorageCompactor;
  server: Server;
  store: ObjectStore;
  table: ResourceTable;
  crds: CrdController;
  authn: Authenticator;
  ca: CertificateAuthority | undefined;
  url: string;
  abort: AbortController;
  /** Every accepted connection, for stop(): see there. */
  sockets: Set<Socket>;
  openapi: OpenApiDocs;
  kubelet: KubeletClient;
  serviceAccounts: ServiceAccounts;
}

interface Metrics {
  requests: Counter<'verb' | 'group' | 'resource' | 'subresource' | 'code'>;
  latency: Histogram<'verb' | 'resource'>;
  watchers: Gauge<'resource'>;
  serviceAccounts: ServiceAccountMetrics;
}

export class ApiServer implements Component {
  readonly name = 'apiserver';
  readonly config: Readonly<ApiServerConfig>;
  private readonly logger: Logger;
  private readonly registry: Registry;
  private readonly metrics: Metrics;
  private running: Running | undefined;

  constructor(config: ApiServerConfigInput, deps: ApiServerDeps = {}) {
    const parsed = ApiServerConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid apiserver configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.config = Object.freeze(parsed.data);
    this.logger = deps.logger ?? silentLogger();
    this.registry = deps.registry ?? createRegistry();
    this.metrics = {
      requests: new Counter({
        name: 'tether_apiserver_request_total',
        help: 'API requests by verb, resource and HTTP code',
        labelNames: ['verb', 'group', 'resource', 'subresource', 'code'],
        registers: [this.registry],
      }),
      latency: new Histogram({
        name: 'tether_apiserver_request_duration_seconds',
        help: 'API request latency (watches excluded)',
        labelNames: ['verb', 'resource'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [this.registry],
      }),
      watchers: new Gauge({
        name: 'tether_apiserver_watchers',
        help: 'Open watch streams by resource',
        labelNames: ['resource'],
        registers: [this.registry],
      }),
      serviceAccounts: {
        tokensIssued: new Counter({
          name: 'tether_apiserver_serviceaccount_tokens_issued_total',
          help: 'TokenRequests answered, by bound object kind ("" = unbound)',
          labelNames: ['bound'],
          registers: [this.registry],
        }),
        tokenAuthentications: new Counter({
          name: 'tether_apiserver_serviceaccount_token_authentications_total',
          help: 'Service-account bearer tokens of this issuer presented, by result (valid, invalid)',
          labelNames: ['result'],
          registers: [this.registry],
        }),
      },
    };
  }

  get kubeconfigPath(): string {
    return this.config.kubeconfigPath ?? join(this.config.dataDir, 'admin.kubeconfig');
  }

  private get tokensFile(): string {
    return this.config.tokensFile ?? join(this.config.dataDir, 'tokens.csv');
  }

  get url(): string {
    if (this.running === undefined) throw new LifecycleError('apiserver not started');
    return this.running.url;
  }

  /** PEM of the CA clients must trust (undefined without TLS). */
  get caPem(): string | undefined {
    return this.running?.ca?.certPem;
  }

  async start(): Promise<void> {
    if (this.running !== undefined) throw new LifecycleError('apiserver already started');
    const c = this.config;
    mkdirSync(c.dataDir, { recursive: true, mode: 0o700 });
    const storage = SqliteStorage.open(
      join(c.dataDir, 'state.db'),
      { synchronous: c.storage.synchronous },
      { logger: this.logger, registry: this.registry },
    );
    try {
      const compactor = new StorageCompactor(
        storage,
        {
          intervalMs: c.compaction.intervalMs,
          ...(c.compaction.keepRevisions === undefined ? {} : { keepRevisions: c.compaction.keepRevisions }),
          ...(c.compaction.keepMs === undefined ? {} : { keepMs: c.compaction.keepMs }),
        },
        { logger: this.logger },
      );
      const table = new ResourceTable();
      for (const r of builtinResources()) table.add(r);
      const store = new ObjectStore(storage, table);
      const crdResource = table.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
      if (crdResource === undefined) throw new Error('built-in CRD resource missing');
      const crds = new CrdController(store, table, crdResource, this.logger);
      crds.loadAll();
      this.ensureNamespaces(store, table);
      const pkiCa = await CertificateAuthority.loadOrCreate(join(c.dataDir, 'pki'));
      const ca = c.tls ? pkiCa : undefined;
      const kubelet = await loadOrIssueClient(
        pkiCa,
        join(c.dataDir, 'pki'),
        'kubelet-client',
        'kube-apiserver-kubelet-client',
        ['system:masters'],
      );
      const authn = new Authenticator(c.tokens, this.tokensFile);
      // Service accounts: TokenRequest, token authentication, pod admission, per-namespace objects.
      const serviceAccounts = new ServiceAccounts(
        store,
        table,
        loadOrCreateSigningKeys(join(c.dataDir, 'pki')),
        pkiCa.certPem,
        this.logger,
        this.metrics.serviceAccounts,
      );
      store.admitCreate = (r, ns, name, o) =>
        r.group === '' && r.resource === 'pods' && ns !== undefined
          ? serviceAccounts.admitPod(ns, name, o)
          : { ok: true, value: undefined };
      if (c.serviceAccounts.perNamespaceObjects) {
        store.onWrite((r, type, o) => {
          serviceAccounts.onWrite(r, type, o);
        });
        serviceAccounts.ensureAll();
      }
      const abort = new AbortController();
      // one 'abort' listener per open watch (removed when it ends): dozens are normal, not a leak
      setMaxListeners(0, abort.signal);
      const handler = (req: IncomingMessage, res: ServerResponse): void => {
        void this.handle(req, res).catch((e: unknown) => {
          this.logger.error({ err: errorMessage(e), url: req.url }, 'request failed');
          writeError(res, Errors.internal(errorMessage(e)));
        });
      };
      let server: Server;
      if (ca !== undefined) {
        const serving = await loadOrIssueServing(
          ca,
          join(c.dataDir, 'pki'),
          [c.host, ...c.extraSans].filter((h) => h !== '0.0.0.0' && h !== '::'),
        );
        server = createHttpsServer(
          {
            cert: serving.certPem,
            key: serving.keyPem,
            ca: ca.certPem,
            requestCert: true,
            rejectUnauthorized: false,
          },
          handler,
        );
      } else {
        server = createHttpServer(handler);
      }
      server.keepAliveTimeout = 65_000;
      const sockets = new Set<Socket>();
      server.on('connection', (sock: Socket) => {
        sockets.add(sock);
        sock.once('close', () => sockets.delete(sock));
      });
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.handleUpgrade(req, socket, head);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(c.port, c.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const port = (server.address() as AddressInfo).port;
      const host = c.host === '0.0.0.0' ? '127.0.0.1' : c.host.includes(':') ? `[${c.host}]` : c.host;
      const url = c.advertiseUrl ?? `${ca === undefined ? 'http' : 'https'}://${host}:${port}`;
      this.running = {
        storage,
        compactor,
        server,
        store,
        table,
        crds,
        authn,
        ca,
        url,
        abort,
        sockets,
        openapi: new OpenApiDocs(table),
        kubelet: { ...kubelet, proxy: c.kubeletProxy },
        serviceAccounts,
      };
      await compactor.start();
      await this.writeAdminKubeconfig();
      this.logger.info({ url, dataDir: c.dataDir }, 'apiserver listening');
    } catch (e) {
      storage.close();
      this.running = undefined;
      throw e;
    }
  }

  async stop(): Promise<void> {
    const r = this.running;
    if (r === undefined) return;
    this.running = undefined;
    r.abort.abort();
    r.crds.stop();
    await r.compactor.stop();
    await new Promise<void>((resolve) => {
      r.server.close(() => {
        resolve();
      });
      r.server.closeAllConnections();
      // close() waits for every connection, closeAllConnections() ends only HTTP ones: a TLS
      // handshake in progress (Node's default timeout 120 s) or an upgraded exec/attach/
      // port-forward stream would hold stop() (test/apiserver/stop.test.ts)
      for (const sock of r.sockets) sock.destroy();
    });
    r.storage.close();
    this.logger.info('apiserver stopped');
  }

  /** Writes a kubeconfig for any identity (client certificate when TLS is on, else a token). */
  async writeKubeconfigFor(path: string, user: string, groups: readonly string[]): Promise<void> {
    const r = this.running;
    if (r === undefined) throw new LifecycleError('apiserver not started');
    if (r.ca !== undefined) {
      const pair = await r.ca.issueClient(user, groups);
      writeKubeconfig(path, {
        server: r.url,
        caPem: r.ca.certPem,
        user,
        clientCertPem: pair.certPem,
        clientKeyPem: pair.keyPem,
      });
    } else {
      const token = randomBytes(24).toString('hex');
      r.authn.addToken({ token, user, groups: [...groups] });
      writeKubeconfig(path, { server: r.url, caPem: undefined, user, token });
    }
  }

  /** The admin kubeconfig: a client certificate (CN=tether-admin, O=system:masters) kept in the data dir. */
  private async writeAdminKubeconfig(): Promise<void> {
    const r = this.running;
    if (r === undefined) return;
    const pki = join(this.config.dataDir, 'pki');
    if (r.ca !== undefined) {
      const crt = join(pki, 'admin.crt');
      const key = join(pki, 'admin.key');
      if (!existsSync(crt) || !existsSync(key)) {
        const pair = await r.ca.issueClient(ADMIN_USER, ['system:masters']);
        writeFileSync(crt, pair.certPem, { mode: 0o644 });
        writeFileSync(key, pair.keyPem, { mode: 0o600 });
      }
      writeFileSync(
        this.kubeconfigPath,
        kubeconfigYaml({
          server: r.url,
          caPem: r.ca.certPem,
          user: ADMIN_USER,
          clientCertPem: readFileSync(crt, 'utf8'),
          clientKeyPem: readFileSync(key, 'utf8'),
        }),
        { mode: 0o600 },
      );
      return;
    }
    // Without TLS: an admin token in the tokens file, created once.
    const file = this.tokensFile;
    const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
    let token = /^([^,\s]+),tether-admin,/m.exec(existing)?.[1];
    if (token === undefined) {
      token = randomBytes(24).toString('hex');
      writeFileSync(file, `${existing}${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, {
        mode: 0o600,
      });
      r.authn.reload();
    }
    writeKubeconfig(this.kubeconfigPath, { server: r.url, caPem: undefined, user: ADMIN_USER, token });
  }

  private ensureNamespaces(store: ObjectStore, table: ResourceTable): void {
    const ns = table.get('', 'v1', 'namespaces');
    if (ns === undefined) return;
    for (const name of DEFAULT_NAMESPACES) {
      if (store.storage.get(namespaceKey(name)) !== undefined) continue;
      const res = store.create(
        ns,
        undefined,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { dryRun: false, fieldValidation: 'Ignore', warnings: [] },
      );
      if (!res.ok && res.error.reason !== 'AlreadyExists') throw res.error;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const run = this.running;
    if (run === undefined) {
      writeError(res, new ApiError(503, 'ServiceUnavailable', 'the server is shutting down'));
      return;
    }
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://x');
    const info = parseRequest(req.method ?? 'GET', url.pathname, url.searchParams);
    const labels = { verb: 'nonresource', group: '', resource: '', subresource: '' };
    if (info.kind === 'resource') {
      labels.verb = info.verb;
      labels.group = info.group;
      labels.resource = info.resource;
      labels.subresource = info.subresource;
    }
    res.on('finish', () => {
      this.metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (labels.verb !== 'watch')
        this.metrics.latency.observe(
          { verb: labels.verb, resource: labels.resource },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      this.logger.debug({ method: req.method, url: req.url, code: res.statusCode }, 'request');
    });
    const user = await authenticate(run, req);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (user === null || (user === undefined && !isPublicPath(path))) {
      req.resume();
      writeError(res, Errors.unauthorized());
      return;
    }
    const u: UserInfo = user ?? { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    // nodes/{name}/proxy/{path...} has more segments than a resource path: routed before it
    const np = parseNodeProxyPath(url.pathname);
    const nodes = run.table.get('', 'v1', 'nodes');
    if (np !== undefined && nodes !== undefined) {
      // upstream's verb mapping for a proxy subresource: the HTTP method's verb on nodes/proxy
      const verb = nodeProxyVerb(req.method ?? 'GET');
      Object.assign(labels, { verb, group: '', resource: 'nodes', subresource: 'proxy' });
      const attrs = {
        verb,
        group: '',
        resource: 'nodes',
        subresource: 'proxy',
        namespace: '',
        name: decodeURIComponent(np.node),
        isCustom: false,
      };
      if (!authorize(u, attrs)) {
        req.resume();
        writeError(res, Errors.forbidden('nodes', '', attrs.name, forbiddenReason(u, attrs)));
        return;
      }
      handleNodeProxy(req, res, run.store, nodes, { ...np, query: url.searchParams.toString() }, run.kubelet);
      return;
    }
    if (info.kind === 'nonresource') {
      this.handleNonResource(run, req, res, path, u);
      return;
    }
    const r = run.table.get(info.group, info.version, info.resource);
    if (r === undefined) {
      req.resume();
      writeError(res, Errors.pathNotFound());
      return;
    }
    const attrs = {
      verb: info.verb,
      group: info.group,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      isCustom: r.custom !== undefined,
    };
    if (!authorize(u, attrs)) {
      req.resume();
      writeError(res, Errors.forbidden(info.resource, info.group, info.name, forbiddenReason(u, attrs)));
      return;
    }
    const ctx: HandlerContext = {
      req,
      res,
      query: url.searchParams,
      info,
      r,
      user: u,
      store: run.store,
      logger: this.logger,
      maxBodyBytes: this.config.maxBodyBytes,
      watch: {
        ...this.config.watch,
        onWatchStart: () => {
          this.metrics.watchers.inc({ resource: r.resource });
          return () => {
            this.metrics.watchers.dec({ resource: r.resource });
          };
        },
      },
      signal: run.abort.signal,
      warnings: [],
    };
    await this.dispatch(ctx, info, r);
  }

  private async dispatch(ctx: HandlerContext, info: ResourceRequest, r: ResourceInfo): Promise<void> {
    const run = this.running;
    const nodes = run?.table.get('', 'v1', 'nodes');
    if (
      info.subresource === 'log' &&
      r.group === '' &&
      r.resource === 'pods' &&
      info.verb === 'get' &&
      run !== undefined &&
      nodes !== undefined
    ) {
      handleLog(ctx, nodes, run.kubelet);
      return;
    }
    if (r.group === 'authentication.k8s.io' && r.resource === 'tokenreviews' && run !== undefined) {
      if (info.verb !== 'create' || info.name !== '' || info.subresource !== '') {
        ctx.req.resume();
        writeError(ctx.res, info.name === '' ? Errors.methodNotAllowed() : Errors.pathNotFound());
        return;
      }
      await run.serviceAccounts.handleTokenReview(ctx, (t) => run.authn.authenticateToken(t));
      return;
    }
    if (
      info.subresource === 'token' &&
      r.group === '' &&
      r.resource === 'serviceaccounts' &&
      info.name !== '' &&
      run !== undefined
    ) {
      if (info.verb !== 'create') {
        ctx.req.resume();
        writeError(ctx.res, Errors.methodNotAllowed());
        return;
      }
      await run.serviceAccounts.handleTokenRequest(ctx);
      return;
    }
    if (
      ['exec', 'attach', 'portforward'].includes(info.subresource) &&
      r.group === '' &&
      r.resource === 'pods'
    ) {
      ctx.req.resume();
      writeError(ctx.res, Errors.badRequest('Upgrade request required'));
      return;
    }
    const handler = pickHandler(info, r);
    if (typeof handler === 'function') {
      await handler(ctx);
      return;
    }
    ctx.req.resume();
    writeError(ctx.res, handler === 'notFound' ? Errors.pathNotFound() : Errors.methodNotAllowed());
  }

  /** exec/attach/portforward: authenticate and authorize like any request, then splice to the kubelet. */
  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.upgrade(req, socket, head).catch((e: unknown) => {
      this.logger.error({ err: errorMessage(e), url: req.url }, 'upgrade failed');
      socket.destroy();
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const run = this.running;
    const fail = (e: ApiError): void => {
      const body = JSON.stringify(e.toStatus());
      socket.end(
        `HTTP/1.1 ${e.status} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    if (run === undefined) {
      fail(new ApiError(503, 'ServiceUnavailable', 'the server is shutting down'));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const info = parseRequest('POST', url.pathname, url.searchParams);
    const pods = run.table.get('', 'v1', 'pods');
    const nodes = run.table.get('', 'v1', 'nodes');
    if (
      info.kind !== 'resource' ||
      info.group !== '' ||
      info.resource !== 'pods' ||
      pods === undefined ||
      nodes === undefined ||
      !['exec', 'attach', 'portforward'].includes(info.subresource)
    ) {
      fail(Errors.pathNotFound());
      return;
    }
    const user = await authenticate(run, req);
    if (user === null || user === undefined) {
      fail(Errors.unauthorized());
      return;
    }
    // Streaming subresources need `create` whatever the HTTP method (upstream RBAC since 1.30).
    const attrs = {
      verb: 'create' as const,
      group: '',
      resource: 'pods',
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      isCustom: false,
    };
    if (!authorize(user, attrs)) {
      fail(Errors.forbidden('pods', '', info.name, forbiddenReason(user, attrs)));
      return;
    }
    const q = url.searchParams;
    const t = kubeletTarget(
      run.store,
      pods,
      nodes,
      info.namespace,
      info.name,
      info.subresource === 'portforward' ? null : q.get('container'),
    );
    if (!t.ok && !(info.subresource === 'portforward' && t.error.message.startsWith('a container name'))) {
      fail(t.error);
      return;
    }
    const target = t.ok ? t.value : undefined;
    if (target === undefined) {
      fail(Errors.badRequest('no target'));
      return;
    }
    // Kubelet streaming parameters (pkg/registry/core/pod streamParams).
    const out = new URLSearchParams();
    const flag = (from: string, to: string): void => {
      if (['1', 'true', 'True'].includes(q.get(from) ?? '')) out.set(to, '1');
    };
    flag('stdin', 'input');
    flag('stdout', 'output');
    flag('stderr', 'error');
    flag('tty', 'tty');
    for (const c of q.getAll('command')) out.append('command', c);
    for (const p of q.getAll('ports')) out.append('port', p);
    const ns = encodeURIComponent(info.namespace);
    const pod = encodeURIComponent(info.name);
    const ctr = encodeURIComponent(target.container);
    const path =
      info.subresource === 'exec'
        ? `/exec/${ns}/${pod}/${ctr}`
        : info.subresource === 'attach'
          ? `/attach/${ns}/${pod}/${ctr}`
          : `/portForward/${ns}/${pod}`;
    const qs = out.toString();
    proxyUpgrade(req, socket, head, target, qs === '' ? path : `${path}?${qs}`, run.kubelet, fail);
  }

  private handleNonResource(
    run: Running,
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    u: UserInfo,
  ): void {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeError(res, Errors.methodNotAllowed());
      return;
    }
    const table = run.table;
    switch (path) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        writeText(res, 200, 'ok');
        return;
      case '/version':
        writeJson(res, 200, {
          ...SERVER_VERSION,
          gitCommit: 'tether',
          gitTreeState: 'clean',
          buildDate: '2026-11-26T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'tsc',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        });
        return;
      case '/metrics':
        if (roleOf(u) === 'none') {
          writeError(
            res,
            new ApiError(403, 'Forbidden', `forbidden: User "${u.name}" cannot get path "/metrics"`, {}),
          );
          return;
        }
        void this.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': this.registry.contentType });
          res.end(text);
        });
        return;
      case '/api': {
        const v = wantsAggregated(req);
        if (v !== undefined) {
          writeAggregated(res, aggregatedDiscovery(table, true, v), aggregatedContentType(v));
          return;
        }
        const host = req.headers.host ?? new URL(run.url).host;
        writeJson(res, 200, apiVersions(host));
        return;
      }
      case '/apis': {
        const v = wantsAggregated(req);
        if (v !== undefined) {
          writeAggregated(res, aggregatedDiscovery(table, false, v), aggregatedContentType(v));
          return;
        }
        writeJson(res, 200, apiGroupList(table));
        return;
      }
      case '/openapi/v2': {
        const accept = req.headers.accept ?? '';
        if (accept.includes('application/com.github.proto-openapi.spec.v2')) {
          // kubectl ≤1.28 apply fetches the v2 document as gnostic protobuf and fails without
          // it. We answer a minimal valid Document (swagger: "2.0", field 1): its users then
          // fall back to the compiled-in patch metadata; explain uses /openapi/v3.
          const body = Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]);
          res.writeHead(200, {
            'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
            'Content-Length': String(body.length),
          });
          res.end(body);
          return;
        }
        if (accept !== '' && !/application\/json|\*\/\*/.test(accept)) {
          writeError(res, Errors.notAcceptable(['application/json']));
          return;
        }
        writeRaw(res, run.openapi.v2Text());
        return;
      }
      case '/openapi/v3':
        writeRaw(res, run.openapi.v3IndexText());
        return;
      default:
        break;
    }
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const gvParts = parts.slice(2);
      let doc: { text: string } | undefined;
      if (gvParts[0] === 'api' && gvParts.length === 2)
        doc = run.openapi.v3GroupVersion('', gvParts[1] ?? '');
      else if (gvParts[0] === 'apis' && gvParts.length === 3)
        doc = run.openapi.v3GroupVersion(gvParts[1] ?? '', gvParts[2] ?? '');
      if (doc === undefined) writeError(res, Errors.pathNotFound());
      else writeRaw(res, doc.text);
      return;
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList(table, '', parts[1] ?? '');
      if (doc === undefined) writeError(res, Errors.pathNotFound());
      else writeJson(res, 200, doc);
      return;
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroup(table, parts[1] ?? '');
      if (doc === undefined) writeError(res, Errors.pathNotFound());
      else writeJson(res, 200, doc);
      return;
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(table, parts[1] ?? '', parts[2] ?? '');
      if (doc === undefined) writeError(res, Errors.pathNotFound());
      else writeJson(res, 200, doc);
      return;
    }
    writeError(res, Errors.pathNotFound());
  }
}

/**
 * Client certificate or static token first; then a bearer token may be a service-account
 * JWT this server issued. undefined = anonymous, null = credentials presented but invalid.
 */
async function authenticate(run: Running, req: IncomingMessage): Promise<UserInfo | null | undefined> {
  const user = run.authn.authenticate(req);
  if (user !== null) return user;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (token === undefined) return null;
  return (await run.serviceAccounts.authenticate(token)) ?? null;
}

/** Paths upstream serves to anyone (system:public-info-viewer). */
function isPublicPath(path: string): boolean {
  return path === '/healthz' || path === '/livez' || path === '/readyz' || path === '/version';
}

function writeRaw(res: ServerResponse, text: string): void {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function writeAggregated(res: ServerResponse, body: unknown, contentType: string): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

type Handler = (ctx: HandlerContext) => void | Promise<void>;

/** The handler for a verb on a resource or subresource, or why there is none. */
function pickHandler(info: ResourceRequest, r: ResourceInfo): Handler | 'notFound' | 'notAllowed' {
  // Named namespaced objects need a namespace in the path.
  if (r.namespaced && info.namespace === '' && info.name !== '') return 'notFound';
  const v = info.verb;
  if (info.subresource !== '') {
    const sub = r.subresources.find((s) => s.name === info.subresource);
    if (sub === undefined) return 'notFound';
    switch (sub.name) {
      case 'status':
      case 'ephemeralcontainers':
        return v === 'get'
          ? handleGet
          : v === 'update'
            ? handleUpdate
            : v === 'patch'
              ? handlePatch
              : 'notAllowed';
      case 'scale':
        return v === 'get'
          ? handleScaleGet
          : v === 'update'
            ? handleScaleUpdate
            : v === 'patch'
              ? handlePatch
              : 'notAllowed';
      case 'binding':
        return v === 'create' ? handleBinding : 'notAllowed';
      case 'eviction':
        return v === 'create' ? handleEviction : 'notAllowed';
      case 'finalize':
        return v === 'update' ? handleFinalize : 'notAllowed';
    }
  }
  if (!r.verbs.includes(v)) return 'notAllowed';
  switch (v) {
    case 'get':
      return handleGet;
    case 'list':
      return handleList;
    case 'watch':
      return handleWatch;
    case 'create':
      return info.name === '' ? handleCreate : 'notAllowed';
    case 'update':
      return handleUpdate;
    case 'patch':
      return handlePatch;
    case 'delete':
      return handleDelete;
    case 'deletecollection':
      return handleDeleteCollection;
  }
}
