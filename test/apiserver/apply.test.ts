/**
 * Server-side apply and managedFields (issue 3): real kubectl `apply --server-side` (create,
 * update, field removal, conflicts between managers, --force-conflicts) and the REST answers
 * upstream gives (409 with the conflicting fields and managers, 422 without fieldManager).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kc, kubectl, startTestServer, type TestServer } from './harness.js';

const DEPLOY = (opts: { replicas?: number; env?: boolean; image?: string }): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
${opts.replicas === undefined ? '' : `  replicas: ${opts.replicas}\n`}  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ${opts.image ?? 'localhost:5000/tether/shell:1'}
        ports:
        - containerPort: 80
${opts.env === true ? '        env:\n        - {name: MODE, value: "demo"}\n' : ''}`;

const APPLY = { 'Content-Type': 'application/apply-patch+yaml' };

function cmYaml(name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${lines.join('\n')}\n`;
}

describe('apiserver — server-side apply', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('apply — kubectl apply --server-side creates, updates and removes fields no longer applied', async () => {
    const out = await kc(s, ['apply', '--server-side', '-f', '-'], {
      stdin: DEPLOY({ replicas: 2, env: true }),
    });
    expect(out).toContain('deployment.apps/web serverside-applied');
    let d = JSON.parse(await kc(s, ['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0].env).toEqual([{ name: 'MODE', value: 'demo' }]);
    const mf = d.metadata.managedFields as any[];
    expect(mf).toHaveLength(1);
    expect(mf[0]).toMatchObject({
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
    });
    const containers = mf[0].fieldsV1['f:spec']['f:template']['f:spec']['f:containers'];
    expect(Object.keys(containers)).toEqual(['k:{"name":"web"}']);
    const web = containers['k:{"name":"web"}'];
    expect(web['.']).toEqual({});
    expect(web['f:ports']).toEqual({
      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
    });
    expect(web['f:env']).toEqual({ 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } });
    // defaulted fields belong to nobody
    expect(web['f:imagePullPolicy']).toBeUndefined();

    // change the image and stop applying env and replicas: both are removed (nobody else owns
    // them), and defaulting brings replicas back as 1
    await kc(s, ['apply', '--server-side', '-f', '-'], {
      stdin: DEPLOY({ image: 'localhost:5000/tether/shell:2' }),
    });
    d = JSON.parse(await kc(s, ['get', 'deploy', 'web', '-o', 'json']));
    expect(d.spec.template.spec.containers[0].image).toBe('localhost:5000/tether/shell:2');
    expect(d.spec.template.spec.containers[0].env).toBeUndefined();
    expect(d.spec.replicas).toBe(1);
    expect(d.metadata.generation).toBe(2);
  });

  it('apply — a second manager conflicts on a field the first owns; --force-conflicts takes it', async () => {
    await kc(s, ['apply', '--server-side', '-f', '-'], { stdin: DEPLOY({ replicas: 3 }) });
    const r = await kubectl(s, ['apply', '--server-side', '--field-manager', 'ops', '-f', '-'], {
      stdin: DEPLOY({ replicas: 5 }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(JSON.parse(await kc(s, ['get', 'deploy', 'web', '-o', 'json'])).spec.replicas).toBe(3);

    await kc(s, ['apply', '--server-side', '--field-manager', 'ops', '--force-conflicts', '-f', '-'], {
      stdin: DEPLOY({ replicas: 5 }),
    });
    const d = JSON.parse(await kc(s, ['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
    expect(d.spec.replicas).toBe(5);
    const byManager = new Map<string, any>((d.metadata.managedFields as any[]).map((e) => [e.manager, e]));
    expect(byManager.get('ops').fieldsV1['f:spec']['f:replicas']).toEqual({});
    expect(byManager.get('kubectl').fieldsV1['f:spec']['f:replicas']).toBeUndefined();
    // both still own the image they both applied with the same value: shared, no conflict
    const img = (m: string): unknown =>
      byManager.get(m).fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}'][
        'f:image'
      ];
    expect(img('kubectl')).toEqual({});
    expect(img('ops')).toEqual({});
  });

  it('apply — 1.27 and 1.33 kubectl apply --server-side a ConfigMap and read it back', async () => {
    for (const version of ['1.27', '1.33'] as const) {
      const name = `cm-${version.replace('.', '-')}`;
      await kc(s, ['apply', '--server-side', '-f', '-'], { version, stdin: cmYaml(name, { a: '1' }) });
      await kc(s, ['apply', '--server-side', '-f', '-'], { version, stdin: cmYaml(name, { b: '2' }) });
      const cm = JSON.parse(await kc(s, ['get', 'cm', name, '-o', 'json'], { version }));
      expect(cm.data).toEqual({ b: '2' });
    }
  });

  it('apply — an Update manager (kubectl edit/patch) conflicts too, with its API version in the message', async () => {
    await kc(s, ['create', 'configmap', 'mixed', '--from-literal=k=v']);
    const r = await api(
      s,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/mixed?fieldManager=applier',
      cmYaml('mixed', { k: 'w' }),
      {
        headers: APPLY,
      },
    );
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.k',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-create" using v1',
            field: '.data.k',
          },
        ],
      },
    });
    // applying the same value is no conflict: ownership is shared
    const same = await api(
      s,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/mixed?fieldManager=applier',
      cmYaml('mixed', { k: 'v' }),
      {
        headers: APPLY,
      },
    );
    expect(same.status).toBe(200);
    expect(same.body.metadata.managedFields.map((e: any) => `${e.manager}/${e.operation}`)).toEqual([
      'applier/Apply',
      'kubectl-create/Update',
    ]);
  });

  it('apply — several conflicts are listed per manager', async () => {
    const path = '/api/v1/namespaces/default/configmaps/multi';
    expect(
      (
        await api(s, 'PATCH', `${path}?fieldManager=a`, cmYaml('multi', { x: '1', y: '1' }), {
          headers: APPLY,
        })
      ).status,
    ).toBe(201);
    const r = await api(s, 'PATCH', `${path}?fieldManager=b`, cmYaml('multi', { x: '2', y: '2' }), {
      headers: APPLY,
    });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('Apply failed with 2 conflicts: conflicts with "a":\n- .data.x\n- .data.y');
    expect(r.body.details.causes.map((c: { field: string }) => c.field)).toEqual(['.data.x', '.data.y']);
  });

  it('apply — without fieldManager is 422 on PatchOptions; force on a merge patch is 422', async () => {
    const r = await api(s, 'PATCH', '/api/v1/namespaces/default/configmaps/x', cmYaml('x', { a: '1' }), {
      headers: APPLY,
    });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid',
      message:
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      details: {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [{ reason: 'FieldValueRequired', field: 'fieldManager' }],
      },
    });
    expect(r.body.details.name).toBeUndefined();
    const f = await api(s, 'PATCH', '/api/v1/namespaces/default/configmaps/mixed?force=true', {
      data: { z: '1' },
    });
    expect(f.status).toBe(422);
    expect(f.body.message).toContain('force: Forbidden: may not be specified for non-apply patch');
    const missing = await api(s, 'GET', '/api/v1/namespaces/default/configmaps/x');
    expect(missing.status).toBe(404);
  });

  it('apply — a configuration of another kind is 400 and stores nothing', async () => {
    const r = await api(
      s,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/wrong?fieldManager=m',
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: wrong\n',
      { headers: APPLY },
    );
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('invalid object type: /v1, Kind=Secret');
    expect((await api(s, 'GET', '/api/v1/namespaces/default/configmaps/wrong')).status).toBe(404);
  });

  it('apply — managedFields record Update writes per manager and survive a PUT that omits them', async () => {
    const c = await api(s, 'POST', '/api/v1/namespaces/default/configmaps?fieldManager=maker', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'tracked', labels: { a: 'b' } },
      data: { one: '1' },
    });
    expect(c.status).toBe(201);
    expect(c.body.metadata.managedFields).toEqual([
      {
        manager: 'maker',
        operation: 'Update',
        apiVersion: 'v1',
        time: expect.any(String),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:one': {} }, 'f:metadata': { 'f:labels': { 'f:a': {} } } },
      },
    ]);
    const p = await api(s, 'PATCH', '/api/v1/namespaces/default/configmaps/tracked?fieldManager=patcher', {
      data: { one: '2', two: '2' },
    });
    expect(p.status).toBe(200);
    const entries = new Map<string, any>(
      p.body.metadata.managedFields.map((e: any): [string, unknown] => [e.manager, e.fieldsV1]),
    );
    expect(entries.get('maker')).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } } });
    expect(entries.get('patcher')).toEqual({ 'f:data': { 'f:one': {}, 'f:two': {} } });
    const body = { ...p.body, metadata: { ...p.body.metadata } };
    delete body.metadata.managedFields;
    const u = await api(s, 'PUT', '/api/v1/namespaces/default/configmaps/tracked', body);
    expect(u.status).toBe(200);
    expect(u.body.metadata.managedFields).toEqual(p.body.metadata.managedFields);
    // managedFields: [{}] clears them (the documented reset)
    const reset = await api(s, 'PATCH', '/api/v1/namespaces/default/configmaps/tracked', {
      metadata: { managedFields: [{}] },
    });
    expect(reset.status).toBe(200);
    expect(reset.body.metadata.managedFields).toBeUndefined();
  });

  it('apply — status subresource apply owns status only', async () => {
    await kc(s, ['apply', '--server-side', '-f', '-'], {
      stdin: 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {zone: a}\n',
    });
    const r = await api(
      s,
      'PATCH',
      '/api/v1/nodes/n1/status?fieldManager=kubelet',
      'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  conditions:\n  - {type: Ready, status: "True", reason: KubeletReady, message: ok}\n',
      { headers: APPLY },
    );
    expect(r.status).toBe(200);
    expect(r.body.status.conditions[0].type).toBe('Ready');
    expect(r.body.metadata.labels).toEqual({ zone: 'a' });
    const kubelet = r.body.metadata.managedFields.find((e: any) => e.manager === 'kubelet');
    expect(kubelet).toMatchObject({ operation: 'Apply', subresource: 'status' });
    expect(Object.keys(kubelet.fieldsV1)).toEqual(['f:status']);
  });
});
