/**
 * PATCH (handlers/patch.go): JSON, merge and strategic merge patches applied to the current
 * object, then written as an update with the read revision as precondition, retried on
 * conflicts with concurrent writers. Server-side apply is handlers/apply.ts.
 */
import { Errors } from '../errors.js';
import { metaOf, str } from '../meta.js';
import { applyPatch, patchTypeFromContentType, type PatchType } from '../patch/index.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import type { ApiError } from '../errors.js';
import { APPLY_PATCH_TYPE, handleApply, patchOptionsError } from './apply.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';
import { scaleFromObject, scaleToObject } from './scale.js';

const PATCH_TYPES_BUILTIN = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
const PATCH_TYPES_CUSTOM = ['application/json-patch+json', 'application/merge-patch+json'];

export function doPatch(
  original: JsonObject,
  patch: string,
  type: PatchType,
  target: { group: string; version: string; kind: string; isCustomResource: boolean },
): Result<JsonObject, ApiError> {
  const res = applyPatch(original, patch, type, target);
  if (res.ok) return ok(res.value);
  const e = res.error;
  switch (e.status) {
    case 415:
      return err(
        Errors.unsupportedMediaType(target.isCustomResource ? PATCH_TYPES_CUSTOM : PATCH_TYPES_BUILTIN),
      );
    case 422:
      return err(
        Errors.invalid(target.kind, target.group, str(metaOf(original)['name']) ?? '', [
          { reason: 'FieldValueInvalid', message: e.message },
        ]),
      );
    case 409:
      return err(Errors.conflict('', '', '', e.message));
    default:
      return err(Errors.badRequest(e.message));
  }
}

export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const form = negotiate(ctx.req, ctx.query) ?? { kind: 'object' as const };
  const isCustom = ctx.r.custom !== undefined;
  const ct = ctx.req.headers['content-type'] ?? '';
  if ((ct.split(';')[0] ?? '').trim().toLowerCase() === APPLY_PATCH_TYPE) {
    await handleApply(ctx);
    return;
  }
  const type = patchTypeFromContentType(ct);
  if (type === undefined || (isCustom && type === 'strategic')) {
    ctx.req.resume();
    writeError(ctx.res, Errors.unsupportedMediaType(isCustom ? PATCH_TYPES_CUSTOM : PATCH_TYPES_BUILTIN));
    return;
  }
  const badOptions = patchOptionsError(false, ctx.query);
  if (badOptions !== undefined) {
    ctx.req.resume();
    writeError(ctx.res, badOptions);
    return;
  }
  const opts = writeOptions(ctx);
  if (!opts.ok) {
    writeError(ctx.res, opts.error);
    return;
  }
  const b = await body(ctx);
  if (!b.ok) {
    writeError(ctx.res, b.error);
    return;
  }
  const patchText = b.value.data.toString('utf8');
  const { r, store } = ctx;
  const ns = namespaceOf(ctx);
  const name = ctx.info.name;
  const sub = ctx.info.subresource;
  const target = { group: r.group, version: r.version, kind: r.kind, isCustomResource: isCustom };
  const res = store.guaranteedUpdate(
    r,
    ns,
    name,
    (current) => {
      if (sub === 'scale') {
        const scale = scaleFromObject(r, current);
        const patched = doPatch(scale, patchText, type === 'strategic' ? 'merge' : type, {
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          isCustomResource: false,
        });
        if (!patched.ok) return patched;
        return scaleToObject(r, current, patched.value);
      }
      const patched = doPatch(current, patchText, type, target);
      if (!patched.ok) return patched;
      return ok(patched.value);
    },
    (desired, so) => {
      // A resourceVersion in the patch is a precondition (upstream: "the object has been modified").
      const rv = str(metaOf(desired)['resourceVersion']) ?? '';
      if (rv !== '' && rv !== String(so.modRevision)) return err(Errors.modified(r.resource, r.group, name));
      metaOf(desired)['resourceVersion'] = String(so.modRevision);
      if (sub === 'status') return store.updateStatus(r, ns, name, desired, opts.value, so.modRevision);
      if (sub === 'ephemeralcontainers')
        return store.updateEphemeralContainers(r, ns, name, desired, opts.value, so.modRevision);
      return store.update(r, ns, name, desired, opts.value, so.modRevision);
    },
  );
  if (!res.ok) {
    writeError(ctx.res, res.error, ctx.warnings);
    return;
  }
  const out = sub === 'scale' ? scaleFromObject(r, res.value) : res.value;
  writeJson(ctx.res, 200, sub === 'scale' ? out : render(r, form, [out], undefined), ctx.warnings);
}
