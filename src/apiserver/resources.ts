/**
 * The resource table: what the server serves, keyed like upstream's discovery
 * (group/version/resource). Built-ins are static; CRDs add and remove entries at run time.
 */
import type { JsonObject } from './storage/types.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
export const ALL_VERBS: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface SubresourceInfo {
  name:
    | 'status'
    | 'scale'
    | 'binding'
    | 'eviction'
    | 'finalize'
    | 'log'
    | 'exec'
    | 'attach'
    | 'portforward'
    | 'proxy'
    | 'ephemeralcontainers'
    | 'token';
  kind: { group: string; version: string; kind: string };
  verbs: Verb[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

/** What a CRD adds to a resource (schema-driven behaviour). */
export interface CustomInfo {
  crdName: string;
  schema?: JsonObject;
  printerColumns?: PrinterColumn[];
  scale?: ScalePaths;
  storageVersion: string;
}

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: SubresourceInfo[];
  /** Spec changes bump metadata.generation (upstream strategies that track generation). */
  tracksGeneration: boolean;
  /** Names must be DNS-1123 labels (namespaces, services) instead of subdomains. */
  nameIsLabel?: boolean;
  /** Upstream's AllowCreateOnUpdate. */
  createOnUpdate?: boolean;
  custom?: CustomInfo;
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function hasSubresource(r: ResourceInfo, name: SubresourceInfo['name']): boolean {
  return r.subresources.some((s) => s.name === name);
}

/** The storage key prefix; the version is not part of it (all versions share objects). */
export function keyPrefix(r: ResourceInfo, namespace: string | undefined): string {
  // events.k8s.io/v1 Events are core Events (one storage, converted on the way in and out)
  const group = r.group === '' || (r.group === 'events.k8s.io' && r.resource === 'events') ? 'core' : r.group;
  const base = `/registry/${group}/${r.resource}/`;
  if (!r.namespaced) return base;
  return namespace === undefined ? base : `${base}${namespace}/`;
}

export function objectKey(r: ResourceInfo, namespace: string | undefined, name: string): string {
  return r.namespaced ? `${keyPrefix(r, namespace)}${name}` : `${keyPrefix(r, undefined)}_/${name}`;
}

/** Cluster-scoped keys use `_` for the namespace segment (storage/types.ts key shape). */
export function listPrefix(r: ResourceInfo, namespace: string | undefined): string {
  return r.namespaced ? keyPrefix(r, namespace) : `${keyPrefix(r, undefined)}_/`;
}

export class ResourceTable {
  private readonly byGvr = new Map<string, ResourceInfo>();
  private changeListeners: (() => void)[] = [];

  add(r: ResourceInfo): void {
    this.byGvr.set(`${r.group}/${r.version}/${r.resource}`, r);
    this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    if (this.byGvr.delete(`${group}/${version}/${resource}`)) this.changed();
  }

  removeWhere(pred: (r: ResourceInfo) => boolean): void {
    let any = false;
    for (const [k, r] of this.byGvr) {
      if (pred(r)) {
        this.byGvr.delete(k);
        any = true;
      }
    }
    if (any) this.changed();
  }

  get(group: string, version: string, resource: string): ResourceInfo | undefined {
    return this.byGvr.get(`${group}/${version}/${resource}`);
  }

  byKind(group: string, version: string, kind: string): ResourceInfo | undefined {
    for (const r of this.byGvr.values()) {
      if (r.group === group && r.version === version && r.kind === kind) return r;
    }
    return undefined;
  }

  all(): ResourceInfo[] {
    return [...this.byGvr.values()];
  }

  /** Group → versions, in the order upstream lists them (preferred first). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const r of this.byGvr.values()) {
      const vs = out.get(r.group) ?? [];
      if (!vs.includes(r.version)) vs.push(r.version);
      out.set(r.group, vs);
    }
    for (const vs of out.values()) vs.sort(compareVersions);
    return out;
  }

  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }
}

/**
 * Kubernetes version priority (apimachinery version.CompareKubeAwareVersionStrings):
 * GA > beta > alpha, higher major first, then non-kube-like versions alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (m === null) return undefined;
    const rank = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [rank, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa === undefined && pb === undefined) return a.localeCompare(b);
  if (pa === undefined) return 1;
  if (pb === undefined) return -1;
  for (let i = 0; i < 3; i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
