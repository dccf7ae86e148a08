import { assertNever, ProtocolError } from './errors.js';
import {
  isKind,
  METRICS_PATHS,
  NACK_REASONS,
  PROTOCOL_VERSION,
  QUERY_METHODS,
  STATUS_WRITE_TYPES,
  type Envelope,
  type Kind,
} from './envelope.js';

/**
 * Hand-written validators of a decoded envelope. Measured against zod 4 in bench/codec.ts:
 * validation runs on every frame (thousands per second per node), and these do no copying —
 * they check the decoded object in place and return it typed.
 *
 * What they rely on from `scanFrame`: the value contains only JSON types plus `bin`, maps have
 * string keys, numbers are finite, nesting is bounded. So a JSON payload (`object`, `payload`)
 * needs only an "is a plain object" check; binary outside `streamData.data` is caught by the
 * bin count (see `checkBins`).
 *
 * Unknown extra fields are ignored (forward compatible within v1): read only typed fields.
 */

type Obj = Record<string, unknown>;

/** Thrown inside validation only; `validateEnvelope` turns it into a value. */
class Invalid extends Error {
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(what);
  }
}

const MAX_ID = 128;
const MAX_NAME = 253; // DNS subdomain, the longest Kubernetes name
const MAX_SMALL_STRING = 1024;

const join = (path: string, field: string): string => (path === '' ? field : `${path}.${field}`);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function obj(o: Obj, f: string, path: string): Obj {
  const v = o[f];
  if (!isObj(v)) throw new Invalid(join(path, f), 'expected an object');
  return v;
}

function str(o: Obj, f: string, path: string, min: number, max: number): string {
  const v = o[f];
  if (typeof v !== 'string') throw new Invalid(join(path, f), 'expected a string');
  if (v.length < min || v.length > max)
    throw new Invalid(join(path, f), `length ${v.length} outside ${min}..${max}`);
  return v;
}

function optStr(o: Obj, f: string, path: string, min: number, max: number): void {
  if (o[f] !== undefined) str(o, f, path, min, max);
}

function int(o: Obj, f: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[f];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new Invalid(join(path, f), `expected an integer in ${min}..${max}`);
  return v;
}

function optInt(o: Obj, f: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (o[f] !== undefined) int(o, f, path, min, max);
}

function bool(o: Obj, f: string, path: string): void {
  if (typeof o[f] !== 'boolean') throw new Invalid(join(path, f), 'expected a boolean');
}

function oneOf<T extends string>(o: Obj, f: string, path: string, allowed: readonly T[]): T {
  const v = o[f];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new Invalid(join(path, f), `expected one of ${allowed.join('|')}`);
  return v as T;
}

function arr(o: Obj, f: string, path: string, min = 0): readonly unknown[] {
  const v = o[f];
  if (!Array.isArray(v)) throw new Invalid(join(path, f), 'expected an array');
  if (v.length < min) throw new Invalid(join(path, f), `expected at least ${min} entries`);
  return v;
}

function strArr(o: Obj, f: string, path: string, min: number): void {
  const a = arr(o, f, path, min);
  for (let i = 0; i < a.length; i++)
    if (typeof a[i] !== 'string') throw new Invalid(`${join(path, f)}[${i}]`, 'expected a string');
}

function key(o: Obj, f: string, path: string): void {
  const k = obj(o, f, path);
  const p = join(path, f);
  str(k, 'group', p, 0, MAX_NAME);
  str(k, 'version', p, 1, MAX_NAME);
  str(k, 'kind', p, 1, MAX_NAME);
  optStr(k, 'namespace', p, 0, MAX_NAME);
  str(k, 'name', p, 1, MAX_NAME);
}

const uidF = (o: Obj, f: string, path: string): string => str(o, f, path, 1, MAX_ID);
const rvF = (o: Obj, f: string, path: string): string => str(o, f, path, 1, MAX_ID);
const idF = (o: Obj, f: string, path: string): string => str(o, f, path, 1, MAX_ID);

// ── per kind ─────────────────────────────────────────────────────────────────────────────

function hello(o: Obj): void {
  str(o, 'agentVersion', '', 1, MAX_SMALL_STRING);
  const ps = arr(o, 'protocols', '', 1);
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 0xffff)
      throw new Invalid(`protocols[${i}]`, 'expected an integer in 1..65535');
  }
  if (o['features'] !== undefined) strArr(o, 'features', '', 0);
}

