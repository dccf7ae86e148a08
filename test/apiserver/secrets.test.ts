/**
 * Secrets as upstream handles them (issue 3, docs/compatibility.md): stringData is write-only
 * and lands in data, the well-known types need their keys, type is immutable, and base64
 * that does not decode fails the decoding of the body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kc, startTestServer, type TestServer } from './harness.js';

const S = '/api/v1/namespaces/default/secrets';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

describe('apiserver — secrets', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  it('secrets — stringData is merged into data as base64 and never stored or returned', async () => {
    const c = await api(s, 'POST', S, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds' },
      data: { user: b64('old'), keep: b64('k') },
      stringData: { user: 'edge', pass: 's3cr3t' },
    });
    expect(c.status).toBe(201);
    expect(c.body.stringData).toBeUndefined();
    expect(c.body.data).toEqual({ user: b64('edge'), pass: b64('s3cr3t'), keep: b64('k') });
    const g = await api(s, 'GET', `${S}/creds`);
    expect(g.body.stringData).toBeUndefined();
    expect(g.body.data.pass).toBe(b64('s3cr3t'));
    // an update through stringData too (kubectl apply of a manifest with stringData)
    await kc(s, ['apply', '-f', '-'], {
      stdin: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\nstringData:\n  token: abc\n',
    });
    await kc(s, ['apply', '-f', '-'], {
      stdin: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\nstringData:\n  token: def\n',
    });
    const out = await kc(s, ['get', 'secret', 'applied', '-o', 'jsonpath={.data.token}']);
    expect(Buffer.from(out, 'base64').toString('utf8')).toBe('def');
  });

  it('secrets — a typed Secret without its keys is 422 naming each missing key; nothing is stored', async () => {
    const r = await api(s, 'POST', S, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls' },
      type: 'kubernetes.io/tls',
      data: {},
    });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Secret "tls" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]',
    );
    expect((await api(s, 'GET', `${S}/tls`)).status).toBe(404);
    const ok = await kc(s, [
      'create',
      'secret',
      'docker-registry',
      'reg',
      '--docker-server=r',
      '--docker-username=u',
      '--docker-password=p',
    ]);
    expect(ok).toContain('secret/reg created');
    const bad = await api(s, 'POST', S, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'ba' },
      type: 'kubernetes.io/basic-auth',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: { field: string }) => c.field)).toEqual([
      'data[username]',
      'data[password]',
    ]);
  });

  it('secrets — type is immutable', async () => {
    const r = await api(s, 'PATCH', `${S}/creds`, { type: 'kubernetes.io/basic-auth' });
    expect(r.status).toBe(422);
    expect(r.body.details.causes[0]).toEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "kubernetes.io/basic-auth": field is immutable',
      field: 'type',
    });
  });

  it('secrets — undecodable base64 is a 400 with the offset Go reports', async () => {
    const cases: [string, number][] = [
      ['not base64!', 3],
      ['abc', 0],
      ['ab=c', 2],
    ];
    for (const [value, at] of cases) {
      const r = await api(s, 'POST', S, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'b64' },
        data: { k: value },
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({
        reason: 'BadRequest',
        message: `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${String(at)}`,
      });
    }
    const fine = await api(s, 'POST', S, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'b64' },
      data: { k: 'YQ==' },
    });
    expect(fine.status).toBe(201);
  });

  it('secrets — empty data and labels maps are omitted like Go omitempty', async () => {
    const r = await api(s, 'POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'empty', labels: {} },
      data: {},
    });
    expect(r.status).toBe(201);
    expect(r.body.data).toBeUndefined();
    expect(r.body.metadata.labels).toBeUndefined();
  });
});
