/**
 * Discovery documents: legacy (/api, /apis, /api/v1, /apis/<g>/<v>) and aggregated
 * (apidiscovery.k8s.io v2 and v2beta1, requested by kubectl 1.27+ via the Accept header).
 */
import type { IncomingMessage } from 'node:http';
import { apiVersionOf, type ResourceInfo, type ResourceTable } from './resources.js';
import type { JsonObject } from './storage/types.js';

/** Groups in the order upstream lists them (built-in priority first, then CRD groups by name). */
const GROUP_ORDER = [
  '',
  'apps',
  'events.k8s.io',
  'autoscaling',
  'policy',
  'coordination.k8s.io',
  'apiextensions.k8s.io',
];

function orderedGroups(table: ResourceTable): [string, string[]][] {
  return [...table.groups().entries()].sort(([a], [b]) => {
    const ia = GROUP_ORDER.indexOf(a);
    const ib = GROUP_ORDER.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0) return -1;
    if (ib >= 0) return 1;
    return a.localeCompare(b);
  });
}

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[]): JsonObject {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(table: ResourceTable): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: orderedGroups(table)
      .filter(([g]) => g !== '')
      .map(([g, vs]) => groupDoc(g, vs)),
  };
}

export function apiGroup(table: ResourceTable, group: string): JsonObject | undefined {
  const vs = table.groups().get(group);
  if (vs === undefined || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, vs) };
}

export function apiResourceList(
  table: ResourceTable,
  group: string,
  version: string,
): JsonObject | undefined {
  const rs = table
    .all()
    .filter((r) => r.group === group && r.version === version)
    .sort((a, b) => a.resource.localeCompare(b.resource));
  if (rs.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const r of rs) {
    const main: JsonObject = {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames.length > 0) main['shortNames'] = r.shortNames;
    if (r.categories.length > 0) main['categories'] = r.categories;
    resources.push(main);
    for (const s of r.subresources) {
      const sub: JsonObject = {
        name: `${r.resource}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.kind.kind,
        verbs: s.verbs,
      };
      if (s.kind.group !== r.group) sub['group'] = s.kind.group;
      if (s.kind.version !== r.version) sub['version'] = s.kind.version;
      resources.push(sub);
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

function aggregatedResource(r: ResourceInfo): JsonObject {
  const out: JsonObject = {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
  };
  if (r.shortNames.length > 0) out['shortNames'] = r.shortNames;
  if (r.categories.length > 0) out['categories'] = r.categories;
  if (r.subresources.length > 0)
    out['subresources'] = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: s.kind,
      verbs: s.verbs,
    }));
  return out;
}

export type DiscoveryVersion = 'v2' | 'v2beta1';

/** The aggregated discovery version the Accept header asks for, if any (first acceptable wins). */
export function wantsAggregated(req: IncomingMessage): DiscoveryVersion | undefined {
  for (const raw of (req.headers.accept ?? '').split(',')) {
    const parts = raw.split(';').map((p) => p.trim());
    if (parts[0] !== 'application/json') continue;
    const params = new Map(parts.slice(1).map((p) => p.split('=').map((x) => x.trim()) as [string, string]));
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
      continue;
    }
    return undefined;
  }
  return undefined;
}

export function aggregatedContentType(v: DiscoveryVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
}

/** /api (legacy=true: only the core group) or /apis (every other group). */
export function aggregatedDiscovery(table: ResourceTable, legacy: boolean, v: DiscoveryVersion): JsonObject {
  const items = orderedGroups(table)
    .filter(([g]) => (g === '') === legacy)
    .map(([g, vs]) => ({
      metadata: g === '' ? { creationTimestamp: null } : { name: g, creationTimestamp: null },
      versions: vs.map((version) => ({
        version,
        resources: table
          .all()
          .filter((r) => r.group === g && r.version === version)
          .sort((a, b) => a.resource.localeCompare(b.resource))
          .map(aggregatedResource),
        freshness: 'Current',
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {}, items };
}