function welcome(o: Obj): void {
  idF(o, 'session', '');
  int(o, 'protocol', '', 1, 0xffff);
  str(o, 'node', '', 1, MAX_NAME);
  int(o, 'serverTime', '', 0);
  const s = obj(o, 'settings', '');
  int(s, 'windowSize', 'settings', 1);
  int(s, 'keepaliveMs', 'settings', 1);
  int(s, 'missedPongLimit', 'settings', 1);
  int(s, 'maxFrameBytes', 'settings', 1);
  int(s, 'inventoryChunk', 'settings', 1);
  if (o['features'] !== undefined) strArr(o, 'features', '', 0);
}

function inventory(o: Obj): void {
  int(o, 'chunk', '', 0);
  bool(o, 'last', '');
  const items = arr(o, 'items', '');
  for (let i = 0; i < items.length; i++) {
    const p = `items[${i}]`;
    const it = items[i];
    if (!isObj(it)) throw new Invalid(p, 'expected an object');
    key(it, 'key', p);
    uidF(it, 'uid', p);
    rvF(it, 'resourceVersion', p);
  }
}

function sync(o: Obj): void {
  int(o, 'seq', '', 0);
  const op = oneOf(o, 'op', '', ['upsert', 'delete'] as const);
  key(o, 'key', '');
  uidF(o, 'uid', '');
  rvF(o, 'resourceVersion', '');
  if (op === 'upsert') objectMatchesKey(o, obj(o, 'object', ''));
}

/**
 * An upsert's object must be the object its header names: the edge stores it under `key` and
 * compares `uid`/`resourceVersion`, so a mismatch would silently corrupt the edge store.
 * Fields absent from the object are not required (list items carry no apiVersion/kind).
 */
function objectMatchesKey(o: Obj, object: Obj): void {
  const k = o['key'] as Obj;
  const kind = object['kind'];
  if (typeof kind === 'string' && kind !== k['kind'])
    throw new Invalid('object.kind', 'differs from key.kind');
  const apiVersion = object['apiVersion'];
  if (
    typeof apiVersion === 'string' &&
    !apiVersionMatches(apiVersion, k['group'] as string, k['version'] as string)
  )
    throw new Invalid('object.apiVersion', 'differs from key.group/key.version');
  const m = object['metadata'];
  if (!isObj(m)) return;
  const name = m['name'];
  if (typeof name === 'string' && name !== k['name'])
    throw new Invalid('object.metadata.name', 'differs from key.name');
  const ns = m['namespace'];
  if (typeof ns === 'string' && ns !== '' && ns !== k['namespace'])
    throw new Invalid('object.metadata.namespace', 'differs from key.namespace');
  const u = m['uid'];
  if (typeof u === 'string' && u !== o['uid']) throw new Invalid('object.metadata.uid', 'differs from uid');
  // No check of metadata.resourceVersion: the envelope's resourceVersion is the *sync version*
  // the cloud chose (a digest of metadata+spec for Pods and Nodes, whose status the edge writes
  // itself — see src/cloud/sync/version.ts), so it may differ from the object's own.
}

/** apiVersion === (group === '' ? version : `${group}/${version}`), without building the string. */
function apiVersionMatches(apiVersion: string, group: string, version: string): boolean {
  if (group === '') return apiVersion === version;
  return (
    apiVersion.length === group.length + 1 + version.length &&
    apiVersion.startsWith(group) &&
    apiVersion.charCodeAt(group.length) === 0x2f &&
    apiVersion.endsWith(version)
  );
}

function ackTarget(o: Obj, allowMessage: boolean): void {
  const of = oneOf(
    o,
    'of',
    '',
    allowMessage ? (['sync', 'status', 'message'] as const) : (['sync', 'status'] as const),
  );
  if (of === 'sync') int(o, 'seq', '', 0);
  else if (of === 'status') idF(o, 'ref', '');
  else if (o['ref'] !== undefined) idF(o, 'ref', '');
}

function ack(o: Obj): void {
  ackTarget(o, false);
}

function nack(o: Obj): void {
  ackTarget(o, true);
  oneOf(o, 'reason', '', NACK_REASONS);
  str(o, 'message', '', 0, 64 * 1024);
  bool(o, 'retryable', '');
}

