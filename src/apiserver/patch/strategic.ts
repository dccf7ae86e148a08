/**
 * Server-side strategic merge patch, following k8s.io/apimachinery v0.36
 * pkg/util/strategicpatch (StrategicMergeMapPatch with MergeParallelList and
 * IgnoreUnmatchedNulls), including its ordering rules ($setElementOrder > order in the patch >
 * order in the live list) and the effects of Go slice aliasing on them. Checked against
 * upstream's patch_test.go cases and against kube-apiserver v1.34 (test/apiserver/patch).
 * Error texts are mergepatch's; which ones become 400/422/500 is
 * interpretStrategicMergePatchError's decision (handlers/patch.go).
 */
import { badRequest, internal, unprocessable, type PatchError } from './errors.js';
import { goKind, goTypeName, goV, isMap, setOwn, type GoKind } from './gojson.js';
import { lookupField, type PatchMeta } from './schema.js';

type JMap = { [k: string]: unknown };

const DIRECTIVE = '$patch';
const DELETE = 'delete';
const REPLACE = 'replace';
const MERGE = 'merge';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

/** Thrown inside the algorithm, turned into a Result at the module boundary. */
export class SmpFailure extends Error {
  constructor(readonly error: PatchError) {
    super(error.message);
  }
}
const fail = (e: PatchError): never => {
  throw new SmpFailure(e);
};

// mergepatch/errors.go
const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_SET_ORDER = 'invalid patch format of setElementOrder list';
const errNoMergeKey = (m: unknown, k: string): never =>
  fail(internal(`map: ${goV(m)} does not contain declared merge key: ${k}`));
const errBadArgType = (expected: string, actual: unknown): never =>
  fail(internal(`expected a ${expected}, but received a ${goTypeName(actual)}`));
const errBadPatchType = (t: unknown, m: unknown): never =>
  fail(internal(`unknown patch type: ${goV(t)} in map: ${goV(m)}`));

function scalarEq(a: unknown, b: unknown): boolean {
  if (isMap(a) || isMap(b) || Array.isArray(a) || Array.isArray(b)) {
    // Go panics comparing uncomparable interface values; surface it as the 500 it becomes.
    fail(internal('runtime error: comparing uncomparable type map[string]interface {}'));
  }
  return a === b || (a == null && b == null);
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    fail(badRequest(prefix === DELETE_FROM_PRIMITIVE_LIST ? ERR_BAD_PRIMITIVE_LIST : ERR_BAD_SET_ORDER));
  }
  return s.slice(slash + 1);
}

/** sliceElementType: all elements share one kind, which is not a list. */
function sliceElementKind(...slices: (readonly unknown[] | undefined)[]): GoKind {
  let prev: GoKind | undefined;
  for (const s of slices) {
    for (const v of s ?? []) {
      const k = goKind(v);
      if (prev === undefined) {
        if (k === 'slice') fail(unprocessable('lists of lists are not supported'));
        prev = k;
      } else if (prev !== k) {
        fail(internal(`list element types are not identical: ${goV(slices.map((x) => x ?? []))}`));
      }
    }
  }
  if (prev === undefined) return fail(internal('no elements in any of the given slices'));
  return prev;
}

/** sort.SliceStable's outcome for the (possibly inconsistent) comparator upstream uses. */
function stableSortGo<T>(a: T[], less: (x: T, y: T) => boolean): void {
  for (let i = 1; i < a.length; i++) {
    for (let j = i; j > 0 && less(a[j] as T, a[j - 1] as T); j--) {
      const t = a[j] as T;
      a[j] = a[j - 1] as T;
      a[j - 1] = t;
    }
  }
}

function indexIn(l: readonly unknown[], val: unknown, mergeKey: string, kind: GoKind): number {
  const get = (item: unknown): unknown =>
    kind === 'map' ? (isMap(item) ? item[mergeKey] : undefined) : item;
  const want = get(val);
  return l.findIndex((v) => scalarEq(want, get(v)));
}

function validateMergeKeyInLists(mergeKey: string, ...lists: (readonly unknown[])[]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isMap(item)) errBadArgType('map[string]interface {}', item);
      else if (!Object.hasOwn(item, mergeKey)) errNoMergeKey(item, mergeKey);
    }
  }
}

