/**
 * pods/log, pods/exec, pods/attach and pods/portforward, proxied to the node's kubelet
 * endpoint as kube-apiserver does: the node's address (InternalIP, then Hostname, then
 * ExternalIP) and status.daemonEndpoints.kubeletEndpoint.Port, over TLS with the API
 * server's kubelet client certificate. Kubelet serving certificates are not verified,
 * like upstream without --kubelet-certificate-authority.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ApiError, Errors } from '../errors.js';
import { isObject, str } from '../meta.js';
import { writeError } from '../respond.js';
import type { ResourceInfo, Verb } from '../resources.js';
import type { ObjectStore } from '../store.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import type { HandlerContext } from './context.js';

export interface KubeletClient {
  certPem: string;
  keyPem: string;
  /** Every kubelet connection goes here instead of the node's address (config kubeletProxy). */
  proxy?: { host: string; port: number } | undefined;
}

/** The node's kubelet, or the configured proxy in its place. */
export function dialTarget(t: KubeletTarget, client: KubeletClient): KubeletTarget {
  return client.proxy === undefined ? t : { ...t, host: client.proxy.host, port: client.proxy.port };
}

export interface KubeletTarget {
  host: string;
  port: number;
  container: string;
}

const ADDRESS_ORDER = ['InternalIP', 'Hostname', 'ExternalIP', 'InternalDNS', 'ExternalDNS'];

/** Where a pod's kubelet is, and which container a request means. */
export function kubeletTarget(
  store: ObjectStore,
  pods: ResourceInfo,
  nodes: ResourceInfo,
  namespace: string,
  name: string,
  container: string | null,
): Result<KubeletTarget, ApiError> {
  const got = store.get(pods, namespace, name);
  if (!got.ok) return got;
  const pod = got.value.value;
  const spec = isObject(pod['spec']) ? pod['spec'] : {};
  const containers = (Array.isArray(spec['containers']) ? spec['containers'] : [])
    .filter(isObject)
    .map((c) => str(c['name']) ?? '');
  const inits = (Array.isArray(spec['initContainers']) ? spec['initContainers'] : [])
    .filter(isObject)
    .map((c) => str(c['name']) ?? '');
  // podutil.VisitContainers: ephemeral containers (kubectl debug) are valid targets too.
  const ephemeral = (Array.isArray(spec['ephemeralContainers']) ? spec['ephemeralContainers'] : [])
    .filter(isObject)
    .map((c) => str(c['name']) ?? '');
  let c = container ?? '';
  if (c === '') {
    if (containers.length !== 1)
      return err(
        Errors.badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
        ),
      );
    c = containers[0] ?? '';
  } else if (!containers.includes(c) && !inits.includes(c) && !ephemeral.includes(c)) {
    return err(Errors.badRequest(`container ${c} is not valid for pod ${name}`));
  }
  const nodeName = str(spec['nodeName']) ?? '';
  if (nodeName === '') return err(Errors.badRequest(`pod ${name} does not have a host assigned`));
  const k = nodeKubelet(store, nodes, nodeName);
  return k.ok ? ok({ ...k.value, container: c }) : k;
}

/** A node's kubelet address (ADDRESS_ORDER) and port (status.daemonEndpoints.kubeletEndpoint). */
export function nodeKubelet(
  store: ObjectStore,
  nodes: ResourceInfo,
  nodeName: string,
): Result<{ host: string; port: number }, ApiError> {
  const node = store.get(nodes, undefined, nodeName);
  if (!node.ok) return err(Errors.notFound('nodes', '', nodeName));
  const status = isObject(node.value.value['status']) ? node.value.value['status'] : {};
  const rawAddrs: unknown[] = Array.isArray(status['addresses']) ? status['addresses'] : [];
  const addrs: JsonObject[] = rawAddrs.filter(isObject);
  let host: string | undefined;
  for (const t of ADDRESS_ORDER) {
    host = str(addrs.find((a) => a['type'] === t)?.['address']);
    if (host !== undefined && host !== '') break;
  }
  const de = isObject(status['daemonEndpoints']) ? status['daemonEndpoints'] : {};
  const ke = isObject(de['kubeletEndpoint']) ? de['kubeletEndpoint'] : {};
  const port = typeof ke['Port'] === 'number' ? ke['Port'] : 10250;
  if (host === undefined || host === '')
    return err(Errors.badRequest(`node ${nodeName} has no address to reach its kubelet`));
  return ok({ host, port });
}

/** `/api/v1/nodes/{name}/proxy[/{path}]` → the node part and the kubelet path, else undefined. */
export function parseNodeProxyPath(pathname: string): { node: string; path: string } | undefined {
  const m = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(pathname);
  if (m?.[1] === undefined) return undefined;
  return { node: m[1], path: m[2] ?? '/' };
}

