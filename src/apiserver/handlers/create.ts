/** POST to a collection (handlers/create.go). */
import { decodeObject } from '../body.js';
import { Errors } from '../errors.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';

export async function handleCreate(ctx: HandlerContext): Promise<void> {
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
  const created = ctx.store.create(ctx.r, namespaceOf(ctx), obj.value, opts.value);
  if (!created.ok) {
    writeError(ctx.res, created.error, ctx.warnings);
    return;
  }
  writeJson(ctx.res, 201, render(ctx.r, form, [created.value], undefined), ctx.warnings);
}
