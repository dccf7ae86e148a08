/** GET of one object (handlers/get.go). */
import { Errors } from '../errors.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { type HandlerContext, namespaceOf } from './context.js';

export function handleGet(ctx: HandlerContext): void {
  const form = negotiate(ctx.req, ctx.query);
  if (form === undefined) {
    writeError(ctx.res, Errors.notAcceptable(['application/json', 'application/yaml']));
    return;
  }
  const got = ctx.store.get(ctx.r, namespaceOf(ctx), ctx.info.name);
  if (!got.ok) {
    writeError(ctx.res, got.error);
    return;
  }
  writeJson(ctx.res, 200, render(ctx.r, form, [ctx.store.toApi(ctx.r, got.value)], undefined));
}
