import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TetherError } from './errors.js';

/**
 * Raw JSON requests to a Kubernetes API server with a client-node KubeConfig's credentials
 * (structurally typed: common imports no client-node). Objects stay the JSON the server sent —
 * RFC 3339 strings, no model classes — the same shape as watch events, and no per-field
 * ObjectSerializer pass, which on a 10,000-Node list is most of a cloud restart (issue 12).
 */
export interface RawKubeConfig {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: object): Promise<void>;
}

/** A non-2xx answer of the API server, or a transport failure (`status` 0). */
export class KubeApiError extends TetherError {
  readonly code = 'KUBE_API';
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message, options);
    this.detail = options?.detail ?? message;
  }
  /** The server's own message (Status.message), or the transport error; without method and path. */
  readonly detail: string;
}

/** One raw JSON request; throws KubeApiError on a non-2xx answer or a transport failure. */
export async function kubeRequest(
  kc: RawKubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new KubeApiError('kubeconfig has no current cluster', 0);
  const url = new URL(path, cluster.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const opts: RequestOptions = {
    method,
    headers: {
      Accept: 'application/json',
      ...(payload !== undefined
        ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) }
        : {}),
    },
  };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  if (url.protocol === 'http:') delete opts.agent;
  return new Promise((resolve, reject) => {
    const req = send(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => {
        reject(new KubeApiError(`${method} ${path}: ${e.message}`, 0, { cause: e }));
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let parsed: unknown = undefined;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        if (status >= 200 && status < 300) resolve(parsed);
        else {
          const msg =
            typeof parsed === 'object' && parsed !== null && 'message' in parsed
              ? String(parsed.message)
              : text.slice(0, 200);
          reject(
            new KubeApiError(`${method} ${path}: HTTP ${String(status)}: ${msg}`, status, { detail: msg }),
          );
        }
      });
    });
    req.on('error', (e) => {
      reject(new KubeApiError(`${method} ${path}: ${e.message}`, 0, { cause: e }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('request timed out')));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A list as the server sent it: its items (raw JSON objects) and its resourceVersion. */
export interface RawList {
  items: unknown[];
  metadata: { resourceVersion?: string };
}

/**
 * A whole collection, fetched in pages of `pageSize` (limit/continue, as client-go's pager does:
 * a 10,000-Node answer in one piece is one ~30 MB string) and kept as raw JSON; the list's
 * resourceVersion is the last page's, where a watch of the collection starts.
 */
export async function listRaw(kc: RawKubeConfig, path: string, pageSize = 500): Promise<RawList> {
  const items: unknown[] = [];
  let cont = '';
  let rv: string | undefined;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page = (await kubeRequest(
      kc,
      'GET',
      `${path}${sep}limit=${String(pageSize)}${cont === '' ? '' : `&continue=${encodeURIComponent(cont)}`}`,
    )) as
      { items?: unknown[] | null; metadata?: { resourceVersion?: string; continue?: string } } | undefined;
    for (const i of page?.items ?? []) items.push(i);
    rv = page?.metadata?.resourceVersion ?? rv;
    cont = page?.metadata?.continue ?? '';
    if (cont === '') break;
  }
  return { items, metadata: rv === undefined ? {} : { resourceVersion: rv } };
}
