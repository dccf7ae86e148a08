/** Authentication (bearer tokens, client certificates) and the three roles, with upstream's 401/403 bodies. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/apiserver/index.js';
import { api, configMap, kubectl, startTestServer, type TestServer } from './harness.js';

const CLOUD_TOKEN = 'cloud-token-0123456789abcdef';
const RO_TOKEN = 'readonly-token-0123456789abcd';
const NOBODY_TOKEN = 'nobody-token-0123456789abcdef';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    tokens: [
      { token: CLOUD_TOKEN, user: 'tether-cloud', groups: ['tether:cloud'] },
      { token: NOBODY_TOKEN, user: 'nobody', groups: [] },
    ],
  });
  // The tokens file (upstream --token-auth-file format) is read at start; write one and restart.
  writeFileSync(join(s.dir, 'data', 'tokens.csv'), `${RO_TOKEN},viewer,uid-1,"tether:read-only,extra"\n`);
  await s.server.stop();
  await s.server.start();
  s.url = s.server.url;
});
afterAll(async () => {
  await s.stop();
});

describe('apiserver auth', () => {
  it('apiserver auth — no or bad credentials: 401 Unauthorized Status; health and version stay public', async () => {
    const anon = await api(s, 'GET', '/api/v1/namespaces', undefined, { anonymous: true });
    expect(anon.status).toBe(401);
    expect(anon.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(
      (await api(s, 'GET', '/api/v1/namespaces', undefined, { token: 'wrong-token-000000000000' })).status,
    ).toBe(401);
    expect((await api(s, 'GET', '/healthz', undefined, { anonymous: true })).status).toBe(200);
    expect((await api(s, 'GET', '/version', undefined, { anonymous: true })).status).toBe(200);
  });

  it('apiserver auth — admin by client certificate can do everything', async () => {
    expect(
      (
        await api(s, 'POST', '/api/v1/namespaces', {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'authz' },
        })
      ).status,
    ).toBe(201);
  });

  it('apiserver auth — read-only (tokens file) reads but cannot write: 403 with the RBAC message', async () => {
    expect(
      (await api(s, 'GET', '/api/v1/namespaces/default/configmaps', undefined, { token: RO_TOKEN })).status,
    ).toBe(200);
    const w = await api(s, 'POST', '/api/v1/namespaces/default/configmaps', configMap('ro'), {
      token: RO_TOKEN,
    });
    expect(w.status).toBe(403);
    expect(w.body).toMatchObject({
      reason: 'Forbidden',
      code: 403,
      message:
        'configmaps is forbidden: User "viewer" cannot create resource "configmaps" in API group "" in the namespace "default"',
      details: { kind: 'configmaps' },
    });
  });

  it('apiserver auth — the cloud identity writes node status, leases, configmaps but cannot delete namespaces or create deployments', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } };
    expect((await api(s, 'POST', '/api/v1/nodes', node, { token: CLOUD_TOKEN })).status).toBe(201);
    expect(
      (
        await api(
          s,
          'PATCH',
          '/api/v1/nodes/edge-1/status',
          { status: { phase: 'Running' } },
          { token: CLOUD_TOKEN },
        )
      ).status,
    ).toBe(200);
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'edge-1' },
      spec: { holderIdentity: 'edge-1' },
    };
    expect(
      (
        await api(s, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease, {
          token: CLOUD_TOKEN,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api(s, 'POST', '/api/v1/namespaces/default/configmaps', configMap('cloud'), {
          token: CLOUD_TOKEN,
        })
      ).status,
    ).toBe(201);
    const delNs = await api(s, 'DELETE', '/api/v1/namespaces/authz', undefined, { token: CLOUD_TOKEN });
    expect(delNs.status).toBe(403);
    expect(delNs.body.message).toBe(
      'namespaces "authz" is forbidden: User "tether-cloud" cannot delete resource "namespaces" in API group "" at the cluster scope',
    );
    const dep = await api(
      s,
      'POST',
      '/apis/apps/v1/namespaces/default/deployments',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } },
      { token: CLOUD_TOKEN },
    );
    expect(dep.status).toBe(403);
    expect((await api(s, 'GET', '/apis/apps/v1/deployments', undefined, { token: CLOUD_TOKEN })).status).toBe(
      200,
    );
  });

  it('apiserver auth — a user without a role is forbidden; certificates from another CA are not trusted', async () => {
    expect((await api(s, 'GET', '/api/v1/pods', undefined, { token: NOBODY_TOKEN })).status).toBe(403);
    const other = await CertificateAuthority.create('someone-else');
    const pair = await other.issueClient('intruder', ['system:masters']);
    const r = await api(s, 'GET', '/api/v1/pods', undefined, {
      cert: { cert: pair.certPem, key: pair.keyPem },
    });
    expect(r.status).toBe(401);
  });

  it('apiserver auth — kubeconfigs issued for other identities work with kubectl', async () => {
    const path = join(s.dir, 'viewer.kubeconfig');
    await s.server.writeKubeconfigFor(path, 'reader', ['tether:read-only']);
    const get = await kubectl(s, ['get', 'ns', 'default', '-o', 'name'], { env: { KUBECONFIG: path } });
    expect(get.stdout).toBe('namespace/default\n');
    const create = await kubectl(s, ['create', 'namespace', 'nope'], { env: { KUBECONFIG: path } });
    expect(create.stderr).toContain(
      'namespaces is forbidden: User "reader" cannot create resource "namespaces"',
    );
  });
});

describe('apiserver plain http', () => {
  it('apiserver auth — without TLS the admin kubeconfig carries a token from the tokens file', async () => {
    const plain = await startTestServer({ tls: false });
    try {
      expect(plain.url).toMatch(/^http:\/\//);
      const kubeconfig = readFileSync(plain.kubeconfigPath, 'utf8');
      const token = /token: (\S+)/.exec(kubeconfig)?.[1] ?? '';
      expect(token).not.toBe('');
      // (kubectl's clientcmd sends credentials only over TLS, so this mode is for other clients.)
      const ok = await fetch(`${plain.url}/api/v1/namespaces`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(ok.status).toBe(200);
      const res = await fetch(`${plain.url}/api/v1/namespaces`);
      expect(res.status).toBe(401);
    } finally {
      await plain.stop();
    }
  });
});