function extractToDeleteItems(l: readonly unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const del: unknown[] = [];
  for (const v of l) {
    if (!isMap(v)) return errBadArgType('map[string]interface {}', v);
    if (Object.hasOwn(v, DIRECTIVE) && v[DIRECTIVE] === DELETE) del.push(v);
    else keep.push(v);
  }
  return [keep, del];
}

function normalizeSliceOrder(
  toSort: unknown[],
  order: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  let del: unknown[] = [];
  let sorted = toSort.slice();
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, sorted, order);
    [sorted, del] = extractToDeleteItems(sorted);
  }
  stableSortGo(sorted, (x, y) => {
    const ix = indexIn(order, x, mergeKey, kind);
    if (ix >= 0) {
      const iy = indexIn(order, y, mergeKey, kind);
      if (iy >= 0) return ix < iy;
    }
    return true;
  });
  return [...sorted, ...del];
}

function mergeSortedSlice(
  left: readonly unknown[],
  right: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  const size = left.length + right.length;
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  for (let k = 0; k < size; k++) {
    if (i >= left.length && j < right.length) out.push(right[j++]);
    else if (j >= right.length && i < left.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(
  patch: unknown[],
  serverOnly: unknown[],
  patchOrder: readonly unknown[],
  serverOrder: readonly unknown[],
  mergeKey: string,
  kind: GoKind,
): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function partitionPrimitives(original: readonly unknown[], by: readonly unknown[]): [unknown[], unknown[]] {
  const inPatch = (v: unknown): boolean => by.some((b) => scalarEq(b, v));
  return [original.filter(inPatch), original.filter((v) => !inPatch(v))];
}

function findMapByKey(l: readonly unknown[], key: string, value: unknown): number {
  for (let k = 0; k < l.length; k++) {
    const v = l[k];
    if (!isMap(v)) return fail(internal(`value for key ${k} is not a map.`));
    if (Object.hasOwn(v, key) && scalarEq(v[key], value)) return k;
  }
  return -1;
}

function partitionMaps(
  original: readonly unknown[],
  by: readonly unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const patch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of original) {
    if (!isMap(v)) return errBadArgType('map[string]interface {}', v);
    if (!Object.hasOwn(v, mergeKey)) return errNoMergeKey(v, mergeKey);
    (findMapByKey(by, mergeKey, v[mergeKey]) >= 0 ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

/** deduplicateScalars, including the order it leaves behind. */
function dedupScalars(s: unknown[]): unknown[] {
  const out = s.slice();
  let length = out.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (scalarEq(out[i], out[j])) {
        out[j] = out[length];
        out.length = length;
        length--;
        j--;
      }
    }
  }
  return out;
}

/**
 * mergeSlice for lists of maps, emulating Go slice aliasing: upstream deletes entries by
 * shifting them inside the original backing array and appends into its spare capacity, and
 * the $setElementOrder code later reads that same (mutated) array as the "server order".
 * `original` is that backing array (cap = len, as runtime.DefaultUnstructuredConverter
 * builds it) and is mutated in place exactly where Go mutates it.
 */
function mergeSliceOfMaps(
  original: unknown[],
  patch: readonly unknown[],
  elem: PatchMeta,
  mergeKey: string,
): [unknown[], unknown[], unknown[]] {
  // mergeSliceWithSpecialElements
  let backing = original;
  let len = original.length;
  let pat: unknown[] = [];
  let replace = false;
  for (const v of patch) {
    const m = v as JMap;
    if (!Object.hasOwn(m, DIRECTIVE)) {
      pat.push(v);
      continue;
    }
    const t = m[DIRECTIVE];
    if (t === DELETE) {
      if (!Object.hasOwn(m, mergeKey)) return errNoMergeKey(m, mergeKey);
      // deleteMatchingEntries: original = append(original[:i], original[i+1:]...) until none left
      for (;;) {
        const at = findMapByKey(backing.slice(0, len), mergeKey, m[mergeKey]);
        if (at < 0) break;
        for (let i = at; i < len - 1; i++) backing[i] = backing[i + 1];
        len--;
      }
    } else if (t === REPLACE) {
      replace = true; // keep going: the other $patch elements are still pruned
    } else if (t === MERGE) {
      return fail(internal('merging lists cannot yet be specified in the patch'));
    } else {
      return errBadPatchType(t, m);
    }
  }
  if (replace) {
    backing = pat;
    len = pat.length;
    pat = [];
  }
  const serverOrder = backing.slice(0, len);
  // mergeSliceWithoutSpecialElements: merge in place, append into spare capacity first
  let out = backing;
  let outLen = len;
  for (const v of pat) {
    const m = v as JMap;
    if (!Object.hasOwn(m, mergeKey)) return errNoMergeKey(m, mergeKey);
    const at = findMapByKey(out.slice(0, outLen), mergeKey, m[mergeKey]);
    if (at >= 0) {
      out[at] = mergeMap(out[at] as JMap, m, elem);
    } else if (out === backing && outLen < backing.length) {
      out[outLen++] = v;
    } else {
      if (out === backing) out = backing.slice(0, outLen);
      out.push(v);
      outLen = out.length;
    }
  }
  return [out.slice(0, outLen), pat, serverOrder];
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  elem: PatchMeta,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((v) => !patch.some((d) => scalarEq(d, v)));
    // Maybe in the future add a "concat" mode that doesn't deduplicate (upstream's words).
    const merged = dedupScalars([...original, ...patch]);
    const [patchItems, serverOnly] = partitionPrimitives(merged, patch);
    return normalizeElementOrder(patchItems, serverOnly, patch, original, '', kind);
  }
  if (mergeKey === '') return fail(internal('cannot merge lists without merge key'));
  const [merged, pat, serverOrder] = mergeSliceOfMaps(original, patch, elem, mergeKey);
  const [patchItems, serverOnly] = partitionMaps(merged, pat, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, pat, serverOrder, mergeKey, kind);
}

function mergeSliceHandler(
  original: unknown,
  patch: unknown,
  meta: PatchMeta,
  isDeleteList: boolean,
): unknown[] {
  if (!Array.isArray(original)) return errBadArgType('[]interface {}', original);
  if (!Array.isArray(patch)) return errBadArgType('[]interface {}', patch);
  // Delete lists are handled the same way whatever the field's strategy (since k8s 1.25, #110472).
  if (meta.strategy === MERGE || isDeleteList) {
    return mergeSlice(original as unknown[], patch as unknown[], meta, meta.mergeKey ?? '', isDeleteList);
  }
  return patch as unknown[];
}

function applyRetainKeysDirective(original: JMap, patch: JMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  Reflect.deleteProperty(patch, RETAIN_KEYS);
  if (!Array.isArray(list)) return fail(badRequest(ERR_BAD_RETAIN_KEYS));
  const keep = (k: string): boolean => list.some((v) => v === k);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep(k)) fail(badRequest(ERR_BAD_RETAIN_KEYS));
  }
  for (const k of Object.keys(original)) if (!keep(k)) Reflect.deleteProperty(original, k);
}

