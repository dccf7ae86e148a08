import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import { lazySchema } from '../../devices/index.js';
import { ConfigError, errorMessage, type Logger, type Registry } from '../../common/index.js';
import type { JsonObject } from '../../protocol/index.js';
import type { EdgeStore, LoggedChange, StoredObject } from '../store/index.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  fieldValue,
  findResource,
  groupVersion,
  metadataOf,
  METASERVER_VERSION,
  supportedFields,
  type Column,
  type ResourceType,
} from './resources.js';
import {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './selectors.js';
import { statusBody, type StatusReason } from './status.js';

/** The object's cloud resourceVersion, kept as an annotation: metadata.resourceVersion is local. */
export const CLOUD_RV_ANNOTATION = 'tether.dev/cloud-resource-version';

const buildMetaserverConfigSchema = () =>
  z
    .object({
      /** BOOKMARK events (allowWatchBookmarks) every this many ms. Default 60 s, like the API server. */
      bookmarkIntervalMs: z.number().int().min(10).default(60_000),
      /**
       * A watch without timeoutSeconds ends after a random time in [this, 2×this) s, as the API
       * server's --min-request-timeout does, so clients re-watch and load spreads. Default 1800.
       */
      minWatchTimeoutSeconds: z.number().int().min(1).default(1800),
      /** Open watches at most; more get 429. Default 256: local apps, not a fleet. */
      maxWatches: z.number().int().min(1).default(256),
      /** A watcher this far behind (bytes queued) is cut off; it re-watches and catches up. Default 16 MiB. */
      maxWatchBacklogBytes: z
        .number()
        .int()
        .min(1024)
        .default(16 * 1024 * 1024),
    })
    .strict();
export const MetaserverConfigSchema = lazySchema(buildMetaserverConfigSchema);
export type MetaserverConfig = z.input<typeof MetaserverConfigSchema>;

/** The part of the edge store the metaserver reads (a narrow interface, for unit tests' fakes too). */
export type MetaStore = Pick<
  EdgeStore,
  'listView' | 'revision' | 'changesSince' | 'oldestResumableRevision' | 'onViewChange'
>;

export interface MetaserverDeps {
  readonly store: MetaStore;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly now?: () => number;
}

type Body = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string },
  ) {
    super(message);
  }
}
const badRequest = (m: string): HttpError => new HttpError(400, 'BadRequest', m);

interface TableRequest {
  readonly version: 'v1' | 'v1beta1';
  readonly include: 'None' | 'Metadata' | 'Object';
}

interface Query {
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
  readonly rv: number | undefined;
  readonly rvMatch: 'NotOlderThan' | 'Exact' | undefined;
  readonly watch: boolean;
  readonly bookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly sendInitialEvents: boolean | undefined;
  readonly table: TableRequest | undefined;
}

type Route =
  | { readonly type: 'doc'; readonly body: Body }
  | {
      readonly type: 'collection';
      readonly resource: ResourceType;
      readonly namespace: string | undefined;
      readonly watch: boolean;
    }
  | {
      readonly type: 'object';
      readonly resource: ResourceType;
      readonly namespace: string | undefined;
      readonly name: string;
      readonly watch: boolean;
    };

/** Paths the metaserver answers; everything else stays with the local API's own routes. */
export function isMetaserverPath(path: string): boolean {
  return /^\/(api|apis|version|openapi)(\/|$)/u.test(path);
}

/**
 * The edge's local Kubernetes read API (issue 6, DESIGN §1 "metaserver"): get, list and watch
 * over what the node's store holds, so applications on the node use a normal Kubernetes client
 * online or offline. Read-only: the cloud stays the source of truth (writes are 405).
 *
 * resourceVersion is the edge store's own monotonic revision (EdgeStore.revision), not the
 * cloud's: a list's RV and every object's RV are in that one sequence, so watch-from-RV resumes
 * exactly, across cloud outages and agent restarts (the change log is in SQLite). The cloud's
 * RV is kept in the `tether.dev/cloud-resource-version` annotation.
 */
export class Metaserver {
  private readonly cfg: z.output<typeof MetaserverConfigSchema>;
  private readonly watches = new Set<WatchStream>();
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;
  private readonly metrics: { requests: Counter; watches: Gauge };

