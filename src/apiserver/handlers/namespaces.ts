/** PUT /api/v1/namespaces/{name}/finalize: only spec.finalizers changes (the namespace controller's last step). */
import { decodeObject } from '../body.js';
import { clone, isObject } from '../meta.js';
import { writeError, writeJson } from '../respond.js';
import { body, type HandlerContext, writeOptions } from './context.js';

export async function handleFinalize(ctx: HandlerContext): Promise<void> {
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
  const ns = decodeObject(b.value.data, b.value.type);
  if (!ns.ok) {
    writeError(ctx.res, ns.error);
    return;
  }
  const { r, store } = ctx;
  const name = ctx.info.name;
  const got = store.get(r, undefined, name);
  if (!got.ok) {
    writeError(ctx.res, got.error);
    return;
  }
  const old = store.toApi(r, got.value);
  const next = clone(old);
  const spec = isObject(next['spec']) ? next['spec'] : {};
  const inSpec = isObject(ns.value['spec']) ? ns.value['spec'] : {};
  if (Array.isArray(inSpec['finalizers']) && inSpec['finalizers'].length > 0)
    spec['finalizers'] = inSpec['finalizers'];
  else delete spec['finalizers'];
  next['spec'] = spec;
  const res = store.commitUpdate(r, undefined, name, got.value, old, next, opts.value);
  if (!res.ok) {
    writeError(ctx.res, res.error);
    return;
  }
  writeJson(ctx.res, 200, res.value);
}
