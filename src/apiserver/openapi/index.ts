/**
 * OpenAPI documents of the embedded API server (/openapi/v2, /openapi/v3 and
 * /openapi/v3/<gv>) and the field schemas behind fieldValidation=Strict. Built-in
 * schemas come from our own compact table (types.ts), CRDs from their openAPIV3Schema.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../storage/types.js';
import { builtinDefinition, closure, definitionName, definitionSchema, DEFS, SCALAR_DEFS } from './build.js';
import { fieldSchemaFromJsonSchema, fromDefinition, type FieldSchema } from './fields.js';

export {
  findUnknownFields,
  strictDecodingError,
  fieldSchemaFromJsonSchema,
  type FieldSchema,
} from './fields.js';

export interface ResourceDescriptor {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** e.g. 'pods', or a subresource such as 'pods/status', 'deployments/scale' */
  readonly resource: string;
  readonly namespaced: boolean;
  /** A CRD version's openAPIV3Schema (marks the resource as a custom resource). */
  readonly schema?: JsonObject;
}

/** The Kubernetes version our documents claim (kubectl 1.27–1.33 accept it). */
export const OPENAPI_VERSION = 'v1.32.0';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
type Style = 'v2' | 'v3';
const ref = (name: string, style: Style): JsonObject => ({
  $ref: style === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}`,
});

function sortKeys(o: Record<string, JsonObject>): Record<string, JsonObject> {
  const sorted: Record<string, JsonObject> = {};
  for (const k of Object.keys(o).sort()) sorted[k] = o[k] ?? {};
  return sorted;
}

const isCustom = (r: ResourceDescriptor): boolean => r.schema !== undefined;

function kindDefinition(r: ResourceDescriptor): string {
  if (isCustom(r)) return definitionName(r.group, r.version, r.kind, true);
  return builtinDefinition(r.group, r.version, r.kind) ?? definitionName(r.group, r.version, r.kind, false);
}

function listDefinition(r: ResourceDescriptor): string | undefined {
  const name = `${kindDefinition(r)}List`;
  return isCustom(r) || DEFS.has(name) ? name : undefined;
}

/** Schema of a custom resource kind: its openAPIV3Schema plus apiVersion/kind/metadata. */
function customKindSchema(r: ResourceDescriptor, style: Style): JsonObject {
  const base: JsonObject = structuredClone(r.schema ?? {});
  const props: JsonObject =
    typeof base.properties === 'object' && base.properties !== null ? (base.properties as JsonObject) : {};
  return {
    ...base,
    type: 'object',
    properties: {
      ...props,
      apiVersion: {
        type: 'string',
        description: 'APIVersion defines the versioned schema of this representation of an object.',
      },
      kind: {
        type: 'string',
        description: 'Kind is a string value representing the REST resource this object represents.',
      },
      metadata:
        style === 'v2' ? ref(`${META}.ObjectMeta`, style) : { allOf: [ref(`${META}.ObjectMeta`, style)] },
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
  };
}

function customListSchema(r: ResourceDescriptor, style: Style): JsonObject {
  return {
    description: `${r.kind}List is a list of ${r.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: {
        type: 'string',
        description: 'APIVersion defines the versioned schema of this representation of an object.',
      },
      items: { type: 'array', items: ref(kindDefinition(r), style), description: `List of ${r.resource}.` },
      kind: {
        type: 'string',
        description: 'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: style === 'v2' ? ref(`${META}.ListMeta`, style) : { allOf: [ref(`${META}.ListMeta`, style)] },
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: `${r.kind}List`, version: r.version }],
  };
}

function genericKindSchema(r: ResourceDescriptor): JsonObject {
  return {
    description: `${r.kind} (schema not published by this server)`,
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }],
  };
}

