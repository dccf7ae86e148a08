/** Writing responses: objects, Status errors, Table conversion and content negotiation. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiError } from './errors.js';
import { isObject } from './meta.js';
import type { ResourceInfo } from './resources.js';
import type { JsonObject } from './storage/types.js';
import { toTable } from './table/index.js';

export type OutputForm =
  | { kind: 'object' }
  | { kind: 'table'; version: 'v1' | 'v1beta1'; includeObject: 'None' | 'Metadata' | 'Object' }
  | { kind: 'partial'; version: 'v1' | 'v1beta1' };

/** Picks the first representation in the Accept header we can produce (like upstream's negotiation). */
export function negotiate(req: IncomingMessage, query: URLSearchParams): OutputForm | undefined {
  const accept = req.headers.accept ?? '';
  if (accept.trim() === '') return { kind: 'object' };
  const include = query.get('includeObject');
  const includeObject = include === 'None' || include === 'Object' ? include : 'Metadata';
  for (const raw of accept.split(',')) {
    const parts = raw.split(';').map((p) => p.trim());
    const type = (parts[0] ?? '').toLowerCase();
    const params = new Map<string, string>();
    for (const p of parts.slice(1)) {
      const [k, v] = p.split('=');
      if (k !== undefined && v !== undefined) params.set(k.trim(), v.trim());
    }
    if (!['application/json', '*/*', 'application/*', 'application/yaml'].includes(type)) continue;
    const as = params.get('as');
    const g = params.get('g');
    const v = params.get('v');
    if (as === undefined) return { kind: 'object' };
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table') return { kind: 'table', version: v, includeObject };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList')
      return { kind: 'partial', version: v };
  }
  return undefined;
}

export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  warnings: readonly string[] = [],
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(status, headers);
  res.end(text);
}

export function writeError(res: ServerResponse, e: ApiError, warnings: readonly string[] = []): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  writeJson(res, e.status, e.toStatus(), warnings);
}

export function writeText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function partial(o: JsonObject, version: string): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o['metadata'] };
}

/** Converts a single object (or list items) into the negotiated form. */
export function render(
  r: ResourceInfo,
  form: OutputForm,
  objects: JsonObject[],
  list: { listMeta: JsonObject } | undefined,
): JsonObject {
  switch (form.kind) {
    case 'object':
      if (list === undefined) return objects[0] ?? {};
      return {
        kind: `${r.kind}List`,
        apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`,
        metadata: list.listMeta,
        // Typed lists upstream carry no per-item apiVersion/kind; unstructured (CR) lists do.
        items:
          r.custom === undefined ? objects.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : objects,
      };
    case 'partial':
      if (list === undefined) return partial(objects[0] ?? {}, form.version);
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${form.version}`,
        metadata: list.listMeta,
        items: objects.map((o) => partial(o, form.version)),
      };
    case 'table': {
      const lm = list?.listMeta ?? {};
      const t = toTable(
        { group: r.group, version: r.version, kind: r.kind, resource: r.resource },
        objects,
        {
          includeObject: form.includeObject,
          ...(r.custom?.printerColumns === undefined ? {} : { printerColumns: r.custom.printerColumns }),
        },
        {
          ...(typeof lm['resourceVersion'] === 'string' ? { resourceVersion: lm['resourceVersion'] } : {}),
          ...(typeof lm['continue'] === 'string' ? { continue: lm['continue'] } : {}),
          ...(typeof lm['remainingItemCount'] === 'number'
            ? { remainingItemCount: lm['remainingItemCount'] }
            : {}),
        },
      );
      if (!Array.isArray(t['columnDefinitions']) || t['columnDefinitions'].length === 0)
        fallbackTable(t, objects, form.includeObject);
      if (form.version === 'v1beta1') t['apiVersion'] = 'meta.k8s.io/v1beta1';
      if (list === undefined && isObject(objects[0])) {
        const md = isObject(t['metadata']) ? t['metadata'] : {};
        const om = objects[0]['metadata'];
        if (isObject(om) && typeof om['resourceVersion'] === 'string')
          md['resourceVersion'] = om['resourceVersion'];
        t['metadata'] = md;
      }
      return t;
    }
  }
}

/** Upstream's default table convertor (NAME, CREATED AT) for kinds without printers. */
function fallbackTable(
  t: JsonObject,
  objects: JsonObject[],
  includeObject: 'None' | 'Metadata' | 'Object',
): void {
  t['columnDefinitions'] = [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    {
      name: 'Created At',
      type: 'date',
      format: '',
      description:
        'CreationTimestamp is a timestamp representing the server time when this object was created.',
      priority: 0,
    },
  ];
  t['rows'] = objects.map((o) => {
    const m = isObject(o['metadata']) ? o['metadata'] : {};
    const row: JsonObject = { cells: [m['name'], m['creationTimestamp']] };
    if (includeObject === 'Object') row['object'] = o;
    else if (includeObject === 'Metadata') row['object'] = partial(o, 'v1');
    return row;
  });
}
