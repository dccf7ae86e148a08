/**
 * JSON Patch (RFC 6902) as kube-apiserver applies it: gopkg.in/evanphx/json-patch.v4
 * semantics (negative array indices, `replace` of a missing object key adds it, `test` of a
 * missing key against null passes), bodies that do not decode as []jsonPatchOp → 400
 * "error decoding patch: <encoding/json message>" (kube-apiserver 1.34),
 * apply failures → 422 with upstream's generic message, more than 10000 operations → 413.
 * The operations themselves are carried out by fast-json-patch.
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { badRequest, notAnObject, PatchError, unprocessable } from './errors.js';
import { goKind, goSyntaxError, isMap, jsonEqual, jsonTypeName } from './gojson.js';

const MAX_OPERATIONS = 10000; // handlers/patch.go maxJSONPatchOperations

type Container = { kind: 'map'; value: Record<string, unknown> } | { kind: 'slice'; value: unknown[] };

const decodeKey = (k: string): string => k.replace(/~1/g, '/').replace(/~0/g, '~');
const encodeKey = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** Go's strconv.Atoi as v4 uses it for array indices. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** v4 findObject: the container of the last path segment and the normalized pointer to it. */
function findObject(
  doc: unknown,
  path: string,
): { con: Container; key: string; pointer: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let cur: unknown = doc;
  let pointer = '';
  for (const raw of split.slice(1, -1)) {
    const part = decodeKey(raw);
    let next: unknown;
    if (Array.isArray(cur)) {
      let idx = atoi(part);
      if (idx === undefined) return undefined;
      if (idx < 0) idx += cur.length;
      if (idx < 0 || idx >= cur.length) return undefined;
      next = cur[idx];
      pointer += `/${idx}`;
    } else if (isMap(cur)) {
      next = cur[part];
      pointer += `/${encodeKey(part)}`;
    } else return undefined;
    if (!Array.isArray(next) && !isMap(next)) return undefined;
    cur = next;
  }
  const key = decodeKey(split[split.length - 1] ?? '');
  if (Array.isArray(cur)) return { con: { kind: 'slice', value: cur }, key, pointer };
  if (isMap(cur)) return { con: { kind: 'map', value: cur }, key, pointer };
  return undefined;
}

class ApplyFailure extends Error {}
const applyFail = (msg: string): never => {
  throw new ApplyFailure(msg);
};