/** All schemas the given resources need, by definition name. */
function schemas(resources: readonly ResourceDescriptor[], style: Style): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  const roots = new Set<string>([
    `${META}.Status`,
    `${META}.DeleteOptions`,
    `${META}.Patch`,
    `${META}.WatchEvent`,
    `${META}.ObjectMeta`,
    `${META}.ListMeta`,
  ]);
  for (const r of resources) {
    if (isCustom(r)) {
      out[kindDefinition(r)] = customKindSchema(r, style);
      out[`${kindDefinition(r)}List`] = customListSchema(r, style);
      continue;
    }
    const name = kindDefinition(r);
    if (DEFS.has(name)) roots.add(name);
    else out[name] = genericKindSchema(r);
    const list = listDefinition(r);
    if (list !== undefined) roots.add(list);
  }
  for (const name of closure(roots)) {
    const s = definitionSchema(name, style);
    if (s !== undefined) out[name] = s;
  }
  for (const name of Object.keys(SCALAR_DEFS)) out[name] ??= { ...(SCALAR_DEFS[name] ?? {}) };
  return sortKeys(out);
}

function camel(s: string): string {
  return s
    .split(/[.-]/)
    .filter((x) => x !== '')
    .map((x) => x.charAt(0).toUpperCase() + x.slice(1))
    .join('');
}

function gvName(group: string, version: string): string {
  return `${group === '' ? 'Core' : camel(group.replace(/\.k8s\.io$/, ''))}${camel(version)}`;
}

function tag(group: string, version: string): string {
  return `${group === '' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/\./g, '_')}_${version}`;
}

function param(
  name: string,
  where: 'query' | 'path',
  description: string,
  style: Style,
  type = 'string',
): JsonObject {
  return style === 'v2'
    ? {
        name,
        in: where,
        description,
        type,
        uniqueItems: true,
        ...(where === 'path' ? { required: true } : {}),
      }
    : {
        name,
        in: where,
        description,
        schema: { type, uniqueItems: true },
        ...(where === 'path' ? { required: true } : {}),
      };
}

const Q = {
  pretty: 'If true, then the output is pretty printed.',
  dryRun: 'When present, indicates that modifications should not be persisted. Valid values: All.',
  fieldManager: 'fieldManager is a name associated with the actor or entity that is making these changes.',
  fieldValidation:
    'Instructs the server how to handle objects with unknown or duplicate fields: Ignore, Warn or Strict.',
  force: 'Force is going to "force" Apply requests.',
  labelSelector: 'A selector to restrict the list of returned objects by their labels.',
  fieldSelector: 'A selector to restrict the list of returned objects by their fields.',
  limit: 'Maximum number of responses to return for a list call.',
  continue: 'The continue option should be set when retrieving more results from the server.',
  resourceVersion:
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  resourceVersionMatch: 'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  timeoutSeconds: 'Timeout for the list/watch call.',
  watch:
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  allowWatchBookmarks: 'allowWatchBookmarks requests watch events with type "BOOKMARK".',
  sendInitialEvents: 'sendInitialEvents=true may be set together with watch=true.',
  gracePeriodSeconds: 'The duration in seconds before the object should be deleted.',
  propagationPolicy:
    "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
};

function queries(names: (keyof typeof Q)[], style: Style): JsonObject[] {
  const ints = new Set(['limit', 'timeoutSeconds', 'gracePeriodSeconds']);
  const bools = new Set(['watch', 'allowWatchBookmarks', 'sendInitialEvents', 'force']);
  return names.map((n) =>
    param(n, 'query', Q[n], style, ints.has(n) ? 'integer' : bools.has(n) ? 'boolean' : 'string'),
  );
}

function response(schemaName: string, style: Style): JsonObject {
  if (style === 'v2') return { '200': { description: 'OK', schema: ref(schemaName, style) } };
  const content = Object.fromEntries(
    ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'].map((m) => [
      m,
      { schema: ref(schemaName, style) },
    ]),
  );
  return { '200': { description: 'OK', content } };
}

function body(schemaName: string, style: Style, consumes: readonly string[]): JsonObject {
  if (style === 'v2')
    return { parameters: [{ name: 'body', in: 'body', required: true, schema: ref(schemaName, style) }] };
  return {
    requestBody: {
      required: true,
      content: Object.fromEntries(consumes.map((c) => [c, { schema: ref(schemaName, style) }])),
    },
  };
}