  constructor(
    config: MetaserverConfig,
    private readonly deps: MetaserverDeps,
  ) {
    const r = MetaserverConfigSchema.safeParse(config);
    if (!r.success)
      throw new ConfigError(
        'invalid metaserver config',
        r.error.issues.map((i) => `api.metaserver.${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = r.data;
    this.now = deps.now ?? Date.now;
    const registers = deps.registry === undefined ? [] : [deps.registry];
    this.metrics = {
      requests: new Counter({
        name: 'tether_edge_metaserver_requests_total',
        help: 'Requests to the edge metaserver, by verb, resource and HTTP code',
        labelNames: ['verb', 'resource', 'code'],
        registers,
      }),
      watches: new Gauge({
        name: 'tether_edge_metaserver_watches',
        help: 'Open watches on the edge metaserver',
        registers,
        collect: () => {
          this.metrics.watches.set(this.watches.size);
        },
      }),
    };
  }

  /** Subscribes to the store's change feed (live events for open watches). */
  start(): void {
    if (this.unsubscribe !== undefined) return;
    this.unsubscribe = this.deps.store.onViewChange((c) => {
      for (const w of this.watches)
        if (w.resource.group === c.group && w.resource.kind === c.kind) w.deliver(c);
    });
  }

  /** Ends every open watch (clients see a clean end of stream and re-watch elsewhere/later). */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const w of [...this.watches]) w.end();
    this.watches.clear();
  }

  get openWatches(): number {
    return this.watches.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    let verb = 'other';
    let resource = '';
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(
          405,
          'MethodNotAllowed',
          `the edge metaserver is read-only: ${req.method ?? '?'} is not allowed; write through the cloud's Kubernetes API`,
        );
      const route = this.route(url.pathname);
      if (route.type === 'doc') {
        verb = 'discovery';
        this.send(res, 200, route.body);
        this.count(verb, resource, 200);
        return;
      }
      resource = route.resource.plural;
      const q = parseQuery(url.searchParams, route.resource, req.headers.accept);
      if (route.watch || q.watch) {
        verb = 'watch';
        this.watch(req, res, route, q);
        this.count(verb, resource, 200);
        return;
      }
      verb = route.type === 'object' ? 'get' : 'list';
      const body = route.type === 'object' ? this.get(route, q) : this.list(route, q);
      this.send(res, 200, body);
      this.count(verb, resource, 200);
    } catch (e) {
      if (e instanceof HttpError) {
        this.send(res, e.status, statusBody(e.status, e.reason, e.message, e.details));
        this.count(verb, resource, e.status);
        return;
      }
      // The store closed under us (agent stopping) or failed: an answer, not a crash.
      this.deps.logger.warn({ err: errorMessage(e), url: req.url }, 'metaserver request failed');
      this.send(
        res,
        503,
        statusBody(503, 'ServiceUnavailable', `edge store unavailable: ${errorMessage(e)}`),
      );
      this.count(verb, resource, 503);
    }
  }

  private count(verb: string, resource: string, code: number): void {
    this.metrics.requests.inc({ verb, resource, code: String(code) });
  }

  private send(res: ServerResponse, status: number, body: Body): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  // ── routing ────────────────────────────────────────────────────────────────────────────

