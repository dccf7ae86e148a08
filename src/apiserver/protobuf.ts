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

/** `pint`/`pbool` are Go pointer fields: encoded only when set, so a zero is meaningful. */
type FieldKind =
  | 'string'
  | 'bytes'
  | 'int'
  | 'pint'
  | 'bool'
  | 'pbool'
  | 'time'
  | 'msg'
  | 'mapss'
  | 'mapsb'
  | 'mapsq'
  | 'rstring'
  | 'rmsg'
  | 'intstr';
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
  6: f('controller', 'pbool'),
  7: f('blockOwnerDeletion', 'pbool'),
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
  10: f('deletionGracePeriodSeconds', 'pint'),
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
  1: f('gracePeriodSeconds', 'pint'),
  2: f('preconditions', 'msg', { 1: f('uid', 'string'), 2: f('resourceVersion', 'string') }),
  3: f('orphanDependents', 'pbool'),
  4: f('propagationPolicy', 'string'),
  5: f('dryRun', 'rstring'),
};

const LABEL_SELECTOR: Schema = {
  1: f('matchLabels', 'mapss'),
  2: f('matchExpressions', 'rmsg', {
    1: f('key', 'string'),
    2: f('operator', 'string'),
    3: f('values', 'rstring'),
  }),
};
const CONTAINER: Schema = {
  1: f('name', 'string'),
  2: f('image', 'string'),
  3: f('command', 'rstring'),
  4: f('args', 'rstring'),
  5: f('workingDir', 'string'),
  6: f('ports', 'rmsg', {
    1: f('name', 'string'),
    2: f('hostPort', 'int'),
    3: f('containerPort', 'int'),
    4: f('protocol', 'string'),
    5: f('hostIP', 'string'),
  }),
  7: f('env', 'rmsg', { 1: f('name', 'string'), 2: f('value', 'string') }),
  8: f('resources', 'msg', { 1: f('limits', 'mapsq'), 2: f('requests', 'mapsq') }),
  13: f('terminationMessagePath', 'string'),
  14: f('imagePullPolicy', 'string'),
  16: f('stdin', 'bool'),
  18: f('tty', 'bool'),
  20: f('terminationMessagePolicy', 'string'),
};
const POD_SPEC: Schema = {
  2: f('containers', 'rmsg', CONTAINER),
  3: f('restartPolicy', 'string'),
  4: f('terminationGracePeriodSeconds', 'pint'),
  6: f('dnsPolicy', 'string'),
  7: f('nodeSelector', 'mapss'),
  8: f('serviceAccountName', 'string'),
  10: f('nodeName', 'string'),
  11: f('hostNetwork', 'bool'),
  19: f('schedulerName', 'string'),
  20: f('initContainers', 'rmsg', CONTAINER),
};
const POD_TEMPLATE: Schema = { 1: f('metadata', 'msg', OBJECT_META), 2: f('spec', 'msg', POD_SPEC) };

const KINDS: Record<string, Schema> = {
  // kubectl create token (k8s.io/api/authentication/v1 generated.proto)
  'authentication.k8s.io/v1/TokenRequest': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('spec', 'msg', {
      1: f('audiences', 'rstring'),
      3: f('boundObjectRef', 'msg', {
        1: f('kind', 'string'),
        2: f('apiVersion', 'string'),
        3: f('name', 'string'),
        4: f('uid', 'string'),
      }),
      4: f('expirationSeconds', 'pint'),
    }),
  },
  'apps/v1/Deployment': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('spec', 'msg', {
      1: f('replicas', 'pint'),
      2: f('selector', 'msg', LABEL_SELECTOR),
      3: f('template', 'msg', POD_TEMPLATE),
      4: f('strategy', 'msg', {
        1: f('type', 'string'),
        2: f('rollingUpdate', 'msg', { 1: f('maxUnavailable', 'intstr'), 2: f('maxSurge', 'intstr') }),
      }),
      5: f('minReadySeconds', 'int'),
      6: f('revisionHistoryLimit', 'pint'),
      7: f('paused', 'bool'),
      9: f('progressDeadlineSeconds', 'pint'),
    }),
  },
  'v1/ConfigMap': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('data', 'mapss'),
    3: f('binaryData', 'mapsb'),
    4: f('immutable', 'pbool'),
  },
  'v1/Secret': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('data', 'mapsb'),
    3: f('type', 'string'),
    4: f('stringData', 'mapss'),
    5: f('immutable', 'pbool'),
  },
  'v1/Namespace': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('spec', 'msg', { 1: f('finalizers', 'rstring') }),
  },
  'v1/ServiceAccount': {
    1: f('metadata', 'msg', OBJECT_META),
    2: f('secrets', 'rmsg', OBJECT_REF),
    3: f('imagePullSecrets', 'rmsg', { 1: f('name', 'string') }),
    4: f('automountServiceAccountToken', 'pbool'),
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
      case 'int':
      case 'pint': {
        // Go's omitempty drops a zero non-pointer field from JSON.
        const v = Number(BigInt.asIntN(64, r.varint()));
        if (v !== 0 || fd.kind === 'pint') out[fd.name] = v;
        break;
      }
      case 'bool':
      case 'pbool': {
        const v = r.varint() !== 0n;
        if (v || fd.kind === 'pbool') out[fd.name] = v;
        break;
      }
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
