/**
 * What apiextensions-apiserver's controllers do for a CRD, done synchronously after each
 * CRD write: serve its versions (ResourceTable), mark it NamesAccepted/Established, and on
 * deletion remove every custom resource and then the cleanup finalizer.
 */
import type { Logger } from '../common/index.js';
import { CRD_CLEANUP_FINALIZER, establishedStatus, resourcesOfCrd, validateCrd } from './crd.js';
import { clone, deepEqual, isObject, metaOf, nowRfc3339, str } from './meta.js';
import { listPrefix, objectKey, type ResourceInfo, type ResourceTable } from './resources.js';
import type { ObjectStore } from './store.js';
import type { JsonObject } from './storage/types.js';

export class CrdController {
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(
    private readonly store: ObjectStore,
    private readonly table: ResourceTable,
    private readonly crdResource: ResourceInfo,
    private readonly logger: Logger,
  ) {
    store.onWrite((r, type, obj) => {
      if (r !== crdResource && !(r.group === crdResource.group && r.resource === crdResource.resource))
        return;
      this.sync(type, obj);
    });
    const prev = store.extraValidate;
    store.extraValidate = (r, o) =>
      r.group === crdResource.group && r.resource === crdResource.resource ? validateCrd(o) : prev(r, o);
  }

  /** Serves every stored CRD (server start). */
  loadAll(): void {
    const res = this.store.storage.list(listPrefix(this.crdResource, undefined));
    if (!res.ok) return;
    for (const so of res.value.items) this.sync('MODIFIED', this.store.toApi(this.crdResource, so));
  }

  stop(): void {
    for (const p of this.pending) clearImmediate(p);
    this.pending.clear();
  }

  private sync(type: 'ADDED' | 'MODIFIED' | 'DELETED', crd: JsonObject): void {
    const name = str(metaOf(crd)['name']) ?? '';
    this.table.removeWhere((r) => r.custom?.crdName === name);
    if (type === 'DELETED') return;
    if (metaOf(crd)['deletionTimestamp'] !== undefined) {
      const t = setImmediate(() => {
        this.pending.delete(t);
        this.cleanup(crd);
      });
      this.pending.add(t);
      return;
    }
    const resources = resourcesOfCrd(crd);
    for (const r of resources) this.table.add(r);
    const status = establishedStatus(crd, nowRfc3339());
    const cur = isObject(crd['status']) ? crd['status'] : {};
    if (
      !deepEqual(cur['conditions'], status['conditions']) ||
      !deepEqual(cur['acceptedNames'], status['acceptedNames']) ||
      !deepEqual(cur['storedVersions'], status['storedVersions'])
    ) {
      const key = objectKey(this.crdResource, undefined, name);
      const so = this.store.storage.get(key);
      if (so === undefined) return;
      const v = clone(so.value);
      v['status'] = status;
      const upd = this.store.storage.update(key, v, so.modRevision);
      if (!upd.ok) this.logger.warn({ crd: name, code: upd.error.code }, 'could not set CRD status');
    }
  }

  /** The CRD finalizer: delete all instances, then let the CRD go. */
  private cleanup(crd: JsonObject): void {
    const name = str(metaOf(crd)['name']) ?? '';
    const spec = isObject(crd['spec']) ? crd['spec'] : {};
    const group = str(spec['group']) ?? '';
    const plural = str((spec['names'] as JsonObject | undefined)?.['plural']) ?? '';
    const prefix = `/registry/${group}/${plural}/`;
    const all = this.store.storage.list(prefix);
    if (all.ok) for (const so of all.value.items) this.store.storage.delete(so.key);
    const key = objectKey(this.crdResource, undefined, name);
    const so = this.store.storage.get(key);
    if (so === undefined) return;
    const v = clone(so.value);
    const fins = (Array.isArray(metaOf(v)['finalizers']) ? (metaOf(v)['finalizers'] as string[]) : []).filter(
      (f) => f !== CRD_CLEANUP_FINALIZER,
    );
    if (fins.length === 0) {
      const del = this.store.storage.delete(key, so.modRevision);
      if (!del.ok) this.logger.warn({ crd: name, code: del.error.code }, 'could not delete CRD');
      return;
    }
    metaOf(v)['finalizers'] = fins;
    this.store.storage.update(key, v, so.modRevision);
  }
}