  private route(pathname: string): Route {
    let segs: string[];
    try {
      segs = pathname
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      throw badRequest(`malformed path ${pathname}`);
    }
    const notFound = new HttpError(404, 'NotFound', 'the server could not find the requested resource');
    const [root, ...rest] = segs;
    if (root === 'version' && rest.length === 0) return { type: 'doc', body: { ...METASERVER_VERSION } };
    let group: string;
    let version: string;
    let tail: string[];
    if (root === 'api') {
      if (rest.length === 0) return { type: 'doc', body: apiVersions() };
      [version = '', ...tail] = rest;
      group = '';
    } else if (root === 'apis') {
      if (rest.length === 0) return { type: 'doc', body: apiGroupList() };
      const [g = '', v, ...t] = rest;
      if (v === undefined) {
        const doc = apiGroup(g);
        if (doc === undefined) throw notFound;
        return { type: 'doc', body: doc };
      }
      group = g;
      version = v;
      tail = t;
    } else {
      throw notFound;
    }
    if (tail.length === 0) {
      const doc = apiResourceList(group, version);
      if (doc === undefined) throw notFound;
      return { type: 'doc', body: doc };
    }
    let watch = false;
    if (tail[0] === 'watch') {
      // the legacy /api/v1/watch/... form some older clients still use
      watch = true;
      tail = tail.slice(1);
    }
    let namespace: string | undefined;
    if (tail[0] === 'namespaces' && tail.length >= 3) {
      namespace = tail[1];
      tail = tail.slice(2);
    }
    const [plural = '', name, sub, ...more] = tail;
    const resource = findResource(group, version, plural);
    if (resource === undefined) throw notFound;
    if (namespace !== undefined && !resource.namespaced) throw notFound;
    if (name === undefined) return { type: 'collection', resource, namespace, watch };
    // a namespaced object is addressed through its namespace, as in the API server
    if (resource.namespaced && namespace === undefined) throw notFound;
    if (more.length > 0 || (sub !== undefined && sub !== 'status'))
      throw new HttpError(
        404,
        'NotFound',
        `the edge metaserver does not serve the ${sub ?? ''} subresource of ${plural}; use the cloud's API`,
      );
    return { type: 'object', resource, namespace, name, watch };
  }

  // ── get / list ─────────────────────────────────────────────────────────────────────────

  private held(resource: ResourceType, namespace: string | undefined): StoredObject[] {
    return this.deps.store.listView({
      group: resource.group,
      kind: resource.kind,
      ...(namespace === undefined ? {} : { namespace }),
    });
  }

  private get(route: Extract<Route, { type: 'object' }>, q: Query): Body {
    const r = route.resource;
    const found = this.held(r, route.namespace).find((s) => s.key.name === route.name);
    if (found === undefined)
      throw new HttpError(
        404,
        'NotFound',
        `${r.plural}${r.group === '' ? '' : `.${r.group}`} "${route.name}" not found`,
        {
          name: route.name,
          group: r.group,
          kind: r.plural,
        },
      );
    const obj = present(r, found.object, found.localRev);
    return q.table === undefined
      ? obj
      : this.table(r, [obj], String(this.deps.store.revision), q.table, true);
  }

  private list(route: Extract<Route, { type: 'collection' }>, q: Query): Body {
    const r = route.resource;
    const revision = this.deps.store.revision;
    if (q.rv !== undefined && q.rv > revision)
      // as the API server: a list "not older than" a version the store has not reached yet
      throw new HttpError(
        504,
        'Timeout',
        `Too large resource version: ${q.rv}, current: ${revision} (resourceVersion here is the edge store's local revision)`,
      );
    if (q.rvMatch === 'Exact' && q.rv !== undefined && q.rv !== 0 && q.rv !== revision)
      throw new HttpError(
        410,
        'Expired',
        `too old resource version: ${q.rv} (${revision}): the edge metaserver serves only its current state`,
      );
    const items = this.held(r, route.namespace)
      .filter((s) => matches(r, s.object, q))
      .map((s) => present(r, s.object, s.localRev));
    if (q.table !== undefined) return this.table(r, items, String(revision), q.table, true);
    return {
      kind: `${r.kind}List`,
      apiVersion: groupVersion(r),
      metadata: { resourceVersion: String(revision) },
      items,
    };
  }

