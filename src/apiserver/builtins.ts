/** The built-in resources of issue 3, with upstream's discovery data (names, verbs, subresources). */
import { ALL_VERBS, type ResourceInfo, type SubresourceInfo, type Verb } from './resources.js';

const STATUS_VERBS: Verb[] = ['get', 'patch', 'update'];

function status(group: string, version: string, kind: string): SubresourceInfo {
  return { name: 'status', kind: { group, version, kind }, verbs: STATUS_VERBS };
}
const SCALE: SubresourceInfo = {
  name: 'scale',
  kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  verbs: STATUS_VERBS,
};

function r(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return {
    group,
    version,
    resource,
    kind,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    verbs: [...ALL_VERBS],
    subresources: [],
    tracksGeneration: false,
    ...extra,
  };
}

export function builtinResources(): ResourceInfo[] {
  return [
    r('', 'v1', 'namespaces', 'Namespace', false, {
      shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [
        status('', 'v1', 'Namespace'),
        { name: 'finalize', kind: { group: '', version: 'v1', kind: 'Namespace' }, verbs: ['update'] },
      ],
      nameIsLabel: true,
    }),
    r('', 'v1', 'nodes', 'Node', false, {
      shortNames: ['no'],
      subresources: [
        status('', 'v1', 'Node'),
        // handlers/proxy.ts: to the node's kubelet endpoint (edges: the cloud core's, docs/streams.md)
        {
          name: 'proxy',
          kind: { group: '', version: 'v1', kind: 'NodeProxyOptions' },
          verbs: ['create', 'delete', 'get', 'patch', 'update'],
        },
      ],
    }),
    r('', 'v1', 'pods', 'Pod', true, {
      shortNames: ['po'],
      categories: ['all'],
      tracksGeneration: true,
      subresources: [
        status('', 'v1', 'Pod'),
        { name: 'binding', kind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
        { name: 'eviction', kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
        { name: 'log', kind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
        // handlers: kubectl debug's ephemeral containers (ephemeral.ts)
        {
          name: 'ephemeralcontainers',
          kind: { group: '', version: 'v1', kind: 'Pod' },
          verbs: ['get', 'patch', 'update'],
        },
        {
          name: 'exec',
          kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
          verbs: ['create', 'get'],
        },
        {
          name: 'attach',
          kind: { group: '', version: 'v1', kind: 'PodAttachOptions' },
          verbs: ['create', 'get'],
        },
        {
          name: 'portforward',
          kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' },
          verbs: ['create', 'get'],
        },
      ],
    }),
    r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
    r('', 'v1', 'secrets', 'Secret', true),
    r('', 'v1', 'services', 'Service', true, {
      shortNames: ['svc'],
      categories: ['all'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: [status('', 'v1', 'Service')],
      nameIsLabel: true,
    }),
    r('', 'v1', 'endpoints', 'Endpoints', true, {
      shortNames: ['ep'],
      singular: 'endpoints',
      createOnUpdate: true,
    }),
    r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'], createOnUpdate: true }),
    r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, {
      shortNames: ['sa'],
      subresources: [
        {
          name: 'token',
          kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
          verbs: ['create'],
        },
      ],
    }),
    r('coordination.k8s.io', 'v1', 'leases', 'Lease', true, { createOnUpdate: true }),
    // Answered, never stored (src/apiserver/serviceaccounts.ts).
    r('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, { verbs: ['create'] }),
    r('apps', 'v1', 'deployments', 'Deployment', true, {
      shortNames: ['deploy'],
      categories: ['all'],
      tracksGeneration: true,
      subresources: [status('apps', 'v1', 'Deployment'), SCALE],
    }),
    r('apps', 'v1', 'replicasets', 'ReplicaSet', true, {
      shortNames: ['rs'],
      categories: ['all'],
      tracksGeneration: true,
      subresources: [status('apps', 'v1', 'ReplicaSet'), SCALE],
    }),
    r('apps', 'v1', 'daemonsets', 'DaemonSet', true, {
      shortNames: ['ds'],
      categories: ['all'],
      tracksGeneration: true,
      subresources: [status('apps', 'v1', 'DaemonSet')],
    }),
    r('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'], createOnUpdate: true }),
    r('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, {
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      tracksGeneration: true,
      subresources: [status('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')],
    }),
  ];
}
