/**
 * The generic registry between the verb handlers and Storage (apiserver/pkg/registry/generic
 * /registry.Store): keys, metadata semantics, strategies, optimistic concurrency, graceful
 * deletion and finalizers. Every write goes through here, so the CRD hooks see them all.
 */
import { allocateServiceAddresses, keepServiceAddresses } from './allocators.js';
import { checkTypeMeta } from './body.js';
import { SchemaCache } from './crd.js';
import { ApiError, Causes, Errors, type StatusCause } from './errors.js';
import { defaultServiceStatus, syncPodIPs } from './defaults.js';
import { ephemeralCreateCauses, ephemeralUpdateCauses, withEphemeralContainers } from './ephemeral.js';
import { coreEventOut, coreToEvents, eventCauses, eventsToCore, isCoreEvent, isEventsV1 } from './events.js';
import { builtinSchema, judgeUnknown, pruneUnknown, type FieldValidation } from './fields.js';
import {
  clone,
  deepEqual,
  generateName,
  isObject,
  metaOf,
  nowRfc3339,
  prepareCreateMeta,
  specOf,
  str,
  validateObjectMeta,
} from './meta.js';
import { apiVersionOf, objectKey, type ResourceInfo, type ResourceTable } from './resources.js';
import {
  base64ErrorOffset,
  prepareForCreate,
  prepareForUpdate,
  statusUpdate,
  validate,
  validateUpdate,
} from './strategy.js';
import type { JsonObject, Storage, StorageErrorLike, StoredObject } from './storage/types.js';
import { scopeFor, shapeFor, trackUpdate, type Writer } from './ssa/index.js';
import { err, ok, type Result } from '../common/index.js';

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  warnings: string[];
  /** Who writes, for metadata.managedFields; internal writes without one keep them as they are. */
  writer?: Writer;
  /** The object comes from server-side apply, which has already set managedFields. */
  applied?: boolean;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun: boolean;
}

export interface DeleteOutcome {
  /** The object as last seen (deleted) or as it now is (deletion pending). */
  object: JsonObject;
  deleted: boolean;
}

/** Called after every committed write; the CRD controller listens here. */
export type WriteHook = (r: ResourceInfo, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: JsonObject) => void;

const NAMESPACES: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'> = {
  group: '',
  resource: 'namespaces',
  namespaced: false,
};

export function namespaceKey(name: string): string {
  return `/registry/core/namespaces/_/${name}`;
}

/** Resources whose DELETE answers with the object rather than a Status (ReturnDeletedObject). */
function returnsDeletedObject(r: ResourceInfo): boolean {
  return (
    r.custom !== undefined || (r.group === '' && ['pods', 'namespaces', 'services'].includes(r.resource))
  );
}

export class ObjectStore {
  readonly schemas = new SchemaCache();
  private readonly hooks: WriteHook[] = [];

  constructor(
    readonly storage: Storage,
    readonly table: ResourceTable,
  ) {}

  onWrite(h: WriteHook): void {
    this.hooks.push(h);
  }

  private fire(r: ResourceInfo, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: JsonObject): void {
    for (const h of this.hooks) h(r, type, obj);
  }

  key(r: ResourceInfo, namespace: string | undefined, name: string): string {
    return objectKey(r, namespace, name);
  }

  /** A stored value as the API returns it: resourceVersion, and the requested version's apiVersion. */
  toApi(r: ResourceInfo, so: StoredObject): JsonObject {
    // Shallow: only top-level fields and metadata.resourceVersion change, and a watch event's
    // value is shared by every watcher, so it must not be mutated (a deep clone per object
    // was a third of the time of a 10k-item list).
    const meta = isObject(so.value['metadata']) ? so.value['metadata'] : {};
    const out: JsonObject = {
      ...so.value,
      apiVersion: apiVersionOf(r),
      kind: r.kind,
      metadata: { ...meta, resourceVersion: String(so.modRevision) },
    };
    if (isEventsV1(r)) return coreToEvents(out);
    if (isCoreEvent(r)) return coreEventOut(out);
    return out;
  }

  private toStored(r: ResourceInfo, o: JsonObject): JsonObject {
    const v = clone(o);
    delete metaOf(v)['resourceVersion'];
    v['apiVersion'] = r.custom === undefined ? apiVersionOf(r) : `${r.group}/${r.custom.storageVersion}`;
    v['kind'] = r.kind;
    // events.k8s.io/v1 Events are stored as core/v1 Events (one resource, two views)
    if (isEventsV1(r)) return eventsToCore(v);
    return v;
  }

