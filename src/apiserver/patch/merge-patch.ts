/**
 * JSON Merge Patch (RFC 7386) as kube-apiserver applies it through evanphx/json-patch's
 * MergePatch: nulls delete, objects merge, anything else replaces; nulls inside added
 * values are pruned (also inside objects nested in arrays, as that library does).
 */
import { badRequest, type PatchError } from './errors.js';
import { goSyntaxError, isMap, jsonTypeName, setOwn } from './gojson.js';

type JMap = Record<string, unknown>;

const ERR_BAD_JSON_PATCH = 'Invalid JSON Patch'; // jsonpatch.ErrBadJSONPatch

function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return (v as unknown[]).map((x) => (x === null ? x : pruneNulls(x)));
  if (!isMap(v)) return v;
  const out: JMap = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) setOwn(out, k, pruneNulls(x));
  return out;
}

function mergeDocs(doc: JMap, patch: JMap): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      Reflect.deleteProperty(doc, k);
      continue;
    }
    const cur = doc[k];
    if (cur === undefined || cur === null) setOwn(doc, k, pruneNulls(v));
    else if (!isMap(cur)) setOwn(doc, k, pruneNulls(v));
    else if (!isMap(v)) setOwn(doc, k, v);
    else mergeDocs(cur, v);
  }
}

export function applyMergePatch(original: JMap, patch: string): JMap | PatchError {
  // kube-apiserver first decodes the body into a map (1.34), then hands it to MergePatch.
  const syntax = goSyntaxError(patch);
  if (syntax !== undefined) return badRequest(`error decoding patch: ${syntax}`);
  const p: unknown = JSON.parse(patch);
  if (p === null) return badRequest(ERR_BAD_JSON_PATCH);
  if (!isMap(p)) {
    return badRequest(
      `error decoding patch: json: cannot unmarshal ${jsonTypeName(p)} into Go value of type map[string]interface {}`,
    );
  }
  const doc = structuredClone(original);
  mergeDocs(doc, p);
  return doc;
}