const PRODUCES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function operation(
  r: ResourceDescriptor,
  style: Style,
  action: string,
  verb: string,
  id: string,
  responseSchema: string,
  queryNames: (keyof typeof Q)[],
  bodySchema?: string,
  consumes: readonly string[] = ['*/*'],
): JsonObject {
  const kind = r.resource.includes('/') && !isCustom(r) ? r.kind : r.kind;
  const op: JsonObject = {
    description: `${verb} ${r.resource}`,
    operationId: id,
    tags: [tag(r.group, r.version)],
    ...(style === 'v2' ? { consumes, produces: PRODUCES, schemes: ['https'] } : {}),
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, kind, version: r.version },
    responses: response(responseSchema, style),
  };
  const params = queries(queryNames, style);
  if (bodySchema !== undefined) {
    const b = body(bodySchema, style, consumes);
    if (style === 'v2') params.unshift(...(b.parameters as JsonObject[]));
    else op.requestBody = b.requestBody;
  }
  op.parameters = params;
  return op;
}

/** The paths of one resource (collection, item, optional subresource). */
function resourcePaths(r: ResourceDescriptor, style: Style): Record<string, JsonObject> {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const [resource = r.resource, sub] = r.resource.split('/');
  const ns = r.namespaced ? '/namespaces/{namespace}' : '';
  const collection = `${base}${ns}/${resource}`;
  const item = `${collection}/{name}`;
  const gv = gvName(r.group, r.version);
  const nsPart = r.namespaced ? 'Namespaced' : '';
  const kindDef = kindDefinition(r);
  const pathParams = (withName: boolean): JsonObject[] => [
    ...(withName ? [param('name', 'path', `name of the ${r.kind}`, style)] : []),
    ...(r.namespaced
      ? [param('namespace', 'path', 'object name and auth scope, such as for teams and projects', style)]
      : []),
  ];
  const patchTypes = [
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(isCustom(r) ? [] : ['application/strategic-merge-patch+json']),
    'application/apply-patch+yaml',
  ];
  const write: (keyof typeof Q)[] = ['pretty', 'dryRun', 'fieldManager', 'fieldValidation'];
  const out: Record<string, JsonObject> = {};

  if (sub !== undefined) {
    const subName = camel(sub);
    const p: JsonObject = { parameters: [...pathParams(true), ...queries(['pretty'], style)] };
    if (sub === 'eviction' || sub === 'binding') {
      p.post = operation(
        r,
        style,
        'post',
        'create',
        `createCoreV1${nsPart}${r.kind === 'Eviction' ? 'PodEviction' : 'PodBinding'}`,
        kindDef,
        ['dryRun', 'fieldManager', 'fieldValidation'],
        kindDef,
      );
    } else {
      p.get = operation(r, style, 'get', 'read', `read${gv}${nsPart}${r.kind}${subName}`, kindDef, []);
      p.put = operation(
        r,
        style,
        'put',
        'replace',
        `replace${gv}${nsPart}${r.kind}${subName}`,
        kindDef,
        ['dryRun', 'fieldManager', 'fieldValidation'],
        kindDef,
      );
      p.patch = operation(
        r,
        style,
        'patch',
        'partially update',
        `patch${gv}${nsPart}${r.kind}${subName}`,
        kindDef,
        ['dryRun', 'fieldManager', 'fieldValidation', 'force'],
        `${META}.Patch`,
        patchTypes,
      );
    }
    out[`${item}/${sub}`] = p;
    return out;
  }

  const list = listDefinition(r) ?? kindDef;
  const listQueries: (keyof typeof Q)[] = [
    'allowWatchBookmarks',
    'continue',
    'fieldSelector',
    'labelSelector',
    'limit',
    'resourceVersion',
    'resourceVersionMatch',
    'sendInitialEvents',
    'timeoutSeconds',
    'watch',
  ];
  out[collection] = {
    parameters: [...pathParams(false), ...queries(['pretty'], style)],
    get: operation(
      r,
      style,
      'list',
      'list or watch objects of kind',
      `list${gv}${nsPart}${r.kind}`,
      list,
      listQueries,
    ),
    post: operation(
      r,
      style,
      'post',
      'create',
      `create${gv}${nsPart}${r.kind}`,
      kindDef,
      ['dryRun', 'fieldManager', 'fieldValidation'],
      kindDef,
    ),
    delete: operation(
      r,
      style,
      'deletecollection',
      'delete collection of',
      `deletecollection${gv}${nsPart}${r.kind}`,
      `${META}.Status`,
      [
        'dryRun',
        'gracePeriodSeconds',
        'propagationPolicy',
        ...listQueries.filter((q) => q !== 'watch' && q !== 'allowWatchBookmarks'),
      ],
      `${META}.DeleteOptions`,
    ),
  };
  out[item] = {
    parameters: [...pathParams(true), ...queries(['pretty'], style)],
    get: operation(r, style, 'get', 'read the specified', `read${gv}${nsPart}${r.kind}`, kindDef, []),
    put: operation(
      r,
      style,
      'put',
      'replace the specified',
      `replace${gv}${nsPart}${r.kind}`,
      kindDef,
      write.slice(1),
      kindDef,
    ),
    patch: operation(
      r,
      style,
      'patch',
      'partially update the specified',
      `patch${gv}${nsPart}${r.kind}`,
      kindDef,
      [...write.slice(1), 'force'],
      `${META}.Patch`,
      patchTypes,
    ),
    delete: operation(
      r,
      style,
      'delete',
      'delete',
      `delete${gv}${nsPart}${r.kind}`,
      `${META}.Status`,
      ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'],
      `${META}.DeleteOptions`,
    ),
  };
  if (r.namespaced) {
    out[`${base}/${resource}`] = {
      parameters: queries(listQueries, style),
      get: operation(
        r,
        style,
        'list',
        'list or watch objects of kind',
        `list${gv}${r.kind}ForAllNamespaces`,
        list,
        [],
      ),
    };
  }
  return out;
}

