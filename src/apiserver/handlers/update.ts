/** PUT of an object, its status or its ephemeral containers (handlers/update.go). */
import { decodeObject } from '../body.js';
import { Errors } from '../errors.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';

export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const form = negotiate(ctx.req, ctx.query) ?? { kind: 'object' as const };
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
  if (b.value.data.length === 0) {
    writeError(ctx.res, Errors.badRequest('the body of the request was empty'));
    return;
  }
  const obj = decodeObject(b.value.data, b.value.type);
  if (!obj.ok) {
    writeError(ctx.res, obj.error);
    return;
  }
  const ns = namespaceOf(ctx);
  const existed = ctx.store.storage.get(ctx.store.key(ctx.r, ns, ctx.info.name)) !== undefined;
  const sub = ctx.info.subresource;
  const res =
    sub === 'status'
      ? ctx.store.updateStatus(ctx.r, ns, ctx.info.name, obj.value, opts.value)
      : sub === 'ephemeralcontainers'
        ? ctx.store.updateEphemeralContainers(ctx.r, ns, ctx.info.name, obj.value, opts.value)
        : ctx.store.update(ctx.r, ns, ctx.info.name, obj.value, opts.value);
  if (!res.ok) {
    writeError(ctx.res, res.error, ctx.warnings);
    return;
  }
  writeJson(ctx.res, existed ? 200 : 201, render(ctx.r, form, [res.value], undefined), ctx.warnings);
}
