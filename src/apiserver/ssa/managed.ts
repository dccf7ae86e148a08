/**
 * metadata.managedFields and server-side apply (k8s.io/apiserver/pkg/endpoints/handlers/
 * fieldmanager and structured-merge-diff's merge.Updater):
 *
 * - every write records, per manager and operation, the fields it set (Update: what the write
 *   added or changed, minus what it removed; Apply: exactly the applied configuration's fields);
 * - apply merges the configuration into the live object, removes the fields the manager applied
 *   last time but no longer applies unless someone else owns them, and refuses (409) to change
 *   a field another manager owns unless forced — forcing takes the field from its owners.
 */
import { ApiError } from '../errors.js';
import { clone, deepEqual, isObject, metaOf, str } from '../meta.js';
import type { JsonObject } from '../storage/types.js';
import {
  compare,
  fromFieldsV1,
  iterationOrder,
  pathString,
  split,
  toFields,
  toFieldsV1,
  type Fields,
  type Scope,
} from './fieldset.js';
import { mergeObject, removePath } from './merge.js';
import type { Shape } from './shape.js';
import { err, ok, type Result } from '../../common/index.js';

export type Operation = 'Apply' | 'Update';

interface Entry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  subresource?: string;
  fields: Set<string>;
}

/** Who writes: the manager name, and the API version and subresource it writes through. */
export interface Writer {
  manager: string;
  apiVersion: string;
  subresource?: string;
}

/** The identity of a manager (BuildManagerIdentifier: everything but the time and fields). */
function idOf(e: Pick<Entry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([
    e.manager,
    e.operation,
    e.operation === 'Update' ? e.apiVersion : '',
    e.subresource ?? '',
  ]);
}

function decode(mf: unknown): Entry[] {
  if (!Array.isArray(mf)) return [];
  const out: Entry[] = [];
  for (const e of mf) {
    if (!isObject(e)) continue;
    const manager = str(e['manager']) ?? '';
    const operation = e['operation'] === 'Apply' ? 'Apply' : 'Update';
    const fields = fromFieldsV1(e['fieldsV1']);
    // An entry without fields (e.g. `managedFields: [{}]`, the documented way to clear them) is dropped.
    if (fields.size === 0) continue;
    const entry: Entry = { manager, operation, apiVersion: str(e['apiVersion']) ?? '', fields };
    const t = str(e['time']);
    if (t !== undefined) entry.time = t;
    const sub = str(e['subresource']);
    if (sub !== undefined && sub !== '') entry.subresource = sub;
    out.push(entry);
  }
  return out;
}

/** Encoded as upstream sorts them: Apply before Update, then by time, manager, version. */
function encode(entries: readonly Entry[]): JsonObject[] | undefined {
  const live = entries.filter((e) => e.fields.size > 0);
  if (live.length === 0) return undefined;
  const sorted = [...live].sort(
    (a, b) =>
      cmp(a.operation, b.operation) ||
      cmp(a.time ?? '', b.time ?? '') ||
      cmp(a.manager, b.manager) ||
      cmp(a.apiVersion, b.apiVersion) ||
      cmp(a.subresource ?? '', b.subresource ?? ''),
  );
  return sorted.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time === undefined ? {} : { time: e.time }),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(e.fields),
    ...(e.subresource === undefined ? {} : { subresource: e.subresource }),
  }));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function setManaged(obj: JsonObject, entries: readonly Entry[]): void {
  const mf = encode(entries);
  const meta = metaOf(obj);
  if (mf === undefined) delete meta['managedFields'];
  else meta['managedFields'] = mf;
}

/** The entries a write starts from: the live ones, unless the request deliberately replaced them. */
function baseEntries(old: JsonObject | undefined, requested: unknown): Entry[] {
  const liveMf = old === undefined ? undefined : metaOf(old)['managedFields'];
  if (requested === undefined || deepEqual(requested, liveMf)) return decode(liveMf);
  return decode(requested);
}

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Takes the changed and removed fields from every other manager (Updater.update with force),
 * returns who lost which fields (the conflicts, when not forced).
 */