  storageError(r: ResourceInfo, name: string, e: StorageErrorLike): ApiError {
    switch (e.code) {
      case 'NOT_FOUND':
        return Errors.notFound(r.resource, r.group, name);
      case 'ALREADY_EXISTS':
        return Errors.alreadyExists(r.resource, r.group, name);
      case 'CONFLICT':
        return Errors.modified(r.resource, r.group, name);
      case 'COMPACTED':
        return Errors.expired('too old resource version');
      case 'INVALID_CONTINUE':
        return Errors.badRequest(`continue key is not valid: ${e.message}`);
      case 'CLOSED':
        return new ApiError(503, 'ServiceUnavailable', 'storage is closed');
    }
  }

  get(r: ResourceInfo, namespace: string | undefined, name: string): Result<StoredObject, ApiError> {
    const so = this.storage.get(this.key(r, namespace, name));
    if (so === undefined) return err(Errors.notFound(r.resource, r.group, name));
    return ok(so);
  }

  /** NamespaceLifecycle admission: creates need a live namespace. */
  checkNamespace(r: ResourceInfo, namespace: string | undefined, name: string): Result<void, ApiError> {
    if (!r.namespaced || namespace === undefined) return ok(undefined);
    const ns = this.storage.get(namespaceKey(namespace));
    if (ns === undefined) return err(Errors.notFound(NAMESPACES.resource, NAMESPACES.group, namespace));
    if (metaOf(ns.value)['deletionTimestamp'] !== undefined)
      return err(
        Errors.forbidden(
          r.resource,
          r.group,
          name,
          `unable to create new content in namespace ${namespace} because it is being terminated`,
        ),
      );
    return ok(undefined);
  }

