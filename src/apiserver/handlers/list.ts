/**
 * LIST with label/field selectors, limit/continue and resourceVersion semantics
 * (apiserver/pkg/storage: "0" = any, unset = most recent, N + Exact = that snapshot,
 * N + NotOlderThan = at least N).
 */
import { Errors, type ApiError } from '../errors.js';
import { listPrefix, type ResourceInfo } from '../resources.js';
import { negotiate, render, writeError, writeJson } from '../respond.js';
import { parseFieldSelector, parseLabelSelector, pinnedName, type Matcher } from '../selectors.js';
import type { ObjectStore } from '../store.js';
import type { JsonObject, ListOptions } from '../storage/types.js';
import { err, ok, type Result } from '../../common/index.js';
import { type HandlerContext, namespaceOf } from './context.js';

export const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export interface ListParams {
  match: Matcher;
  limit: number;
  continueToken: string | undefined;
  revision: number | undefined;
  selective: boolean;
}

function invalidListOption(field: string, msg: string): ApiError {
  return Errors.invalid('ListOptions', 'meta.k8s.io', '', [
    { field, reason: 'FieldValueForbidden', message: `Forbidden: ${msg}` },
  ]);
}

export function parseListParams(ctx: HandlerContext): Result<ListParams, ApiError> {
  const q = ctx.query;
  const labels = parseLabelSelector(q.get('labelSelector'));
  if (!labels.ok) return labels;
  const fields = parseFieldSelector(q.get('fieldSelector'), ctx.r);
  if (!fields.ok) return fields;
  const ns = namespaceOf(ctx);
  const matchNs: Matcher =
    ns === undefined ? () => true : (o) => (o['metadata'] as JsonObject | undefined)?.['namespace'] === ns;
  const lm = labels.value;
  const fm = fields.value;
  const limitRaw = q.get('limit');
  const limit = limitRaw === null ? 0 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 0)
    return err(Errors.badRequest(`invalid limit: ${limitRaw ?? ''}`));
  const cont = q.get('continue') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  const rvm = q.get('resourceVersionMatch') ?? '';
  // A watch with sendInitialEvents=true (watch-list) pairs NotOlderThan with an empty RV.
  const watchList = q.get('sendInitialEvents') === 'true';
  if (rvm !== '' && rv === '' && !watchList)
    return err(
      invalidListOption(
        'resourceVersionMatch',
        'resourceVersionMatch is forbidden unless resourceVersion is provided',
      ),
    );
  if (cont !== '' && rv !== '' && rv !== '0')
    return err(
      invalidListOption('resourceVersion', 'specifying resource version is not allowed when using continue'),
    );
  if (rvm !== '' && rvm !== 'Exact' && rvm !== 'NotOlderThan')
    return err(
      Errors.invalid('ListOptions', 'meta.k8s.io', '', [
        {
          field: 'resourceVersionMatch',
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"`,
        },
      ]),
    );
  let revision: number | undefined;
  if (rv !== '' && rv !== '0') {
    const n = Number(rv);
    if (!Number.isInteger(n) || n < 0) return err(Errors.badRequest(`invalid resource version: ${rv}`));
    if (rvm === 'Exact' || (rvm === '' && limit > 0)) revision = n;
    if (rvm === 'Exact' && n === 0)
      return err(
        invalidListOption(
          'resourceVersionMatch',
          'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        ),
      );
  }
  const selective = (q.get('labelSelector') ?? '') !== '' || (q.get('fieldSelector') ?? '') !== '';
  return ok({
    match: (o) => matchNs(o) && lm(o) && fm(o),
    limit,
    continueToken: cont === '' ? undefined : cont,
    revision,
    selective,
  });
}

export interface ListPage {
  items: JsonObject[];
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

/** Fills a page with matching objects, reading further storage pages as needed (etcd3 store GetList). */
export function listObjects(
  store: ObjectStore,
  r: ResourceInfo,
  ns: string | undefined,
  p: ListParams,
  nameHint?: string,
): Result<ListPage, ApiError> {
  const prefix = listPrefix(r, ns);
  if (nameHint !== undefined && p.limit === 0 && p.continueToken === undefined && p.revision === undefined) {
    // metadata.name pinned (kubectl wait/delete): one key instead of a scan.
    const rev = store.storage.currentRevision();
    const items: JsonObject[] = [];
    if (ns !== undefined || !r.namespaced) {
      const so = store.storage.get(store.key(r, ns, nameHint));
      if (so !== undefined) {
        const o = store.toApi(r, so);
        if (p.match(o)) items.push(o);
      }
      return ok({ items, revision: rev });
    }
  }
  const items: JsonObject[] = [];
  let cont = p.continueToken;
  let revision = p.revision;
  let snapshot = 0;
  let remaining: number | undefined;
  for (;;) {
    const need = p.limit === 0 ? 0 : p.limit - items.length;
    const opts: ListOptions = {};
    if (need > 0) opts.limit = need;
    if (cont !== undefined) opts.continue = cont;
    else if (revision !== undefined) opts.revision = revision;
    const res = store.storage.list(prefix, opts);
    if (!res.ok) {
      if (res.error.code === 'COMPACTED')
        return err(
          cont !== undefined
            ? Errors.expired(CONTINUE_EXPIRED)
            : Errors.expired(
                `too old resource version: ${revision ?? 0} (${store.storage.compactedRevision()})`,
              ),
        );
      return err(store.storageError(r, '', res.error));
    }
    snapshot = res.value.revision;
    revision = snapshot;
    for (const so of res.value.items) {
      const o = store.toApi(r, so);
      if (p.match(o)) items.push(o);
    }
    cont = res.value.continue;
    remaining = res.value.remainingItemCount;
    if (cont === undefined || p.limit === 0 || items.length >= p.limit) break;
  }
  const page: ListPage = { items, revision: snapshot };
  if (cont !== undefined) {
    page.continue = cont;
    if (!p.selective && remaining !== undefined) page.remainingItemCount = remaining;
  }
  return ok(page);
}

export function handleList(ctx: HandlerContext): void {
  const form = negotiate(ctx.req, ctx.query);
  if (form === undefined) {
    writeError(ctx.res, Errors.notAcceptable(['application/json', 'application/yaml']));
    return;
  }
  const p = parseListParams(ctx);
  if (!p.ok) {
    writeError(ctx.res, p.error);
    return;
  }
  const page = listObjects(
    ctx.store,
    ctx.r,
    namespaceOf(ctx),
    p.value,
    pinnedName(ctx.query.get('fieldSelector')),
  );
  if (!page.ok) {
    writeError(ctx.res, page.error);
    return;
  }
  const listMeta: JsonObject = { resourceVersion: String(page.value.revision) };
  if (page.value.continue !== undefined) listMeta['continue'] = page.value.continue;
  if (page.value.remainingItemCount !== undefined)
    listMeta['remainingItemCount'] = page.value.remainingItemCount;
  writeJson(ctx.res, 200, render(ctx.r, form, page.value.items, { listMeta }));
}
