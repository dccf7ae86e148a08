/**
 * fieldValidation (Strict/Warn/Ignore, KEP-2885): finds fields a built-in type does not
 * know, using the OpenAPI module's field schemas, and drops them as decoding into the Go
 * types would.
 */
import { Errors, type ApiError } from './errors.js';
import { isObject } from './meta.js';
import { knownFields, type FieldSchema } from './openapi/index.js';
import type { JsonObject } from './storage/types.js';
import { err, ok, type Result } from '../common/index.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(v: string | null): Result<FieldValidation, ApiError> {
  // Upstream default (no parameter) is Warn since 1.27.
  if (v === null || v === '') return ok('Warn');
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return ok(v);
  return err(Errors.badRequest(`fieldValidation parameter unsupported: ${v}`));
}

/** Removes unknown fields in place and returns their paths (e.g. "spec.foo"). */
export function pruneUnknown(obj: JsonObject, schema: FieldSchema): string[] {
  const out: string[] = [];
  const walk = (v: unknown, s: FieldSchema, path: string): void => {
    switch (s.type) {
      case 'any':
      case 'scalar':
        return;
      case 'array':
        if (Array.isArray(v))
          v.forEach((x, i) => {
            walk(x, s.items, `${path}[${i}]`);
          });
        return;
      case 'map':
        if (isObject(v))
          for (const [k, x] of Object.entries(v)) walk(x, s.values, `${path}${path === '' ? '' : '.'}${k}`);
        return;
      case 'object':
        if (!isObject(v)) return;
        for (const k of Object.keys(v)) {
          const sub = `${path}${path === '' ? '' : '.'}${k}`;
          const ps = s.properties[k];
          if (ps !== undefined) walk(v[k], ps, sub);
          else if (s.preserveUnknown !== true) {
            if (path === '' && (k === 'apiVersion' || k === 'kind')) continue;
            out.push(sub);
            // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
            delete v[k];
          }
        }
        return;
    }
  };
  walk(obj, schema, '');
  return out;
}

const ANY: FieldSchema = { type: 'any' };
const SCALAR: FieldSchema = { type: 'scalar' };
const META: FieldSchema = {
  type: 'object',
  properties: Object.fromEntries(
    [
      'name',
      'generateName',
      'namespace',
      'selfLink',
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'labels',
      'annotations',
      'ownerReferences',
      'finalizers',
      'managedFields',
    ].map((k) => [k, ANY]),
  ),
};

/** Top-level fields per kind: the fallback when the OpenAPI module has no schema for a kind. */
const TOP: Record<string, readonly string[]> = {
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  Endpoints: ['subsets'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: [
    'involvedObject',
    'reason',
    'message',
    'source',
    'firstTimestamp',
    'lastTimestamp',
    'count',
    'type',
    'eventTime',
    'series',
    'action',
    'related',
    'reportingComponent',
    'reportingInstance',
    'regarding',
    'note',
    'reportingController',
    'deprecatedSource',
    'deprecatedFirstTimestamp',
    'deprecatedLastTimestamp',
    'deprecatedCount',
  ],
};

function fallbackSchema(kind: string): FieldSchema {
  const props: Record<string, FieldSchema> = { apiVersion: SCALAR, kind: SCALAR, metadata: META };
  for (const k of TOP[kind] ?? ['spec', 'status']) props[k] = ANY;
  return { type: 'object', properties: props };
}

export function builtinSchema(group: string, version: string, kind: string): FieldSchema | undefined {
  return knownFields(group, version, kind) ?? fallbackSchema(kind);
}

/** Applies the directive to the unknown fields found: an error, warnings, or nothing. */
export function judgeUnknown(
  unknown: readonly string[],
  mode: FieldValidation,
  warnings: string[],
  prefix = '',
): Result<void, ApiError> {
  if (unknown.length === 0) return ok(undefined);
  const msgs = unknown.map((f) => `unknown field "${f}"`);
  // Upstream's decoder error: `Pod in version "v1" cannot be handled as a Pod: strict decoding error: …`.
  if (mode === 'Strict') return err(Errors.badRequest(`${prefix}strict decoding error: ${msgs.join(', ')}`));
  if (mode === 'Warn') warnings.push(...msgs);
  return ok(undefined);
}