function validatePatchWithSetOrderList(
  patchList: readonly unknown[] | undefined,
  setOrder: readonly unknown[],
  mergeKey: string,
): void {
  if (setOrder.length === 0 || patchList === undefined || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  let pi = 0;
  let si = 0;
  while (pi < nonDelete.length && si < setOrder.length) {
    const item = nonDelete[pi];
    if (isMap(item) && Object.hasOwn(item, DIRECTIVE)) {
      pi++;
      continue;
    }
    let equal: boolean;
    if (mergeKey === '') equal = scalarEq(item, setOrder[si]);
    else {
      const l = item;
      const r = setOrder[si];
      if (!isMap(l)) return errBadArgType('map[string]interface {}', l);
      if (!isMap(r)) return errBadArgType('map[string]interface {}', r);
      if (!Object.hasOwn(l, mergeKey)) return errNoMergeKey(l, mergeKey);
      if (!Object.hasOwn(r, mergeKey)) return errNoMergeKey(r, mergeKey);
      equal = scalarEq(l[mergeKey], r[mergeKey]);
    }
    if (equal) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= setOrder.length) {
    fail(
      internal(
        `The order in patch list:\n${goV(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goV(setOrder)}\n`,
      ),
    );
  }
}

/** mergePatchIntoOriginal: the $setElementOrder/<field> directives and their lists. */
function mergeSetElementOrder(original: JMap, patch: JMap, meta: PatchMeta): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    Reflect.deleteProperty(patch, key);
    if (!Array.isArray(setOrder)) return errBadArgType('[]interface {}', setOrder);
    const originalKey = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.hasOwn(original, originalKey);
    const foundPatch = Object.hasOwn(patch, originalKey);
    const originalList = original[originalKey];
    const patchList = patch[originalKey];
    if (foundOriginal && !Array.isArray(originalList)) return errBadArgType('[]interface {}', originalList);
    if (foundPatch && !Array.isArray(patchList)) return errBadArgType('[]interface {}', patchList);
    const origArr = foundOriginal ? (originalList as unknown[]) : undefined;
    const patchArr = foundPatch ? (patchList as unknown[]) : undefined;
    const field = lookupField(meta, originalKey);
    const mergeKey = field.mergeKey ?? '';
    validatePatchWithSetOrderList(patchArr, setOrder as unknown[], mergeKey);
    let merged: unknown[];
    if (origArr !== undefined && patchArr === undefined) merged = origArr;
    else if (origArr === undefined && patchArr !== undefined)
      merged = removeDirectives(patchArr)[0] as unknown[];
    else if (origArr !== undefined && patchArr !== undefined)
      merged = mergeSliceHandler(origArr, patchArr, field, false);
    else continue;
    const [patchItems, serverOnly] =
      mergeKey === ''
        ? partitionPrimitives(merged, setOrder as unknown[])
        : partitionMaps(merged, setOrder as unknown[], mergeKey);
    const kind = sliceElementKind(origArr, patchArr);
    original[originalKey] = normalizeElementOrder(
      patchItems,
      serverOnly,
      setOrder as unknown[],
      origArr ?? [],
      mergeKey,
      kind,
    );
    Reflect.deleteProperty(patch, originalKey);
  }
}

