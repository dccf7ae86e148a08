/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1): CRD validation, the resources a CRD
 * serves, and per-version structural-schema behaviour for its custom resources —
 * validation (ajv), pruning of unknown fields and defaulting, as upstream's apiextensions
 * server does for structural schemas.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Causes, type StatusCause } from './errors.js';
import { dns1035Label, dns1123Subdomain, isObject, str } from './meta.js';
import { ALL_VERBS, type PrinterColumn, type ResourceInfo, type SubresourceInfo } from './resources.js';
import type { JsonObject } from './storage/types.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: JsonObject;
  subresources?: JsonObject;
  additionalPrinterColumns?: PrinterColumn[];
}

function versionsOf(crd: JsonObject): CrdVersion[] {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  const vs = Array.isArray(spec['versions']) ? spec['versions'] : [];
  return vs.filter(isObject).map((v) => {
    const schemaWrap = isObject(v['schema']) ? v['schema'] : {};
    const out: CrdVersion = {
      name: str(v['name']) ?? '',
      served: v['served'] === true,
      storage: v['storage'] === true,
    };
    if (isObject(schemaWrap['openAPIV3Schema'])) out.schema = schemaWrap['openAPIV3Schema'];
    if (isObject(v['subresources'])) out.subresources = v['subresources'];
    if (Array.isArray(v['additionalPrinterColumns']))
      out.additionalPrinterColumns = v['additionalPrinterColumns'].filter(
        isObject,
      ) as unknown as PrinterColumn[];
    return out;
  });
}

