/** DELETE of one object and DELETECOLLECTION (handlers/delete.go). */
import { decodeObject } from '../body.js';
import { Errors, type ApiError } from '../errors.js';
import { isObject, str } from '../meta.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { pinnedName } from '../selectors.js';
import type { DeleteOptions } from '../store.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import { body, dryRunError, type HandlerContext, namespaceOf } from './context.js';
import { listObjects, parseListParams } from './list.js';

const POLICIES = ['Orphan', 'Background', 'Foreground'] as const;

/**
 * DeleteOptions from the body (JSON/YAML) when there is one, else from the query — never both
 * (handlers/delete.go decodes the body alone when it is not empty).
 */
export async function deleteOptions(ctx: HandlerContext): Promise<Result<DeleteOptions, ApiError>> {
  const b = await body(ctx);
  if (!b.ok) return b;
  let o: JsonObject = {};
  if (b.value.data.length > 0) {
    const d = decodeObject(b.value.data, b.value.type === '' ? 'application/json' : b.value.type);
    if (!d.ok) return d;
    o = d.value;
  }
  const q = b.value.data.length > 0 ? new URLSearchParams() : ctx.query;
  const out: DeleteOptions = { dryRun: false };
  const grace =
    q.get('gracePeriodSeconds') ??
    (typeof o['gracePeriodSeconds'] === 'number' ? String(o['gracePeriodSeconds']) : null);
  if (grace !== null) {
    const n = Number(grace);
    if (!Number.isInteger(n)) return err(Errors.badRequest(`invalid gracePeriodSeconds: ${grace}`));
    out.gracePeriodSeconds = n;
  }
  const policy: string | undefined = q.get('propagationPolicy') ?? str(o['propagationPolicy']);
  const orphan =
    q.get('orphanDependents') ??
    (typeof o['orphanDependents'] === 'boolean' ? String(o['orphanDependents']) : null);
  if (policy !== undefined) {
    if (!(POLICIES as readonly string[]).includes(policy))
      return err(
        Errors.invalid('DeleteOptions', '', '', [
          {
            field: 'propagationPolicy',
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
          },
        ]),
      );
    out.propagationPolicy = policy as DeleteOptions['propagationPolicy'] & string;
    if (orphan !== null)
      return err(
        Errors.invalid('DeleteOptions', '', '', [
          {
            field: 'propagationPolicy',
            reason: 'FieldValueInvalid',
            message:
              'Invalid value: "' + policy + '": orphanDependents and deletionPropagation cannot be both set',
          },
        ]),
      );
  } else if (orphan !== null) {
    out.propagationPolicy = orphan === 'true' ? 'Orphan' : 'Background';
  }
  const pre = o['preconditions'];
  if (isObject(pre)) {
    out.preconditions = {};
    if (typeof pre['uid'] === 'string') out.preconditions.uid = pre['uid'];
    if (typeof pre['resourceVersion'] === 'string')
      out.preconditions.resourceVersion = pre['resourceVersion'];
  }
  const dry = [...q.getAll('dryRun'), ...(Array.isArray(o['dryRun']) ? o['dryRun'].map(String) : [])];
  const badDry = dryRunError(dry, 'DeleteOptions');
  if (badDry !== undefined) return err(badDry);
  out.dryRun = dry.length > 0;
  return ok(out);
}

export async function handleDelete(ctx: HandlerContext): Promise<void> {
  const form = negotiate(ctx.req, ctx.query) ?? { kind: 'object' as const };
  const opts = await deleteOptions(ctx);
  if (!opts.ok) {
    writeError(ctx.res, opts.error);
    return;
  }
  const res = ctx.store.delete(ctx.r, namespaceOf(ctx), ctx.info.name, opts.value);
  if (!res.ok) {
    writeError(ctx.res, res.error);
    return;
  }
  const o = res.value.object;
  writeJson(ctx.res, 200, o['kind'] === 'Status' ? o : render(ctx.r, form, [o], undefined));
}

export async function handleDeleteCollection(ctx: HandlerContext): Promise<void> {
  const opts = await deleteOptions(ctx);
  if (!opts.ok) {
    writeError(ctx.res, opts.error);
    return;
  }
  const p = parseListParams(ctx);
  if (!p.ok) {
    writeError(ctx.res, p.error);
    return;
  }
  const ns = namespaceOf(ctx);
  const page = listObjects(
    ctx.store,
    ctx.r,
    ns,
    { ...p.value, limit: 0, continueToken: undefined },
    pinnedName(ctx.query.get('fieldSelector')),
  );
  if (!page.ok) {
    writeError(ctx.res, page.error);
    return;
  }
  const deleted: JsonObject[] = [];
  for (const o of page.value.items) {
    const m = o['metadata'] as JsonObject;
    const res = ctx.store.delete(ctx.r, str(m['namespace']), str(m['name']) ?? '', opts.value);
    if (res.ok) deleted.push(o);
    else if (res.error.reason !== 'NotFound') {
      writeError(ctx.res, res.error);
      return;
    }
  }
  writeJson(ctx.res, 200, {
    kind: `${ctx.r.kind}List`,
    apiVersion: ctx.r.group === '' ? ctx.r.version : `${ctx.r.group}/${ctx.r.version}`,
    metadata: { resourceVersion: String(ctx.store.storage.currentRevision()) },
    items: deleted,
  });
}
