/**
 * Patch metadata of the built-in types we serve: the `patchStrategy` / `patchMergeKey`
 * struct tags of k8s.io/api (checked against the tags compiled into kubectl 1.32).
 * A field missing here has no strategy: maps merge, lists are replaced (atomic).
 * Notable upstream facts: tolerations, Node spec.taints, Endpoints subsets, envFrom,
 * readinessGates and container statuses have NO merge key — they are replaced.
 */

export interface PatchMeta {
  /** 'merge' for lists merged by key (or primitive sets), 'replace' to never recurse. */
  readonly strategy?: 'merge' | 'replace';
  /** patchStrategy contains retainKeys (only the client uses it; the server honours $retainKeys). */
  readonly retainKeys?: boolean;
  readonly mergeKey?: string;
  /** Fields of the struct (for a list: of its element). */
  readonly fields?: Readonly<Record<string, PatchMeta>>;
}

const merge = (mergeKey?: string, fields?: Record<string, PatchMeta>, retainKeys = false): PatchMeta => ({
  strategy: 'merge',
  ...(mergeKey === undefined ? {} : { mergeKey }),
  ...(fields === undefined ? {} : { fields }),
  ...(retainKeys ? { retainKeys } : {}),
});
const struct = (fields: Record<string, PatchMeta>): PatchMeta => ({ fields });

const objectMeta = struct({
  finalizers: merge(),
  ownerReferences: merge('uid'),
});

const container = struct({
  ports: merge('containerPort'),
  env: merge('name'),
  volumeMounts: merge('mountPath'),
  volumeDevices: merge('devicePath'),
});

const podSpec = struct({
  volumes: merge(
    'name',
    { ephemeral: struct({ volumeClaimTemplate: struct({ metadata: objectMeta }) }) },
    true,
  ),
  initContainers: merge('name', container.fields),
  containers: merge('name', container.fields),
  ephemeralContainers: merge('name', container.fields),
  imagePullSecrets: merge('name'),
  hostAliases: merge('ip'),
  topologySpreadConstraints: merge('topologyKey'),
  schedulingGates: merge('name'),
  resourceClaims: merge('name', undefined, true),
});

const conditions = merge('type');

const podStatus = struct({
  conditions,
  podIPs: merge('ip'),
  hostIPs: merge('ip'),
  resourceClaimStatuses: merge('name', undefined, true),
});

const podTemplateSpec = struct({ metadata: objectMeta, spec: podSpec });
const withConditions = struct({ conditions });

function kind(fields: Record<string, PatchMeta>): PatchMeta {
  return struct({ metadata: objectMeta, ...fields });
}

const workload = (extraSpec: Record<string, PatchMeta> = {}): PatchMeta =>
  kind({ spec: struct({ template: podTemplateSpec, ...extraSpec }), status: withConditions });

/** Keyed by `group/Kind` (core group = ''); the version does not change the tags. */
const TABLE: Readonly<Record<string, PatchMeta>> = {
  '/Pod': kind({ spec: podSpec, status: podStatus }),
  '/PodTemplate': kind({ template: podTemplateSpec }),
  '/ReplicationController': workload(),
  '/Node': kind({
    spec: struct({ podCIDRs: merge() }),
    status: struct({ conditions, addresses: merge('type') }),
  }),
  '/Namespace': kind({ status: withConditions }),
  '/Service': kind({ spec: struct({ ports: merge('port') }), status: withConditions }),
  '/ServiceAccount': kind({ secrets: merge('name') }),
  'apps/Deployment': kind({
    spec: struct({ template: podTemplateSpec, strategy: { retainKeys: true } }),
    status: withConditions,
  }),
  'apps/ReplicaSet': workload(),
  'apps/DaemonSet': workload(),
  'apps/StatefulSet': workload(),
  'batch/Job': workload(),
  'batch/CronJob': kind({
    spec: struct({
      jobTemplate: struct({ metadata: objectMeta, spec: struct({ template: podTemplateSpec }) }),
    }),
  }),
};

const DEFAULT = kind({});

/** The patch metadata of a built-in kind (every kind at least has ObjectMeta's). */
export function patchMetaFor(group: string, kindName: string): PatchMeta {
  return TABLE[`${group}/${kindName}`] ?? DEFAULT;
}

/** forkedjson.LookupPatchMetadata for our table: unknown fields have no strategy. */
export function lookupField(meta: PatchMeta, key: string): PatchMeta {
  return meta.fields?.[key] ?? {};
}
