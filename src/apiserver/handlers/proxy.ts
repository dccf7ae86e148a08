/**
 * pods/log, pods/exec, pods/attach and pods/portforward, proxied to the node's kubelet
 * endpoint as kube-apiserver does: the node's address (InternalIP, then Hostname, then
 * ExternalIP) and status.daemonEndpoints.kubeletEndpoint.Port, over TLS with the API
 * server's kubelet client certificate. Kubelet serving certificates are not verified,
 * like upstream without --kubelet-certificate-authority.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ApiError, Errors } from '../errors.js';
import { isObject, str } from '../meta.js';
import { writeError } from '../respond.js';
import type { ResourceInfo } from '../resources.js';
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
  let c = container ?? '';
  if (c === '') {
    if (containers.length !== 1)
      return err(
        Errors.badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
        ),
      );
    c = containers[0] ?? '';
  } else if (!containers.includes(c) && !inits.includes(c)) {
    return err(Errors.badRequest(`container ${c} is not valid for pod ${name}`));
  }
  const nodeName = str(spec['nodeName']) ?? '';
  if (nodeName === '') return err(Errors.badRequest(`pod ${name} does not have a host assigned`));
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
  return ok({ host, port, container: c });
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
