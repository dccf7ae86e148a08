/**
 * Expansion of the schema table (types.ts) into OpenAPI v2 definitions, OpenAPI v3
 * component schemas and FieldSchemas, plus the paths kube-apiserver publishes for each
 * resource (x-kubernetes-action / x-kubernetes-group-version-kind and the query
 * parameters kubectl looks for, notably fieldValidation on PATCH).
 */
import type { JsonObject } from '../storage/types.js';
import { PREFIXES, TYPES, type TypeDef } from './types.js';

export type FieldType =
  | {
      readonly k: 'scalar';
      readonly type: 'string' | 'integer' | 'number' | 'boolean';
      readonly format?: string;
    }
  | { readonly k: 'json' }
  | { readonly k: 'ref'; readonly name: string; readonly retainKeys?: boolean }
  | {
      readonly k: 'array';
      readonly items: FieldType;
      readonly strategy?: 'merge' | 'merge,retainKeys';
      readonly mergeKey?: string;
      readonly listType?: 'atomic' | 'set' | 'map';
      readonly mapKey?: string;
    }
  | { readonly k: 'map'; readonly values: FieldType };

export interface Field {
  readonly type: FieldType;
  readonly required: boolean;
  readonly description: string;
}

const META = PREFIXES.meta ?? '';
/** Definitions that are scalars in JSON but named types upstream. */
export const SCALAR_DEFS: Readonly<Record<string, JsonObject>> = {
  [`${META}.Time`]: {
    description:
      'Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON (RFC 3339).',
    type: 'string',
    format: 'date-time',
  },
  [`${META}.MicroTime`]: {
    description: 'MicroTime is version of Time with microsecond level precision.',
    type: 'string',
    format: 'date-time',
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    description: "Quantity is a fixed-point representation of a number, e.g. '100m' or '1Gi'.",
    type: 'string',
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    description: 'IntOrString is a type that can hold an int32 or a string.',
    type: 'string',
    format: 'int-or-string',
  },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': {
    description: 'RawExtension is used to hold extensions in external versions.',
    type: 'object',
  },
  [`${META}.FieldsV1`]: {
    description: 'FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.',
    type: 'object',
  },
  [`${META}.Patch`]: {
    description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
    type: 'object',
  },
};

const SHORT_SCALARS: Readonly<Record<string, FieldType>> = {
  s: { k: 'scalar', type: 'string' },
  byte: { k: 'scalar', type: 'string', format: 'byte' },
  i32: { k: 'scalar', type: 'integer', format: 'int32' },
  i64: { k: 'scalar', type: 'integer', format: 'int64' },
  f: { k: 'scalar', type: 'number', format: 'double' },
  b: { k: 'scalar', type: 'boolean' },
  json: { k: 'json' },
  t: { k: 'ref', name: `${META}.Time` },
  mt: { k: 'ref', name: `${META}.MicroTime` },
  q: { k: 'ref', name: 'io.k8s.apimachinery.pkg.api.resource.Quantity' },
  ios: { k: 'ref', name: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
  raw: { k: 'ref', name: 'io.k8s.apimachinery.pkg.runtime.RawExtension' },
};

/** `core.PodSpec` → `io.k8s.api.core.v1.PodSpec` */
export function fullName(short: string): string {
  const dot = short.indexOf('.');
  const prefix = PREFIXES[short.slice(0, dot)];
  if (dot < 0 || prefix === undefined) throw new Error(`schema table: unknown type ${short}`);
  return `${prefix}.${short.slice(dot + 1)}`;
}

export function parseType(src: string): FieldType {
  let s = src.trim();
  let ann = '';
  const at = s.lastIndexOf('@');
  if (at > 0) {
    ann = s.slice(at + 1);
    s = s.slice(0, at);
  }
  if (s.startsWith('[') && s.endsWith(']')) {
    const items = parseType(s.slice(1, -1));
    const [kind, key] = ann.split(':');
    if (kind === 'merge' || kind === 'merge,retainKeys') {
      return { k: 'array', items, strategy: kind, ...(key === undefined ? {} : { mergeKey: key }) };
    }
    if (kind === 'map' && key !== undefined) return { k: 'array', items, listType: 'map', mapKey: key };
    if (kind === 'set' || kind === 'atomic') return { k: 'array', items, listType: kind };
    return { k: 'array', items };
  }
  if (s.startsWith('{') && s.endsWith('}')) return { k: 'map', values: parseType(s.slice(1, -1)) };
  const scalar = SHORT_SCALARS[s];
  if (scalar !== undefined) return scalar;
  return { k: 'ref', name: fullName(s), ...(ann === 'retainKeys' ? { retainKeys: true } : {}) };
}

export function parseField(src: string): Field {
  const [typePart = '', ...desc] = src.split(' // ');
  const required = typePart.startsWith('!');
  return {
    type: parseType(required ? typePart.slice(1) : typePart),
    required,
    description: desc.join(' // '),
  };
}

/** Every named definition of the table, by full name. */
export const DEFS: ReadonlyMap<string, TypeDef> = new Map(
  Object.entries(TYPES).map(([k, v]) => [fullName(k), v]),
);

/** The definition name upstream gives a kind of `group/version`. */
export function definitionName(group: string, version: string, kind: string, custom: boolean): string {
  if (custom) return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
  if (group === '') return `io.k8s.api.core.${version}.${kind}`;
  if (group === 'apiextensions.k8s.io')
    return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${kind}`;
  return `io.k8s.api.${group.replace(/\.k8s\.io$/, '')}.${version}.${kind}`;
}

/** The built-in definition of a kind, wherever it lives (Scale/Eviction/Binding as subresources). */
export function builtinDefinition(group: string, version: string, kind: string): string | undefined {
  const direct = definitionName(group, version, kind, false);
  if (DEFS.has(direct)) return direct;
  for (const [name, def] of DEFS) if (def.gvk?.[2] === kind) return name;
  return undefined;
}

type RefStyle = 'v2' | 'v3';

function refTo(name: string, style: RefStyle): JsonObject {
  return { $ref: style === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}` };
}