  /** A meta.k8s.io Table, what `kubectl get` prints (columns as the API server's printers). */
  table(r: ResourceType, objects: Body[], rv: string, t: TableRequest, withColumns: boolean): Body {
    const now = this.now();
    return {
      kind: 'Table',
      apiVersion: `meta.k8s.io/${t.version}`,
      metadata: { resourceVersion: rv },
      columnDefinitions: withColumns
        ? [
            { name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 },
            ...r.columns.filter((c) => (c.priority ?? 0) === 0).map(columnDef),
            { name: 'Age', type: 'string', format: '', description: 'Time since creation', priority: 0 },
            // as the API server's pod printer: wide-only columns (IP, NODE) come after AGE
            ...r.columns.filter((c) => (c.priority ?? 0) > 0).map(columnDef),
          ]
        : [],
      rows: objects.map((o) => {
        const meta = metadataOf(o as JsonObject);
        const created = Date.parse(
          typeof meta['creationTimestamp'] === 'string' ? meta['creationTimestamp'] : '',
        );
        return {
          cells: [
            meta['name'],
            ...r.columns.filter((c) => (c.priority ?? 0) === 0).map((c) => c.cell(o as JsonObject)),
            Number.isNaN(created) ? '<unknown>' : humanDuration(now - created),
            ...r.columns.filter((c) => (c.priority ?? 0) > 0).map((c) => c.cell(o as JsonObject)),
          ],
          ...(t.include === 'None'
            ? {}
            : {
                object:
                  t.include === 'Object'
                    ? o
                    : {
                        kind: 'PartialObjectMetadata',
                        apiVersion: `meta.k8s.io/${t.version}`,
                        metadata: meta,
                      },
              }),
        };
      }),
    };
  }

  // ── watch ──────────────────────────────────────────────────────────────────────────────

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    route: Exclude<Route, { type: 'doc' }>,
    q0: Query,
  ): void {
    if (this.watches.size >= this.cfg.maxWatches)
      throw new HttpError(
        429,
        'TooManyRequests',
        `too many open watches (${this.cfg.maxWatches}); retry later`,
      );
    // a watch on one object is a watch on its collection with a name field selector (as kubectl does)
    const q: Query =
      route.type === 'object'
        ? { ...q0, fields: [...q0.fields, { field: 'metadata.name', op: '=', value: route.name }] }
        : q0;
    const r = route.resource;
    const store = this.deps.store;
    const revision = store.revision;
    if (q.sendInitialEvents === true && (q.rvMatch !== 'NotOlderThan' || !q.bookmarks))
      throw badRequest(
        'sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true',
      );
    if (q.sendInitialEvents !== true && q.rvMatch !== undefined)
      throw badRequest('resourceVersionMatch is forbidden for watch unless sendInitialEvents is true');

    // Everything from here to `this.watches.add` is synchronous: the store's change listener
    // cannot run in between, so the replay and the live feed neither overlap nor leave a gap.
    let replay: LoggedChange[] | undefined;
    let expired: string | undefined;
    const initial = q.sendInitialEvents === true || q.rv === undefined || q.rv === 0;
    if (!initial) {
      if (q.rv > revision)
        expired = `too large resource version: ${q.rv}, current: ${revision}: the edge store was reset; relist`;
      else {
        replay = store.changesSince(q.rv, { group: r.group, kind: r.kind });
        if (replay === undefined)
          expired = `too old resource version: ${q.rv} (${store.oldestResumableRevision})`;
      }
    }
    const timeoutMs =
      q.timeoutSeconds !== undefined
        ? q.timeoutSeconds * 1000
        : this.cfg.minWatchTimeoutSeconds * (1 + Math.random()) * 1000;
    const w = new WatchStream(this, r, route.namespace, q, res, this.cfg.maxWatchBacklogBytes, () => {
      this.watches.delete(w);
    });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'transfer-encoding': 'chunked',
    });
    res.flushHeaders();
    if (expired !== undefined) {
      // As the API server: 200, then one ERROR event carrying a 410 Expired Status, then the end.
      // Informers (client-go, @kubernetes/client-node) relist on it.
      w.send('ERROR', statusBody(410, 'Expired', expired));
      w.end();
      return;
    }
    if (initial) {
      for (const s of this.held(r, route.namespace))
        if (matches(r, s.object, q)) w.send('ADDED', present(r, s.object, s.localRev));
      if (q.sendInitialEvents === true) w.bookmark(revision, true);
    } else {
      for (const c of replay ?? []) w.deliver(c);
    }
    this.watches.add(w);
    w.arm(timeoutMs, q.bookmarks ? this.cfg.bookmarkIntervalMs : undefined, () => store.revision);
    // the response's 'close' is the client going away (or our own end): release the watch
    res.on('close', () => {
      w.end();
    });
    // drain any request body so the request counts as complete (no request timeout applies)
    req.resume();
  }
}