function status(o: Obj): void {
  key(o, 'key', '');
  if (o['uid'] !== undefined) uidF(o, 'uid', '');
  const w = obj(o, 'write', '');
  oneOf(w, 'type', 'write', STATUS_WRITE_TYPES);
  obj(w, 'payload', 'write');
}

function event(o: Obj): void {
  str(o, 'name', '', 1, MAX_NAME);
  if (o['key'] !== undefined) key(o, 'key', '');
  obj(o, 'payload', '');
}

function query(o: Obj): void {
  const method = oneOf(o, 'method', '', QUERY_METHODS);
  const p = obj(o, 'params', '');
  optInt(o, 'timeoutMs', '', 0);
  switch (method) {
    case 'certRotate':
      str(p, 'csr', 'params', 1, 64 * 1024);
      return;
    case 'health':
      if (p['includeUnits'] !== undefined) bool(p, 'includeUnits', 'params');
      return;
    case 'resync':
      return;
    case 'serviceAccountToken':
      str(p, 'namespace', 'params', 1, MAX_NAME);
      str(p, 'pod', 'params', 1, MAX_NAME);
      str(p, 'podUid', 'params', 1, MAX_NAME);
      str(p, 'serviceAccountName', 'params', 1, MAX_NAME);
      if (p['audience'] !== undefined) str(p, 'audience', 'params', 1, 4096);
      int(p, 'expirationSeconds', 'params', 600);
      return;
  }
}

function reply(o: Obj): void {
  idF(o, 'ref', '');
  const method = oneOf(o, 'method', '', [...QUERY_METHODS, 'error'] as const);
  if (method === 'error') {
    str(o, 'code', '', 1, MAX_NAME);
    str(o, 'message', '', 0, 64 * 1024);
    return;
  }
  const r = obj(o, 'result', '');
  switch (method) {
    case 'certRotate':
      str(r, 'certificate', 'result', 1, 256 * 1024);
      str(r, 'caBundle', 'result', 0, 256 * 1024);
      int(r, 'notAfter', 'result', 0);
      return;
    case 'health': {
      oneOf(r, 'verdict', 'result', ['Healthy', 'Degraded', 'Unhealthy'] as const);
      str(r, 'summary', 'result', 0, 64 * 1024);
      if (r['units'] !== undefined) {
        const us = arr(r, 'units', 'result');
        for (let i = 0; i < us.length; i++)
          if (!isObj(us[i])) throw new Invalid(`result.units[${i}]`, 'expected an object');
      }
      return;
    }
    case 'resync':
      bool(r, 'accepted', 'result');
      return;
    case 'serviceAccountToken':
      str(r, 'token', 'result', 1, 64 * 1024);
      str(r, 'expirationTimestamp', 'result', 1, MAX_NAME);
      return;
  }
}

function stdio(w: Obj): void {
  bool(w, 'stdin', 'what');
  bool(w, 'stdout', 'what');
  bool(w, 'stderr', 'what');
  bool(w, 'tty', 'what');
}

function streamOpen(o: Obj): void {
  idF(o, 'stream', '');
  const t = obj(o, 'target', '');
  const w = obj(o, 'what', '');
  const type = oneOf(w, 'type', 'what', ['logs', 'exec', 'attach', 'portForward', 'metrics'] as const);
  // a metrics scrape is about the node itself: its target names no pod
  const min = type === 'metrics' ? 0 : 1;
  str(t, 'namespace', 'target', min, MAX_NAME);
  str(t, 'pod', 'target', min, MAX_NAME);
  if (t['uid'] !== undefined) uidF(t, 'uid', 'target');
  optStr(t, 'container', 'target', 1, MAX_NAME);
  switch (type) {
    case 'logs':
      bool(w, 'follow', 'what');
      bool(w, 'timestamps', 'what');
      bool(w, 'previous', 'what');
      optInt(w, 'tailLines', 'what', 0);
      optInt(w, 'sinceSeconds', 'what', 0);
      optStr(w, 'sinceTime', 'what', 1, 64);
      optInt(w, 'limitBytes', 'what', 1);
      break;
    case 'exec':
      strArr(w, 'command', 'what', 1);
      stdio(w);
      break;
    case 'attach':
      stdio(w);
      break;
    case 'portForward':
      int(w, 'port', 'what', 1, 65535);
      break;
    case 'metrics':
      oneOf(w, 'path', 'what', METRICS_PATHS);
      break;
    default:
      assertNever(type);
  }
  int(o, 'window', '', 0);
}

