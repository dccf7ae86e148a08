import { err, ok, ProtocolError, type Result } from './errors.js';

/**
 * Identifiers of the protocol. Branded strings (STYLE §15): a NodeName can't be passed where
 * a Uid is expected. `protocol` imports nothing of ours (DESIGN §1), so the brand is its own.
 */
declare const protocolBrand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [protocolBrand]: B };

/** A Kubernetes Node name; on the wire only ever *echoed* by the cloud — identity comes from the TLS cert (DESIGN §2). */
export type NodeName = Brand<string, 'NodeName'>;
/** `metadata.uid`: tells apart two objects that had the same name at different times. */
export type Uid = Brand<string, 'Uid'>;
/** `metadata.resourceVersion`: opaque; compare only for equality (Kubernetes API conventions). */
export type ResourceVersion = Brand<string, 'ResourceVersion'>;
/** Unique per sender within a session; upstream `status` ids stay stable across resends (outbox row). */
export type MessageId = Brand<string, 'MessageId'>;
/** A logs/exec/attach/port-forward stream, chosen by the side that opens it. */
export type StreamId = Brand<string, 'StreamId'>;
/** One connection of one edge node, chosen by the cloud in `welcome`. */
export type SessionId = Brand<string, 'SessionId'>;
/** The canonical string of an ObjectKey, for Map keys and SQL columns. See `keyId`. */
export type ObjectKeyId = Brand<string, 'ObjectKeyId'>;

export const nodeName = (s: string): NodeName => s as NodeName;
export const uid = (s: string): Uid => s as Uid;
export const resourceVersion = (s: string): ResourceVersion => s as ResourceVersion;
export const messageId = (s: string): MessageId => s as MessageId;
export const streamId = (s: string): StreamId => s as StreamId;
export const sessionId = (s: string): SessionId => s as SessionId;

/**
 * Which object a message is about: structured, never a `"ns/type/name"` string to split
 * (STYLE §4). `group` is '' for the core API group; `namespace` is absent for
 * cluster-scoped objects (Node, Namespace, …).
 */
export interface ObjectKey {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

// Canonical id: five '/'-separated segments group/version/kind/namespace/name. Each segment is
// escaped so it never contains '/': '%' → %25, '/' → %2F, '~' → %7E. An absent namespace is the
// segment '~', which no escaped string can equal, so "absent" and "" stay distinct. Escaping is
// injective and the separator count is fixed, hence keyId is injective and parseKeyId exact.
const NEEDS_ESCAPE = /[%/~]/;
const ESCAPES = /[%/~]/g;
const ESCAPE_OF: Readonly<Record<string, string>> = { '%': '%25', '/': '%2F', '~': '%7E' };
const UNESCAPE_OF: ReadonlyMap<string, string> = new Map([
  ['25', '%'],
  ['2F', '/'],
  ['7E', '~'],
]);

function esc(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPE_OF[c] ?? c) : s;
}

function unesc(s: string): string | undefined {
  if (s.includes('~')) return undefined;
  if (!s.includes('%')) return s;
  // Only the three escapes keyId produces are accepted, so every id has exactly one spelling.
  const parts = s.split('%');
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] ?? '';
    const u = UNESCAPE_OF.get(p.slice(0, 2));
    if (u === undefined) return undefined;
    out += u + p.slice(2);
  }
  return out;
}

/** The canonical, injective string of a key (see the comment above for the format). */
export function keyId(key: ObjectKey): ObjectKeyId {
  const ns = key.namespace === undefined ? '~' : esc(key.namespace);
  return `${esc(key.group)}/${esc(key.version)}/${esc(key.kind)}/${ns}/${esc(key.name)}` as ObjectKeyId;
}

/** Inverse of `keyId`; rejects any string `keyId` can't produce (so ids stay canonical). */
export function parseKeyId(id: string): Result<ObjectKey, ProtocolError> {
  const parts = id.split('/');
  const invalid = (): Result<never, ProtocolError> =>
    err(new ProtocolError('INVALID_FIELD', `not a canonical object key id: ${JSON.stringify(id)}`));
  if (parts.length !== 5) return invalid();
  const [g, v, k, n, nm] = parts as [string, string, string, string, string];
  const group = unesc(g);
  const version = unesc(v);
  const kind = unesc(k);
  const name = unesc(nm);
  if (group === undefined || version === undefined || kind === undefined || name === undefined)
    return invalid();
  if (n === '~') return ok({ group, version, kind, name });
  const namespace = unesc(n);
  if (namespace === undefined) return invalid();
  return ok({ group, version, kind, namespace, name });
}

/** Structural equality of two keys (namespace absent ≠ namespace ''). */
export function sameKey(a: ObjectKey, b: ObjectKey): boolean {
  return (
    a.name === b.name &&
    a.kind === b.kind &&
    a.namespace === b.namespace &&
    a.group === b.group &&
    a.version === b.version
  );
}

/** `apiVersion` of a key: "v1" for the core group, "apps/v1" otherwise. */
export function apiVersionOf(key: Pick<ObjectKey, 'group' | 'version'>): string {
  return key.group === '' ? key.version : `${key.group}/${key.version}`;
}

/** A human-readable form for logs only, e.g. `apps/v1 Deployment default/web`. Never parse it. */
export function formatKey(key: ObjectKey): string {
  const where = key.namespace === undefined ? key.name : `${key.namespace}/${key.name}`;
  return `${apiVersionOf(key)} ${key.kind} ${where}`;
}

/**
 * The key of a Kubernetes object (`apiVersion`, `kind`, `metadata.name`, optional
 * `metadata.namespace`). The input is untrusted JSON, so failures are values.
 */
export function keyFromObject(obj: unknown): Result<ObjectKey, ProtocolError> {
  const bad = (path: string, what: string): Result<never, ProtocolError> =>
    err(new ProtocolError('INVALID_FIELD', `${path}: ${what}`, path));
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return bad('', 'not an object');
  const o = obj as Record<string, unknown>;
  const apiVersion = o['apiVersion'];
  const kind = o['kind'];
  const metadata = o['metadata'];
  if (typeof apiVersion !== 'string' || apiVersion === '') return bad('apiVersion', 'missing');
  if (typeof kind !== 'string' || kind === '') return bad('kind', 'missing');
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    return bad('metadata', 'missing');
  const m = metadata as Record<string, unknown>;
  const name = m['name'];
  const namespace = m['namespace'];
  if (typeof name !== 'string' || name === '') return bad('metadata.name', 'missing');
  const slash = apiVersion.indexOf('/');
  if (slash !== apiVersion.lastIndexOf('/') || slash === 0 || slash === apiVersion.length - 1)
    return bad('apiVersion', `malformed ${JSON.stringify(apiVersion)}`);
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (namespace === undefined || namespace === '') return ok({ group, version, kind, name });
  if (typeof namespace !== 'string') return bad('metadata.namespace', 'not a string');
  return ok({ group, version, kind, namespace, name });
}

/** Process-unique message ids: a random prefix per generator plus a base-36 counter (cheap, short). */
export function createMessageIdGenerator(prefix?: string): () => MessageId {
  const p = prefix ?? Math.floor(Math.random() * 0x7fffffff).toString(36);
  let n = 0;
  return () => `${p}.${(n++).toString(36)}` as MessageId;
}
