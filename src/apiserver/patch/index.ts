/**
 * Patch application for the embedded API server: JSON Patch (RFC 6902), JSON Merge Patch
 * (RFC 7386) and Kubernetes strategic merge patch. Pure functions; the REST layer does
 * the read-modify-write around them.
 */
import type { Result } from '../../common/index.js';
import { TetherError, err } from '../../common/index.js';
import type { JsonObject } from '../storage/types.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export interface PatchTarget {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly isCustomResource: boolean;
}

/** A patch that cannot be applied; `status` is the HTTP code upstream answers with. */
export class PatchError extends TetherError {
  readonly code = 'PATCH_FAILED';
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The patch type of a request's Content-Type (parameters such as charset are ignored). */
export function patchTypeFromContentType(ct: string): PatchType | undefined {
  const base = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  return CONTENT_TYPES[base];
}

export function applyPatch(
  _original: JsonObject,
  _patch: string,
  _type: PatchType,
  _target: PatchTarget,
): Result<JsonObject, PatchError> {
  return err(new PatchError(500, 'not implemented yet'));
}