function streamData(o: Obj): void {
  idF(o, 'stream', '');
  int(o, 'channel', '', 0, 4);
  if (!(o['data'] instanceof Uint8Array)) throw new Invalid('data', 'expected binary (bin)');
}

function streamWindow(o: Obj): void {
  idF(o, 'stream', '');
  int(o, 'credit', '', 0);
}

function streamResize(o: Obj): void {
  idF(o, 'stream', '');
  int(o, 'cols', '', 0, 0xffff);
  int(o, 'rows', '', 0, 0xffff);
}

function streamClose(o: Obj): void {
  idF(o, 'stream', '');
  const e = obj(o, 'end', '');
  const type = oneOf(e, 'type', 'end', ['exit', 'error', 'closed'] as const);
  if (type === 'exit') int(e, 'code', 'end', -(2 ** 31), 2 ** 31 - 1);
  else if (type === 'error') str(e, 'message', 'end', 0, 64 * 1024);
}

function ping(_o: Obj): void {
  // the header (id, ts) is all a ping carries
}

function pong(o: Obj): void {
  idF(o, 'ref', '');
  int(o, 'echo', '', 0);
}

const VALIDATORS = {
  hello,
  welcome,
  inventory,
  sync,
  ack,
  nack,
  status,
  event,
  query,
  reply,
  streamOpen,
  streamData,
  streamWindow,
  streamResize,
  streamClose,
  ping,
  pong,
} as const satisfies Record<Kind, (o: Obj) => void>;

/** Kinds whose schema has a `bin` field, and how many. Everywhere else binary is invalid. */
const BINS_ALLOWED: Partial<Record<Kind, number>> = { streamData: 1 };

/** Slow path, errors only: the path of the first Uint8Array in `v`, for the error message. */
function binPath(v: unknown, path: string, skip: ReadonlySet<string>): string | undefined {
  if (v instanceof Uint8Array) return skip.has(path) ? undefined : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = binPath(v[i], `${path}[${i}]`, skip);
      if (p !== undefined) return p;
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const p = binPath(x, join(path, k), skip);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/**
 * Validates a decoded value as an envelope. `bins` is the number of `bin` values the scan
 * found (pass `undefined` to have them counted here — slower, for values not from `decode`).
 */
export function validateEnvelope(
  value: unknown,
  bins?: number,
): { ok: true; value: Envelope } | { ok: false; error: ProtocolError } {
  if (!isObj(value))
    return { ok: false, error: new ProtocolError('MALFORMED', 'frame is not a MessagePack map') };
  const v = value['v'];
  if (v !== PROTOCOL_VERSION) {
    if (typeof v === 'number')
      return {
        ok: false,
        error: new ProtocolError(
          'UNSUPPORTED_VERSION',
          `envelope version ${v} is not supported (this side speaks ${PROTOCOL_VERSION})`,
        ),
      };
    return {
      ok: false,
      error: new ProtocolError('INVALID_FIELD', 'v: expected the envelope version number', 'v'),
    };
  }
  const kind = value['kind'];
  if (typeof kind !== 'string')
    return { ok: false, error: new ProtocolError('INVALID_FIELD', 'kind: expected a string', 'kind') };
  if (!isKind(kind))
    return {
      ok: false,
      error: new ProtocolError('UNKNOWN_KIND', `unknown message kind ${JSON.stringify(kind.slice(0, 64))}`),
    };
  try {
    idF(value, 'id', '');
    int(value, 'ts', '', 0);
    VALIDATORS[kind](value);
  } catch (e) {
    if (e instanceof Invalid)
      return {
        ok: false,
        error: new ProtocolError('INVALID_FIELD', `${kind}: ${e.path}: ${e.what}`, e.path),
      };
    throw e;
  }
  const allowed = BINS_ALLOWED[kind] ?? 0;
  const skip = allowed > 0 ? new Set(['data']) : new Set<string>();
  if (bins === undefined ? binPath(value, '', skip) !== undefined : bins !== allowed) {
    const p = binPath(value, '', skip) ?? '';
    return {
      ok: false,
      error: new ProtocolError('INVALID_FIELD', `${kind}: ${p}: binary not allowed here`, p),
    };
  }
  return { ok: true, value: value as unknown as Envelope };
}