/** Resolve a pointer for an operation, returning fast-json-patch's (normalized) pointer. */
function resolve(
  doc: unknown,
  path: string,
  op: string,
  forAdd: boolean,
): { pointer: string; found: boolean; con: Container } {
  const found = findObject(doc, path);
  if (found === undefined)
    return applyFail(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  const { con, key, pointer } = found;
  if (con.kind === 'map') {
    return { pointer: `${pointer}/${encodeKey(key)}`, found: Object.hasOwn(con.value, key), con };
  }
  if (forAdd && key === '-') return { pointer: `${pointer}/-`, found: false, con };
  let idx = atoi(key);
  if (idx === undefined)
    return applyFail(`error in ${op} for path: '${path}': value was not a proper array index: '${key}'`);
  const len = con.value.length + (forAdd ? 1 : 0);
  if (idx < 0) {
    if (idx < -len)
      return applyFail(
        `error in ${op} for path: '${path}': Unable to access invalid index: ${idx}: invalid index referenced`,
      );
    idx += len;
  }
  if (idx >= len)
    return applyFail(
      `error in ${op} for path: '${path}': Unable to access invalid index: ${idx}: invalid index referenced`,
    );
  return { pointer: `${pointer}/${idx}`, found: true, con };
}

function str(op: Record<string, unknown>, field: 'path' | 'from', kind: string): string {
  const v = op[field];
  if (typeof v !== 'string') {
    return applyFail(`${kind} operation failed to decode ${field}: missing value`);
  }
  return v;
}

function applyOne(doc: unknown, op: Record<string, unknown>): unknown {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const apply = (o: Operation): unknown => jsonpatch.applyOperation(doc, o, false, true).newDocument;
  switch (kind) {
    case 'add': {
      const path = str(op, 'path', kind);
      const { pointer } = resolve(doc, path, kind, true);
      return apply({ op: 'add', path: pointer, value: structuredClone(op.value ?? null) });
    }
    case 'remove': {
      const path = str(op, 'path', kind);
      const r = resolve(doc, path, kind, false);
      if (!r.found) {
        const key = decodeKey(path.split('/').pop() ?? '');
        return applyFail(
          `error in remove for path: '${path}': Unable to remove nonexistent key: ${key}: missing value`,
        );
      }
      return apply({ op: 'remove', path: r.pointer });
    }
    case 'replace': {
      const path = str(op, 'path', kind);
      if (path === '') {
        const v = op.value;
        if (!isMap(v) && !Array.isArray(v))
          return applyFail('replace operation value must be object or array');
        return structuredClone(v);
      }
      const r = resolve(doc, path, kind, false);
      // v4 sets a missing object key instead of failing (partialDoc.get never errors).
      return apply({
        op: r.found ? 'replace' : 'add',
        path: r.pointer,
        value: structuredClone(op.value ?? null),
      });
    }
    case 'move':
    case 'copy': {
      const from = str(op, 'from', kind);
      const f = resolve(doc, from, kind, false);
      if (!f.found) return applyFail(`error in ${kind} for path: '${from}': missing value`);
      const value: unknown = jsonpatch.getValueByPointer(doc, f.pointer);
      if (kind === 'move') jsonpatch.applyOperation(doc, { op: 'remove', path: f.pointer }, false, true);
      const path = str(op, 'path', kind);
      const t = resolve(doc, path, kind, true);
      return apply({ op: 'add', path: t.pointer, value: structuredClone(value) });
    }
    case 'test': {
      const path = str(op, 'path', kind);
      const want = op.value;
      if (path === '') {
        if (jsonEqual(doc, want)) return doc;
        return applyFail(`testing value ${path} failed: test failed`);
      }
      const r = resolve(doc, path, kind, false);
      const got: unknown = r.found ? jsonpatch.getValueByPointer(doc, r.pointer) : undefined;
      if (got === undefined || got === null) {
        if (want === null) return doc;
        return applyFail(`testing value ${path} failed: test failed`);
      }
      if (want === undefined || !jsonEqual(got, want))
        return applyFail(`testing value ${path} failed: test failed`);
      return doc;
    }
    default:
      return applyFail(`Unexpected kind: ${kind}`);
  }
}

export function applyJsonPatch(
  original: Record<string, unknown>,
  patch: string,
): Record<string, unknown> | PatchError {
  // kube-apiserver first decodes the body into []handlers.jsonPatchOp (1.34).
  const decodeError = (msg: string): PatchError => badRequest(`error decoding patch: ${msg}`);
  const syntax = goSyntaxError(patch);
  if (syntax !== undefined) return decodeError(syntax);
  const ops: unknown = JSON.parse(patch);
  if (ops !== null && !Array.isArray(ops)) {
    return decodeError(
      `json: cannot unmarshal ${jsonTypeName(ops)} into Go value of type []handlers.jsonPatchOp`,
    );
  }
  const list = (ops ?? []) as unknown[];
  for (const op of list) {
    if (op === null) continue;
    if (!isMap(op))
      return decodeError(
        `json: cannot unmarshal ${jsonTypeName(op)} into Go value of type handlers.jsonPatchOp`,
      );
    for (const [k, v] of Object.entries(op)) {
      if ((k === 'op' || k === 'path' || k === 'from') && v !== null && typeof v !== 'string') {
        return decodeError(
          `json: cannot unmarshal ${jsonTypeName(v)} into Go struct field jsonPatchOp.${k} of type string`,
        );
      }
    }
  }
  if (list.length > MAX_OPERATIONS) {
    return new PatchError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${list.length}`,
    );
  }
  let doc: unknown = structuredClone(original);
  try {
    for (const op of list) doc = applyOne(doc, (op ?? {}) as Record<string, unknown>);
  } catch (e) {
    if (e instanceof ApplyFailure) return unprocessable(e.message);
    // fast-json-patch refusing something v4 refuses too (e.g. __proto__)
    if (e instanceof jsonpatch.JsonPatchError) return unprocessable(e.message);
    throw e;
  }
  if (goKind(doc) !== 'map') return notAnObject(doc, jsonTypeName(doc));
  return doc as Record<string, unknown>;
}