function typeSchema(t: FieldType, style: RefStyle): JsonObject {
  switch (t.k) {
    case 'scalar':
      return { type: t.type, ...(t.format === undefined ? {} : { format: t.format }) };
    case 'json':
      return {};
    case 'ref':
      return style === 'v2' ? refTo(t.name, style) : { allOf: [refTo(t.name, style)] };
    case 'array':
      return {
        type: 'array',
        items: typeSchema(t.items, style),
        ...(t.strategy === undefined ? {} : { 'x-kubernetes-patch-strategy': t.strategy }),
        ...(t.mergeKey === undefined ? {} : { 'x-kubernetes-patch-merge-key': t.mergeKey }),
        ...(t.listType === undefined ? {} : { 'x-kubernetes-list-type': t.listType }),
        ...(t.mapKey === undefined ? {} : { 'x-kubernetes-list-map-keys': [t.mapKey] }),
      };
    case 'map':
      return { type: 'object', additionalProperties: typeSchema(t.values, style) };
  }
}

/** One named definition as an OpenAPI schema object. */
export function definitionSchema(name: string, style: RefStyle): JsonObject | undefined {
  const scalar = SCALAR_DEFS[name];
  if (scalar !== undefined) return { ...scalar };
  const def = DEFS.get(name);
  if (def === undefined) return undefined;
  const properties: JsonObject = {};
  const required: string[] = [];
  for (const [prop, src] of Object.entries(def.p)) {
    const f = parseField(src);
    const schema = typeSchema(f.type, style);
    const retain =
      f.type.k === 'ref' && f.type.retainKeys === true ? { 'x-kubernetes-patch-strategy': 'retainKeys' } : {};
    properties[prop] = {
      ...schema,
      ...retain,
      ...(f.description === '' ? {} : { description: f.description }),
    };
    if (f.required) required.push(prop);
  }
  return {
    description: def.d,
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    properties,
    ...(def.gvk === undefined
      ? {}
      : {
          'x-kubernetes-group-version-kind': [{ group: def.gvk[0], kind: def.gvk[2], version: def.gvk[1] }],
        }),
  };
}

/** Names of all definitions reachable from `roots`. */
export function closure(roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (t: FieldType): void => {
    if (t.k === 'ref') walk(t.name);
    else if (t.k === 'array') visit(t.items);
    else if (t.k === 'map') visit(t.values);
  };
  const walk = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const def = DEFS.get(name);
    if (def === undefined) return;
    for (const src of Object.values(def.p)) visit(parseField(src).type);
  };
  for (const r of roots) walk(r);
  return seen;
}
