/** The autoscaling/v1 Scale subresource of deployments, replicasets and CRs with a scale subresource. */
import { decodeObject } from '../body.js';
import { Causes, Errors, type ApiError } from '../errors.js';
import { clone, isObject, metaOf } from '../meta.js';
import type { ResourceInfo } from '../resources.js';
import type { JsonObject } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import { body, type HandlerContext, namespaceOf, writeOptions } from './context.js';
import { writeError, writeJson } from '../respond.js';

function getPath(o: JsonObject, path: string): unknown {
  let cur: unknown = o;
  for (const seg of path.replace(/^\./, '').split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

function setPath(o: JsonObject, path: string, v: unknown): void {
  const segs = path.replace(/^\./, '').split('.');
  let cur: JsonObject = o;
  for (const seg of segs.slice(0, -1)) {
    const next = cur[seg];
    if (isObject(next)) cur = next;
    else {
      const fresh: JsonObject = {};
      cur[seg] = fresh;
      cur = fresh;
    }
  }
  cur[segs[segs.length - 1] ?? ''] = v;
}

/** metav1.FormatLabelSelector. */
export function formatSelector(sel: unknown): string {
  if (!isObject(sel)) return '';
  const parts: string[] = [];
  const ml = isObject(sel['matchLabels']) ? sel['matchLabels'] : {};
  for (const k of Object.keys(ml).sort()) parts.push(`${k}=${String(ml[k])}`);
  const exprs = Array.isArray(sel['matchExpressions']) ? sel['matchExpressions'] : [];
  for (const e of exprs) {
    if (!isObject(e)) continue;
    const key = String(e['key']);
    const vals = Array.isArray(e['values']) ? e['values'].map(String).sort().join(',') : '';
    switch (e['operator']) {
      case 'In':
        parts.push(`${key} in (${vals})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${vals})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
      default:
        break;
    }
  }
  return parts.join(',');
}

function paths(r: ResourceInfo): { spec: string; status: string; selector?: string } {
  const s = r.custom?.scale;
  if (s !== undefined)
    return {
      spec: s.specReplicasPath,
      status: s.statusReplicasPath,
      ...(s.labelSelectorPath === undefined ? {} : { selector: s.labelSelectorPath }),
    };
  return { spec: '.spec.replicas', status: '.status.replicas' };
}

export function scaleFromObject(r: ResourceInfo, o: JsonObject): JsonObject {
  const m = metaOf(o);
  const p = paths(r);
  const status: JsonObject = { replicas: getPath(o, p.status) ?? 0 };
  if (r.custom === undefined) {
    const sel = formatSelector(getPath(o, '.spec.selector'));
    if (sel !== '') status['selector'] = sel;
  } else if (p.selector !== undefined) {
    const sel = getPath(o, p.selector);
    if (typeof sel === 'string' && sel !== '') status['selector'] = sel;
  }
  const meta: JsonObject = {};
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'])
    if (m[k] !== undefined) meta[k] = m[k];
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: meta,
    spec: { replicas: getPath(o, p.spec) ?? 0 },
    status,
  };
}

/** Applies a Scale's spec.replicas to the parent; the Scale's resourceVersion is the precondition. */
export function scaleToObject(
  r: ResourceInfo,
  current: JsonObject,
  scale: JsonObject,
): Result<JsonObject, ApiError> {
  const spec = isObject(scale['spec']) ? scale['spec'] : {};
  const replicas = spec['replicas'];
  const name = String(metaOf(current)['name']);
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0))
    return err(
      Errors.invalid('Scale', 'autoscaling', name, [
        Causes.invalidValue('spec.replicas', replicas, 'must be greater than or equal to 0'),
      ]),
    );
  const out = clone(current);
  setPath(out, paths(r).spec, replicas ?? 0);
  const rv = metaOf(scale)['resourceVersion'];
  metaOf(out)['resourceVersion'] =
    typeof rv === 'string' && rv !== '' ? rv : metaOf(current)['resourceVersion'];
  return ok(out);
}

export function handleScaleGet(ctx: HandlerContext): void {
  const got = ctx.store.get(ctx.r, namespaceOf(ctx), ctx.info.name);
  if (!got.ok) {
    writeError(ctx.res, got.error);
    return;
  }
  writeJson(ctx.res, 200, scaleFromObject(ctx.r, ctx.store.toApi(ctx.r, got.value)));
}

export async function handleScaleUpdate(ctx: HandlerContext): Promise<void> {
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
  const scale = decodeObject(b.value.data, b.value.type);
  if (!scale.ok) {
    writeError(ctx.res, scale.error);
    return;
  }
  const { r, store } = ctx;
  const ns = namespaceOf(ctx);
  const name = ctx.info.name;
  const res = store.guaranteedUpdate(
    r,
    ns,
    name,
    (current) => scaleToObject(r, current, scale.value),
    (desired, so) => {
      const rv = metaOf(desired)['resourceVersion'];
      if (typeof rv === 'string' && rv !== String(so.modRevision))
        return err(Errors.modified(r.resource, r.group, name));
      return store.update(r, ns, name, desired, opts.value, so.modRevision);
    },
  );
  if (!res.ok) {
    writeError(ctx.res, res.error);
    return;
  }
  writeJson(ctx.res, 200, scaleFromObject(r, res.value));
}
