/**
 * Ephemeral containers (`kubectl debug`): the pods/ephemeralcontainers subresource's strategy
 * (pkg/registry/core/pod/strategy.go podEphemeralContainersStrategy) and validation
 * (pkg/apis/core/validation validateEphemeralContainers, ValidatePodEphemeralContainersUpdate),
 * with upstream's field paths and messages (checked by the differential corpus).
 */
import { Causes, field, type StatusCause } from './errors.js';
import { defaultContainer } from './defaults.js';
import { clone, deepEqual, dns1123Label, isObject, metaOf, str } from './meta.js';
import type { JsonObject } from './storage/types.js';

const NOT_ALLOWED = 'cannot be set for an Ephemeral Container';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * allowedEphemeralContainerFields: the Container fields an ephemeral container may not set, in
 * the Go struct's order (upstream reports them in that order). Probes, ports, resources and
 * lifecycle would make it part of the workload; it is a debugging tool.
 */
const FORBIDDEN_FIELDS = [
  'ports',
  'resources',
  'resizePolicy',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
] as const;

/** Go's reflect IsZero as JSON sees it: absent, null, "", 0, false, or made only of such. */
function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) return Object.values(v).every(isZero);
  return false;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const names = (v: unknown): string[] =>
  list(v)
    .filter(isObject)
    .map((c) => str(c['name']) ?? '');

/** validateEphemeralContainers: the causes for spec.ephemeralContainers of a pod spec at `path`. */
export function ephemeralContainerCauses(spec: JsonObject, path: string): StatusCause[] {
  const ecs = list(spec['ephemeralContainers']);
  if (ecs.length === 0) return [];
  const others = new Set([...names(spec['containers']), ...names(spec['initContainers'])]);
  const all = new Set(others);
  const volumes = new Set(names(spec['volumes']));
  const causes: StatusCause[] = [];
  ecs.forEach((ec, i) => {
    const p = `${path}.ephemeralContainers[${i}]`;
    if (!isObject(ec)) {
      causes.push(Causes.required(p));
      return;
    }
    // validateContainerCommon
    const name = str(ec['name']) ?? '';
    if (name === '') causes.push(Causes.required(`${p}.name`));
    else for (const e of dns1123Label(name)) causes.push(Causes.invalidValue(`${p}.name`, name, e));
    if ((str(ec['image']) ?? '').trim() === '') causes.push(Causes.required(`${p}.image`));
    list(ec['volumeMounts']).forEach((vm, j) => {
      const vn = isObject(vm) ? (str(vm['name']) ?? '') : '';
      if (!volumes.has(vn))
        causes.push(
          field(`${p}.volumeMounts[${j}].name`, 'FieldValueNotFound', `Not found: ${JSON.stringify(vn)}`),
        );
    });
    // Names are unique across all kinds of containers.
    if (name !== '') {
      if (all.has(name)) causes.push(Causes.duplicate(`${p}.name`, name));
      else all.add(name);
    }
    // The target must be a regular or init container, never another ephemeral one.
    const target = str(ec['targetContainerName']) ?? '';
    if (target !== '' && !others.has(target))
      causes.push(
        field(`${p}.targetContainerName`, 'FieldValueNotFound', `Not found: ${JSON.stringify(target)}`),
      );
    for (const f of FORBIDDEN_FIELDS)
      if (!isZero(ec[f])) causes.push(Causes.forbidden(`${p}.${f}`, NOT_ALLOWED));
    // Subpaths are bind mounts that live until the pod ends: a sign of workload use.
    list(ec['volumeMounts']).forEach((vm, j) => {
      if (!isObject(vm)) return;
      for (const f of ['subPath', 'subPathExpr'])
        if (!isZero(vm[f])) causes.push(Causes.forbidden(`${p}.volumeMounts[${j}].${f}`, NOT_ALLOWED));
    });
    if (!isZero(ec['restartPolicy'])) causes.push(Causes.forbidden(`${p}.restartPolicy`, NOT_ALLOWED));
  });
  return causes;
}

/** ValidatePodCreate: ephemeral containers only come through the subresource. */
export function ephemeralCreateCauses(spec: unknown): StatusCause[] {
  return isObject(spec) && list(spec['ephemeralContainers']).length > 0
    ? [Causes.forbidden('spec.ephemeralContainers', 'cannot be set on create')]
    : [];
}

/**
 * ValidatePodEphemeralContainersUpdate's part 2: existing ephemeral containers stay as they
 * are (matched by name: a patch need not keep the order). Upstream appends a go-cmp diff to
 * the "changed" message; this says only which one.
 */
export function ephemeralUpdateCauses(old: JsonObject, o: JsonObject): StatusCause[] {
  const ann = metaOf(old)['annotations'];
  if (isObject(ann) && ann[MIRROR_ANNOTATION] !== undefined)
    return [Causes.forbidden('', 'static pods do not support ephemeral containers')];
  const spec = (x: JsonObject): JsonObject => (isObject(x['spec']) ? x['spec'] : {});
  const next = new Map(
    list(spec(o)['ephemeralContainers'])
      .filter(isObject)
      .map((c) => [str(c['name']) ?? '', c] as const),
  );
  const causes: StatusCause[] = [];
  for (const prev of list(spec(old)['ephemeralContainers']).filter(isObject)) {
    const name = str(prev['name']) ?? '';
    const now = next.get(name);
    if (now === undefined)
      causes.push(
        Causes.forbidden(
          'spec.ephemeralContainers',
          `existing ephemeral containers "${name}" may not be removed\n`,
        ),
      );
    else if (!deepEqual(prev, now))
      causes.push(
        Causes.forbidden(
          'spec.ephemeralContainers',
          `existing ephemeral containers "${name}" may not be changed\n`,
        ),
      );
  }
  return causes;
}

/**
 * dropNonEphemeralContainerUpdates: the stored pod with only spec.ephemeralContainers taken
 * from the request (defaulted like any container); every other change is dropped silently.
 * The request's resourceVersion stays as the precondition.
 */
export function withEphemeralContainers(old: JsonObject, body: JsonObject): JsonObject {
  const out = clone(old);
  const spec = isObject(out['spec']) ? out['spec'] : {};
  const incoming = isObject(body['spec']) ? body['spec']['ephemeralContainers'] : undefined;
  if (Array.isArray(incoming)) {
    const ecs = clone(incoming);
    for (const c of ecs) if (isObject(c)) defaultContainer(c);
    spec['ephemeralContainers'] = ecs;
  } else delete spec['ephemeralContainers'];
  out['spec'] = spec;
  const rv = metaOf(body)['resourceVersion'];
  if (rv === undefined) delete metaOf(out)['resourceVersion'];
  else metaOf(out)['resourceVersion'] = rv;
  if (metaOf(body)['managedFields'] !== undefined)
    metaOf(out)['managedFields'] = metaOf(body)['managedFields'];
  return out;
}