/**
 * One open watch: turns store changes into the events the API server would send for this
 * collection and selector, including "stopped matching" as DELETED and "started matching" as
 * ADDED (so a client's cache equals a fresh list at the same revision).
 */
class WatchStream {
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private sentColumns = false;

  constructor(
    private readonly server: Metaserver,
    readonly resource: ResourceType,
    private readonly namespace: string | undefined,
    private readonly q: Query,
    private readonly res: ServerResponse,
    private readonly maxBacklog: number,
    private readonly onEnd: () => void,
  ) {}

  arm(timeoutMs: number, bookmarkMs: number | undefined, revision: () => number): void {
    if (this.ended) return;
    this.timer = setTimeout(() => {
      this.end();
    }, timeoutMs);
    if (bookmarkMs !== undefined)
      this.bookmarkTimer = setInterval(() => {
        this.bookmark(revision(), false);
      }, bookmarkMs);
  }

  private inScope(o: JsonObject | undefined): o is JsonObject {
    if (o === undefined) return false;
    if (this.namespace !== undefined && metadataOf(o)['namespace'] !== this.namespace) return false;
    return matches(this.resource, o, this.q);
  }

  deliver(c: LoggedChange): void {
    const r = this.resource;
    if (c.type === 'delete') {
      if (this.inScope(c.object)) this.send('DELETED', present(r, c.object, c.rev));
      return;
    }
    const prev = c.previous;
    const sameIncarnation = prev !== undefined && metadataOf(prev)['uid'] === metadataOf(c.object)['uid'];
    const was = this.inScope(prev);
    const is = this.inScope(c.object);
    if (!sameIncarnation) {
      // the cloud replaced the object (delete + create coalesced into one change): two events
      if (was) this.send('DELETED', present(r, prev, c.rev));
      if (is) this.send('ADDED', present(r, c.object, c.rev));
      return;
    }
    if (was && is) this.send('MODIFIED', present(r, c.object, c.rev));
    else if (is) this.send('ADDED', present(r, c.object, c.rev));
    else if (was) this.send('DELETED', present(r, c.object, c.rev));
  }

  bookmark(rev: number, initialEnd: boolean): void {
    if (!this.q.bookmarks) return;
    this.send('BOOKMARK', {
      kind: this.resource.kind,
      apiVersion: groupVersion(this.resource),
      metadata: {
        resourceVersion: String(rev),
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });
  }

  send(type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR', object: Body): void {
    if (this.ended || this.res.destroyed) return;
    let out = object;
    if (this.q.table !== undefined && type !== 'BOOKMARK' && type !== 'ERROR') {
      const rv = metadataOf(object as JsonObject)['resourceVersion'];
      out = this.server.table(
        this.resource,
        [object],
        typeof rv === 'string' ? rv : '',
        this.q.table,
        !this.sentColumns,
      );
      this.sentColumns = true;
    }
    this.res.write(`${JSON.stringify({ type, object: out })}\n`);
    // A reader that stopped reading is cut off rather than buffered without bound; it re-watches
    // from its last revision and the change log catches it up.
    if (this.res.writableLength > this.maxBacklog) this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.bookmarkTimer !== undefined) clearInterval(this.bookmarkTimer);
    this.onEnd();
    if (!this.res.destroyed) this.res.end();
  }
}

const columnDef = (c: Column): Body => ({
  name: c.name,
  type: c.type === 'date' ? 'string' : c.type,
  format: '',
  description: '',
  priority: c.priority ?? 0,
});

// ── helpers ────────────────────────────────────────────────────────────────────────────────

function matches(r: ResourceType, o: JsonObject, q: Query): boolean {
  const labels = metadataOf(o)['labels'];
  const l: Record<string, string> = {};
  if (typeof labels === 'object' && labels !== null)
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') l[k] = v;
  return matchLabels(q.labels, l) && matchFields(q.fields, (f) => fieldValue(r, o, f));
}

