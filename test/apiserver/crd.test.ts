/** CRDs over HTTP: establishment, discovery, schema validation, pruning, defaulting, subresources, deletion, restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.stop();
});

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'devices.edge.tether.dev' },
  spec: {
    group: 'edge.tether.dev',
    scope: 'Namespaced',
    names: {
      plural: 'devices',
      singular: 'device',
      kind: 'Device',
      shortNames: ['dev'],
      categories: ['tether'],
    },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['protocol'],
                properties: {
                  protocol: { type: 'string', enum: ['modbus', 'mqtt', 'sim'] },
                  port: { 'x-kubernetes-int-or-string': true },
                  interval: { type: 'integer', default: 10, minimum: 1 },
                  settings: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
              status: { type: 'object', properties: { value: { type: 'number' } } },
            },
          },
        },
      },
    ],
  },
};
const D = '/apis/edge.tether.dev/v1alpha1/namespaces/default/devices';
const device = (name: string, spec: Record<string, unknown>): unknown => ({
  apiVersion: 'edge.tether.dev/v1alpha1',
  kind: 'Device',
  metadata: { name },
  spec,
});

describe('apiserver crd', () => {
  it('apiserver crd — a stored CRD is Established and served at once, with discovery names', async () => {
    const c = await api(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CRD);
    expect(c.status).toBe(201);
    const got = await api(
      s,
      'GET',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/devices.edge.tether.dev',
    );
    const conds = Object.fromEntries(
      (got.body.status.conditions as { type: string; status: string }[]).map((x) => [x.type, x.status]),
    );
    expect(conds).toEqual({ NamesAccepted: 'True', Established: 'True' });
    expect(got.body.status.storedVersions).toEqual(['v1alpha1']);
    const rl = await api(s, 'GET', '/apis/edge.tether.dev/v1alpha1');
    const dev = rl.body.resources.find((r: { name: string }) => r.name === 'devices');
    expect(dev).toMatchObject({
      kind: 'Device',
      namespaced: true,
      shortNames: ['dev'],
      categories: ['tether'],
    });
    expect((await api(s, 'GET', D)).status).toBe(200);
  });

  it('apiserver crd — invalid CRDs are 422', async () => {
    const bad = structuredClone(CRD);
    bad.metadata.name = 'wrong.edge.tether.dev';
    const r = await api(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', bad);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('must be spec.names.plural+"."+spec.group');
  });

  it('apiserver crd — schema validation, defaulting, int-or-string, preserve-unknown-fields and pruning', async () => {
    const ok = await api(
      s,
      'POST',
      D,
      device('d1', { protocol: 'modbus', port: 'http', settings: { any: { thing: 1 } }, extra: 1 }),
    );
    expect(ok.status).toBe(201);
    expect(ok.body.spec).toEqual({
      protocol: 'modbus',
      port: 'http',
      interval: 10,
      settings: { any: { thing: 1 } },
    });
    expect(String(ok.headers['warning'])).toContain('unknown field \\"spec.extra\\"');
    const enumBad = await api(s, 'POST', D, device('d2', { protocol: 'x' }));
    expect(enumBad.status).toBe(422);
    expect(enumBad.body.message).toBe(
      'Device.edge.tether.dev "d2" is invalid: spec.protocol: Unsupported value: "x": supported values: "modbus", "mqtt", "sim"',
    );
    const missing = await api(s, 'POST', D, device('d3', {}));
    expect(missing.body.message).toBe(
      'Device.edge.tether.dev "d3" is invalid: spec.protocol: Required value',
    );
    const type = await api(s, 'POST', D, device('d4', { protocol: 'sim', interval: 'often' }));
    expect(type.status).toBe(422);
    expect(type.body.details.causes[0].field).toBe('spec.interval');
    const strict = await api(
      s,
      'POST',
      `${D}?fieldValidation=Strict`,
      device('d5', { protocol: 'sim', extra: 1 }),
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'Device in version "v1alpha1" cannot be handled as a Device: strict decoding error: unknown field "spec.extra"',
    );
    for (const n of ['d2', 'd3', 'd4', 'd5']) expect((await api(s, 'GET', `${D}/${n}`)).status).toBe(404);
  });

  it('apiserver crd — status subresource: main PUT ignores status, /status changes only status; strategic patch is 415', async () => {
    const st = await api(s, 'PATCH', `${D}/d1/status`, {
      status: { value: 21.5 },
      spec: { protocol: 'mqtt' },
    });
    expect(st.status).toBe(200);
    expect(st.body.status.value).toBe(21.5);
    expect(st.body.spec.protocol).toBe('modbus');
    expect(st.body.metadata.generation).toBe(1);
    const main = await api(s, 'PATCH', `${D}/d1`, { status: { value: 0 }, spec: { interval: 5 } });
    expect(main.body.status.value).toBe(21.5);
    expect(main.body.metadata.generation).toBe(2);
    const smp = await api(
      s,
      'PATCH',
      `${D}/d1`,
      { spec: { interval: 6 } },
      { headers: { 'Content-Type': 'application/strategic-merge-patch+json' } },
    );
    expect(smp.status).toBe(415);
    expect(smp.body.message).toContain('application/json-patch+json, application/merge-patch+json');
  });

  it('apiserver crd — CRs and CRDs survive a restart and are served again', async () => {
    await s.server.stop();
    await s.server.start();
    s.url = s.server.url;
    const d1 = await api(s, 'GET', `${D}/d1`);
    expect(d1.status).toBe(200);
    expect(d1.body.status.value).toBe(21.5);
  });

  it('apiserver crd — deleting the CRD removes its custom resources and stops serving them', async () => {
    const del = await api(
      s,
      'DELETE',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/devices.edge.tether.dev',
    );
    expect(del.status).toBe(200);
    for (let i = 0; i < 50; i++) {
      if (
        (
          await api(
            s,
            'GET',
            '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/devices.edge.tether.dev',
          )
        ).status === 404
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(
      (await api(s, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/devices.edge.tether.dev'))
        .status,
    ).toBe(404);
    expect((await api(s, 'GET', D)).status).toBe(404);
    // Re-creating the CRD does not resurrect old objects.
    await api(s, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CRD);
    expect((await api(s, 'GET', D)).body.items).toEqual([]);
  });
});
