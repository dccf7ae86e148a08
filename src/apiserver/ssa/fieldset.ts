/**
 * Field sets of structured-merge-diff (sigs.k8s.io/structured-merge-diff/v4 fieldpath): a set
 * of paths, each path a list of elements written as in managedFields' FieldsV1 —
 * `f:<field>`, `k:<json of the key fields>` (an item of a list map), `v:<json>` (an item of
 * a set), `i:<index>`. A path in the set is a "member": owned by whoever holds the set.
 *
 * In memory a set is a Map from the joined path to the member's leaf fingerprint (canonical
 * JSON of a scalar, atomic list/map or empty map) or null for a list item, so comparing two
 * objects' sets also finds the modified leaves (typed.Compare).
 */
import { isObject } from '../meta.js';
import type { JsonObject } from '../storage/types.js';
import type { ListKind, Shape } from './shape.js';

/** Separator of path elements in a joined path (JSON in k:/v: elements never holds a raw NUL). */
export const SEP = '\u0000';

/** Joined path → leaf fingerprint, or null for a member that is a list item. */
export type Fields = Map<string, string | null>;

export function join(prefix: string, pe: string): string {
  return prefix === '' ? pe : `${prefix}${SEP}${pe}`;
}

export function split(path: string): string[] {
  return path === '' ? [] : path.split(SEP);
}

/** Canonical JSON (sorted object keys): equal values, equal strings. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

/** The path element of a list item, or undefined when the item cannot be keyed. */
export function itemElement(item: unknown, list: ListKind): string | undefined {
  switch (list.type) {
    case 'atomic':
      return undefined;
    case 'set':
      return `v:${canonical(item)}`;
    case 'map': {
      if (!isObject(item)) return undefined;
      const key: JsonObject = {};
      // Keys in name order, as fieldpath.KeyByFields sorts them.
      for (const k of [...list.keys].sort()) {
        const v = item[k] ?? list.defaults[k];
        if (v === undefined || v === null) return undefined;
        key[k] = v;
      }
      return `k:${JSON.stringify(key)}`;
    }
  }
}

/** Elements of every item, or undefined when one cannot be keyed (the list is then atomic). */
export function itemElements(items: readonly unknown[], list: ListKind): string[] | undefined {
  const out: string[] = [];
  for (const it of items) {
    const pe = itemElement(it, list);
    if (pe === undefined) return undefined;
    out.push(pe);
  }
  return out;
}

function walk(v: unknown, shape: Shape, path: string, out: Fields): void {
  if (Array.isArray(v)) {
    const pes = shape.list.type === 'atomic' ? undefined : itemElements(v, shape.list);
    if (pes === undefined) {
      out.set(path, canonical(v));
      return;
    }
    const itemShape = shape.item();
    v.forEach((it, i) => {
      const p = join(path, pes[i] ?? '');
      if (isObject(it) && shape.list.type === 'map') {
        out.set(p, null);
        walkObject(it, itemShape, p, out);
      } else out.set(p, canonical(it));
    });
    return;
  }
  if (isObject(v) && !shape.atomicMap && Object.keys(v).some((k) => v[k] !== undefined)) {
    walkObject(v, shape, path, out);
    return;
  }
  // scalars, null, atomic maps and empty maps are leaves (toFieldSet: doScalar, empty map)
  out.set(path, canonical(v));
}

function walkObject(o: JsonObject, shape: Shape, prefix: string, out: Fields): void {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    walk(v, shape.child(k), join(prefix, `f:${k}`), out);
  }
}

/** Metadata managed by the server, never owned (fieldmanager's stripMeta). */
const STRIPPED_META = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
]);

/**
 * Which part of an object an operation may own: resources with a status subresource keep
 * status out of writes to the main resource and everything else out of status writes
 * (the strategies' ResetFields).
 */
export type Scope = 'all' | 'main' | 'status';

