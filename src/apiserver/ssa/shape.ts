/**
 * The little structured-merge-diff needs to know about a type: how each list merges
 * (atomic, set, or map keyed by some fields) and whether a map is atomic. Built-in kinds take
 * it from the patch metadata table (patchStrategy/patchMergeKey, patch/schema.ts) with the
 * OpenAPI list-map keys where they differ from patchMergeKey; custom resources from their
 * CRD's structural schema (x-kubernetes-list-type, -list-map-keys, -map-type).
 */
import { isObject } from '../meta.js';
import { lookupField, patchMetaFor, type PatchMeta } from '../patch/schema.js';
import type { JsonObject } from '../storage/types.js';

export type ListKind =
  | { readonly type: 'atomic' }
  | { readonly type: 'set' }
  | { readonly type: 'map'; readonly keys: readonly string[]; readonly defaults: Readonly<JsonObject> };

export interface Shape {
  readonly list: ListKind;
  /** x-kubernetes-map-type: atomic — the map is one value, replaced as a whole. */
  readonly atomicMap: boolean;
  child(name: string): Shape;
  item(): Shape;
}

const ATOMIC: ListKind = { type: 'atomic' };
const SET: ListKind = { type: 'set' };

/**
 * x-kubernetes-list-map-keys of k8s.io/api where they are more than the patchMergeKey
 * (api/openapi-spec v1.34): a port is identified by number and protocol, whose default (TCP)
 * fills a key the applier left out (structured-merge-diff uses the schema default).
 */
const LIST_MAP_KEYS: Readonly<Record<string, ListKind>> = {
  containerPort: { type: 'map', keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  port: { type: 'map', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  topologyKey: { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'], defaults: {} },
};

function fromPatchMeta(m: PatchMeta): Shape {
  let list: ListKind = ATOMIC;
  if (m.strategy === 'merge')
    list =
      m.mergeKey === undefined
        ? SET
        : (LIST_MAP_KEYS[m.mergeKey] ?? { type: 'map', keys: [m.mergeKey], defaults: {} });
  return {
    list,
    atomicMap: false,
    child: (name) => fromPatchMeta(lookupField(m, name)),
    item: () => fromPatchMeta(m.fields === undefined ? {} : { fields: m.fields }),
  };
}

export function builtinShape(group: string, kind: string): Shape {
  return fromPatchMeta(patchMetaFor(group, kind));
}

function fromSchema(s: JsonObject): Shape {
  let list: ListKind = ATOMIC;
  const lt = s['x-kubernetes-list-type'];
  const items = isObject(s['items']) ? s['items'] : {};
  if (lt === 'set') list = SET;
  if (lt === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys = s['x-kubernetes-list-map-keys'].filter((k): k is string => typeof k === 'string');
    const props = isObject(items['properties']) ? items['properties'] : {};
    const defaults: JsonObject = {};
    for (const k of keys) {
      const p = props[k];
      if (isObject(p) && p['default'] !== undefined) defaults[k] = p['default'];
    }
    list = { type: 'map', keys, defaults };
  }
  return {
    list,
    atomicMap: s['x-kubernetes-map-type'] === 'atomic',
    child: (name) => {
      const props = isObject(s['properties']) ? s['properties'] : {};
      const p = props[name];
      if (isObject(p)) return fromSchema(p);
      return fromSchema(isObject(s['additionalProperties']) ? s['additionalProperties'] : {});
    },
    item: () => fromSchema(items),
  };
}

/** A custom resource: its schema, with ObjectMeta's list semantics under metadata. */
export function customShape(schema: JsonObject | undefined): Shape {
  const root = fromSchema(schema ?? {});
  const meta = builtinShape('', '').child('metadata');
  return { ...root, child: (name) => (name === 'metadata' ? meta : root.child(name)) };
}
