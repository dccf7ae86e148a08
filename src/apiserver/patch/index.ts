/**
 * Patch application for the embedded API server: JSON Patch (RFC 6902), JSON Merge Patch
 * (RFC 7386) and Kubernetes strategic merge patch, each behaving like kube-apiserver's
 * (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go). Pure functions; the REST
 * layer does the read-modify-write, defaulting, validation and name checks around them.
 */
import type { Result } from '../../common/index.js';
import { err, ok } from '../../common/index.js';
import type { JsonObject } from '../storage/types.js';
import { badRequest, PatchError } from './errors.js';
import { goSyntaxError, isMap, jsonTypeName } from './gojson.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { patchMetaFor } from './schema.js';
import { mergeMap, SmpFailure, stripDirectives } from './strategic.js';

export { PatchError, patchErrorStatus } from './errors.js';
export { patchMetaFor, type PatchMeta } from './schema.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export interface PatchTarget {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly isCustomResource: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The patch type of a request's Content-Type (parameters such as charset are ignored). */
export function patchTypeFromContentType(ct: string): PatchType | undefined {
  const base = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  return CONTENT_TYPES[base];
}

/** The media types upstream lists in its 415 for custom resources (apiextensions-apiserver). */
export const CUSTOM_RESOURCE_PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
] as const;

function unsupportedMediaType(accepted: readonly string[]): PatchError {
  return new PatchError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

function applyStrategic(
  original: JsonObject,
  patch: string,
  target: PatchTarget,
): Result<JsonObject, PatchError> {
  const syntax = goSyntaxError(patch);
  if (syntax !== undefined) return err(badRequest(syntax));
  const p: unknown = JSON.parse(patch);
  if (p === null) return ok(structuredClone(original)); // null decodes to an empty map
  if (!isMap(p)) {
    return err(
      badRequest(`json: cannot unmarshal ${jsonTypeName(p)} into Go value of type map[string]interface {}`),
    );
  }
  try {
    const merged = mergeMap(structuredClone(original), p, patchMetaFor(target.group, target.kind));
    return ok(stripDirectives(merged) as JsonObject);
  } catch (e) {
    if (e instanceof SmpFailure) return err(e.error);
    throw e;
  }
}

/**
 * Apply `patch` (the raw request body) of `type` to `original`. Never mutates `original`.
 * Failures carry the HTTP status, reason and message kube-apiserver answers with.
 */
export function applyPatch(
  original: JsonObject,
  patch: string,
  type: PatchType,
  target: PatchTarget,
): Result<JsonObject, PatchError> {
  switch (type) {
    case 'json': {
      const r = applyJsonPatch(original, patch);
      return r instanceof PatchError ? err(r) : ok(r);
    }
    case 'merge': {
      const r = applyMergePatch(original, patch);
      return r instanceof PatchError ? err(r) : ok(r);
    }
    case 'strategic':
      // Custom resources have no Go types to read merge keys from: upstream refuses.
      if (target.isCustomResource) return err(unsupportedMediaType(CUSTOM_RESOURCE_PATCH_TYPES));
      return applyStrategic(original, patch, target);
  }
}
