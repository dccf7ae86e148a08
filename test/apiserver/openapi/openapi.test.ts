import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fieldSchemaForCustomResource,
  findUnknownFields,
  knownFields,
  openApiV2,
  openApiV3GroupVersion,
  openApiV3Index,
  strictDecodingError,
  type ResourceDescriptor,
} from '../../../src/apiserver/openapi/index.js';
import { patchMetaFor, type PatchMeta } from '../../../src/apiserver/patch/index.js';

type J = Record<string, any>;
const run = promisify(execFile);

const DEVICE_SCHEMA = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        nodeName: { type: 'string' },
        properties: {
          type: 'array',
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, desired: { 'x-kubernetes-int-or-string': true } },
          },
        },
        protocol: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { type: { type: 'string' } },
        },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

const RESOURCES: ResourceDescriptor[] = [
  ...(
    [
      ['Pod', 'pods', true],
      ['Pod', 'pods/status', true],
      ['Binding', 'pods/binding', true],
      ['Eviction', 'pods/eviction', true],
      ['Node', 'nodes', false],
      ['Node', 'nodes/status', false],
      ['Namespace', 'namespaces', false],
      ['ConfigMap', 'configmaps', true],
      ['Secret', 'secrets', true],
      ['Service', 'services', true],
      ['Endpoints', 'endpoints', true],
      ['Event', 'events', true],
      ['ServiceAccount', 'serviceaccounts', true],
    ] as const
  ).map(([kind, resource, namespaced]) => ({
    group: '',
    version: 'v1',
    kind: kind === 'Eviction' ? 'Eviction' : kind,
    resource,
    namespaced,
  })),
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Scale', resource: 'deployments/scale', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true },
  { group: 'events.k8s.io', version: 'v1', kind: 'Event', resource: 'events', namespaced: true },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    resource: 'customresourcedefinitions',
    namespaced: false,
  },
  {
    group: 'devices.tether.io',
    version: 'v1alpha1',
    kind: 'Device',
    resource: 'devices',
    namespaced: true,
    schema: DEVICE_SCHEMA,
  },
];

