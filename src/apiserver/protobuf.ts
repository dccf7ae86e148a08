/**
 * Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`:
 * the "k8s\0" magic, a runtime.Unknown envelope, then the object's generated.proto
 * encoding). Recent kubectl typed clients (create secret/configmap/namespace/
 * serviceaccount, drain's evictions) send these; responses stay JSON, which those clients
 * also accept. Only the kinds below are decoded; others get upstream's 415 answer.
 */
import { Errors, type ApiError } from './errors.js';
import type { JsonObject } from './storage/types.js';
import { err, ok, type Result } from '../common/index.js';

type FieldKind =
  'string' | 'bytes' | 'int' | 'bool' | 'time' | 'msg' | 'mapss' | 'mapsb' | 'rstring' | 'rmsg';
interface Field {
  name: string;
  kind: FieldKind;
  msg?: Schema;
}
type Schema = Record<number, Field>;

const f = (name: string, kind: FieldKind, msg?: Schema): Field =>
  msg === undefined ? { name, kind } : { name, kind, msg };

const OWNER_REF: Schema = {
  1: f('kind', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('controller', 'bool'),
  7: f('blockOwnerDeletion', 'bool'),
};
const OBJECT_META: Schema = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('generation', 'int'),
  8: f('creationTimestamp', 'time'),
  9: f('deletionTimestamp', 'time'),
  10: f('deletionGracePeriodSeconds', 'int'),
  11: f('labels', 'mapss'),
  12: f('annotations', 'mapss'),
  13: f('ownerReferences', 'rmsg', OWNER_REF),
  14: f('finalizers', 'rstring'),
};
const OBJECT_REF: Schema = {
  1: f('kind', 'string'),
  2: f('namespace', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('fieldPath', 'string'),
};
const DELETE_OPTIONS: Schema = {
  1: f('gracePeriodSeconds', 'int'),
  2: f('preconditions', 'msg', { 1: f('uid', 'string'), 2: f('resourceVersion', 'string') }),
  3: f('orphanDependents', 'bool'),
  4: f('propagationPolicy', 'string'),
  5: f('dryRun', 'rstring'),
};

const KINDS: Record<string, Schema> = {
  'v1/ConfigMap': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('data', 'mapss'),
    3: f('binaryData', 'mapsb'),
    4: f('immutable', 'bool'),
  },
  'v1/Secret': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('data', 'mapsb'),
    3: f('type', 'string'),
    4: f('stringData', 'mapss'),
    5: f('immutable', 'bool'),
  },
  'v1/Namespace': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('spec', 'msg', { 1: f('finalizers', 'rstring') }),
  },
  'v1/ServiceAccount': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('secrets', 'rmsg', OBJECT_REF),
    3: f('imagePullSecrets', 'rmsg', { 1: f('name', 'string') }),
    4: f('automountServiceAccountToken', 'bool'),
  },
  'policy/v1/Eviction': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('deleteOptions', 'msg', DELETE_OPTIONS),
  },
  'v1/Binding': { 1: f('metadata', 'msg', OBJECT_META), 2: f('target', 'msg', OBJECT_REF) },
  'v1/DeleteOptions': DELETE_OPTIONS,
  'meta.k8s.io/v1/DeleteOptions': DELETE_OPTIONS,
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++] ?? 0;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function rfc3339(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

function decodeMessage(buf: Uint8Array, schema: Schema): JsonObject {
  const r = new Reader(buf);
  const out: JsonObject = {};
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const fd = schema[num];
    if (fd === undefined) {
      r.skip(wire);
      continue;
    }
    switch (fd.kind) {
      case 'string': {
        // Go's omitempty: an empty string is an absent field in JSON.
        const v = utf8.decode(r.bytes());
        if (v !== '') out[fd.name] = v;
        break;
      }
      case 'bytes':
        out[fd.name] = Buffer.from(r.bytes()).toString('base64');
        break;
      case 'int': {
        const v = Number(BigInt.asIntN(64, r.varint()));
        if (v !== 0 || fd.name !== 'generation') out[fd.name] = v;
        break;
      }
      case 'bool':
        out[fd.name] = r.varint() !== 0n;
        break;
      case 'time': {
        const t = decodeMessage(r.bytes(), { 1: f('seconds', 'int') });
        const secs = typeof t['seconds'] === 'number' ? t['seconds'] : 0;
        if (secs !== 0) out[fd.name] = rfc3339(BigInt(secs));
        break;
      }
      case 'msg':
        out[fd.name] = decodeMessage(r.bytes(), fd.msg ?? {});
        break;
      case 'rmsg': {
        const list = Array.isArray(out[fd.name]) ? (out[fd.name] as unknown[]) : [];
        list.push(decodeMessage(r.bytes(), fd.msg ?? {}));
        out[fd.name] = list;
        break;
      }
      case 'rstring': {
        const list = Array.isArray(out[fd.name]) ? (out[fd.name] as unknown[]) : [];
        list.push(utf8.decode(r.bytes()));
        out[fd.name] = list;
        break;
      }
      case 'mapss':
      case 'mapsb': {
        const entry = decodeMessage(r.bytes(), {
          1: f('key', 'string'),
          2: f('value', fd.kind === 'mapss' ? 'string' : 'bytes'),
        });
        const m = (
          typeof out[fd.name] === 'object' && out[fd.name] !== null ? out[fd.name] : {}
        ) as JsonObject;
        const key = typeof entry['key'] === 'string' ? entry['key'] : '';
        m[key] = entry['value'] ?? '';
        out[fd.name] = m;
        break;
      }
    }
  }
  return out;
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** Decodes a protobuf body into the JSON form of the object (with apiVersion and kind). */
export function decodeProtobuf(body: Buffer): Result<JsonObject, ApiError> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b))
    return err(
      Errors.badRequest(
        'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
      ),
    );
  try {
    const env = decodeMessage(body.subarray(4), {
      1: f('typeMeta', 'msg', { 1: f('apiVersion', 'string'), 2: f('kind', 'string') }),
      2: f('raw', 'bytes'),
    });
    const tm = (env['typeMeta'] ?? {}) as JsonObject;
    const apiVersion = typeof tm['apiVersion'] === 'string' ? tm['apiVersion'] : '';
    const kind = typeof tm['kind'] === 'string' ? tm['kind'] : '';
    const schema = KINDS[`${apiVersion}/${kind}`];
    if (schema === undefined)
      return err(Errors.unsupportedMediaType(['application/json', 'application/yaml']));
    const raw = Buffer.from(typeof env['raw'] === 'string' ? env['raw'] : '', 'base64');
    return ok({ apiVersion, kind, ...decodeMessage(raw, schema) });
  } catch (e) {
    return err(
      Errors.badRequest(`unable to decode protobuf body: ${e instanceof Error ? e.message : 'invalid'}`),
    );
  }
}
