import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, configMap, pod, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.stop();
});

const CM = '/api/v1/namespaces/default/configmaps';

describe('apiserver rest', () => {
  it('apiserver rest — default namespaces exist at first start', async () => {
    const r = await api(s, 'GET', '/api/v1/namespaces');
    expect(r.status).toBe(200);
    const names = r.body.items.map((i: any) => String(i.metadata.name)).sort();
    expect(names).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(r.body.kind).toBe('NamespaceList');
    // As upstream's typed lists: no per-item apiVersion/kind.
    expect(r.body.items[0].kind).toBeUndefined();
  });

  it('apiserver rest — create sets uid, creationTimestamp, resourceVersion; get returns it', async () => {
    const c = await api(s, 'POST', CM, configMap('meta1', { a: '1' }));
    expect(c.status).toBe(201);
    expect(c.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(c.body.metadata.resourceVersion)).toBeGreaterThan(0);
    const g = await api(s, 'GET', `${CM}/meta1`);
    expect(g.body).toEqual(c.body);
  });

  it('apiserver rest — AlreadyExists and NotFound Status bodies like upstream', async () => {
    await api(s, 'POST', CM, configMap('dup'));
    const again = await api(s, 'POST', CM, configMap('dup'));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'AlreadyExists',
      message: 'configmaps "dup" already exists',
      details: { name: 'dup', kind: 'configmaps' },
      code: 409,
    });
    const nf = await api(s, 'GET', `${CM}/nope`);
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ reason: 'NotFound', message: 'configmaps "nope" not found', code: 404 });
    const dep = await api(s, 'GET', '/apis/apps/v1/namespaces/default/deployments/nope');
    expect(dep.body.message).toBe('deployments.apps "nope" not found');
  });

  it('apiserver rest — optimistic concurrency: stale resourceVersion is a 409 Conflict', async () => {
    const c = await api(s, 'POST', CM, configMap('occ', { a: '1' }));
    const first = { ...c.body, data: { a: '2' } };
    const u1 = await api(s, 'PUT', `${CM}/occ`, first);
    expect(u1.status).toBe(200);
    expect(Number(u1.body.metadata.resourceVersion)).toBeGreaterThan(Number(c.body.metadata.resourceVersion));
    const stale = { ...c.body, data: { a: '3' } };
    const u2 = await api(s, 'PUT', `${CM}/occ`, stale);
    expect(u2.status).toBe(409);
    expect(u2.body.reason).toBe('Conflict');
    expect(u2.body.message).toBe(
      'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect((await api(s, 'GET', `${CM}/occ`)).body.data).toEqual({ a: '2' });
  });

  it('apiserver rest — generateName produces a unique name with the prefix', async () => {
    const c = await api(s, 'POST', CM, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'gen-' },
    });
    expect(c.status).toBe(201);
    expect(c.body.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('apiserver rest — invalid names are 422 Invalid with causes, and nothing is stored', async () => {
    const r = await api(s, 'POST', CM, configMap('Bad_Name'));
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    expect(r.body.message).toContain(
      'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
    );
    expect(r.body.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    expect((await api(s, 'GET', `${CM}/Bad_Name`)).status).toBe(404);
    const nameless = await api(s, 'POST', CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} });
    expect(nameless.status).toBe(422);
    expect(nameless.body.message).toBe(
      'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
    );
  });

  it('apiserver rest — missing required fields are 422 (pod without containers)', async () => {
    const r = await api(s, 'POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p0' },
      spec: {},
    });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe('Pod "p0" is invalid: spec.containers: Required value');
    expect((await api(s, 'GET', '/api/v1/namespaces/default/pods/p0')).status).toBe(404);
  });

  it('apiserver rest — malformed JSON and YAML are 400; wrong kind is 400; nothing stored', async () => {
    const bad = await api(s, 'POST', CM, '{"apiVersion": "v1", "kind": ');
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('BadRequest');
    expect(bad.body.message).toMatch(/^couldn't get version\/kind; json parse error/);
    const yaml = await api(s, 'POST', CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y1\n', {
      headers: { 'Content-Type': 'application/yaml' },
    });
    expect(yaml.status).toBe(400);
    const kind = await api(s, 'POST', CM, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wrongkind' },
    });
    expect(kind.status).toBe(400);
    expect(kind.body.message).toContain('must be of type ConfigMap');
    const av = await api(s, 'POST', CM, {
      apiVersion: 'apps/v1',
      kind: 'ConfigMap',
      metadata: { name: 'wrongav' },
    });
    expect(av.status).toBe(400);
    expect(av.body.message).toBe(
      'the API version in the data (apps/v1) does not match the expected API version (v1)',
    );
    for (const n of ['wrongkind', 'wrongav']) expect((await api(s, 'GET', `${CM}/${n}`)).status).toBe(404);
  });

  it('apiserver rest — YAML bodies are accepted', async () => {
    const r = await api(
      s,
      'POST',
      CM,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\ndata:\n  k: v\n',
      {
        headers: { 'Content-Type': 'application/yaml' },
      },
    );
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ k: 'v' });
  });

  it('apiserver rest — oversized bodies are 413, unsupported media types 415', async () => {
    const big = configMap('big', { x: 'a'.repeat(3 * 1024 * 1024 + 10) });
    const r = await api(s, 'POST', CM, big);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
    expect((await api(s, 'GET', `${CM}/big`)).status).toBe(404);
    const t = await api(s, 'POST', CM, 'x', { headers: { 'Content-Type': 'text/plain' } });
    expect(t.status).toBe(415);
    expect(t.body.reason).toBe('UnsupportedMediaType');
    const sa = await api(s, 'PATCH', `${CM}/fromyaml`, 'a: 1', {
      headers: { 'Content-Type': 'application/x-unknown-patch' },
    });
    expect(sa.status).toBe(415);
    expect(sa.body.reason).toBe('UnsupportedMediaType');
  });

  it('apiserver rest — fieldValidation Strict rejects unknown fields, Warn warns, Ignore drops', async () => {
    const obj = { ...configMap('fv'), spec: { foo: 1 } };
    const strict = await api(s, 'POST', `${CM}?fieldValidation=Strict`, obj);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('strict decoding error: unknown field "spec"');
    expect((await api(s, 'GET', `${CM}/fv`)).status).toBe(404);
    const warn = await api(s, 'POST', `${CM}?fieldValidation=Warn`, obj);
    expect(warn.status).toBe(201);
    expect(String(warn.headers['warning'])).toContain('unknown field \\"spec\\"');
    expect(warn.body.spec).toBeUndefined();
    const ign = await api(s, 'POST', `${CM}?fieldValidation=Ignore`, { ...obj, metadata: { name: 'fv2' } });
    expect(ign.status).toBe(201);
    expect(ign.headers['warning']).toBeUndefined();
  });

  it('apiserver rest — dryRun=All validates and returns without storing', async () => {
    const r = await api(s, 'POST', `${CM}?dryRun=All`, configMap('dry'));
    expect(r.status).toBe(201);
    expect(r.body.metadata.name).toBe('dry');
    expect((await api(s, 'GET', `${CM}/dry`)).status).toBe(404);
    await api(s, 'POST', CM, configMap('dry2'));
    const del = await api(s, 'DELETE', `${CM}/dry2?dryRun=All`);
    expect(del.status).toBe(200);
    expect((await api(s, 'GET', `${CM}/dry2`)).status).toBe(200);
  });

  it('apiserver rest — creates in a missing namespace are 404 namespaces "x" not found', async () => {
    const r = await api(s, 'POST', '/api/v1/namespaces/ghost/configmaps', configMap('x'));
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('namespaces "ghost" not found');
  });

  it('apiserver rest — generation bumps on spec change only, not on metadata or status', async () => {
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gen' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'gen' } },
        template: {
          metadata: { labels: { app: 'gen' } },
          spec: { containers: [{ name: 'c', image: 'img:1' }] },
        },
      },
    };
    const D = '/apis/apps/v1/namespaces/default/deployments';
    const c = await api(s, 'POST', D, dep);
    expect(c.body.metadata.generation).toBe(1);
    const l = await api(s, 'PATCH', `${D}/gen`, { metadata: { labels: { a: 'b' } } });
    expect(l.body.metadata.generation).toBe(1);
    const st = await api(s, 'PATCH', `${D}/gen/status`, { status: { replicas: 1 } });
    expect(st.status).toBe(200);
    expect(st.body.metadata.generation).toBe(1);
    expect(st.body.status.replicas).toBe(1);
    const sp = await api(s, 'PATCH', `${D}/gen`, { spec: { replicas: 2 } });
    expect(sp.body.metadata.generation).toBe(2);
    // The main resource ignores status; the status subresource ignores spec.
    const main = await api(s, 'PATCH', `${D}/gen`, { status: { replicas: 9 } });
    expect(main.body.status.replicas).toBe(1);
    const sub = await api(s, 'PATCH', `${D}/gen/status`, { spec: { replicas: 9 } });
    expect(sub.body.spec.replicas).toBe(2);
    const scale = await api(s, 'GET', `${D}/gen/scale`);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { selector: 'app=gen' },
    });
    const put = await api(s, 'PUT', `${D}/gen/scale`, { ...scale.body, spec: { replicas: 4 } });
    expect(put.body.spec.replicas).toBe(4);
    expect((await api(s, 'GET', `${D}/gen`)).body.spec.replicas).toBe(4);
  });

  it('apiserver rest — list with label selectors, field selectors and limit/continue', async () => {
    await api(s, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'lists' },
    });
    const L = '/api/v1/namespaces/lists/configmaps';
    for (let i = 0; i < 7; i++)
      await api(
        s,
        'POST',
        L,
        configMap(`c${i}`, {}, { idx: String(i), parity: i % 2 === 0 ? 'even' : 'odd' }),
      );
    // Every namespace also holds kube-root-ca.crt (root CA publisher, as upstream): not compared.
    const names = (r: any): string[] =>
      (r.body.items as any[])
        .map((i: any) => String(i.metadata.name))
        .filter((n) => n !== 'kube-root-ca.crt');
    expect(names(await api(s, 'GET', `${L}?labelSelector=parity%3Deven`))).toEqual(['c0', 'c2', 'c4', 'c6']);
    expect(names(await api(s, 'GET', `${L}?labelSelector=parity!%3Deven`))).toEqual(['c1', 'c3', 'c5']);
    expect(names(await api(s, 'GET', `${L}?labelSelector=idx%20in%20(1,2)`))).toEqual(['c1', 'c2']);
    expect(names(await api(s, 'GET', `${L}?labelSelector=idx%20notin%20(1,2),parity`))).toEqual([
      'c0',
      'c3',
      'c4',
      'c5',
      'c6',
    ]);
    expect(names(await api(s, 'GET', `${L}?labelSelector=!parity`))).toEqual([]);
    expect(names(await api(s, 'GET', `${L}?fieldSelector=metadata.name%3Dc3`))).toEqual(['c3']);
    expect((await api(s, 'GET', `${L}?fieldSelector=spec.bogus%3D1`)).body.message).toBe(
      'field label not supported: spec.bogus',
    );
    const p1 = await api(s, 'GET', `${L}?limit=3`);
    expect(names(p1)).toEqual(['c0', 'c1', 'c2']);
    expect(p1.body.metadata.remainingItemCount).toBe(5); // c3–c6 and kube-root-ca.crt
    await api(s, 'POST', L, configMap('c9'));
    const p2 = await api(s, 'GET', `${L}?limit=3&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
    expect(names(p2)).toEqual(['c3', 'c4', 'c5']);
    const p3 = await api(s, 'GET', `${L}?limit=3&continue=${encodeURIComponent(p2.body.metadata.continue)}`);
    // c9 was created after the snapshot of the first page: not part of this list.
    expect(names(p3)).toEqual(['c6']);
    expect(p3.body.metadata.continue).toBeUndefined();
    const sel = await api(s, 'GET', `${L}?limit=2&labelSelector=parity%3Dodd`);
    expect(names(sel)).toEqual(['c1', 'c3']);
    const all = await api(s, 'GET', '/api/v1/configmaps?labelSelector=parity%3Dodd');
    expect(all.body.items.every((i: any) => i.metadata.namespace === 'lists')).toBe(true);
  });

  it('apiserver rest — pods: binding sets nodeName once, graceful deletion waits for the kubelet', async () => {
    const P = '/api/v1/namespaces/default/pods';
    const c = await api(s, 'POST', P, pod('gp', { terminationGracePeriodSeconds: 20 }));
    expect(c.body.status).toMatchObject({ phase: 'Pending', qosClass: 'BestEffort' });
    const bind = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'gp' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'n1' },
    };
    expect((await api(s, 'POST', `${P}/gp/binding`, bind)).status).toBe(201);
    const again = await api(s, 'POST', `${P}/gp/binding`, { ...bind, target: { kind: 'Node', name: 'n2' } });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe(
      'Operation cannot be fulfilled on pods/binding "gp": pod gp is already assigned to node "n1"',
    );
    const del = await api(s, 'DELETE', `${P}/gp`);
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(20);
    expect((await api(s, 'GET', `${P}/gp`)).status).toBe(200);
    const fin = await api(s, 'DELETE', `${P}/gp`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
    });
    expect(fin.status).toBe(200);
    expect((await api(s, 'GET', `${P}/gp`)).status).toBe(404);
    // A pod never bound to a node goes at once.
    await api(s, 'POST', P, pod('unbound'));
    await api(s, 'DELETE', `${P}/unbound`);
    expect((await api(s, 'GET', `${P}/unbound`)).status).toBe(404);
  });

  it('apiserver rest — finalizers hold a deleted object until removed; propagationPolicy adds orphan', async () => {
    await api(s, 'POST', CM, {
      ...configMap('fin'),
      metadata: { name: 'fin', finalizers: ['example.com/hold'] },
    });
    const d = await api(s, 'DELETE', `${CM}/fin`);
    expect(d.body.metadata.deletionTimestamp).toBeDefined();
    expect((await api(s, 'GET', `${CM}/fin`)).status).toBe(200);
    const rm = await api(s, 'PATCH', `${CM}/fin`, { metadata: { finalizers: null } });
    expect(rm.status).toBe(200);
    expect((await api(s, 'GET', `${CM}/fin`)).status).toBe(404);
    await api(s, 'POST', CM, configMap('orph'));
    const o = await api(s, 'DELETE', `${CM}/orph?propagationPolicy=Orphan`);
    expect(o.body.metadata.finalizers).toEqual(['orphan']);
  });

  it('apiserver rest — delete preconditions and deletecollection', async () => {
    const c = await api(s, 'POST', CM, configMap('pre'));
    const bad = await api(s, 'DELETE', `${CM}/pre`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: 'x' },
    });
    expect(bad.status).toBe(409);
    expect(bad.body.message).toContain('the UID in the precondition (x) does not match the UID in record');
    const good = await api(s, 'DELETE', `${CM}/pre`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: c.body.metadata.uid },
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'pre', kind: 'configmaps' },
    });
    await api(s, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'dc' },
    });
    for (const n of ['a', 'b', 'c'])
      await api(
        s,
        'POST',
        '/api/v1/namespaces/dc/configmaps',
        configMap(n, {}, { del: n === 'c' ? 'no' : 'yes' }),
      );
    const dc = await api(s, 'DELETE', '/api/v1/namespaces/dc/configmaps?labelSelector=del%3Dyes');
    expect(dc.status).toBe(200);
    const left = await api(s, 'GET', '/api/v1/namespaces/dc/configmaps');
    expect(left.body.items.map((i: any) => String(i.metadata.name))).toEqual(['c', 'kube-root-ca.crt']);
  });

  it('apiserver rest — eviction deletes a pod like a delete; unknown paths and verbs answer like upstream', async () => {
    const P = '/api/v1/namespaces/default/pods';
    await api(s, 'POST', P, pod('ev'));
    const ev = await api(s, 'POST', `${P}/ev/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'ev', namespace: 'default' },
    });
    expect(ev.status).toBe(201);
    expect((await api(s, 'GET', `${P}/ev`)).status).toBe(404);
    const none = await api(s, 'GET', '/api/v1/namespaces/default/widgets');
    expect(none.status).toBe(404);
    expect(none.body.message).toBe('the server could not find the requested resource');
    expect((await api(s, 'GET', `${CM}/meta1/bogus`)).status).toBe(404);
    const post = await api(s, 'POST', `${CM}/meta1`, configMap('meta1'));
    expect(post.status).toBe(405);
    expect(post.body.reason).toBe('MethodNotAllowed');
    // Name in the body must match the URL.
    const got = await api(s, 'GET', `${CM}/meta1`);
    const mismatch = await api(s, 'PUT', `${CM}/meta1`, {
      ...got.body,
      metadata: { ...got.body.metadata, name: 'other' },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toBe(
      'the name of the object (other) does not match the name on the URL (meta1)',
    );
  });

  it('apiserver rest — nodes are cluster-scoped and keep status on main updates; nodes/status writes it', async () => {
    const n = await api(s, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { edge: 'true' } },
      status: { capacity: { cpu: '2' } },
    });
    expect(n.status).toBe(201);
    expect(n.body.metadata.namespace).toBeUndefined();
    expect(n.body.status.capacity.cpu).toBe('2');
    const st = await api(s, 'PATCH', '/api/v1/nodes/n1/status', {
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(st.body.status.conditions[0].type).toBe('Ready');
    const main = await api(s, 'PATCH', '/api/v1/nodes/n1', {
      status: { conditions: [] },
      spec: { unschedulable: true },
    });
    expect(main.body.status.conditions).toHaveLength(1);
    const sel = await api(s, 'GET', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dtrue');
    expect(sel.body.items.map((i: any) => String(i.metadata.name))).toEqual(['n1']);
  });

  it('apiserver rest — namespace deletion: Terminating, no new content, gone after /finalize', async () => {
    await api(s, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'doomed' },
    });
    const d = await api(s, 'DELETE', '/api/v1/namespaces/doomed');
    expect(d.status).toBe(200);
    expect(d.body.status.phase).toBe('Terminating');
    expect(d.body.spec.finalizers).toEqual(['kubernetes']);
    const c = await api(s, 'POST', '/api/v1/namespaces/doomed/configmaps', configMap('late'));
    expect(c.status).toBe(403);
    expect(c.body.message).toBe(
      'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    );
    // What the namespace controller does once the namespace is empty.
    const fin = await api(s, 'PUT', '/api/v1/namespaces/doomed/finalize', {
      ...d.body,
      spec: { finalizers: [] },
    });
    expect(fin.status).toBe(200);
    expect((await api(s, 'GET', '/api/v1/namespaces/doomed')).status).toBe(404);
  });

  it('apiserver rest — services get a cluster IP and node ports; clusterIP is kept on update and immutable', async () => {
    const S = '/api/v1/namespaces/default/services';
    const svc = (name: string, spec: Record<string, unknown> = {}): unknown => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
    });
    const a = await api(s, 'POST', S, svc('sa'));
    const b = await api(s, 'POST', S, svc('sb', { type: 'NodePort' }));
    expect(a.body.spec.clusterIP).toMatch(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    expect(b.body.spec.clusterIP).not.toBe(a.body.spec.clusterIP);
    expect(a.body.spec.ports[0]).toMatchObject({ port: 80, targetPort: 80, protocol: 'TCP' });
    expect(b.body.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    const taken = await api(s, 'POST', S, svc('sc', { clusterIP: a.body.spec.clusterIP }));
    expect(taken.status).toBe(422);
    expect(taken.body.message).toContain('provided IP is already allocated');
    const upd = await api(s, 'PUT', `${S}/sa`, {
      ...a.body,
      spec: { selector: { app: 'x' }, ports: [{ port: 81 }] },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.spec.clusterIP).toBe(a.body.spec.clusterIP);
    const change = await api(s, 'PATCH', `${S}/sa`, { spec: { clusterIP: '10.96.7.7' } });
    expect(change.status).toBe(422);
  });

  it('apiserver rest — discovery: legacy and aggregated documents', async () => {
    const v = await api(s, 'GET', '/version');
    expect(v.body.gitVersion).toMatch(/^v1\.33\.0-tether/);
    const core = await api(s, 'GET', '/api/v1');
    const pods = core.body.resources.find((r: any) => r.name === 'pods');
    expect(pods).toMatchObject({ namespaced: true, kind: 'Pod', shortNames: ['po'] });
    expect(core.body.resources.map((r: any) => String(r.name))).toContain('pods/status');
    const agg = await api(s, 'GET', '/apis', undefined, {
      headers: {
        Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
      },
    });
    expect(agg.headers['content-type']).toBe(
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    );
    const apps = agg.body.items.find((g: any) => g.metadata.name === 'apps');
    const dep = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
    expect(dep.subresources.map((x: any) => String(x.subresource)).sort()).toEqual(['scale', 'status']);
    for (const p of ['/healthz', '/readyz', '/livez'])
      expect((await api(s, 'GET', p, undefined, { anonymous: true })).text).toBe('ok');
    const m = await api(s, 'GET', '/metrics');
    expect(m.text).toContain('tether_apiserver_request_total');
  });
});
