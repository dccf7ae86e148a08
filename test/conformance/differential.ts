// Runner of the differential corpus: sends each case's steps to a server, keeps the raw
// responses for templates, and normalises them so two servers' answers can be compared.
import https from 'node:https';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { Case, KnownDifference, Step } from './corpus.js';

export interface Response {
  readonly status: number;
  /** Media type without parameters, e.g. application/json. */
  readonly contentType: string;
  /** Parsed JSON, or the text when the body is not JSON. */
  readonly body: unknown;
}

export interface StepResult {
  /** `case/step` */
  readonly key: string;
  readonly step: Step;
  readonly response: Response;
}

/** Sends raw requests with the kubeconfig's credentials (token or client cert) and CA. */
export class RawClient {
  private constructor(
    private readonly server: URL,
    private readonly options: https.RequestOptions,
  ) {}

  static async fromKubeconfig(kubeconfigPath: string): Promise<RawClient> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`${kubeconfigPath}: no current cluster`);
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    return new RawClient(new URL(cluster.server), options);
  }

  request(
    method: string,
    path: string,
    body?: string | Buffer,
    contentType?: string,
    accept = 'application/json',
  ): Promise<Response> {
    const url = new URL(path, this.server);
    // applyToHTTPSOptions sets headers as a plain object (the bearer token); copy it.
    const base = this.options.headers;
    const headers: http.OutgoingHttpHeaders = {
      ...(base !== undefined && !Array.isArray(base) ? (base as http.OutgoingHttpHeaders) : {}),
      Accept: accept,
    };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { ...this.options, method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // A watch stream is one JSON event per line; anything else stays text.
            try {
              parsed = text
                .split('\n')
                .filter((l) => l.trim() !== '')
                .map((l) => JSON.parse(l) as unknown);
            } catch {
              // not JSON: keep the text, the comparison shows it
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            contentType: (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '',
            body: parsed,
          });
        });
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/**
 * The namespace a case runs in: the same name on every server within one run, so responses
 * compare, and a new one per run, so a reused server (whose namespaces take a while to
 * finish deleting) never sees the last run's leftovers. `run` is erased by normalise().
 */