/** Validation of a CRD object itself (apiextensions validation.ValidateCustomResourceDefinition, subset). */
export function validateCrd(crd: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  const names = isObject(spec['names']) ? spec['names'] : {};
  const group = str(spec['group']) ?? '';
  const plural = str(names['plural']) ?? '';
  const kind = str(names['kind']) ?? '';
  const name = str((crd['metadata'] as JsonObject | undefined)?.['name']) ?? '';
  if (group === '') causes.push(Causes.required('spec.group'));
  else if (!group.includes('.'))
    causes.push(Causes.invalidValue('spec.group', group, 'should be a domain with at least one dot'));
  else for (const e of dns1123Subdomain(group)) causes.push(Causes.invalidValue('spec.group', group, e));
  if (plural === '') causes.push(Causes.required('spec.names.plural'));
  else for (const e of dns1035Label(plural)) causes.push(Causes.invalidValue('spec.names.plural', plural, e));
  if (kind === '') causes.push(Causes.required('spec.names.kind'));
  const singular = str(names['singular']);
  if (singular !== undefined && singular !== '')
    for (const e of dns1035Label(singular))
      causes.push(Causes.invalidValue('spec.names.singular', singular, e));
  if (plural !== '' && group !== '' && name !== `${plural}.${group}`)
    causes.push(Causes.invalidValue('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  const scope = spec['scope'];
  if (scope !== 'Namespaced' && scope !== 'Cluster') {
    if (scope === undefined) causes.push(Causes.required('spec.scope'));
    else causes.push(Causes.notSupported('spec.scope', scope, ['Cluster', 'Namespaced']));
  }
  const versions = versionsOf(crd);
  if (versions.length === 0)
    causes.push(Causes.required('spec.versions', 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v.storage).length !== 1)
    causes.push(
      Causes.invalidValue(
        'spec.versions',
        versions.map((v) => v.name),
        'must have exactly one version marked as storage version',
      ),
    );
  versions.forEach((v, i) => {
    if (v.schema === undefined)
      causes.push(Causes.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
  });
  return causes;
}

/** The resources a CRD serves, one per served version. */
export function resourcesOfCrd(crd: JsonObject): ResourceInfo[] {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  const names = isObject(spec['names']) ? spec['names'] : {};
  const group = str(spec['group']) ?? '';
  const plural = str(names['plural']) ?? '';
  const kind = str(names['kind']) ?? '';
  const crdName = str((crd['metadata'] as JsonObject | undefined)?.['name']) ?? '';
  const versions = versionsOf(crd);
  const storageVersion = versions.find((v) => v.storage)?.name ?? versions[0]?.name ?? '';
  return versions
    .filter((v) => v.served)
    .map((v) => {
      const subs: SubresourceInfo[] = [];
      const sr = v.subresources ?? {};
      if (isObject(sr['status']))
        subs.push({
          name: 'status',
          kind: { group, version: v.name, kind },
          verbs: ['get', 'patch', 'update'],
        });
      const scaleSpec = sr['scale'];
      if (isObject(scaleSpec))
        subs.push({
          name: 'scale',
          kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
          verbs: ['get', 'patch', 'update'],
        });
      const info: ResourceInfo = {
        group,
        version: v.name,
        resource: plural,
        kind,
        singular: str(names['singular']) ?? kind.toLowerCase(),
        namespaced: spec['scope'] !== 'Cluster',
        shortNames: Array.isArray(names['shortNames']) ? names['shortNames'].map(String) : [],
        categories: Array.isArray(names['categories']) ? names['categories'].map(String) : [],
        verbs: [...ALL_VERBS],
        subresources: subs,
        tracksGeneration: true,
        custom: {
          crdName,
          storageVersion,
          ...(v.schema === undefined ? {} : { schema: v.schema }),
          ...(v.additionalPrinterColumns === undefined ? {} : { printerColumns: v.additionalPrinterColumns }),
          ...(isObject(scaleSpec)
            ? {
                scale: {
                  specReplicasPath: str(scaleSpec['specReplicasPath']) ?? '.spec.replicas',
                  statusReplicasPath: str(scaleSpec['statusReplicasPath']) ?? '.status.replicas',
                  ...(str(scaleSpec['labelSelectorPath']) === undefined
                    ? {}
                    : { labelSelectorPath: str(scaleSpec['labelSelectorPath']) ?? '' }),
                },
              }
            : {}),
        },
      };
      return info;
    });
}

/** Sets the conditions the apiextensions controllers would (NamesAccepted, Established). */
export function establishedStatus(crd: JsonObject, now: string): JsonObject {
  const spec = isObject(crd['spec']) ? crd['spec'] : {};
  const versions = versionsOf(crd);
  const prev = isObject(crd['status']) ? crd['status'] : {};
  const stored = Array.isArray(prev['storedVersions']) ? prev['storedVersions'].map(String) : [];
  const sv = versions.find((v) => v.storage)?.name;
  if (sv !== undefined && !stored.includes(sv)) stored.push(sv);
  const names = isObject(spec['names']) ? { ...spec['names'] } : {};
  if (names['singular'] === undefined && typeof names['kind'] === 'string')
    names['singular'] = names['kind'].toLowerCase();
  if (names['listKind'] === undefined && typeof names['kind'] === 'string')
    names['listKind'] = `${names['kind']}List`;
  const cond = (type: string, reason: string, message: string): JsonObject => {
    const old = (Array.isArray(prev['conditions']) ? prev['conditions'] : []).find(
      (c) => isObject(c) && c['type'] === type && c['status'] === 'True',
    ) as JsonObject | undefined;
    return { type, status: 'True', lastTransitionTime: old?.['lastTransitionTime'] ?? now, reason, message };
  };
  return {
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: names,
    storedVersions: stored,
  };
}

/** OpenAPI v3 (structural) → a JSON Schema ajv understands. */
function toJsonSchema(s: unknown): unknown {
  if (!isObject(s)) return {};
  const out: JsonObject = {};
  const keep = [
    'type',
    'enum',
    'minimum',
    'maximum',
    'minLength',
    'maxLength',
    'pattern',
    'minItems',
    'maxItems',
    'uniqueItems',
    'minProperties',
    'maxProperties',
    'required',
    'multipleOf',
  ];
  for (const k of keep) if (s[k] !== undefined) out[k] = s[k];
  if (s['exclusiveMinimum'] === true && typeof s['minimum'] === 'number') {
    out['exclusiveMinimum'] = s['minimum'];
    delete out['minimum'];
  }
  if (s['exclusiveMaximum'] === true && typeof s['maximum'] === 'number') {
    out['exclusiveMaximum'] = s['maximum'];
    delete out['maximum'];
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    delete out['type'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  if (isObject(s['properties'])) {
    const props: JsonObject = {};
    for (const [k, v] of Object.entries(s['properties'])) props[k] = toJsonSchema(v);
    out['properties'] = props;
  }
  if (isObject(s['items'])) out['items'] = toJsonSchema(s['items']);
  if (isObject(s['additionalProperties']))
    out['additionalProperties'] = toJsonSchema(s['additionalProperties']);
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const v = s[k];
    if (Array.isArray(v)) {
      const conv = v.map(toJsonSchema);
      if (k === 'anyOf' && Array.isArray(out['anyOf']))
        out['allOf'] = [{ anyOf: out['anyOf'] }, { anyOf: conv }];
      else out[k] = conv;
    }
  }
  if (isObject(s['not'])) out['not'] = toJsonSchema(s['not']);
  return out;
}

function ajvField(e: ErrorObject): string {
  return e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

function valueAt(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const p of path.split('/').slice(1)) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as JsonObject)[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function causeOf(e: ErrorObject, root: unknown): StatusCause {
  const f = ajvField(e);
  const v = valueAt(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(p['missingProperty']);
      return Causes.required(f === '' ? missing : `${f}.${missing}`);
    }
    case 'type':
      return Causes.invalidValue(
        f,
        typeOfGo(v),
        `${f} in body must be of type ${String(p['type'])}: ${JSON.stringify(typeOfGo(v))}`,
      );
    case 'enum':
      return Causes.notSupported(f, v, (p['allowedValues'] as unknown[]).map(String));
    case 'minimum':
    case 'exclusiveMinimum':
      return Causes.invalidValue(
        f,
        v,
        `${f} in body should be greater than ${e.keyword === 'minimum' ? 'or equal to ' : ''}${String(p['limit'])}`,
      );
    case 'maximum':
    case 'exclusiveMaximum':
      return Causes.invalidValue(
        f,
        v,
        `${f} in body should be less than ${e.keyword === 'maximum' ? 'or equal to ' : ''}${String(p['limit'])}`,
      );
    case 'pattern':
      return Causes.invalidValue(f, v, `${f} in body should match '${String(p['pattern'])}'`);
    case 'maxLength':
      return {
        field: f,
        reason: 'FieldValueTooLong',
        message: `Too long: may not be more than ${String(p['limit'])} bytes`,
      };
    case 'minLength':
      return Causes.invalidValue(f, v, `${f} in body should be at least ${String(p['limit'])} chars long`);
    case 'maxItems':
      return {
        field: f,
        reason: 'FieldValueTooMany',
        message: `Too many: ${Array.isArray(v) ? v.length : 0}: must have at most ${String(p['limit'])} items`,
      };
    case 'minItems':
      return Causes.invalidValue(f, v, `${f} in body should have at least ${String(p['limit'])} items`);
    default:
      return Causes.invalidValue(f, v, `${f} in body ${e.message ?? 'is invalid'}`);
  }
}

/** Go's JSON type names in upstream messages: "string", "integer", "number", "boolean", "object", "array". */
function typeOfGo(v: unknown): unknown {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'object'
        ? 'object'
        : typeof v === 'number'
          ? Number.isInteger(v)
            ? 'integer'
            : 'number'
          : typeof v;
}

export class CustomSchema {
  private readonly validateFn: ValidateFunction;

  constructor(
    private readonly schema: JsonObject,
    ajv: Ajv,
  ) {
    // Root-level apiVersion/kind/metadata are handled by the server, not the schema.
    const js = toJsonSchema(schema) as JsonObject;
    if (isObject(js['properties'])) {
      delete js['properties']['metadata'];
      delete js['properties']['apiVersion'];
      delete js['properties']['kind'];
    }
    if (Array.isArray(js['required']))
      js['required'] = js['required'].filter((r) => r !== 'metadata' && r !== 'apiVersion' && r !== 'kind');
    this.validateFn = ajv.compile(js);
  }

  validate(obj: JsonObject): StatusCause[] {
    if (this.validateFn(obj)) return [];
    const errs = (this.validateFn.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if');
    const seen = new Set<string>();
    const out: StatusCause[] = [];
    for (const e of errs) {
      const c = causeOf(e, obj);
      const k = `${c.field ?? ''}|${c.message}`;
      if (!seen.has(k)) out.push(c);
      seen.add(k);
    }
    return out;
  }

  /** Removes fields the schema does not know (structural pruning); returns their paths. */
  prune(obj: JsonObject): string[] {
    const unknown: string[] = [];
    const walk = (v: unknown, s: unknown, path: string, root: boolean): void => {
      if (!isObject(s) || s['x-kubernetes-preserve-unknown-fields'] === true) {
        if (isObject(s) && isObject(v) && isObject(s['properties']))
          for (const [k, ps] of Object.entries(s['properties']))
            if (k in v) walk(v[k], ps, `${path}${path === '' ? '' : '.'}${k}`, false);
        return;
      }
      if (Array.isArray(v)) {
        v.forEach((x, i) => {
          walk(x, s['items'], `${path}[${i}]`, false);
        });
        return;
      }
      if (!isObject(v)) return;
      if (s['x-kubernetes-embedded-resource'] === true) return;
      const props = isObject(s['properties']) ? s['properties'] : undefined;
      const addl = s['additionalProperties'];
      for (const k of Object.keys(v)) {
        if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
        const sub = `${path}${path === '' ? '' : '.'}${k}`;
        if (props !== undefined && k in props) walk(v[k], props[k], sub, false);
        else if (isObject(addl)) walk(v[k], addl, sub, false);
        else if (addl === true) continue;
        else if (props !== undefined || s['type'] === 'object' || root) {
          unknown.push(sub);
          // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
          delete v[k];
        }
      }
    };
    walk(obj, this.schema, '', true);
    return unknown;
  }

  /** Applies `default`s where fields are absent (structural defaulting). */
  applyDefaults(obj: JsonObject): void {
    const walk = (v: unknown, s: unknown): void => {
      if (!isObject(s)) return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x, s['items']);
        return;
      }
      if (!isObject(v)) return;
      const props = isObject(s['properties']) ? s['properties'] : {};
      for (const [k, ps] of Object.entries(props)) {
        if (!isObject(ps)) continue;
        if (v[k] === undefined && ps['default'] !== undefined) v[k] = structuredClone(ps['default']);
        if (v[k] !== undefined) walk(v[k], ps);
      }
      if (isObject(s['additionalProperties']))
        for (const x of Object.values(v)) walk(x, s['additionalProperties']);
    };
    walk(obj, this.schema);
  }
}

/** Compiled schemas per CRD version, invalidated when the CRD changes. */
export class SchemaCache {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  private readonly cache = new Map<string, { schema: JsonObject; compiled: CustomSchema }>();

  get(r: ResourceInfo): CustomSchema | undefined {
    const c = r.custom;
    if (c?.schema === undefined) return undefined;
    const key = `${r.group}/${r.version}/${r.resource}`;
    const hit = this.cache.get(key);
    if (hit?.schema === c.schema) return hit.compiled;
    const compiled = new CustomSchema(c.schema, this.ajv);
    this.cache.set(key, { schema: c.schema, compiled });
    return compiled;
  }
}