/** typed.ToFieldSet of an object, without apiVersion/kind/server-managed metadata. */
export function toFields(obj: JsonObject, shape: Shape, scope: Scope): Fields {
  const out: Fields = new Map();
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || k === 'apiVersion' || k === 'kind') continue;
    if (scope === 'main' && k === 'status') continue;
    if (scope === 'status' && k !== 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      const ms = shape.child('metadata');
      for (const [mk, mv] of Object.entries(v)) {
        if (mv === undefined || STRIPPED_META.has(mk)) continue;
        walk(mv, ms.child(mk), join(`f:metadata`, `f:${mk}`), out);
      }
      continue;
    }
    walk(v, shape.child(k), `f:${k}`, out);
  }
  return out;
}

export interface Comparison {
  added: Set<string>;
  removed: Set<string>;
  modified: Set<string>;
}

/** typed.Compare: what changed between two objects' field sets. */
export function compare(before: Fields, after: Fields): Comparison {
  const c: Comparison = { added: new Set(), removed: new Set(), modified: new Set() };
  for (const [p, fp] of after) {
    if (!before.has(p)) c.added.add(p);
    else {
      const old = before.get(p);
      if (fp !== null && old !== null && fp !== old) c.modified.add(p);
    }
  }
  for (const p of before.keys()) if (!after.has(p)) c.removed.add(p);
  return c;
}

// ------------------------------------------------------------------ FieldsV1

/** Order of path elements (PathElement.Compare): fields, then keys, values, indexes. */
const KIND_ORDER: Readonly<Record<string, number>> = { '.': -1, f: 0, k: 1, v: 2, i: 3 };

export function compareElements(a: string, b: string): number {
  const ka = KIND_ORDER[a[0] ?? ''] ?? 9;
  const kb = KIND_ORDER[b[0] ?? ''] ?? 9;
  if (ka !== kb) return ka - kb;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Node {
  member: boolean;
  children: Map<string, Node>;
}

function tree(paths: Iterable<string>): Node {
  const root: Node = { member: false, children: new Map() };
  for (const p of paths) {
    let n = root;
    for (const pe of split(p)) {
      let c = n.children.get(pe);
      if (c === undefined) {
        c = { member: false, children: new Map() };
        n.children.set(pe, c);
      }
      n = c;
    }
    n.member = true;
  }
  return root;
}

function emit(n: Node): JsonObject {
  const out: JsonObject = {};
  if (n.member && n.children.size > 0) out['.'] = {};
  for (const pe of [...n.children.keys()].sort(compareElements)) {
    const c = n.children.get(pe);
    if (c !== undefined) out[pe] = emit(c);
  }
  return out;
}

/** A set as managedFields' fieldsV1 object. */
export function toFieldsV1(paths: Iterable<string>): JsonObject {
  return emit(tree(paths));
}

/** The paths of a fieldsV1 object (unknown shapes are ignored, not trusted). */
export function fromFieldsV1(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (!isObject(v)) return out;
  const keys = Object.keys(v);
  if (keys.length === 0 && prefix !== '') out.add(prefix);
  for (const k of keys) {
    if (k === '.') {
      if (prefix !== '') out.add(prefix);
      continue;
    }
    fromFieldsV1(v[k], join(prefix, k), out);
  }
  return out;
}

/**
 * The order Set.Iterate visits members: at each level the members first, then the children's
 * contents, each in element order (used for conflict messages, as upstream lists them).
 */
export function iterationOrder(paths: Iterable<string>): string[] {
  const out: string[] = [];
  const visit = (n: Node, prefix: string): void => {
    const pes = [...n.children.keys()].sort(compareElements);
    for (const pe of pes) if (n.children.get(pe)?.member === true) out.push(join(prefix, pe));
    for (const pe of pes) {
      const c = n.children.get(pe);
      if (c !== undefined && c.children.size > 0) visit(c, join(prefix, pe));
    }
  };
  visit(tree(paths), '');
  return out;
}

/** value.ToString of a key or set value. */
function valueString(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return canonical(v);
}

/** fieldpath.Path.String(): `.spec.containers[name="main"].image`. */
export function pathString(path: string): string {
  return split(path)
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as JsonObject;
          return `[${Object.entries(key)
            .map(([k, v]) => `${k}=${valueString(v)}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${valueString(JSON.parse(body))}]`;
        case 'i':
          return `[${body}]`;
        default:
          return '{{invalid path element}}';
      }
    })
    .join('');
}