function takeFrom(entries: Entry[], selfId: string, before: Fields, after: Fields): Map<Entry, string[]> {
  const c = compare(before, after);
  const conflicts = new Map<Entry, string[]>();
  for (const e of entries) {
    if (idOf(e) === selfId) continue;
    const lost: string[] = [];
    for (const p of e.fields) {
      if (c.modified.has(p) || c.added.has(p)) lost.push(p);
      else if (c.removed.has(p)) e.fields.delete(p);
    }
    if (lost.length > 0) conflicts.set(e, lost);
  }
  return conflicts;
}

export interface TrackArgs {
  /** The object before the write; undefined on create. */
  old: JsonObject | undefined;
  /** The object as it will be stored; its metadata.managedFields is what the request sent. */
  obj: JsonObject;
  shape: Shape;
  scope: Scope;
  writer: Writer;
}

/** Sets obj.metadata.managedFields after a create or update by `writer` (operation Update). */
export function trackUpdate(a: TrackArgs): void {
  const requested = metaOf(a.obj)['managedFields'];
  const liveMf = a.old === undefined ? undefined : metaOf(a.old)['managedFields'];
  const keepLive = requested === undefined || deepEqual(requested, liveMf);
  const before = a.old === undefined ? new Map<string, string | null>() : toFields(a.old, a.shape, a.scope);
  const after = toFields(a.obj, a.shape, a.scope);
  const c = compare(before, after);
  // Nothing this write owns changed (a no-op, or a write of fields outside its scope): the
  // live entries stand as they are, without decoding and re-encoding them.
  if (keepLive && c.added.size === 0 && c.modified.size === 0 && c.removed.size === 0) {
    if (liveMf === undefined) delete metaOf(a.obj)['managedFields'];
    else metaOf(a.obj)['managedFields'] = liveMf;
    return;
  }
  const entries = baseEntries(a.old, requested);
  const self: Entry = {
    manager: a.writer.manager,
    operation: 'Update',
    apiVersion: a.writer.apiVersion,
    fields: new Set(),
    ...(a.writer.subresource === undefined ? {} : { subresource: a.writer.subresource }),
  };
  const selfId = idOf(self);
  const existing = entries.find((e) => idOf(e) === selfId);
  for (const [e, lost] of takeFrom(entries, selfId, before, after)) for (const p of lost) e.fields.delete(p);
  const mine = existing ?? self;
  const prev = new Set(mine.fields);
  for (const p of c.added) mine.fields.add(p);
  for (const p of c.modified) mine.fields.add(p);
  for (const p of c.removed) mine.fields.delete(p);
  if (existing === undefined && mine.fields.size > 0) entries.push(mine);
  if (existing === undefined || !sameSet(prev, mine.fields)) mine.time = nowSeconds();
  setManaged(a.obj, entries);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export interface ApplyArgs {
  /** The live object, or undefined when apply creates it. */
  live: JsonObject | undefined;
  /** The applied configuration (already checked to be of the right kind). */
  config: JsonObject;
  shape: Shape;
  scope: Scope;
  writer: Writer;
  force: boolean;
}

/** Upstream's printManager: `"name"`, `"name" with subresource "status"`, `… using v1`. */
function printManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource !== undefined) s = `${s} with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s = `${s} using ${e.apiVersion}`;
  return s;
}

/** internal.NewConflictError: 409 Conflict, one cause per field, the message kubectl prints. */
function conflictError(conflicts: Map<Entry, string[]>): ApiError {
  const list: { manager: string; path: string }[] = [];
  const byManager = [...conflicts.entries()].sort((a, b) => cmp(printManager(a[0]), printManager(b[0])));
  for (const [e, paths] of byManager)
    for (const p of iterationOrder(paths)) list.push({ manager: printManager(e), path: pathString(p) });
  let message: string;
  if (list.length === 1) {
    const c = list[0] ?? { manager: '', path: '' };
    message = `Apply failed with 1 conflict: conflict with ${c.manager}: ${c.path}`;
  } else {
    const lines: string[] = [];
    for (const [e, paths] of byManager) {
      lines.push(`conflicts with ${printManager(e)}:`);
      for (const p of iterationOrder(paths)) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${String(list.length)} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: list.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${c.manager}`,
      field: c.path,
    })),
  });
}

