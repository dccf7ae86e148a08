/**
 * Object metadata semantics shared by every verb (apiserver/pkg/registry/rest create/update
 * and apimachinery's ObjectMeta validation): names, uid, timestamps, generation.
 */
import { randomUUID, randomInt } from 'node:crypto';
import { Causes, type StatusCause } from './errors.js';
import type { ResourceInfo } from './resources.js';
import type { JsonObject } from './storage/types.js';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function metaOf(obj: JsonObject): JsonObject {
  const m = obj['metadata'];
  if (isObject(m)) return m;
  const fresh: JsonObject = {};
  obj['metadata'] = fresh;
  return fresh;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function nowRfc3339(offsetSeconds = 0): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z');
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function dns1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!SUBDOMAIN.test(v))
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return out;
}

export function dns1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!LABEL.test(v))
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

export function dns1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035.test(v))
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

export function nameErrors(r: ResourceInfo, name: string): string[] {
  if (r.group === '' && r.resource === 'services') return dns1035Label(name);
  if (r.nameIsLabel === true) return dns1123Label(name);
  return dns1123Subdomain(name);
}

/** Upstream's utilrand.String alphabet: no vowels, no confusable characters. */
const GEN_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateName(base: string): string {
  const prefix = base.length > 58 ? base.slice(0, 58) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += GEN_ALPHABET[randomInt(GEN_ALPHABET.length)] ?? 'x';
  return prefix + s;
}

/** Validation of ObjectMeta common to create and update (name, labels, annotations). */
export function validateObjectMeta(r: ResourceInfo, meta: JsonObject, generated: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = str(meta['name']) ?? '';
  if (name === '') {
    causes.push(Causes.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const e of nameErrors(r, name)) {
      // For generated names upstream validates the prefix (metadata.generateName).
      causes.push(Causes.invalidValue(generated ? 'metadata.generateName' : 'metadata.name', name, e));
    }
  }
  const labels = meta['labels'];
  if (isObject(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      if (
        !/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(
          k,
        )
      )
        causes.push(
          Causes.invalidValue(
            'metadata.labels',
            k,
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
          ),
        );
      if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v))
        causes.push(
          Causes.invalidValue(
            'metadata.labels',
            v,
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
          ),
        );
    }
  }
  const ann = meta['annotations'];
  if (isObject(ann)) {
    let total = 0;
    for (const [k, v] of Object.entries(ann)) total += k.length + (typeof v === 'string' ? v.length : 0);
    // apimachinery TotalAnnotationSizeLimitB = 256 KiB
    if (total > 256 * 1024)
      causes.push(Causes.forbidden('metadata.annotations', `may not be more than 262144 bytes`));
  }
  const fins = meta['finalizers'];
  if (Array.isArray(fins)) {
    const seen = new Set<string>();
    fins.forEach((f) => {
      if (typeof f === 'string' && seen.has(f)) causes.push(Causes.duplicate('metadata.finalizers', f));
      if (typeof f === 'string') seen.add(f);
    });
  }
  return causes;
}

/** The system fields a create sets, whatever the client sent (rest.BeforeCreate). */
export function prepareCreateMeta(r: ResourceInfo, obj: JsonObject, namespace: string | undefined): void {
  const meta = metaOf(obj);
  meta['uid'] = randomUUID();
  meta['creationTimestamp'] = nowRfc3339();
  delete meta['deletionTimestamp'];
  delete meta['deletionGracePeriodSeconds'];
  delete meta['resourceVersion'];
  delete meta['selfLink'];
  delete meta['managedFields'];
  if (r.namespaced && namespace !== undefined) meta['namespace'] = namespace;
  if (!r.namespaced) delete meta['namespace'];
  if (r.tracksGeneration || r.custom !== undefined) meta['generation'] = 1;
  else delete meta['generation'];
}

/** The part of an object whose change bumps metadata.generation. */
export function specOf(r: ResourceInfo, obj: JsonObject): unknown {
  if (r.custom !== undefined || r.kind === 'CustomResourceDefinition') {
    const rest: JsonObject = { ...obj };
    delete rest['metadata'];
    delete rest['status'];
    delete rest['apiVersion'];
    delete rest['kind'];
    return rest;
  }
  return obj['spec'];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
