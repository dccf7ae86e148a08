import type { JsonObject } from '../../protocol/index.js';

/** The Device API group the cloud syncs to nodes (src/devices, DESIGN §5). */
export const DEVICE_GROUP = 'devices.tether.dev';
export const DEVICE_VERSION = 'v1alpha1';

/** The version the metaserver reports at /version: the Kubernetes API level it mimics. */
export const METASERVER_VERSION = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-tether-metaserver',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '1970-01-01T00:00:00Z',
  goVersion: '',
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch}`,
} as const;

/** A column of the server-side Table kubectl asks for (`kubectl get` prints these). */
export interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly priority?: number;
  readonly cell: (o: JsonObject) => string | number;
}

/** One resource type the metaserver serves (read-only: get, list, watch). */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Field selectors the API server supports for this kind (beyond metadata.name/namespace). */
  readonly fields: Readonly<Record<string, (o: JsonObject) => string>>;
  /** Columns after NAME (AGE is always last). */
  readonly columns: readonly Column[];
  /** Discovery categories (`kubectl get all` lists the `all` category). */
  readonly categories?: readonly string[];
}

type Any = Record<string, unknown>;
const rec = (v: unknown): Any => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Any) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';

export const metadataOf = (o: JsonObject): Any => rec(o['metadata']);
const spec = (o: JsonObject): Any => rec(o['spec']);
const status = (o: JsonObject): Any => rec(o['status']);

/** What kubectl's pod printer shows as STATUS, in short: the reason, a waiting reason, or the phase. */
function podStatus(o: JsonObject): string {
  if (metadataOf(o)['deletionTimestamp'] !== undefined) return 'Terminating';
  const st = status(o);
  let reason = str(st['reason']) || str(st['phase']) || 'Pending';
  for (const c of arr(st['containerStatuses'])) {
    const state = rec(rec(c)['state']);
    const waiting = str(rec(state['waiting'])['reason']);
    const terminated = str(rec(state['terminated'])['reason']);
    if (waiting !== '') reason = waiting;
    else if (terminated !== '') reason = terminated;
  }
  return reason;
}

const podColumns: Column[] = [
  {
    name: 'Ready',
    type: 'string',
    cell: (o) => {
      const cs = arr(status(o)['containerStatuses']);
      const ready = cs.filter((c) => rec(c)['ready'] === true).length;
      return `${ready}/${arr(spec(o)['containers']).length}`;
    },
  },
  { name: 'Status', type: 'string', cell: podStatus },
  {
    name: 'Restarts',
    type: 'integer',
    cell: (o) =>
      arr(status(o)['containerStatuses']).reduce<number>((n, c) => {
        const r = rec(c)['restartCount'];
        return n + (typeof r === 'number' ? r : 0);
      }, 0),
  },
  { name: 'IP', type: 'string', priority: 1, cell: (o) => str(status(o)['podIP']) || '<none>' },
  { name: 'Node', type: 'string', priority: 1, cell: (o) => str(spec(o)['nodeName']) || '<none>' },
];

const core = (
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[],
  fields: ResourceType['fields'] = {},
  columns: Column[] = [],
  categories?: string[],
): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames,
  fields,
  columns,
  ...(categories === undefined ? {} : { categories }),
});

/**
 * What a node holds (DESIGN §2: its pods, the ConfigMaps and Secrets they reference, its Node,
 * its Devices and their models). Services and Endpoints are served from whatever the store holds
 * (today the cloud does not sync them, so they list empty) so clients that list them do not fail.
 */
export const RESOURCES: readonly ResourceType[] = [
  core(
    'Pod',
    'pods',
    true,
    ['po'],
    {
      'spec.nodeName': (o) => str(spec(o)['nodeName']),
      'spec.restartPolicy': (o) => str(spec(o)['restartPolicy']),
      'spec.schedulerName': (o) => str(spec(o)['schedulerName']),
      'spec.serviceAccountName': (o) => str(spec(o)['serviceAccountName']),
      'spec.hostNetwork': (o) => String(spec(o)['hostNetwork'] === true),
      'status.phase': (o) => str(status(o)['phase']),
      'status.podIP': (o) => str(status(o)['podIP']),
      'status.nominatedNodeName': (o) => str(status(o)['nominatedNodeName']),
    },
    podColumns,
    ['all'],
  ),
  core('ConfigMap', 'configmaps', true, ['cm'], {}, [
    {
      name: 'Data',
      type: 'integer',
      cell: (o) => Object.keys(rec(o['data'])).length + Object.keys(rec(o['binaryData'])).length,
    },
  ]),
  core('Secret', 'secrets', true, [], { type: (o) => str(o['type']) }, [
    { name: 'Type', type: 'string', cell: (o) => str(o['type']) || 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => Object.keys(rec(o['data'])).length },
  ]),
  core(
    'Service',
    'services',
    true,
    ['svc'],
    {},
    [
      { name: 'Type', type: 'string', cell: (o) => str(spec(o)['type']) || 'ClusterIP' },
      { name: 'Cluster-IP', type: 'string', cell: (o) => str(spec(o)['clusterIP']) || '<none>' },
    ],
    ['all'],
  ),
  core('Endpoints', 'endpoints', true, ['ep']),
  core(
    'Node',
    'nodes',
    false,
    ['no'],
    { 'spec.unschedulable': (o) => String(spec(o)['unschedulable'] === true) },
    [
      {
        name: 'Status',
        type: 'string',
        cell: (o) => {
          const ready = arr(status(o)['conditions'])
            .map(rec)
            .find((c) => c['type'] === 'Ready');
          const s = ready === undefined ? 'Unknown' : ready['status'] === 'True' ? 'Ready' : 'NotReady';
          return spec(o)['unschedulable'] === true ? `${s},SchedulingDisabled` : s;
        },
      },
      { name: 'Version', type: 'string', cell: (o) => str(rec(status(o)['nodeInfo'])['kubeletVersion']) },
    ],
  ),
  {
    group: DEVICE_GROUP,
    version: DEVICE_VERSION,
    kind: 'Device',
    plural: 'devices',
    singular: 'device',
    namespaced: true,
    shortNames: ['dev'],
    fields: { 'spec.nodeName': (o) => str(spec(o)['nodeName']) },
    columns: [
      { name: 'Node', type: 'string', cell: (o) => str(spec(o)['nodeName']) },
      { name: 'Model', type: 'string', cell: (o) => str(rec(spec(o)['deviceModelRef'])['name']) },
    ],
  },
  {
    group: DEVICE_GROUP,
    version: DEVICE_VERSION,
    kind: 'DeviceModel',
    plural: 'devicemodels',
    singular: 'devicemodel',
    namespaced: true,
    shortNames: [],
    fields: {},
    columns: [],
  },
];

export const groupVersion = (r: { group: string; version: string }): string =>
  r.group === '' ? r.version : `${r.group}/${r.version}`;

/** Every field a field selector may name for `r`. */
export function supportedFields(r: ResourceType): Set<string> {
  const s = new Set(['metadata.name', ...Object.keys(r.fields)]);
  if (r.namespaced) s.add('metadata.namespace');
  return s;
}

export function fieldValue(r: ResourceType, o: JsonObject, field: string): string {
  if (field === 'metadata.name') return str(metadataOf(o)['name']);
  if (field === 'metadata.namespace') return str(metadataOf(o)['namespace']);
  return r.fields[field]?.(o) ?? '';
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

// ── discovery (what kubectl reads before anything else) ─────────────────────────────────

export function apiVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
}

function groupDoc(group: string): Record<string, unknown> {
  const gv = { groupVersion: `${group}/${DEVICE_VERSION}`, version: DEVICE_VERSION };
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(): Record<string, unknown> {
  const { kind: _k, apiVersion: _a, ...g } = groupDoc(DEVICE_GROUP);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [g] };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  return group === DEVICE_GROUP ? groupDoc(group) : undefined;
}

export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const rs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion({ group, version }),
    resources: rs.map((r) => ({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      // read-only: the node is not the source of truth (docs/metaserver.md)
      verbs: ['get', 'list', 'watch'],
      ...(r.shortNames.length === 0 ? {} : { shortNames: [...r.shortNames] }),
      ...(r.categories === undefined ? {} : { categories: [...r.categories] }),
    })),
  };
}