/** Every `$ref` in `doc`, with the JSON pointer it lives at. */
function refs(doc: unknown, at = ''): [string, string][] {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => refs(v, `${at}/${i}`));
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}/${k}`),
  );
}

function resolve(doc: J, pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>(
      (cur, part) => (cur as J | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      doc,
    );
}

describe('openapi — documents are well-formed', () => {
  it('openapi v2 — swagger 2.0 whose every $ref resolves', () => {
    const doc = openApiV2(RESOURCES);
    expect(doc.swagger).toBe('2.0');
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(100);
    for (const [at, ref] of all) {
      expect(ref.startsWith('#/definitions/'), at).toBe(true);
      expect(resolve(doc, ref), `${at} -> ${ref}`).toBeDefined();
    }
  });

  it('openapi v2 — kinds carry x-kubernetes-group-version-kind and patch metadata', () => {
    const defs = openApiV2(RESOURCES).definitions as J;
    expect(defs['io.k8s.api.core.v1.Pod']['x-kubernetes-group-version-kind']).toEqual([
      { group: '', kind: 'Pod', version: 'v1' },
    ]);
    expect(defs['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'apps', kind: 'Deployment', version: 'v1' },
    ]);
    const containers = defs['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({
      type: 'array',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-patch-merge-key': 'name',
    });
    expect(containers.items).toEqual({ $ref: '#/definitions/io.k8s.api.core.v1.Container' });
    expect(defs['io.k8s.api.core.v1.PodSpec'].required).toEqual(['containers']);
    expect(defs['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toMatchObject({
      type: 'string',
      format: 'date-time',
    });
    expect(defs['io.tether.devices.v1alpha1.Device']['x-kubernetes-group-version-kind']).toEqual([
      { group: 'devices.tether.io', kind: 'Device', version: 'v1alpha1' },
    ]);
    expect(defs['io.tether.devices.v1alpha1.DeviceList'].properties.items.items).toEqual({
      $ref: '#/definitions/io.tether.devices.v1alpha1.Device',
    });
  });

  it('openapi v3 — index lists each group-version with the hash of its document, every $ref resolves', () => {
    const index: J = openApiV3Index(RESOURCES);
    expect(Object.keys(index.paths)).toEqual([
      'api/v1',
      'apis/apiextensions.k8s.io/v1',
      'apis/apps/v1',
      'apis/coordination.k8s.io/v1',
      'apis/devices.tether.io/v1alpha1',
      'apis/events.k8s.io/v1',
    ]);
    for (const [key, entry] of Object.entries(index.paths as Record<string, J>)) {
      const [, group, version] = key.startsWith('api/') ? ['', '', key.slice(4)] : key.split('/');
      const doc = openApiV3GroupVersion(group!, version!, RESOURCES) as J;
      expect(doc.openapi).toBe('3.0.0');
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      expect(entry.serverRelativeURL).toBe(`/openapi/v3/${key}?hash=${hash}`);
      for (const [at, ref] of refs(doc)) {
        expect(ref.startsWith('#/components/schemas/'), at).toBe(true);
        expect(resolve(doc, ref), `${key}${at} -> ${ref}`).toBeDefined();
      }
    }
    expect(openApiV3GroupVersion('batch', 'v1', RESOURCES)).toBeUndefined();
  });

  it('openapi v3 — PATCH operations announce fieldValidation and dryRun with their GVK (kubectl checks both)', () => {
    const doc = openApiV3GroupVersion('', 'v1', RESOURCES) as J;
    const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Pod', version: 'v1' });
    expect(patch['x-kubernetes-action']).toBe('patch');
    const names = (patch.parameters as J[]).filter((p) => p.in === 'query').map((p) => String(p.name));
    expect(names).toEqual(expect.arrayContaining(['fieldValidation', 'dryRun', 'fieldManager']));
    expect(Object.keys(patch.requestBody.content)).toContain('application/strategic-merge-patch+json');
    const crPatch = (openApiV3GroupVersion('devices.tether.io', 'v1alpha1', RESOURCES) as J).paths[
      '/apis/devices.tether.io/v1alpha1/namespaces/{namespace}/devices/{name}'
    ].patch;
    expect(Object.keys(crPatch.requestBody.content)).not.toContain('application/strategic-merge-patch+json');
    const cluster = doc.paths['/api/v1/nodes/{name}'];
    expect(cluster.get['x-kubernetes-action']).toBe('get');
    expect(doc.paths['/api/v1/pods'].get['x-kubernetes-action']).toBe('list');
    expect(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction'].post).toBeDefined();
  });

  it('openapi — merge keys published agree with the strategic patch table, for every served kind', () => {
    const defs = openApiV2(RESOURCES).definitions as J;
    const checked: string[] = [];
    const walk = (meta: PatchMeta, defName: string, path: string): void => {
      const props = (defs[defName] as J | undefined)?.properties as J | undefined;
      expect(props, `${path}: ${defName}`).toBeDefined();
      for (const [field, fm] of Object.entries(meta.fields ?? {})) {
        const prop = props![field] as J | undefined;
        expect(prop, `${path}.${field}`).toBeDefined();
        if (fm.strategy === 'merge') {
          checked.push(`${path}.${field}`);
          expect([
            path,
            field,
            prop!['x-kubernetes-patch-strategy'],
            prop!['x-kubernetes-patch-merge-key'],
          ]).toEqual([path, field, fm.retainKeys === true ? 'merge,retainKeys' : 'merge', fm.mergeKey]);
        }
        const target = (prop!.$ref ?? prop!.items?.$ref) as string | undefined;
        if (fm.fields !== undefined && target !== undefined)
          walk(fm, target.replace('#/definitions/', ''), `${path}.${field}`);
      }
    };
    for (const [group, kind, def] of [
      ['', 'Pod', 'io.k8s.api.core.v1.Pod'],
      ['', 'Node', 'io.k8s.api.core.v1.Node'],
      ['', 'Namespace', 'io.k8s.api.core.v1.Namespace'],
      ['', 'Service', 'io.k8s.api.core.v1.Service'],
      ['', 'ServiceAccount', 'io.k8s.api.core.v1.ServiceAccount'],
      ['apps', 'Deployment', 'io.k8s.api.apps.v1.Deployment'],
      ['apps', 'ReplicaSet', 'io.k8s.api.apps.v1.ReplicaSet'],
      ['apps', 'DaemonSet', 'io.k8s.api.apps.v1.DaemonSet'],
    ] as const) {
      walk(patchMetaFor(group, kind), def, kind);
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'Pod.spec.containers',
        'Pod.spec.containers.env',
        'Deployment.spec.template.spec.volumes',
      ]),
    );
    expect(
      defs['io.k8s.api.core.v1.NodeSpec'].properties.taints['x-kubernetes-patch-strategy'],
    ).toBeUndefined();
    expect(
      defs['io.k8s.api.core.v1.PodSpec'].properties.tolerations['x-kubernetes-patch-strategy'],
    ).toBeUndefined();
  });
});

describe('openapi — known fields for fieldValidation=Strict', () => {
  it('knownFields — finds unknown fields at depth, in document order, with upstream paths', () => {
    const pod = knownFields('', 'v1', 'Pod')!;
    const unknown = findUnknownFields(pod, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'x', labels: { anything: 'goes' }, bogus: 1 },
      spec: {
        containers: [
          { name: 'a', image: 'i', ports: [{ containerPort: 80, nope: true }] },
          { name: 'b', env: [{ name: 'E', valueFrom: { secretKeyRef: { key: 'k', extra: 1 } } }] },
        ],
        foo: 'bar',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        affinity: { podAffinity: { whatever: {} } },
      },
      status: { phase: 'Running' },
    });
    expect(unknown).toEqual([
      'metadata.bogus',
      'spec.containers[0].ports[0].nope',
      'spec.containers[1].env[0].valueFrom.secretKeyRef.extra',
      'spec.foo',
    ]);
    expect(strictDecodingError(unknown.slice(0, 2))).toBe(
      'strict decoding error: unknown field "metadata.bogus", unknown field "spec.containers[0].ports[0].nope"',
    );
  });

  it('knownFields — every served built-in kind has a schema, unknown kinds have none', () => {
    for (const [g, k] of [
      ['', 'Node'],
      ['', 'Namespace'],
      ['', 'ConfigMap'],
      ['', 'Secret'],
      ['', 'Service'],
      ['', 'Endpoints'],
      ['', 'Event'],
      ['', 'ServiceAccount'],
      ['apps', 'Deployment'],
      ['apps', 'ReplicaSet'],
      ['apps', 'DaemonSet'],
      ['coordination.k8s.io', 'Lease'],
      ['events.k8s.io', 'Event'],
      ['apiextensions.k8s.io', 'CustomResourceDefinition'],
      ['autoscaling', 'Scale'],
      ['policy', 'Eviction'],
    ] as const) {
      expect(knownFields(g, 'v1', k), `${g}/${k}`).toMatchObject({ type: 'object' });
    }
    expect(knownFields('batch', 'v1', 'CronJob')).toBeUndefined();
    const deploy = knownFields('apps', 'v1', 'Deployment')!;
    expect(
      findUnknownFields(deploy, {
        spec: {
          template: {
            spec: {
              containers: [{ name: 'a', imagePullPolicy: 'Always', resources: { limits: { cpu: '1' } } }],
            },
          },
          strategy: { type: 'Recreate' },
        },
      }),
    ).toEqual([]);
    expect(findUnknownFields(deploy, { spec: { template: { metadata: { lables: {} } } } })).toEqual([
      'spec.template.metadata.lables',
    ]);
  });

  it('knownFields — a CRD schema: preserve-unknown, additionalProperties, int-or-string, metadata', () => {
    const fs = fieldSchemaForCustomResource(DEVICE_SCHEMA);
    expect(
      findUnknownFields(fs, {
        apiVersion: 'devices.tether.io/v1alpha1',
        kind: 'Device',
        metadata: { name: 'd', nam: 'typo' },
        spec: {
          nodeName: 'edge-1',
          properties: [{ name: 't', desired: 5, unit: 'C' }],
          protocol: { type: 'modbus', slaveId: 1 },
          labels: { a: 'b' },
          extra: true,
        },
        status: { anything: { at: 'all' } },
        top: 1,
      }),
    ).toEqual(['metadata.nam', 'spec.properties[0].unit', 'spec.extra', 'top']);
    const crd = knownFields('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition')!;
    expect(
      findUnknownFields(crd, {
        spec: {
          group: 'g',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              },
            },
          ],
        },
      }),
    ).toEqual([]);
  });
});

describe('openapi — real kubectl', () => {
  let server: Server;
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-openapi-'));
    await writeFile(join(dir, 'kubeconfig'), '');
    const v3 = new Map<string, J>();
    const index: J = openApiV3Index(RESOURCES);
    for (const key of Object.keys(index.paths as J)) {
      const [, group, version] = key.startsWith('api/') ? ['', '', key.slice(4)] : key.split('/');
      v3.set(`/openapi/v3/${key}`, openApiV3GroupVersion(group!, version!, RESOURCES) as J);
    }
    const resource = (r: ResourceDescriptor) => ({
      name: r.resource,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    });
    const groups = [
      ...new Set(RESOURCES.filter((r) => r.group !== '').map((r) => `${r.group}/${r.version}`)),
    ];
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      let body: unknown;
      if (path === '/api') body = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
      else if (path === '/apis') {
        body = {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: groups.map((gv) => ({
            name: gv.split('/')[0],
            versions: [{ groupVersion: gv, version: gv.split('/')[1] }],
            preferredVersion: { groupVersion: gv, version: gv.split('/')[1] },
          })),
        };
      } else if (path === '/api/v1' || path.startsWith('/apis/')) {
        const gv = path === '/api/v1' ? 'v1' : path.slice('/apis/'.length);
        body = {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: gv,
          resources: RESOURCES.filter(
            (r) => (r.group === '' ? r.version : `${r.group}/${r.version}`) === gv,
          ).map(resource),
        };
      } else if (path === '/openapi/v3') body = openApiV3Index(RESOURCES);
      else if (path === '/openapi/v2') body = openApiV2(RESOURCES);
      else if (path === '/version') body = { major: '1', minor: '32', gitVersion: 'v1.32.0' };
      else body = v3.get(path);
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) =>
      server.close(() => {
        r();
      }),
    );
    await rm(dir, { recursive: true, force: true });
  });

  const explain = async (what: string) =>
    (
      await run('kubectl', ['--server', url, '--cache-dir', join(dir, 'cache'), 'explain', what], {
        env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') },
      })
    ).stdout;

  it('kubectl explain — pod.spec.containers reads our v3 document', async () => {
    const out = await explain('pod.spec.containers');
    expect(out).toContain('KIND:       Pod');
    expect(out).toMatch(/FIELD:\s+containers <\[\]Container>/);
    expect(out).toContain('A single application container that you want to run within a pod.');
    expect(out).toMatch(/image\s+<string>/);
    expect(out).toMatch(/name\s+<string> -required-/);
  }, 30_000);

  it('kubectl explain — a custom resource and an apps kind', async () => {
    expect(await explain('devices.spec')).toMatch(/nodeName\s+<string>/);
    expect(await explain('deployment.spec.strategy')).toContain(
      'DeploymentStrategy describes how to replace existing pods with new ones.',
    );
  }, 30_000);
});