/** The RBAC verb of a proxy request (apiserver RequestInfoFactory: by HTTP method, never list/watch). */
export function nodeProxyVerb(method: string): Verb {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the caller's credentials never go to the kubelet. */
const DROP_HEADERS = new Set([
  'authorization',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'impersonate-user',
  'impersonate-group',
]);

/**
 * nodes/proxy (monitoring: Prometheus' kubernetes_sd node role scrapes
 * `/api/v1/nodes/<node>/proxy/metrics`): the request goes to the node's kubelet (or kubeletProxy)
 * with the kubelet client certificate, as kube-apiserver's node ProxyREST does. The node part is
 * `[scheme:]name[:port]`; a port overrides the kubelet port. Like upstream's proxy Transport
 * the request carries X-Forwarded-Uri `/api/v1/nodes/<node>/proxy/<path>`, which is how the cloud
 * endpoint (shared by all edges) tells which node is meant. The kubelet's answer passes through.
 */
export function handleNodeProxy(
  req: IncomingMessage,
  res: ServerResponse,
  store: ObjectStore,
  nodes: ResourceInfo,
  target: { node: string; path: string; query: string },
  client: KubeletClient,
): void {
  const id = decodeURIComponent(target.node);
  const parts = id.split(':');
  const name = (parts.length === 3 ? parts[1] : parts[0]) ?? '';
  const portPart = parts.length === 3 ? parts[2] : parts.length === 2 ? parts[1] : undefined;
  const port = portPart === undefined || portPart === '' ? undefined : Number(portPart);
  if (
    parts.length > 3 ||
    name === '' ||
    (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
  ) {
    req.resume();
    writeError(res, Errors.badRequest(`invalid node name or port: ${id}`));
    return;
  }
  const k = nodeKubelet(store, nodes, name);
  if (!k.ok) {
    req.resume();
    writeError(res, k.error);
    return;
  }
  const node = { host: k.value.host, port: port ?? k.value.port };
  const dial = dialTarget({ ...node, container: '' }, client);
  const headers: Record<string, string | string[]> = {};
  for (const [h, v] of Object.entries(req.headers))
    if (v !== undefined && !DROP_HEADERS.has(h) && !h.startsWith('x-forwarded-')) headers[h] = v;
  // the kubelet sees the node's own address as Host, as when it is dialled directly
  headers['host'] = `${node.host.includes(':') ? `[${node.host}]` : node.host}:${String(node.port)}`;
  headers['x-forwarded-uri'] = `/api/v1/nodes/${target.node}/proxy${target.path}`;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'https';
  const up = httpsRequest(
    {
      host: dial.host,
      port: dial.port,
      method: req.method ?? 'GET',
      path: `${target.path}${target.query === '' ? '' : `?${target.query}`}`,
      headers,
      cert: client.certPem,
      key: client.keyPem,
      rejectUnauthorized: false,
      servername: /^[\d.:]+$/.test(dial.host) ? '' : dial.host,
    },
    (kres) => {
      const out: Record<string, string | string[]> = {};
      for (const [h, v] of Object.entries(kres.headers))
        if (v !== undefined && !DROP_HEADERS.has(h) && h !== 'content-length') out[h] = v;
      res.writeHead(kres.statusCode ?? 502, out);
      kres.pipe(res);
    },
  );
  up.on('error', (e) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    writeError(res, new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${e.message}`));
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
}

const LOG_PARAMS = [
  'follow',
  'previous',
  'sinceSeconds',
  'sinceTime',
  'timestamps',
  'tailLines',
  'limitBytes',
];

export function handleLog(ctx: HandlerContext, nodes: ResourceInfo, client: KubeletClient): void {
  ctx.req.resume();
  const t = kubeletTarget(
    ctx.store,
    ctx.r,
    nodes,
    ctx.info.namespace,
    ctx.info.name,
    ctx.query.get('container'),
  );
  if (!t.ok) {
    writeError(ctx.res, t.error);
    return;
  }
  const q = new URLSearchParams();
  for (const k of LOG_PARAMS) {
    const v = ctx.query.get(k);
    if (v !== null) q.set(k, v);
  }
  const { host, port, container } = dialTarget(t.value, client);
  const path = `/containerLogs/${encodeURIComponent(ctx.info.namespace)}/${encodeURIComponent(ctx.info.name)}/${encodeURIComponent(container)}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const up = httpsRequest(
    {
      host,
      port,
      path,
      method: 'GET',
      cert: client.certPem,
      key: client.keyPem,
      rejectUnauthorized: false,
      servername: /^[\d.:]+$/.test(host) ? '' : host,
    },
    (res) => {
      const status = res.statusCode ?? 502;
      if (status < 200 || status > 206) {
        // As kube-apiserver's GenericHttpResponseChecker: the kubelet's text becomes a Status.
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 4096) text += d;
        });
        res.on('end', () => {
          const msg = text.trim();
          writeError(
            ctx.res,
            status === 400
              ? Errors.badRequest(msg)
              : status === 500
                ? Errors.internal(msg)
                : new ApiError(status, status === 404 ? 'NotFound' : 'InternalError', msg),
          );
        });
        return;
      }
      ctx.res.writeHead(status, {
        'Content-Type': res.headers['content-type'] ?? 'text/plain',
        'Transfer-Encoding': 'chunked',
      });
      res.pipe(ctx.res);
    },
  );
  up.on('error', (e) => {
    writeError(ctx.res, Errors.internal(`error dialing backend: ${e.message}`));
  });
  ctx.res.on('close', () => up.destroy());
  up.end();
}

/** Raw proxy of an upgrade request (SPDY or WebSocket streaming) to the kubelet. */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: KubeletTarget,
  kubeletPath: string,
  client: KubeletClient,
  onError: (e: ApiError) => void,
): void {
  target = dialTarget(target, client);
  const up = tlsConnect({
    host: target.host,
    port: target.port,
    cert: client.certPem,
    key: client.keyPem,
    rejectUnauthorized: false,
    ...(/^[\d.:]+$/.test(target.host) ? {} : { servername: target.host }),
  });
  up.once('secureConnect', () => {
    const lines = [`${req.method ?? 'GET'} ${kubeletPath} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i] ?? '';
      // The client's credentials are for us, not for the kubelet.
      if (k.toLowerCase() === 'authorization' || k.toLowerCase() === 'host') continue;
      lines.push(`${k}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    lines.push(`Host: ${target.host}:${target.port}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.on('error', (e: Error) => {
    onError(Errors.internal(`error dialing backend: ${e.message}`));
    socket.destroy();
  });
  socket.on('error', () => up.destroy());
  socket.on('close', () => up.destroy());
}
