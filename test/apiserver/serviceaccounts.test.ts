/**
 * Service accounts in the embedded API server (upstream v1.34 behaviour, checked against it by
 * hand and in the differential corpus): per-namespace `default` ServiceAccount and
 * `kube-root-ca.crt`, ServiceAccount admission of pods, TokenRequest, and authentication of
 * the tokens it issues.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubectl, startTestServer, type TestServer } from './harness.js';

const CLOUD_TOKEN = 'cloud-token-0123456789abcdef';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const GENERATED = /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({
    tokens: [{ token: CLOUD_TOKEN, user: 'tether-cloud', groups: ['tether:cloud'] }],
  });
});
afterAll(async () => {
  await s.stop();
});

const ns = (name: string) =>
  api(s, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const podBody = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'localhost:5000/tether/shell:1' }], ...spec },
});
const tokenRequest = (namespace: string, sa: string, spec: Record<string, unknown> = {}, token?: string) =>
  api(
    s,
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
    token === undefined ? {} : { token },
  );

function claims(token: string): Record<string, any> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, any>;
}

describe('apiserver serviceaccounts', () => {
  it('serviceaccounts — every namespace has a default ServiceAccount and kube-root-ca.crt at once; removed or altered, they come back', async () => {
    expect((await ns('sa-objects')).status).toBe(201);
    // No wait: the objects exist by the time the namespace create has answered.
    const sa = await api(s, 'GET', '/api/v1/namespaces/sa-objects/serviceaccounts/default');
    expect(sa.status).toBe(200);
    const cm = await api(s, 'GET', '/api/v1/namespaces/sa-objects/configmaps/kube-root-ca.crt');
    expect(cm.status).toBe(200);
    expect(cm.body.data).toEqual({ 'ca.crt': s.caPem });
    expect(cm.body.metadata.annotations['kubernetes.io/description']).toMatch(/^Contains a CA bundle/);
    // The built-in namespaces have them too.
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      expect((await api(s, 'GET', `/api/v1/namespaces/${n}/serviceaccounts/default`)).status).toBe(200);

    const oldUid = sa.body.metadata.uid as string;
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-objects/serviceaccounts/default')).status).toBe(
      200,
    );
    const again = await api(s, 'GET', '/api/v1/namespaces/sa-objects/serviceaccounts/default');
    expect(again.status).toBe(200);
    expect(again.body.metadata.uid).not.toBe(oldUid);

    const patched = await api(s, 'PATCH', '/api/v1/namespaces/sa-objects/configmaps/kube-root-ca.crt', {
      data: { 'ca.crt': 'forged', extra: 'x' },
    });
    expect(patched.status).toBe(200);
    const restored = await api(s, 'GET', '/api/v1/namespaces/sa-objects/configmaps/kube-root-ca.crt');
    expect(restored.body.data).toEqual({ 'ca.crt': s.caPem });
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-objects/configmaps/kube-root-ca.crt')).status).toBe(
      200,
    );
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-objects/configmaps/kube-root-ca.crt')).status).toBe(
      200,
    );

    // A terminating namespace (no namespace controller here: it stays Terminating) gets nothing back.
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-objects')).status).toBe(200);
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-objects/serviceaccounts/default')).status).toBe(
      200,
    );
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-objects/serviceaccounts/default')).status).toBe(404);
  });

  it('serviceaccounts — admission adds the kube-api-access volume and mounts exactly as upstream, unless automounting is off', async () => {
    expect((await ns('sa-admit')).status).toBe(201);
    const created = await api(s, 'POST', '/api/v1/namespaces/sa-admit/pods', {
      ...podBody('p1', {
        initContainers: [{ name: 'i', image: 'x' }],
        containers: [
          { name: 'c', image: 'x' },
          { name: 'd', image: 'x', volumeMounts: [{ name: 'foo', mountPath: SA_DIR }] },
        ],
        volumes: [{ name: 'foo', emptyDir: {} }],
      }),
    });
    expect(created.status).toBe(201);
    const spec = created.body.spec;
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.serviceAccount).toBe('default');
    const vol = spec.volumes[1];
    expect(vol.name).toMatch(GENERATED);
    // What upstream v1.34 answered for the same pod (volume name aside).
    expect(spec.volumes).toEqual([
      { name: 'foo', emptyDir: {} },
      {
        name: vol.name,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
        },
      },
    ]);
    const mount = { mountPath: SA_DIR, name: vol.name, readOnly: true };
    expect(spec.initContainers[0].volumeMounts).toEqual([mount]);
    expect(spec.containers[0].volumeMounts).toEqual([mount]);
    // A container with its own mount at the token path keeps it.
    expect(spec.containers[1].volumeMounts).toEqual([{ name: 'foo', mountPath: SA_DIR }]);

    // Off on the service account, on again on the pod (the pod wins); the deprecated field names the SA.
    const sa = await api(s, 'POST', '/api/v1/namespaces/sa-admit/serviceaccounts', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'nomount' },
      automountServiceAccountToken: false,
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(sa.status).toBe(201);
    const off = await api(
      s,
      'POST',
      '/api/v1/namespaces/sa-admit/pods',
      podBody('p2', { serviceAccount: 'nomount' }),
    );
    expect(off.status).toBe(201);
    expect(off.body.spec.serviceAccountName).toBe('nomount');
    expect(off.body.spec.volumes).toBeUndefined();
    expect(off.body.spec.containers[0].volumeMounts).toBeUndefined();
    expect(off.body.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    const on = await api(
      s,
      'POST',
      '/api/v1/namespaces/sa-admit/pods',
      podBody('p3', { serviceAccountName: 'nomount', automountServiceAccountToken: true }),
    );
    expect(on.body.spec.volumes.map((v: { name: string }) => v.name)).toEqual([
      expect.stringMatching(GENERATED),
    ]);
    const podOff = await api(
      s,
      'POST',
      '/api/v1/namespaces/sa-admit/pods',
      podBody('p4', { automountServiceAccountToken: false }),
    );
    expect(podOff.body.spec.volumes).toBeUndefined();
  });

  it('serviceaccounts — a pod naming a missing service account is forbidden with upstream’s message (dry run too)', async () => {
    expect((await ns('sa-missing')).status).toBe(201);
    const named = await api(
      s,
      'POST',
      '/api/v1/namespaces/sa-missing/pods',
      podBody('q', { serviceAccountName: 'ghost' }),
    );
    expect(named.status).toBe(403);
    expect(named.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'pods "q" is forbidden: error looking up service account sa-missing/ghost: serviceaccount "ghost" not found',
      reason: 'Forbidden',
      details: { name: 'q', kind: 'pods' },
      code: 403,
    });
    const generated = await api(s, 'POST', '/api/v1/namespaces/sa-missing/pods', {
      ...podBody('', { serviceAccount: 'ghost' }),
      metadata: { generateName: 'q-' },
    });
    expect(generated.status).toBe(403);
    expect(generated.body.message).toBe(
      'pods "q-" is forbidden: error looking up service account sa-missing/ghost: serviceaccount "ghost" not found',
    );
    const dry = await api(
      s,
      'POST',
      '/api/v1/namespaces/sa-missing/pods?dryRun=All',
      podBody('q', { serviceAccountName: 'ghost' }),
    );
    expect(dry.status).toBe(403);
    // The default service account deleted in a live namespace comes back, so default pods go on working.
    expect((await api(s, 'POST', '/api/v1/namespaces/sa-missing/pods', podBody('ok'))).status).toBe(201);
  });

  it('serviceaccounts — TokenRequest: defaults, pod binding with node info, the 3607 s extension, and upstream’s refusals', async () => {
    expect((await ns('sa-token')).status).toBe(201);
    const sa = (await api(s, 'GET', '/api/v1/namespaces/sa-token/serviceaccounts/default')).body;
    const plain = await tokenRequest('sa-token', 'default');
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'default', namespace: 'sa-token', uid: sa.metadata.uid },
      spec: { audiences: [ISSUER], expirationSeconds: 3600, boundObjectRef: null },
    });
    const t = plain.body.status.token as string;
    const c = claims(t);
    expect(Object.keys(c)).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    expect(c.exp - c.iat).toBe(3600);
    expect(c.sub).toBe('system:serviceaccount:sa-token:default');
    expect(c['kubernetes.io']).toEqual({
      namespace: 'sa-token',
      serviceaccount: { name: 'default', uid: sa.metadata.uid },
    });
    expect(Date.parse(plain.body.status.expirationTimestamp)).toBe(c.exp * 1000);
    // Signed with the persisted key: RS256, kid = base64url(sha256(SPKI DER)).
    const pub = createPublicKey(readFileSync(join(s.dir, 'data', 'pki', 'sa.pub'), 'utf8'));
    const verified = await jwtVerify(t, pub, { issuer: ISSUER, audience: ISSUER });
    expect(verified.protectedHeader.alg).toBe('RS256');
    expect(decodeProtectedHeader(t).kid).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const pod = await api(s, 'POST', '/api/v1/namespaces/sa-token/pods', podBody('p1', { nodeName: 'n1' }));
    const uid = pod.body.metadata.uid as string;
    const bound = await tokenRequest('sa-token', 'default', {
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid },
    });
    expect(bound.status).toBe(201);
    expect(bound.body.spec.boundObjectRef).toEqual({ kind: 'Pod', apiVersion: 'v1', name: 'p1', uid });
    const bc = claims(bound.body.status.token as string);
    const iat = bc.iat as number;
    // --service-account-extend-token-expiration: a year, with warnafter at the requested time.
    expect(bc.exp - bc.iat).toBe(365 * 24 * 3600);
    expect(bc['kubernetes.io']).toEqual({
      namespace: 'sa-token',
      node: { name: 'n1' },
      pod: { name: 'p1', uid },
      serviceaccount: { name: 'default', uid: sa.metadata.uid },
      warnafter: iat + 3607,
    });
    expect(Date.parse(bound.body.status.expirationTimestamp)).toBe((iat + 3607) * 1000);
    // Other audiences are not extended.
    const vault = await tokenRequest('sa-token', 'default', {
      audiences: ['vault'],
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1' },
    });
    const vc = claims(vault.body.status.token as string);
    expect([vc.aud, vc.exp - vc.iat, vc['kubernetes.io'].warnafter]).toEqual([['vault'], 3607, undefined]);

    const short = await tokenRequest('sa-token', 'default', { expirationSeconds: 10 });
    expect(short.status).toBe(422);
    expect(short.body.message).toBe(
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 10: may not specify a duration less than 10 minutes',
    );
    expect(short.body.details).toEqual({
      group: 'authentication.k8s.io',
      kind: 'TokenRequest',
      causes: [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 10: may not specify a duration less than 10 minutes',
          field: 'spec.expirationSeconds',
        },
      ],
    });
    const noSa = await tokenRequest('sa-token', 'nope');
    expect([noSa.status, noSa.body.message]).toEqual([404, 'serviceaccounts "nope" not found']);
    const wrongUid = await tokenRequest('sa-token', 'default', {
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: 'wrong' },
    });
    expect([wrongUid.status, wrongUid.body.message, wrongUid.body.details]).toEqual([
      409,
      'Operation cannot be fulfilled on Pod "p1": the UID in the bound object reference (wrong) does not match the UID in record. The object might have been deleted and then recreated',
      { name: 'p1', kind: 'Pod' },
    ]);
    const noPod = await tokenRequest('sa-token', 'default', {
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'nopod' },
    });
    expect([noPod.status, noPod.body.message]).toEqual([404, 'pods "nopod" not found']);
    const cmRef = await tokenRequest('sa-token', 'default', {
      boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' },
    });
    expect([cmRef.status, cmRef.body.message]).toEqual([
      400,
      'cannot bind token to object of type /v1, Kind=ConfigMap',
    ]);
    const wrongKind = await api(s, 'POST', '/api/v1/namespaces/sa-token/serviceaccounts/default/token', {
      apiVersion: 'v1',
      kind: 'Pod',
    });
    expect([wrongKind.status, wrongKind.body.message]).toEqual([
      400,
      'Pod in version "v1" cannot be handled as a TokenRequest: converting (v1.Pod) to (authentication.TokenRequest): unknown conversion',
    ]);
    const get = await api(s, 'GET', '/api/v1/namespaces/sa-token/serviceaccounts/default/token');
    expect(get.status).toBe(405);
  });

  it('serviceaccounts — a token authenticates as system:serviceaccount:<ns>:<name> until its pod is gone; authorization is the server’s', async () => {
    expect((await ns('sa-auth')).status).toBe(201);
    const pod = await api(s, 'POST', '/api/v1/namespaces/sa-auth/pods', podBody('p'));
    const uid = pod.body.metadata.uid as string;
    const bound = (
      await tokenRequest('sa-auth', 'default', {
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid },
      })
    ).body.status.token as string;
    // Authenticated (403 names the user, not 401), and without a role it may not list pods.
    const list = await api(s, 'GET', '/api/v1/namespaces/sa-auth/pods', undefined, { token: bound });
    expect(list.status).toBe(403);
    expect(list.body.message).toBe(
      'pods is forbidden: User "system:serviceaccount:sa-auth:default" cannot list resource "pods" in API group "" in the namespace "sa-auth"',
    );
    // Nor ask for tokens itself; the cloud core's role may (edge pods' projected volumes).
    expect((await tokenRequest('sa-auth', 'default', {}, bound)).status).toBe(403);
    expect((await tokenRequest('sa-auth', 'default', {}, CLOUD_TOKEN)).status).toBe(201);

    const vault = (await tokenRequest('sa-auth', 'default', { audiences: ['vault'] })).body.status
      .token as string;
    expect((await api(s, 'GET', '/api/v1/namespaces', undefined, { token: vault })).status).toBe(401);
    const [h, p, sig] = bound.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims(bound), sub: 'system:serviceaccount:kube-system:default' }),
    ).toString('base64url');
    expect(
      (await api(s, 'GET', '/api/v1/namespaces', undefined, { token: `${h}.${forgedPayload}.${sig}` }))
        .status,
    ).toBe(401);
    expect(p).toBeDefined();

    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-auth/pods/p?gracePeriodSeconds=0')).status).toBe(
      200,
    );
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-auth/pods/p')).status).toBe(404);
    const after = await api(s, 'GET', '/api/v1/namespaces/sa-auth/pods', undefined, { token: bound });
    expect(after.status).toBe(401);

    // An unbound token dies with its service account (same name, new uid).
    const plain = (await tokenRequest('sa-auth', 'default')).body.status.token as string;
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-auth/pods', undefined, { token: plain })).status).toBe(
      403,
    );
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-auth/serviceaccounts/default')).status).toBe(200);
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-auth/serviceaccounts/default')).status).toBe(200);
    expect((await api(s, 'GET', '/api/v1/namespaces/sa-auth/pods', undefined, { token: plain })).status).toBe(
      401,
    );
    const metrics = (await api(s, 'GET', '/metrics')).text;
    expect(metrics).toMatch(
      /tether_apiserver_serviceaccount_token_authentications_total\{result="valid"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /tether_apiserver_serviceaccount_token_authentications_total\{result="invalid"\} [1-9]/,
    );
    expect(metrics).toMatch(/tether_apiserver_serviceaccount_tokens_issued_total\{bound="Pod"\} [1-9]/);
  });

  it('serviceaccounts — TokenReview: service-account and static tokens, audiences, invalidated tokens; admin only', async () => {
    expect((await ns('sa-review')).status).toBe(201);
    const pod = await api(s, 'POST', '/api/v1/namespaces/sa-review/pods', podBody('p'));
    const uid = pod.body.metadata.uid as string;
    const saUid = (await api(s, 'GET', '/api/v1/namespaces/sa-review/serviceaccounts/default')).body.metadata
      .uid as string;
    const bound = (
      await tokenRequest('sa-review', 'default', {
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p', uid },
      })
    ).body.status.token as string;
    const review = (token: string, audiences?: string[], as?: string) =>
      api(
        s,
        'POST',
        '/apis/authentication.k8s.io/v1/tokenreviews',
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: audiences === undefined ? { token } : { token, audiences },
        },
        as === undefined ? {} : { token: as },
      );
    const ok = await review(bound);
    expect(ok.status).toBe(201);
    // The shape upstream v1.34 answered for the same request.
    expect(ok.body.status).toEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:sa-review:default',
        uid: saUid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:sa-review', 'system:authenticated'],
        extra: {
          'authentication.kubernetes.io/credential-id': [`JTI=${String(claims(bound).jti)}`],
          'authentication.kubernetes.io/pod-name': ['p'],
          'authentication.kubernetes.io/pod-uid': [uid],
        },
      },
      audiences: [ISSUER],
    });
    expect((await review('garbage')).body.status).toEqual({ user: {}, error: 'invalid bearer token' });
    const st = (await review(CLOUD_TOKEN)).body.status;
    expect([st.authenticated, st.user.username, st.audiences]).toEqual([true, 'tether-cloud', [ISSUER]]);
    // A token for another audience is valid only when that audience is asked for.
    const vault = (await tokenRequest('sa-review', 'default', { audiences: ['vault'] })).body.status
      .token as string;
    expect((await review(vault)).body.status.authenticated).toBeUndefined();
    expect((await review(vault, ['vault'])).body.status).toMatchObject({
      authenticated: true,
      audiences: ['vault'],
    });
    expect((await review(CLOUD_TOKEN, ['vault'])).body.status.authenticated).toBeUndefined();
    // Only the admin may review tokens (upstream: create on tokenreviews, system:auth-delegator).
    expect((await review(bound, undefined, CLOUD_TOKEN)).status).toBe(403);
    expect((await api(s, 'DELETE', '/api/v1/namespaces/sa-review/pods/p?gracePeriodSeconds=0')).status).toBe(
      200,
    );
    expect((await review(bound)).body.status.authenticated).toBeUndefined();
    // Answered, never stored.
    expect((await api(s, 'GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status).toBe(405);
  });

  it('serviceaccounts — kubectl create token (bound to a pod, with a duration) and kubectl with the token as its credential', async () => {
    expect((await ns('sa-kubectl')).status).toBe(201);
    expect((await api(s, 'POST', '/api/v1/namespaces/sa-kubectl/pods', podBody('p'))).status).toBe(201);
    const created = await kubectl(s, [
      'create',
      'token',
      'default',
      '-n',
      'sa-kubectl',
      '--duration=20m',
      '--bound-object-kind=Pod',
      '--bound-object-name=p',
    ]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const c = claims(token);
    expect(c.exp - c.iat).toBe(1200);
    expect(c['kubernetes.io'].pod.name).toBe('p');
    const ca = join(s.dir, 'data', 'pki', 'ca.crt');
    const args = ['--server', s.url, '--certificate-authority', ca, '--token', token];
    const denied = await kubectl(s, [...args, 'get', 'pods', '-n', 'sa-kubectl'], {
      // The admin's client certificate would win over the token: a kubeconfig without a user.
      env: { KUBECONFIG: '/dev/null' },
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      'User "system:serviceaccount:sa-kubectl:default" cannot list resource "pods"',
    );
  });

  it('serviceaccounts — the signing key survives a restart: tokens issued before still authenticate', async () => {
    expect((await ns('sa-restart')).status).toBe(201);
    const t = (await tokenRequest('sa-restart', 'default')).body.status.token as string;
    await s.server.stop();
    await s.server.start();
    s.url = s.server.url;
    const r = await api(s, 'GET', '/api/v1/namespaces/sa-restart/pods', undefined, { token: t });
    expect(r.status).toBe(403);
    expect(r.body.message).toContain('system:serviceaccount:sa-restart:default');
  });

  it('serviceaccounts — discovery lists serviceaccounts/token (create, authentication.k8s.io/v1 TokenRequest)', async () => {
    const d = await api(s, 'GET', '/api/v1');
    const tok = (d.body.resources as { name: string }[]).find((r) => r.name === 'serviceaccounts/token');
    expect(tok).toMatchObject({
      name: 'serviceaccounts/token',
      namespaced: true,
      kind: 'TokenRequest',
      group: 'authentication.k8s.io',
      verbs: ['create'],
    });
  });
});