/** discardNullValuesFromPatch: nulls in a value taken from the patch mean nothing. */
function discardNullValues(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v as unknown[]) discardNullValues(x);
  } else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) Reflect.deleteProperty(v, k);
      else discardNullValues(x);
    }
  }
}

/** removeDirectives: drop maps carrying `$patch` (and their keys / list slots). */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v as unknown[]) {
      const [nx, keep] = removeDirectives(x);
      if (keep) out.push(nx);
    }
    return [out, true];
  }
  if (!isMap(v)) return [v, true];
  if (Object.hasOwn(v, DIRECTIVE)) return [undefined, false];
  for (const [k, x] of Object.entries(v)) {
    const [nx, keep] = removeDirectives(x);
    if (keep) setOwn(v, k, nx);
    else Reflect.deleteProperty(v, k);
  }
  return [v, true];
}

export function mergeMap(original: JMap | undefined, patch: JMap, meta: PatchMeta): JMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    if (directive === REPLACE) {
      Reflect.deleteProperty(patch, DIRECTIVE);
      return patch;
    }
    if (directive === DELETE) return {};
    return errBadPatchType(directive, patch);
  }
  const orig = original ?? {};
  applyRetainKeysDirective(orig, patch);
  mergeSetElementOrder(orig, patch, meta);
  for (const k of Object.keys(patch)) {
    const patchV = patch[k];
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = extractKey(k, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      Reflect.deleteProperty(orig, key);
      continue; // IgnoreUnmatchedNulls
    }
    const takePatchValue = (): void => {
      // a deletion list for a field that is absent (or of another type) deletes nothing
      if (isDeleteList) return;
      discardNullValues(patchV);
      const [v, keep] = removeDirectives(patchV);
      if (keep) setOwn(orig, key, v);
      else Reflect.deleteProperty(orig, key);
    };
    if (!Object.hasOwn(orig, key) || goKind(orig[key]) !== goKind(patchV)) {
      takePatchValue();
      continue;
    }
    const field = lookupField(meta, key);
    switch (goKind(patchV)) {
      case 'map':
        setOwn(
          orig,
          key,
          field.strategy === REPLACE ? patchV : mergeMap(orig[key] as JMap, patchV as JMap, field),
        );
        break;
      case 'slice':
        setOwn(orig, key, mergeSliceHandler(orig[key], patchV, field, isDeleteList));
        break;
      default: {
        const [v, keep] = removeDirectives(patchV);
        if (keep) setOwn(orig, key, v);
        else Reflect.deleteProperty(orig, key);
      }
    }
  }
  return orig;
}

/**
 * Directives left in the result (inside values the patch added wholesale) are unknown
 * fields to upstream's typed decoder and are dropped; we drop them too so they never reach
 * storage.
 */
export function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  const out: JMap = {};
  for (const [k, x] of Object.entries(v)) {
    if (
      k === DIRECTIVE ||
      k === RETAIN_KEYS ||
      k.startsWith(`${SET_ELEMENT_ORDER}/`) ||
      k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)
    ) {
      continue;
    }
    setOwn(out, k, stripDirectives(x));
  }
  return out;
}