/** The object as served: apiVersion/kind set, metadata.resourceVersion = the local revision. */
function present(r: ResourceType, o: JsonObject, rev: number): Body {
  const meta = metadataOf(o);
  const cloudRv = meta['resourceVersion'];
  const annotations =
    typeof meta['annotations'] === 'object' && meta['annotations'] !== null ? meta['annotations'] : {};
  return {
    ...o,
    apiVersion: groupVersion(r),
    kind: r.kind,
    metadata: {
      ...meta,
      resourceVersion: String(rev),
      ...(typeof cloudRv === 'string'
        ? { annotations: { ...annotations, [CLOUD_RV_ANNOTATION]: cloudRv } }
        : {}),
    },
  };
}

const BOOL = new Map([
  ['true', true],
  ['1', true],
  ['false', false],
  ['0', false],
  ['', false],
]);

function parseQuery(p: URLSearchParams, r: ResourceType, accept: string | undefined): Query {
  const bool = (name: string): boolean | undefined => {
    const v = p.get(name);
    if (v === null) return undefined;
    const b = BOOL.get(v.toLowerCase());
    if (b === undefined) throw badRequest(`${name}=${v}: expected true or false`);
    return b;
  };
  const labels = parseLabelSelector(p.get('labelSelector') ?? '');
  if (!labels.ok) throw badRequest(labels.error);
  const fields = parseFieldSelector(p.get('fieldSelector') ?? '', supportedFields(r), r.kind);
  if (!fields.ok) throw badRequest(fields.error);
  const rvText = p.get('resourceVersion') ?? '';
  let rv: number | undefined;
  if (rvText !== '') {
    if (!/^\d{1,15}$/u.test(rvText))
      throw badRequest(
        `invalid resourceVersion "${rvText}": the edge metaserver's resourceVersions are its store's revisions (non-negative integers)`,
      );
    rv = Number(rvText);
  }
  const m = p.get('resourceVersionMatch') ?? '';
  if (m !== '' && m !== 'NotOlderThan' && m !== 'Exact')
    throw badRequest(`invalid resourceVersionMatch "${m}": expected NotOlderThan or Exact`);
  if (m !== '' && rvText === '' && p.get('sendInitialEvents') === null)
    throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  const t = p.get('timeoutSeconds');
  if (t !== null && !/^\d{1,9}$/u.test(t))
    throw badRequest(`invalid timeoutSeconds "${t}": expected a non-negative integer`);
  const limit = p.get('limit');
  if (limit !== null && !/^\d{1,15}$/u.test(limit))
    throw badRequest(`invalid limit "${limit}": expected a non-negative integer`);
  // Lists are answered whole (a server may ignore limit), so no continue token was ever issued.
  const cont = p.get('continue');
  if (cont !== null && cont !== '')
    throw badRequest('invalid continue token: the edge metaserver returns complete lists and issues none');
  const include = p.get('includeObject') ?? 'Metadata';
  if (include !== 'None' && include !== 'Metadata' && include !== 'Object')
    throw badRequest(`invalid includeObject "${include}": expected None, Metadata or Object`);
  const sie = bool('sendInitialEvents');
  return {
    labels: labels.value,
    fields: fields.value,
    rv,
    rvMatch: m === '' ? undefined : m,
    watch: bool('watch') ?? false,
    bookmarks: bool('allowWatchBookmarks') ?? false,
    timeoutSeconds: t === null ? undefined : Number(t),
    sendInitialEvents: sie,
    table: tableRequested(accept, include),
  };
}

/** kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io, …` and prints the Table. */
function tableRequested(
  accept: string | undefined,
  include: 'None' | 'Metadata' | 'Object',
): TableRequest | undefined {
  if (accept === undefined) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((kv) => {
          const [k = '', v = ''] = kv.split('=');
          return [k.trim(), v.trim()] as const;
        }),
    );
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') {
      const v = params.get('v');
      if (v === 'v1' || v === 'v1beta1') return { version: v, include };
    }
    // the first acceptable plain JSON wins over a later Table offer
    if (part.trim().startsWith('application/json') && !params.has('as')) return undefined;
  }
  return undefined;
}

/** Kubernetes' duration.HumanDuration, the AGE column's format. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const y = Math.floor(h / 24 / 365);
    const d = Math.floor(h / 24) - y * 365;
    return d === 0 ? `${y}y` : `${y}y${d}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}