export function caseNamespace(c: Case, run: string): string {
  return `diff-${run}-${c.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

/** A fresh run id: short, DNS-label safe. */
export function newRunId(): string {
  return Math.random().toString(36).slice(2, 8).padEnd(6, '0');
}

interface Vars {
  readonly ns: string;
  readonly run: string;
}

function lookup(results: ReadonlyMap<string, Response>, ref: string): string {
  const [stepId, ...fields] = ref.split('.');
  const res = results.get(stepId ?? '');
  if (res === undefined) throw new Error(`template {{${ref}}}: no earlier step "${stepId ?? ''}"`);
  let v: unknown = res.body;
  for (const f of fields) {
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[f] : undefined;
  }
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

export function expand(
  template: string,
  vars: Vars,
  results: ReadonlyMap<string, Response>,
  encode: (s: string) => string = (s) => s,
): string {
  return template.replace(/\{\{([^}]+)\}\}/g, (_m, ref: string) =>
    ref === 'ns' ? vars.ns : ref === 'run' ? vars.run : encode(lookup(results, ref)),
  );
}

function expandDeep(v: unknown, vars: Vars, results: ReadonlyMap<string, Response>): unknown {
  if (typeof v === 'string') return expand(v, vars, results);
  if (Array.isArray(v)) return v.map((x) => expandDeep(x, vars, results));
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandDeep(x, vars, results)]));
  }
  return v;
}

/** Runs one case on one server; creates and removes its namespace around it. */
export async function runCase(
  client: RawClient,
  c: Case,
  run: string,
  /** For steps with `as: 'cloud'`: the cloud core's identity (group tether:cloud). */
  cloud?: RawClient,
): Promise<StepResult[]> {
  const ns = caseNamespace(c, run);
  const vars: Vars = { ns, run };
  const own = c.namespace !== false;
  if (own) {
    const r = await client.request(
      'POST',
      '/api/v1/namespaces',
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
    );
    if (r.status !== 201) throw new Error(`creating namespace ${ns}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const raw = new Map<string, Response>();
  const out: StepResult[] = [];
  const send = async (step: Omit<Step, 'status'>): Promise<Response> => {
    const path = expand(step.path, vars, raw, encodeURIComponent);
    const body =
      step.binaryBody === undefined
        ? (step.rawBody ?? (step.body === undefined ? undefined : JSON.stringify(expandDeep(step.body, vars, raw))))
        : Buffer.from(step.binaryBody, 'base64');
    const contentType =
      step.contentType ?? (step.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
    const who = step.as === 'cloud' ? cloud : client;
    if (who === undefined) throw new Error(`${c.name}/${step.id}: no client for the cloud identity`);
    const response = await who.request(step.method, path, body, contentType, step.accept);
    // A watch that delivered exactly one event parses as one JSON value: make it a list too.
    if (step.watch === true && !Array.isArray(response.body) && typeof response.body === 'object') {
      return { ...response, body: [response.body] };
    }
    return response;
  };
  try {
    for (const step of c.setup ?? []) {
      const r = await send(step);
      if (!(r.status >= 200 && r.status < 300) && r.status !== 409) {
        throw new Error(`${c.name} setup ${step.id}: ${r.status} ${JSON.stringify(r.body)}`);
      }
      raw.set(step.id, r);
    }
    for (const step of c.steps) {
      let response = await send(step);
      const deadline = Date.now() + 20_000;
      const done = (r: Response): boolean =>
        r.status === step.status && (step.until === undefined || step.until(r.body));
      while (step.retry === true && !done(response) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        response = await send(step);
      }
      raw.set(step.id, response);
      const compared = step.project === undefined ? response : { ...response, body: step.project(response.body) };
      out.push({ key: `${c.name}/${step.id}`, step, response: compared });
    }
  } finally {
    for (const step of c.cleanup ?? []) await send(step).catch(() => undefined);
    if (own) await client.request('DELETE', `/api/v1/namespaces/${ns}`);
  }
  return out;
}

// ------------------------------------------------------------------ normalisation

/** Fields whose values are per-server by nature; replaced by a marker that says "present". */
const VOLATILE_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'selfLink'];

/**
 * A response with what legitimately differs between two servers replaced: uids,
 * timestamps, resourceVersions, continue tokens and generated name suffixes become
 * markers (so presence still compares), managedFields are dropped (optional upstream too).
 */
export function normalise(v: unknown, run: string, parentKey = ''): unknown {
  if (typeof v === 'string') return run === '' ? v : v.split(run).join('<run>');
  if (Array.isArray(v)) return v.map((x) => normalise(x, run, parentKey));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  const obj = v as Record<string, unknown>;
  if (obj.kind === 'Table' && Array.isArray(obj.columnDefinitions) && Array.isArray(obj.rows)) {
    return normaliseTable(obj, run);
  }
  for (const [k, x] of Object.entries(obj)) {
    if (k === 'managedFields') continue;
    if (parentKey === 'metadata' || parentKey === 'details') {
      if (VOLATILE_METADATA.includes(k)) {
        out[k] = x === undefined || x === '' ? x : `<${k}>`;
        continue;
      }
      if (k === 'continue') {
        out[k] = x === '' ? '' : '<continue>';
        continue;
      }
      if (k === 'name' && typeof x === 'string' && typeof obj.generateName === 'string') {
        out[k] = x.startsWith(obj.generateName) ? `${obj.generateName}<generated>` : x;
        continue;
      }
    }
    // Allocated from the service range at random: presence and family compare, not the value.
    if (k === 'clusterIP' && typeof x === 'string' && x !== 'None' && x !== '') {
      out[k] = x.includes(':') ? '<ipv6>' : '<ipv4>';
      continue;
    }
    if (k === 'clusterIPs' && Array.isArray(x)) {
      out[k] = (x as unknown[]).map((ip) =>
        ip === 'None' ? ip : typeof ip === 'string' && ip.includes(':') ? '<ipv6>' : '<ipv4>',
      );
      continue;
    }
    // Allocated from the node-port range at random upstream (sequentially embedded): presence compares.
    if (k === 'nodePort' && typeof x === 'number') {
      out[k] = '<nodePort>';
      continue;
    }
    // Lease and event times are server clock readings too.
    if (k === 'time' || k === 'lastTransitionTime') {
      out[k] = typeof x === 'string' ? `<${k}>` : x;
      continue;
    }
    out[k] = normalise(x, run, k);
  }
  return out;
}