  /** Unknown-field handling, CR pruning/defaulting (decoder and structural-schema steps). */
  private decodeSteps(r: ResourceInfo, o: JsonObject, opts: WriteOptions): Result<void, ApiError> {
    let unknown: string[] = [];
    if (r.custom !== undefined) {
      const cs = this.schemas.get(r);
      if (cs !== undefined) {
        unknown = cs.prune(o);
        cs.applyDefaults(o);
      }
    } else {
      const schema = builtinSchema(r.group, r.version, r.kind);
      if (schema !== undefined) unknown = pruneUnknown(o, schema);
      // Secret data is []byte: undecodable base64 fails the decoding of the body (400).
      if (r.group === '' && r.resource === 'secrets' && isObject(o['data'])) {
        for (const v of Object.values(o['data'])) {
          const at = typeof v === 'string' ? base64ErrorOffset(v) : 0;
          if (at !== undefined)
            return err(
              Errors.badRequest(
                `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${String(at)}`,
              ),
            );
        }
      }
    }
    return judgeUnknown(
      unknown,
      opts.fieldValidation,
      opts.warnings,
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: `,
    );
  }

  private validateAll(
    r: ResourceInfo,
    o: JsonObject,
    generated: boolean,
    old?: JsonObject,
    ephemeral = false,
  ): Result<void, ApiError> {
    const meta = metaOf(o);
    const upd =
      old === undefined ? [] : ephemeral ? ephemeralUpdateCauses(old, o) : validateUpdate(r, old, o);
    // ValidateSecretUpdate / ValidateConfigMapUpdate check immutability before the object.
    const updateFirst = r.group === '' && (r.resource === 'secrets' || r.resource === 'configmaps');
    const causes: StatusCause[] = [
      ...validateObjectMeta(r, meta, generated),
      ...(updateFirst ? upd : []),
      ...validate(r, o),
      ...(updateFirst ? [] : upd),
    ];
    if (r.custom !== undefined) causes.push(...(this.schemas.get(r)?.validate(o) ?? []));
    if (isCoreEvent(r)) causes.push(...eventCauses(o, false, old === undefined));
    if (isEventsV1(r)) causes.push(...eventCauses(eventsToCore(o), true, old === undefined));
    if (causes.length > 0) return err(Errors.invalid(r.kind, r.group, str(meta['name']) ?? '', causes));
    return ok(undefined);
  }

  /**
   * metadata.managedFields of a write (fieldmanager): server-side apply set them already;
   * a write with a writer records an Update; an internal write keeps the live ones unless
   * it replaced them.
   */
  private trackManaged(
    r: ResourceInfo,
    old: JsonObject | undefined,
    o: JsonObject,
    requested: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): void {
    const meta = metaOf(o);
    if (requested === undefined) delete meta['managedFields'];
    else meta['managedFields'] = requested;
    if (opts.applied === true) return;
    if (opts.writer === undefined) {
      const live = old === undefined ? undefined : metaOf(old)['managedFields'];
      if (requested === undefined && live !== undefined) meta['managedFields'] = live;
      return;
    }
    trackUpdate({ old, obj: o, shape: shapeFor(r), scope: scopeFor(r, subresource), writer: opts.writer });
  }

  /** Mutating/validating admission of a create after NamespaceLifecycle (ServiceAccount); set by the server. */
  admitCreate: (
    r: ResourceInfo,
    namespace: string | undefined,
    requestName: string,
    o: JsonObject,
  ) => Result<void, ApiError> = () => ok(undefined);

  /** Extra validation hook for special types (CRDs); set by the server. */
  extraValidate: (r: ResourceInfo, o: JsonObject) => StatusCause[] = () => [];

  create(
    r: ResourceInfo,
    namespace: string | undefined,
    body: JsonObject,
    opts: WriteOptions,
  ): Result<JsonObject, ApiError> {
    const tm = checkTypeMeta(body, { apiVersion: apiVersionOf(r), kind: r.kind });
    if (!tm.ok) return tm;
    const o = body;
    if (o['metadata'] !== undefined && !isObject(o['metadata']))
      return err(Errors.badRequest('metadata must be an object'));
    const meta = metaOf(o);
    if (str(meta['resourceVersion']) !== undefined && meta['resourceVersion'] !== '')
      return err(Errors.badRequest('resourceVersion should not be set on objects to be created'));
    const bodyNs = str(meta['namespace']);
    if (
      r.namespaced &&
      bodyNs !== undefined &&
      bodyNs !== '' &&
      namespace !== undefined &&
      bodyNs !== namespace
    )
      return err(
        Errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      );
    const decoded = this.decodeSteps(r, o, opts);
    if (!decoded.ok) return decoded;
    let generated = false;
    const gen = str(meta['generateName']);
    // Admission sees the request's name: generateName until the registry generates one.
    const requestName = (str(meta['name']) ?? '') === '' ? (gen ?? '') : (str(meta['name']) ?? '');
    if ((str(meta['name']) ?? '') === '' && gen !== undefined && gen !== '') {
      meta['name'] = generateName(gen);
      generated = true;
    }
    const name = str(meta['name']) ?? '';
    const nsOk = this.checkNamespace(r, namespace, name);
    if (!nsOk.ok) return nsOk;
    const admitted = this.admitCreate(r, namespace, requestName, o);
    if (!admitted.ok) return admitted;
    const requestedManaged = meta['managedFields'];
    prepareCreateMeta(r, o, namespace);
    prepareForCreate(r, o);
    this.trackManaged(r, undefined, o, requestedManaged, opts);
    const v = this.validateAll(r, o, generated);
    if (!v.ok) return v;
    const extra = this.extraValidate(r, o);
    if (r.group === '' && r.resource === 'services')
      extra.push(...allocateServiceAddresses(this.storage, o, undefined));
    if (r.group === '' && r.resource === 'pods') extra.push(...ephemeralCreateCauses(o['spec']));
    if (extra.length > 0) return err(Errors.invalid(r.kind, r.group, name, extra));
    if (opts.dryRun) {
      if (this.storage.get(this.key(r, namespace, name)) !== undefined)
        return err(Errors.alreadyExists(r.resource, r.group, name));
      return ok(o);
    }
    const res = this.storage.create(this.key(r, namespace, name), this.toStored(r, o));
    if (!res.ok) return err(this.storageError(r, name, res.error));
    const out = this.toApi(r, res.value);
    this.fire(r, 'ADDED', out);
    return ok(out);
  }

  /**
   * PUT of the main resource. `expected` (from a patch) overrides the body's
   * resourceVersion as the precondition.
   */
  update(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    opts: WriteOptions,
    expected?: number,
  ): Result<JsonObject, ApiError> {
    const tm = checkTypeMeta(body, { apiVersion: apiVersionOf(r), kind: r.kind });
    if (!tm.ok) return tm;
    if (body['metadata'] !== undefined && !isObject(body['metadata']))
      return err(Errors.badRequest('metadata must be an object'));
    const meta = metaOf(body);
    const bodyName = str(meta['name']) ?? '';
    if (bodyName !== name)
      return err(
        Errors.badRequest(
          `the name of the object (${bodyName}) does not match the name on the URL (${name})`,
        ),
      );
    const bodyNs = str(meta['namespace']);
    if (r.namespaced && bodyNs !== undefined && bodyNs !== '' && bodyNs !== namespace)
      return err(
        Errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      );
    const cur = this.storage.get(this.key(r, namespace, name));
    if (cur === undefined) {
      if (r.createOnUpdate === true && expected === undefined) {
        delete meta['resourceVersion'];
        return this.create(r, namespace, body, opts);
      }
      return err(Errors.notFound(r.resource, r.group, name));
    }
    const rv = str(meta['resourceVersion']) ?? '';
    if (expected === undefined && rv !== '' && rv !== String(cur.modRevision))
      return err(Errors.modified(r.resource, r.group, name));
    if (expected !== undefined && expected !== cur.modRevision)
      return err(Errors.modified(r.resource, r.group, name));
    const decoded = this.decodeSteps(r, body, opts);
    if (!decoded.ok) return decoded;
    const old = this.toApi(r, cur);
    const o = body;
    const om = metaOf(old);
    for (const k of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
    ]) {
      if (k === 'uid' && meta['uid'] !== undefined && meta['uid'] !== om['uid']) continue;
      if (om[k] === undefined) Reflect.deleteProperty(meta, k);
      else meta[k] = om[k];
    }
    if (r.namespaced) meta['namespace'] = namespace;
    else delete meta['namespace'];
    delete meta['selfLink'];
    prepareForUpdate(r, old, o);
    this.trackManaged(r, old, o, meta['managedFields'], opts);
    if (r.group === '' && r.resource === 'services') {
      const svc = keepServiceAddresses(old, o);
      if (svc.length > 0) return err(Errors.invalid(r.kind, r.group, name, svc));
    }
    if ((r.tracksGeneration || r.custom !== undefined) && !deepEqual(specOf(r, old), specOf(r, o)))
      meta['generation'] = (typeof om['generation'] === 'number' ? om['generation'] : 0) + 1;
    const v = this.validateAll(r, o, false, old);
    if (!v.ok) return v;
    const extra = this.extraValidate(r, o);
    if (extra.length > 0) return err(Errors.invalid(r.kind, r.group, name, extra));
    return this.commitUpdate(r, namespace, name, cur, old, o, opts);
  }

  /** Writes an already-prepared object, or deletes it when its last finalizer went away. */
  commitUpdate(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    cur: StoredObject,
    old: JsonObject,
    o: JsonObject,
    opts: WriteOptions,
  ): Result<JsonObject, ApiError> {
    const meta = metaOf(o);
    meta['resourceVersion'] = String(cur.modRevision);
    if (deepEqual(old, o)) return ok(old);
    const fins = Array.isArray(meta['finalizers']) ? meta['finalizers'] : [];
    if (fins.length === 0) delete meta['finalizers'];
    // registry.Store.Update: a terminating object without finalizers whose grace is over goes away.
    const nsSpec = r.group === '' && r.resource === 'namespaces' && isObject(o['spec']) ? o['spec'] : {};
    const nsFins = Array.isArray(nsSpec['finalizers']) ? nsSpec['finalizers'] : [];
    const finished =
      meta['deletionTimestamp'] !== undefined &&
      fins.length === 0 &&
      nsFins.length === 0 &&
      (meta['deletionGracePeriodSeconds'] ?? 0) === 0;
    if (opts.dryRun) return ok(o);
    const key = this.key(r, namespace, name);
    if (finished) {
      const del = this.storage.delete(key, cur.modRevision);
      if (!del.ok) return err(this.storageError(r, name, del.error));
      const out = clone(o);
      metaOf(out)['resourceVersion'] = String(del.value.modRevision);
      this.fire(r, 'DELETED', out);
      return ok(out);
    }
    const res = this.storage.update(key, this.toStored(r, o), cur.modRevision);
    if (!res.ok) return err(this.storageError(r, name, res.error));
    const out = this.toApi(r, res.value);
    this.fire(r, 'MODIFIED', out);
    return ok(out);
  }

  /** PUT .../status: only .status changes (and the precondition is the body's resourceVersion). */
  updateStatus(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    opts: WriteOptions,
    expected?: number,
  ): Result<JsonObject, ApiError> {
    const tm = checkTypeMeta(body, { apiVersion: apiVersionOf(r), kind: r.kind });
    if (!tm.ok) return tm;
    const meta = metaOf(body);
    const bodyName = str(meta['name']) ?? '';
    if (bodyName !== name)
      return err(
        Errors.badRequest(
          `the name of the object (${bodyName}) does not match the name on the URL (${name})`,
        ),
      );
    const cur = this.storage.get(this.key(r, namespace, name));
    if (cur === undefined) return err(Errors.notFound(r.resource, r.group, name));
    const rv = str(meta['resourceVersion']) ?? '';
    if (expected === undefined && rv !== '' && rv !== String(cur.modRevision))
      return err(Errors.modified(r.resource, r.group, name));
    if (expected !== undefined && expected !== cur.modRevision)
      return err(Errors.modified(r.resource, r.group, name));
    if (r.custom !== undefined) {
      const decoded = this.decodeSteps(r, body, opts);
      if (!decoded.ok) return decoded;
    }
    const old = this.toApi(r, cur);
    const o = statusUpdate(old, body);
    if (r.group === '' && r.resource === 'pods') {
      syncPodIPs(o);
      // podStatusStrategy: the QoS class is set at creation and kept by status writes
      const st = isObject(o['status']) ? o['status'] : undefined;
      const was = isObject(old['status']) ? old['status']['qosClass'] : undefined;
      if (st !== undefined && st['qosClass'] === undefined && was !== undefined) st['qosClass'] = was;
    }
    if (r.group === '' && r.resource === 'services') defaultServiceStatus(o);
    this.trackManaged(r, old, o, metaOf(body)['managedFields'], opts, 'status');
    const v = this.validateAll(r, o, false);
    if (!v.ok) return v;
    return this.commitUpdate(r, namespace, name, cur, old, o, opts);
  }

  /**
   * PUT/PATCH .../ephemeralcontainers (podEphemeralContainersStrategy): only
   * spec.ephemeralContainers is taken from the body; existing ones may not change or go.
   */
  updateEphemeralContainers(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: JsonObject,
    opts: WriteOptions,
    expected?: number,
  ): Result<JsonObject, ApiError> {
    const tm = checkTypeMeta(body, { apiVersion: apiVersionOf(r), kind: r.kind });
    if (!tm.ok) return tm;
    const bodyName = str(metaOf(body)['name']) ?? '';
    if (bodyName !== name)
      return err(
        Errors.badRequest(
          `the name of the object (${bodyName}) does not match the name on the URL (${name})`,
        ),
      );
    const cur = this.storage.get(this.key(r, namespace, name));
    if (cur === undefined) return err(Errors.notFound(r.resource, r.group, name));
    const rv = str(metaOf(body)['resourceVersion']) ?? '';
    if (expected === undefined && rv !== '' && rv !== String(cur.modRevision))
      return err(Errors.modified(r.resource, r.group, name));
    if (expected !== undefined && expected !== cur.modRevision)
      return err(Errors.modified(r.resource, r.group, name));
    const old = this.toApi(r, cur);
    const o = withEphemeralContainers(old, body);
    const meta = metaOf(o);
    // updatePodGeneration: a spec change is a new generation.
    if (!deepEqual(old['spec'], o['spec']))
      meta['generation'] = (typeof meta['generation'] === 'number' ? meta['generation'] : 0) + 1;
    this.trackManaged(r, old, o, meta['managedFields'], opts, 'ephemeralcontainers');
    const v = this.validateAll(r, o, false, old, true);
    if (!v.ok) return v;
    return this.commitUpdate(r, namespace, name, cur, old, o, opts);
  }

  /**
   * Read-modify-write with retries on conflict (GuaranteedUpdate): `mutate` gets the current
   * API object and returns the desired one, which is then written through `write`.
   */
  guaranteedUpdate(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    mutate: (current: JsonObject, so: StoredObject) => Result<JsonObject, ApiError>,
    write: (desired: JsonObject, so: StoredObject) => Result<JsonObject, ApiError>,
  ): Result<JsonObject, ApiError> {
    for (let attempt = 0; ; attempt++) {
      const cur = this.storage.get(this.key(r, namespace, name));
      if (cur === undefined) return err(Errors.notFound(r.resource, r.group, name));
      const desired = mutate(this.toApi(r, cur), cur);
      if (!desired.ok) return desired;
      const res = write(desired.value, cur);
      if (res.ok || res.error.reason !== 'Conflict' || attempt >= 5) return res;
      // Only retry conflicts caused by a concurrent writer, not by the client's precondition.
      if (this.storage.get(this.key(r, namespace, name))?.modRevision === cur.modRevision) return res;
    }
  }

  delete(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): Result<DeleteOutcome, ApiError> {
    for (let attempt = 0; ; attempt++) {
      const res = this.deleteOnce(r, namespace, name, opts);
      if (
        res.ok ||
        res.error.reason !== 'Conflict' ||
        attempt >= 5 ||
        opts.preconditions?.resourceVersion !== undefined
      )
        return res;
      if (res.error.message.includes('in the precondition')) return res;
    }
  }

  private deleteOnce(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
  ): Result<DeleteOutcome, ApiError> {
    const key = this.key(r, namespace, name);
    const cur = this.storage.get(key);
    if (cur === undefined) return err(Errors.notFound(r.resource, r.group, name));
    const obj = this.toApi(r, cur);
    const meta = metaOf(obj);
    const pre = opts.preconditions;
    // rest.BeforeDelete: the Conflict names the Kind, not the resource
    if (pre?.uid !== undefined && pre.uid !== meta['uid'])
      return err(
        Errors.conflict(
          r.kind,
          r.group,
          name,
          `the UID in the precondition (${pre.uid}) does not match the UID in record (${String(meta['uid'])}). The object might have been deleted and then recreated`,
        ),
      );
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta['resourceVersion'])
      return err(
        Errors.conflict(
          r.kind,
          r.group,
          name,
          `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${String(meta['resourceVersion'])}). The object might have been modified`,
        ),
      );
    const next = clone(obj);
    const nm = metaOf(next);
    let changed = false;
    // Propagation finalizers (registry.Store deletionFinalizersForGarbageCollection).
    const fins: string[] = Array.isArray(nm['finalizers']) ? (nm['finalizers'] as string[]).slice() : [];
    const addFin = (f: string): void => {
      if (!fins.includes(f)) {
        fins.push(f);
        changed = true;
      }
    };
    const dropFin = (f: string): void => {
      const i = fins.indexOf(f);
      if (i >= 0) {
        fins.splice(i, 1);
        changed = true;
      }
    };
    if (opts.propagationPolicy === 'Orphan') {
      addFin('orphan');
      dropFin('foregroundDeletion');
    } else if (opts.propagationPolicy === 'Foreground') {
      addFin('foregroundDeletion');
      dropFin('orphan');
    } else if (opts.propagationPolicy === 'Background') {
      dropFin('orphan');
      dropFin('foregroundDeletion');
    }
    if (r.kind === 'CustomResourceDefinition' && r.group === 'apiextensions.k8s.io')
      addFin('customresourcecleanup.apiextensions.k8s.io');
    const grace = this.gracePeriod(r, obj, opts);
    const pendingGrace =
      typeof nm['deletionGracePeriodSeconds'] === 'number' ? nm['deletionGracePeriodSeconds'] : undefined;
    if (r.group === '' && r.resource === 'namespaces') {
      const spec = isObject(next['spec']) ? next['spec'] : {};
      const specFins = Array.isArray(spec['finalizers']) ? spec['finalizers'] : [];
      if (specFins.length > 0) {
        const status = isObject(next['status']) ? next['status'] : {};
        if (status['phase'] !== 'Terminating') {
          status['phase'] = 'Terminating';
          next['status'] = status;
          changed = true;
        }
        addFin('__namespace_spec_finalizers__');
      }
    }
    const blocking = fins.filter((f) => f !== '__namespace_spec_finalizers__');
    const waiting = fins.length > 0 || grace > 0;
    if (!waiting) {
      // a dry run answers as the real deletion would
      if (opts.dryRun)
        return ok({
          object: returnsDeletedObject(r) ? obj : statusSuccess(r, name, str(meta['uid'])),
          deleted: true,
        });
      const del = this.storage.delete(key, cur.modRevision);
      if (!del.ok) return err(this.storageError(r, name, del.error));
      let out = this.toApi(r, del.value);
      // A pending graceful deletion cut to zero: upstream shortens it (grace 0, now) and then
      // deletes, and answers with the object as shortened.
      if (meta['deletionTimestamp'] !== undefined)
        out = {
          ...out,
          metadata: { ...metaOf(out), deletionTimestamp: nowRfc3339(), deletionGracePeriodSeconds: 0 },
        };
      this.fire(r, 'DELETED', out);
      return ok({
        object: returnsDeletedObject(r) ? out : statusSuccess(r, name, str(meta['uid'])),
        deleted: true,
      });
    }
    if (blocking.length > 0) nm['finalizers'] = blocking;
    else delete nm['finalizers'];
    if (nm['deletionTimestamp'] === undefined) {
      nm['deletionTimestamp'] = nowRfc3339(grace);
      // Namespaces and CRDs have their own Delete that sets only the timestamp; the generic
      // store's markAsDeleting also sets a zero grace period and bumps the generation.
      const ownDelete =
        (r.group === '' && r.resource === 'namespaces') ||
        (r.group === 'apiextensions.k8s.io' && r.resource === 'customresourcedefinitions');
      if (!ownDelete) nm['deletionGracePeriodSeconds'] = grace;
      if (!ownDelete && typeof nm['generation'] === 'number' && nm['generation'] > 0)
        nm['generation'] = nm['generation'] + 1;
      changed = true;
    } else if (pendingGrace !== undefined && grace < pendingGrace) {
      // A shorter grace period shortens a pending graceful deletion (pod graceful delete).
      nm['deletionTimestamp'] = nowRfc3339(grace);
      nm['deletionGracePeriodSeconds'] = grace;
      changed = true;
    }
    if (!changed) return ok({ object: obj, deleted: false });
    if (opts.dryRun) return ok({ object: next, deleted: false });
    const finished = fins.length === 0 && nm['deletionGracePeriodSeconds'] === 0;
    if (finished) {
      const del = this.storage.delete(key, cur.modRevision);
      if (!del.ok) return err(this.storageError(r, name, del.error));
      // the object as this deletion left it (grace 0), as upstream returns it
      const out: JsonObject = {
        ...next,
        metadata: { ...nm, resourceVersion: String(del.value.modRevision) },
      };
      this.fire(r, 'DELETED', out);
      return ok({
        object: returnsDeletedObject(r) ? out : statusSuccess(r, name, str(meta['uid'])),
        deleted: true,
      });
    }
    const upd = this.storage.update(key, this.toStored(r, next), cur.modRevision);
    if (!upd.ok) return err(this.storageError(r, name, upd.error));
    const out = this.toApi(r, upd.value);
    this.fire(r, 'MODIFIED', out);
    return ok({ object: out, deleted: false });
  }

  /**
   * Pods: the request's grace period, else spec.terminationGracePeriodSeconds; zero for pods
   * not bound to a node or already terminal (pod strategy CheckGracefulDelete).
   */
  private gracePeriod(r: ResourceInfo, obj: JsonObject, opts: DeleteOptions): number {
    if (!(r.group === '' && r.resource === 'pods')) return 0;
    const spec = isObject(obj['spec']) ? obj['spec'] : {};
    const status = isObject(obj['status']) ? obj['status'] : {};
    if ((str(spec['nodeName']) ?? '') === '') return 0;
    if (status['phase'] === 'Succeeded' || status['phase'] === 'Failed') return 0;
    let g =
      opts.gracePeriodSeconds ??
      (typeof spec['terminationGracePeriodSeconds'] === 'number'
        ? spec['terminationGracePeriodSeconds']
        : 30);
    if (g < 0) g = 1;
    return g;
  }
}

export function statusSuccess(r: ResourceInfo, name: string, uid: string | undefined): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name,
      ...(r.group === '' ? {} : { group: r.group }),
      kind: r.resource,
      ...(uid === undefined ? {} : { uid }),
    },
  };
}

export { Causes };
