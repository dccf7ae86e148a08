/**
 * Serving /openapi/v2 and /openapi/v3 from the OpenAPI module's documents, cached per
 * resource-table change. Whatever the module's coverage, every served resource gets PATCH
 * operations that declare `fieldValidation` with `x-kubernetes-group-version-kind`: kubectl
 * (cli-runtime queryParamVerifierV3) looks for exactly that to decide that the server
 * validates fields, instead of falling back to client-side validation.
 */
import { createHash } from 'node:crypto';
import { isObject } from './meta.js';
import {
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Index,
  type ResourceDescriptor,
} from './openapi/index.js';
import type { ResourceInfo, ResourceTable } from './resources.js';
import type { JsonObject } from './storage/types.js';

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function itemPath(r: ResourceInfo): string {
  const base = `/${gvPath(r.group, r.version)}`;
  return r.namespaced
    ? `${base}/namespaces/{namespace}/${r.resource}/{name}`
    : `${base}/${r.resource}/{name}`;
}

function ensurePatchOps(doc: JsonObject, resources: ResourceInfo[]): void {
  const paths = isObject(doc['paths']) ? doc['paths'] : {};
  doc['paths'] = paths;
  for (const r of resources) {
    const p = itemPath(r);
    const item = isObject(paths[p]) ? paths[p] : {};
    paths[p] = item;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const patch = isObject(item['patch']) ? item['patch'] : {};
    item['patch'] = patch;
    patch['x-kubernetes-group-version-kind'] ??= gvk;
    patch['x-kubernetes-action'] ??= 'patch';
    patch['operationId'] ??= `patch${r.kind}`;
    const params = Array.isArray(patch['parameters']) ? (patch['parameters'] as unknown[]) : [];
    for (const name of QUERY_PARAMS) {
      if (!params.some((x) => isObject(x) && x['name'] === name))
        params.push({
          name,
          in: 'query',
          schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
        });
    }
    patch['parameters'] = params;
    patch['responses'] ??= { '200': { description: 'OK' } };
  }
}

export class OpenApiDocs {
  private v2: string | undefined;
  private v3Index: string | undefined;
  private readonly v3 = new Map<string, { text: string; hash: string }>();

  constructor(private readonly table: ResourceTable) {
    table.onChange(() => {
      this.v2 = undefined;
      this.v3Index = undefined;
      this.v3.clear();
    });
  }

  private descriptors(): ResourceDescriptor[] {
    return this.table.all().map((r) => ({
      group: r.group,
      version: r.version,
      kind: r.kind,
      resource: r.resource,
      namespaced: r.namespaced,
      ...(r.custom?.schema === undefined ? {} : { schema: r.custom.schema }),
    }));
  }

  v2Text(): string {
    this.v2 ??= JSON.stringify(openApiV2(this.descriptors()));
    return this.v2;
  }

  /** The GV document, or undefined when nothing is served there. */
  v3GroupVersion(group: string, version: string): { text: string; hash: string } | undefined {
    const key = `${group}/${version}`;
    const hit = this.v3.get(key);
    if (hit !== undefined) return hit;
    const resources = this.table.all().filter((r) => r.group === group && r.version === version);
    if (resources.length === 0) return undefined;
    const doc = openApiV3GroupVersion(group, version, this.descriptors()) ?? {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.33.0' },
      paths: {},
      components: { schemas: {} },
    };
    ensurePatchOps(doc, resources);
    const text = JSON.stringify(doc);
    const out = { text, hash: createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase() };
    this.v3.set(key, out);
    return out;
  }

  v3IndexText(): string {
    if (this.v3Index !== undefined) return this.v3Index;
    const idx = openApiV3Index(this.descriptors());
    const paths = isObject(idx['paths']) ? idx['paths'] : {};
    const gvs = new Set(this.table.all().map((r) => `${r.group}|${r.version}`));
    for (const gv of gvs) {
      const [group = '', version = ''] = gv.split('|');
      const doc = this.v3GroupVersion(group, version);
      if (doc === undefined) continue;
      paths[gvPath(group, version)] = {
        serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${doc.hash}`,
      };
    }
    idx['paths'] = paths;
    this.v3Index = JSON.stringify(idx);
    return this.v3Index;
  }
}