/** A Table's Age cells are "now minus creationTimestamp": a clock reading, masked like one. */
function normaliseTable(table: Record<string, unknown>, run: string): unknown {
  const columns = table.columnDefinitions as { name?: unknown }[];
  const ageAt = new Set(columns.flatMap((c, i) => (c.name === 'Age' ? [i] : [])));
  const rows = (table.rows as unknown[]).map((row) => {
    if (typeof row !== 'object' || row === null) return row;
    const r = row as Record<string, unknown>;
    if (!Array.isArray(r.cells)) return row;
    return { ...r, cells: r.cells.map((c: unknown, i) => (ageAt.has(i) ? '<age>' : c)) };
  });
  const { rows: _rows, ...rest } = table;
  return { ...(normalise(rest, run) as Record<string, unknown>), rows: normalise(rows, run) };
}

export interface Difference {
  readonly key: string;
  readonly path: string;
  readonly upstream: unknown;
  readonly embedded: unknown;
}

/** Leaf-level differences between two normalised values, with JSON-ish paths. */
export function diff(key: string, a: unknown, b: unknown, path = ''): Difference[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    if (Array.isArray(a) !== Array.isArray(b)) return [{ key, path, upstream: a, embedded: b }];
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    const out: Difference[] = [];
    for (const k of [...keys].sort()) {
      out.push(
        ...diff(
          key,
          (a as Record<string, unknown>)[k],
          (b as Record<string, unknown>)[k],
          Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`,
        ),
      );
    }
    return out;
  }
  return Object.is(a, b) ? [] : [{ key, path, upstream: a, embedded: b }];
}

/** Compares the two servers' results step by step: status, content type and normalised body. */
export function compareResults(
  upstream: readonly StepResult[],
  embedded: readonly StepResult[],
  run: string,
): Difference[] {
  const byKey = new Map(embedded.map((r) => [r.key, r]));
  const out: Difference[] = [];
  for (const u of upstream) {
    const e = byKey.get(u.key);
    if (e === undefined) {
      out.push({ key: u.key, path: '', upstream: 'ran', embedded: 'did not run' });
      continue;
    }
    out.push(...diff(u.key, u.response.status, e.response.status, 'status'));
    out.push(...diff(u.key, u.response.contentType, e.response.contentType, 'contentType'));
    out.push(...diff(u.key, normalise(u.response.body, run), normalise(e.response.body, run), 'body'));
  }
  return out;
}

function globToRegExp(glob: string, star: string): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join(star);
}

/**
 * The known difference covering `d`, if any. `step` is a `case/step` key where `*` matches
 * anything; `path` matches the difference's path or a subtree of it (`body` covers
 * `body.message`), where `*` matches one path segment or index (`body.items[*].kind`).
 */
export function isKnown(d: Difference, known: readonly KnownDifference[]): KnownDifference | undefined {
  return known.find((k) => {
    const path = new RegExp(`^${globToRegExp(k.path, '[^.\\[\\]]*')}($|[.[])`);
    return stepMatches(k, d.key) && path.test(d.path);
  });
}

export function stepMatches(k: KnownDifference, key: string): boolean {
  return new RegExp(`^${globToRegExp(k.step, '.*')}$`).test(key);
}

export function formatDifference(d: Difference): string {
  return `${d.key} ${d.path}: upstream=${JSON.stringify(d.upstream)} embedded=${JSON.stringify(d.embedded)}`;
}