function allPaths(resources: readonly ResourceDescriptor[], style: Style): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const r of resources) Object.assign(out, resourcePaths(r, style));
  return sortKeys(out);
}

const SECURITY_V2 = {
  BearerToken: {
    description: 'Bearer Token authentication',
    type: 'apiKey',
    name: 'authorization',
    in: 'header',
  },
};

/** GET /openapi/v2 (swagger 2.0). */
export function openApiV2(resources: ResourceDescriptor[]): JsonObject {
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: OPENAPI_VERSION },
    paths: allPaths(resources, 'v2'),
    definitions: schemas(resources, 'v2'),
    securityDefinitions: SECURITY_V2,
    security: [{ BearerToken: [] }],
  };
}

function gvKey(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** GET /openapi/v3/<api/v1 | apis/group/version>, or undefined when nothing is served there. */
export function openApiV3GroupVersion(
  group: string,
  version: string,
  resources: ResourceDescriptor[],
): JsonObject | undefined {
  const mine = resources.filter((r) => r.group === group && r.version === version);
  if (mine.length === 0) return undefined;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: OPENAPI_VERSION },
    paths: allPaths(mine, 'v3'),
    components: {
      schemas: schemas(mine, 'v3'),
      securitySchemes: {
        BearerToken: {
          type: 'apiKey',
          description: 'Bearer Token authentication',
          name: 'authorization',
          in: 'header',
        },
      },
    },
  };
}

/** The hash upstream puts in serverRelativeURL (SHA-512 of the served document). */
export function openApiV3Hash(doc: JsonObject): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}

/** GET /openapi/v3: one entry per served group-version. */
export function openApiV3Index(resources: ResourceDescriptor[]): JsonObject {
  const gvs = new Map<string, [string, string]>();
  for (const r of resources) gvs.set(gvKey(r.group, r.version), [r.group, r.version]);
  const paths: JsonObject = {};
  for (const key of [...gvs.keys()].sort()) {
    const [group, version] = gvs.get(key) ?? ['', ''];
    const doc = openApiV3GroupVersion(group, version, resources);
    if (doc !== undefined)
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${openApiV3Hash(doc)}` };
  }
  return { paths };
}

/**
 * The fields a built-in kind accepts (for fieldValidation=Strict), or undefined for kinds
 * we have no schema for. Custom resources: use fieldSchemaForCustomResource.
 */
export function knownFields(group: string, version: string, kind: string): FieldSchema | undefined {
  const name = builtinDefinition(group, version, kind);
  if (name === undefined || DEFS.get(name)?.gvk === undefined) return undefined;
  return fromDefinition(name);
}

/** The fields a custom resource accepts, from its CRD version's openAPIV3Schema. */
export function fieldSchemaForCustomResource(schema: JsonObject): FieldSchema {
  return fieldSchemaFromJsonSchema(schema, fromDefinition(`${META}.ObjectMeta`));
}