/**
 * Updater.Apply: the object to write (live merged with the configuration, stale fields
 * removed, managedFields set), or the 409 of the conflicts when not forced.
 */
export function apply(a: ApplyArgs): Result<JsonObject, ApiError> {
  const live = a.live ?? {};
  const entries = baseEntries(a.live, undefined);
  const self: Entry = {
    manager: a.writer.manager,
    operation: 'Apply',
    apiVersion: a.writer.apiVersion,
    fields: new Set(toFields(a.config, a.shape, a.scope).keys()),
    time: nowSeconds(),
    ...(a.writer.subresource === undefined ? {} : { subresource: a.writer.subresource }),
  };
  const selfId = idOf(self);
  const lastIdx = entries.findIndex((e) => idOf(e) === selfId);
  const last = lastIdx >= 0 ? entries[lastIdx] : undefined;
  if (lastIdx >= 0) entries.splice(lastIdx, 1);

  const merged = mergeObject(clone(live), stripForMerge(a.config), a.shape);
  // Prune (Updater.prune): what this manager applied last time and no longer applies goes,
  // unless another manager owns it or something beneath it.
  if (last !== undefined) {
    const kept = new Set<string>();
    for (const e of [...entries, self])
      for (const p of e.fields) {
        const pes = split(p);
        for (let i = 1; i <= pes.length; i++) kept.add(pes.slice(0, i).join('\u0000'));
      }
    const gone = [...last.fields].filter((p) => !kept.has(p) && !isKeyOfKeptItem(p, kept));
    // shallowest first: an item goes with its fields, before a removed key field could make
    // it impossible to find
    gone.sort((x, y) => split(x).length - split(y).length);
    for (const p of gone) removePath(merged, p, a.shape);
  }
  const before = toFields(live, a.shape, a.scope);
  const after = toFields(merged, a.shape, a.scope);
  const conflicts = takeFrom(entries, selfId, before, after);
  if (conflicts.size > 0 && !a.force) return err(conflictError(conflicts));
  for (const [e, lost] of conflicts) for (const p of lost) e.fields.delete(p);
  // Preserve the time of an unchanged apply so a no-op apply writes nothing.
  if (last !== undefined && sameSet(last.fields, self.fields) && last.time !== undefined)
    self.time = last.time;
  entries.push(self);
  setManaged(merged, entries);
  return ok(merged);
}

/** A key field of an item that stays (the item cannot lose the fields that identify it). */
function isKeyOfKeptItem(path: string, kept: ReadonlySet<string>): boolean {
  const pes = split(path);
  const last = pes.at(-1) ?? '';
  const parent = pes.at(-2) ?? '';
  if (!last.startsWith('f:') || !parent.startsWith('k:')) return false;
  if (!kept.has(pes.slice(0, -1).join('\u0000'))) return false;
  const key = JSON.parse(parent.slice(2)) as JsonObject;
  return last.slice(2) in key;
}

/** apiVersion/kind/server metadata of the configuration are not merged into the object. */
function stripForMerge(config: JsonObject): JsonObject {
  const out: JsonObject = { ...config };
  if (isObject(out['metadata'])) {
    const m: JsonObject = { ...out['metadata'] };
    delete m['managedFields'];
    delete m['resourceVersion'];
    delete m['uid'];
    delete m['creationTimestamp'];
    delete m['generation'];
    delete m['selfLink'];
    out['metadata'] = m;
  }
  return out;
}
