/**
 * FieldSchema: the shape of a type as far as fieldValidation=Strict needs it, for the
 * built-in table and for CRD structural schemas, and the search for unknown fields with
 * the paths upstream reports (`strict decoding error: unknown field "spec.foo"`).
 */
import type { JsonObject } from '../storage/types.js';
import { DEFS, parseField, SCALAR_DEFS, type FieldType } from './build.js';

export type FieldSchema =
  | {
      readonly type: 'object';
      readonly properties: Readonly<Record<string, FieldSchema>>;
      /** x-kubernetes-preserve-unknown-fields: known properties are still checked. */
      readonly preserveUnknown?: boolean;
    }
  | { readonly type: 'map'; readonly values: FieldSchema }
  | { readonly type: 'array'; readonly items: FieldSchema }
  | { readonly type: 'scalar' }
  | { readonly type: 'any' };

const SCALAR: FieldSchema = { type: 'scalar' };
const ANY: FieldSchema = { type: 'any' };

const cache = new Map<string, FieldSchema>();

function fromType(t: FieldType): FieldSchema {
  switch (t.k) {
    case 'scalar':
      return SCALAR;
    case 'json':
      return ANY;
    case 'ref':
      return fromDefinition(t.name);
    case 'array':
      return { type: 'array', items: fromType(t.items) };
    case 'map':
      return { type: 'map', values: fromType(t.values) };
  }
}

/** The FieldSchema of a named definition (recursive types share one object). */
export function fromDefinition(name: string): FieldSchema {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const scalar = SCALAR_DEFS[name];
  if (scalar !== undefined) {
    const s = scalar.type === 'object' ? ANY : SCALAR;
    cache.set(name, s);
    return s;
  }
  const def = DEFS.get(name);
  if (def === undefined) return ANY;
  const properties: Record<string, FieldSchema> = {};
  const schema: FieldSchema = { type: 'object', properties };
  cache.set(name, schema); // before recursing: JSONSchemaProps refers to itself
  for (const [prop, src] of Object.entries(def.p)) properties[prop] = fromType(parseField(src).type);
  return schema;
}

const isMap = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The FieldSchema of a CRD's structural openAPIV3Schema (apiextensions pruning rules:
 * properties, additionalProperties, items, x-kubernetes-preserve-unknown-fields,
 * x-kubernetes-embedded-resource, x-kubernetes-int-or-string).
 */
export function fieldSchemaFromJsonSchema(
  schema: unknown,
  objectMeta: FieldSchema,
  root = true,
): FieldSchema {
  if (!isMap(schema)) return ANY;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  if (schema['x-kubernetes-int-or-string'] === true) return SCALAR;
  const type = schema.type;
  if (type === 'array')
    return { type: 'array', items: fieldSchemaFromJsonSchema(schema.items, objectMeta, false) };
  const props = isMap(schema.properties) ? schema.properties : undefined;
  const additional = schema.additionalProperties;
  if (type === 'object' || props !== undefined || additional !== undefined || root || embedded) {
    if (props === undefined && isMap(additional)) {
      return { type: 'map', values: fieldSchemaFromJsonSchema(additional, objectMeta, false) };
    }
    if (props === undefined && (additional === true || (!root && !embedded && preserve))) return ANY;
    const properties: Record<string, FieldSchema> = {};
    for (const [k, v] of Object.entries(props ?? {}))
      properties[k] = fieldSchemaFromJsonSchema(v, objectMeta, false);
    if (root || embedded) {
      if (!Object.hasOwn(properties, 'apiVersion')) properties.apiVersion = SCALAR;
      if (!Object.hasOwn(properties, 'kind')) properties.kind = SCALAR;
      properties.metadata = objectMeta;
    }
    if (props === undefined && !root && !embedded && !preserve)
      return type === 'object' ? { type: 'object', properties } : ANY;
    return { type: 'object', properties, ...(preserve ? { preserveUnknown: true } : {}) };
  }
  return type === undefined ? ANY : SCALAR;
}

/** Paths of fields in `value` that `schema` does not know, in document order. */
export function findUnknownFields(schema: FieldSchema, value: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const walk = (s: FieldSchema, v: unknown, path: string): void => {
    switch (s.type) {
      case 'object':
        if (!isMap(v)) return;
        for (const [k, x] of Object.entries(v)) {
          const p = path === '' ? k : `${path}.${k}`;
          const child = Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
          if (child === undefined) {
            if (s.preserveUnknown !== true) out.push(p);
          } else walk(child, x, p);
        }
        return;
      case 'map':
        if (isMap(v))
          for (const [k, x] of Object.entries(v)) walk(s.values, x, path === '' ? k : `${path}.${k}`);
        return;
      case 'array':
        if (Array.isArray(v))
          (v as unknown[]).forEach((x, i) => {
            walk(s.items, x, `${path}[${i}]`);
          });
        return;
      case 'scalar':
      case 'any':
        return;
    }
  };
  walk(schema, value, prefix);
  return out;
}

/** The message upstream returns for fieldValidation=Strict (400 BadRequest). */
export function strictDecodingError(unknown: readonly string[]): string {
  return `strict decoding error: ${unknown.map((p) => `unknown field ${JSON.stringify(p)}`).join(', ')}`;
}
