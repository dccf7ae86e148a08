/**
 * PATCH with application/apply-patch+yaml: server-side apply (handlers/patch.go applyPatcher).
 * The configuration is merged into the live object by ssa.apply (conflicts, pruning,
 * managedFields), then written like any update — or created when the object does not exist.
 */
import { parseDocument } from 'yaml';
import { ApiError, Causes, Errors, type StatusCause } from '../errors.js';
import { isObject, metaOf, str } from '../meta.js';
import { apiVersionOf } from '../resources.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { apply, scopeFor, shapeFor } from '../ssa/index.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';

export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';

/** ValidatePatchOptions: 422 on PatchOptions.meta.k8s.io "" (no name). */
export function patchOptionsError(isApply: boolean, query: URLSearchParams): ApiError | undefined {
  const causes: StatusCause[] = [];
  if (!isApply && query.has('force'))
    causes.push(Causes.forbidden('force', 'may not be specified for non-apply patch'));
  if (isApply && (query.get('fieldManager') ?? '') === '')
    causes.push(Causes.required('fieldManager', 'is required for apply patch'));
  const fm = query.get('fieldManager') ?? '';
  if (fm.length > 128)
    causes.push(Causes.invalidValue('fieldManager', fm, 'must be no more than 128 characters'));
  if (causes.length === 0) return undefined;
  return Errors.invalid('PatchOptions', 'meta.k8s.io', '', causes);
}

function parseConfig(text: string): Result<JsonObject, ApiError> {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    return err(Errors.badRequest(`error decoding YAML: ${doc.errors[0]?.message ?? 'invalid YAML'}`));
  const v: unknown = doc.toJS();
  if (!isObject(v)) return err(Errors.badRequest('error decoding YAML: the configuration is not an object'));
  return ok(v);
}

export async function handleApply(ctx: HandlerContext): Promise<void> {
  const form = negotiate(ctx.req, ctx.query) ?? { kind: 'object' as const };
  const bad = patchOptionsError(true, ctx.query);
  if (bad !== undefined) {
    ctx.req.resume();
    writeError(ctx.res, bad);
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
  const config = parseConfig(b.value.data.toString('utf8'));
  if (!config.ok) {
    writeError(ctx.res, config.error);
    return;
  }
  const { r, store } = ctx;
  const ns = namespaceOf(ctx);
  const name = ctx.info.name;
  const sub = ctx.info.subresource === 'status' ? 'status' : undefined;
  // versionCheck: the configuration must be of the endpoint's kind and version.
  const av = str(config.value['apiVersion']) ?? '';
  const kind = str(config.value['kind']) ?? '';
  if (av !== apiVersionOf(r) || kind !== r.kind) {
    const [g, v] = av.includes('/') ? av.split('/', 2) : ['', av];
    writeError(ctx.res, Errors.badRequest(`invalid object type: ${g ?? ''}/${v ?? ''}, Kind=${kind}`));
    return;
  }
  const cfgMeta = isObject(config.value['metadata']) ? config.value['metadata'] : {};
  const cfgName = str(cfgMeta['name']) ?? '';
  if (cfgName !== '' && cfgName !== name) {
    writeError(
      ctx.res,
      Errors.badRequest(`the name of the object (${cfgName}) does not match the name on the URL (${name})`),
    );
    return;
  }
  const writer = { manager: ctx.query.get('fieldManager') ?? '', apiVersion: apiVersionOf(r) };
  const args = {
    config: config.value,
    shape: shapeFor(r),
    scope: scopeFor(r, sub),
    writer: sub === undefined ? writer : { ...writer, subresource: sub },
    force: ctx.query.get('force') === 'true',
  };
  const wopts = { ...opts.value, applied: true };

  if (store.storage.get(store.key(r, ns, name)) === undefined) {
    if (sub !== undefined) {
      writeError(ctx.res, Errors.notFound(r.resource, r.group, name));
      return;
    }
    // createIfNotFound: apply to nothing creates the object.
    const merged = apply({ ...args, live: undefined });
    if (!merged.ok) {
      writeError(ctx.res, merged.error);
      return;
    }
    const m = metaOf(merged.value);
    m['name'] = name;
    if (ns !== undefined) m['namespace'] = ns;
    merged.value['apiVersion'] = apiVersionOf(r);
    merged.value['kind'] = r.kind;
    const created = store.create(r, ns, merged.value, wopts);
    if (created.ok) {
      writeJson(ctx.res, 201, render(r, form, [created.value], undefined), ctx.warnings);
      return;
    }
    if (created.error.reason !== 'AlreadyExists') {
      writeError(ctx.res, created.error, ctx.warnings);
      return;
    }
    // created concurrently: apply to it below
  }
  const res = store.guaranteedUpdate(
    r,
    ns,
    name,
    (current) => apply({ ...args, live: current }),
    (desired, so) => {
      metaOf(desired)['resourceVersion'] = String(so.modRevision);
      if (sub === 'status') return store.updateStatus(r, ns, name, desired, wopts, so.modRevision);
      return store.update(r, ns, name, desired, wopts, so.modRevision);
    },
  );
  if (!res.ok) {
    writeError(ctx.res, res.error, ctx.warnings);
    return;
  }
  writeJson(ctx.res, 200, render(r, form, [res.value], undefined), ctx.warnings);
}
