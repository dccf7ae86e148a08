/**
 * Pod subresources: binding (the scheduler's write of spec.nodeName, once) and eviction
 * (a delete on behalf of a disruption; no PodDisruptionBudgets are served, so never 429).
 */
import { decodeObject } from '../body.js';
import { Errors } from '../errors.js';
import { clone, isObject, metaOf, nowRfc3339, str } from '../meta.js';
import { writeError, writeJson } from '../respond.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok } from '../../common/index.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';

const SUCCESS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

export async function handleBinding(ctx: HandlerContext): Promise<void> {
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
  const binding = decodeObject(b.value.data, b.value.type);
  if (!binding.ok) {
    writeError(ctx.res, binding.error);
    return;
  }
  const target = isObject(binding.value['target']) ? binding.value['target'] : {};
  const node = str(target['name']) ?? '';
  const name = ctx.info.name;
  if (node === '') {
    writeError(
      ctx.res,
      Errors.invalid('Binding', '', name, [
        { field: 'target.name', reason: 'FieldValueRequired', message: 'Required value' },
      ]),
    );
    return;
  }
  const { r, store } = ctx;
  const ns = namespaceOf(ctx);
  const res = store.guaranteedUpdate(
    r,
    ns,
    name,
    (pod) => {
      const spec = isObject(pod['spec']) ? pod['spec'] : {};
      const meta = metaOf(pod);
      if (meta['deletionTimestamp'] !== undefined)
        return err(
          Errors.conflict(
            'pods/binding',
            '',
            name,
            `pod ${name} is being deleted, cannot be assigned to a host`,
          ),
        );
      const cur = str(spec['nodeName']) ?? '';
      if (cur !== '')
        return err(
          Errors.conflict('pods/binding', '', name, `pod ${name} is already assigned to node "${cur}"`),
        );
      const bm = isObject(binding.value['metadata']) ? binding.value['metadata'] : {};
      const uid = str(bm['uid']);
      if (uid !== undefined && uid !== '' && uid !== meta['uid'])
        return err(
          Errors.conflict(
            'pods/binding',
            '',
            name,
            `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(meta['uid'])}`,
          ),
        );
      const out = clone(pod);
      (out['spec'] as JsonObject)['nodeName'] = node;
      // The binding's annotations are copied to the pod (pkg/registry/core/pod/storage assignPod).
      if (isObject(bm['annotations'])) {
        const m = metaOf(out);
        m['annotations'] = { ...(isObject(m['annotations']) ? m['annotations'] : {}), ...bm['annotations'] };
      }
      const status = isObject(out['status']) ? out['status'] : {};
      const conds = (Array.isArray(status['conditions']) ? status['conditions'] : []).filter(
        (c) => !(isObject(c) && c['type'] === 'PodScheduled'),
      );
      conds.push({
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: nowRfc3339(),
      });
      status['conditions'] = conds;
      out['status'] = status;
      return ok(out);
    },
    (desired, so) => {
      if (opts.value.dryRun) return ok(desired);
      const v = clone(desired);
      delete metaOf(v)['resourceVersion'];
      const upd = store.storage.update(store.key(r, ns, name), v, so.modRevision);
      if (!upd.ok) return err(store.storageError(r, name, upd.error));
      return ok(store.toApi(r, upd.value));
    },
  );
  if (!res.ok) {
    writeError(ctx.res, res.error);
    return;
  }
  writeJson(ctx.res, 201, SUCCESS);
}

export async function handleEviction(ctx: HandlerContext): Promise<void> {
  const b = await body(ctx);
  if (!b.ok) {
    writeError(ctx.res, b.error);
    return;
  }
  const ev =
    b.value.data.length === 0
      ? { ok: true as const, value: {} as JsonObject }
      : decodeObject(b.value.data, b.value.type);
  if (!ev.ok) {
    writeError(ctx.res, ev.error);
    return;
  }
  const dopts = isObject(ev.value['deleteOptions']) ? ev.value['deleteOptions'] : {};
  const dry =
    ctx.query.getAll('dryRun').length > 0 || (Array.isArray(dopts['dryRun']) && dopts['dryRun'].length > 0);
  const res = ctx.store.delete(ctx.r, namespaceOf(ctx), ctx.info.name, {
    dryRun: dry,
    ...(typeof dopts['gracePeriodSeconds'] === 'number'
      ? { gracePeriodSeconds: dopts['gracePeriodSeconds'] }
      : {}),
  });
  if (!res.ok) {
    writeError(ctx.res, res.error);
    return;
  }
  writeJson(ctx.res, 201, SUCCESS);
}
