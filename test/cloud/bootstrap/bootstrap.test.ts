/**
 * Bootstrap end to end (issue 5): the real hub on port 0 with mTLS, the real sync controller,
 * a real Kubernetes API (control-plane harness), the edge's joinCloud over real TLS and the
 * real edge link and store.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  CertificateAuthority,
  certInfo,
  createCsr,
  createRegistry,
  silentLogger,
} from '../../../src/common/index.js';
import { EDGE_GROUP, Hub } from '../../../src/cloud/hub/index.js';
import { KubeClient } from '../../../src/cloud/kube/index.js';
import { SyncController } from '../../../src/cloud/sync/index.js';
import {
  CertRotation,
  CloudPki,
  edgeSecurity,
  JoinService,
  joinCommand,
  Revocations,
  TokenStore,
} from '../../../src/cloud/bootstrap/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { Link } from '../../../src/edge/link/index.js';
import {
  CertRotator,
  joinCloud,
  JoinError,
  type EdgeCredentials,
} from '../../../src/edge/bootstrap/index.js';
import { messageId, nodeName, type Envelope } from '../../../src/protocol/index.js';
import { startControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { eventually, podManifest } from '../../support/channel.js';

const log = silentLogger();
const podKey = (name: string) => ({ group: '', version: 'v1', kind: 'Pod', namespace: 'default', name });

describe('bootstrap — join, tokens, CA in Kubernetes, revocation, rotation', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let kube: KubeClient;
  let pki: CloudPki;
  let tokens: TokenStore;
  let revocations: Revocations;
  let rotation: CertRotation;
  let hub: Hub;
  let sync: SyncController;
  let url: string;
  let dir: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-bootstrap-'));
    cp = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    kube = new KubeClient(kc, log);
    const registry = createRegistry();
    pki = new CloudPki({ serving: { dnsNames: ['localhost'], ips: ['127.0.0.1'] } }, kube, log);
    await pki.start();
    tokens = new TokenStore(kube, log);
    revocations = new Revocations(kube, log, { refreshMs: 200 });
    await revocations.start();
    // Rotated certificates live 6 s so the rotation test sees several rotations.
    rotation = new CertRotation(pki, log, revocations, 6000);
    const joins = new JoinService(pki, tokens, kube, log, registry, {
      maxFailures: 1000,
      isConnected: (n) => hub.session(nodeName(n)) !== undefined,
    });
    hub = new Hub(
      { host: '127.0.0.1', port: 0, tls: await pki.hubTls(), settings: { keepaliveMs: 1000 } },
      log,
      registry,
      joins,
    );
    sync = new SyncController(new KubeClient(kc, log), hub, log, registry, {
      queue: { stallTimeoutMs: 30_000 },
      tickMs: 200,
    });
    hub.setHandler(edgeSecurity(sync, { revocations, rotation, hub, log }));
    await sync.start();
    await hub.start();
    url = `wss://127.0.0.1:${hub.port}`;
  });

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await hub.stop();
    await sync.stop();
    await revocations.stop();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An edge (store + link) on the given credentials; `swap` replaces the link's certificate. */
  function startEdge(name: string, creds: { certPem: string; keyPem: string; caPem: string }) {
    const store = new EdgeStore({ path: join(dir, `${name}.db`) });
    store.open();
    const refusals: string[] = [];
    const replies: Envelope[] = [];
    let rotator: CertRotator | undefined;
    const make = (c: { certPem: string; keyPem: string; caPem: string }) => {
      const l = new Link(
        {
          cloudUrl: url,
          tls: { certPem: c.certPem, keyPem: c.keyPem, caPem: c.caPem },
          reconnect: { initialMs: 50, maxMs: 300 },
          outboxPollMs: 50,
        },
        store,
        log,
        createRegistry(),
      );
      l.on('refused', (r) => refusals.push(r.reason));
      l.setHandler({
        message: (env) => {
          if (rotator?.message(env) === true) return;
          replies.push(env);
        },
      });
      return l;
    };
    const edge = {
      store,
      link: make(creds),
      refusals,
      replies,
      setRotator(r: CertRotator) {
        rotator = r;
      },
      /** The composition root's reaction to `rotated`: the next connection uses the new pair. */
      async swap(c: EdgeCredentials) {
        await edge.link.stop();
        edge.link = make(c);
        await edge.link.start();
      },
      async stop() {
        await rotator?.stop();
        await edge.link.stop();
        store.close();
      },
    };
    cleanups.push(() => edge.stop());
    return edge;
  }

  const refusedJoin = async (p: Promise<unknown>): Promise<JoinError> => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(JoinError);
    return e as JoinError;
  };

  it('bootstrap — the CA lives in Secret tether-system/tether-ca and another CloudPki reuses it', async () => {
    const s = await core.readNamespacedSecret({ name: 'tether-ca', namespace: 'tether-system' });
    expect(s.type).toBe('kubernetes.io/tls');
    const crt = Buffer.from(s.data?.['tls.crt'] ?? '', 'base64').toString();
    expect(crt).toBe(pki.caPem);
    const again = new CloudPki({}, new KubeClient(kc, log), log);
    await again.start();
    expect(again.pin).toBe(pki.pin);
    // Two replicas starting at once on an empty Secret end up with one CA (the 409 loser reads the winner's).
    const racers = [0, 1, 2].map(
      () => new CloudPki({ secretName: 'tether-ca-race' }, new KubeClient(kc, log), log),
    );
    await Promise.all(racers.map((r) => r.start()));
    expect(new Set(racers.map((r) => r.pin)).size).toBe(1);
    const stored = await core.readNamespacedSecret({ name: 'tether-ca-race', namespace: 'tether-system' });
    expect(Buffer.from(stored.data?.['tls.crt'] ?? '', 'base64').toString()).toBe(racers[0]?.caPem);
  });

  it('bootstrap — tokens are created, listed without their secret, and revoked; the Secret holds only a hash', async () => {
    const t = await tokens.create({
      description: 'rack 7',
      createdBy: 'alice',
      node: 'edge-x',
      ttlMs: 3600_000,
    });
    expect(t.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const secretPart = t.token.split('.')[1] ?? '';
    const s = await core.readNamespacedSecret({
      name: `tether-token-${t.info.id}`,
      namespace: 'tether-system',
    });
    expect(s.type).toBe('bootstrap.tether.dev/token');
    const values = Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString());
    expect(values.some((v) => v.includes(secretPart))).toBe(false);
    const listed = (await tokens.list()).find((x) => x.id === t.info.id);
    expect(listed).toMatchObject({
      id: t.info.id,
      node: 'edge-x',
      description: 'rack 7',
      createdBy: 'alice',
      uses: 0,
    });
    expect(JSON.stringify(await tokens.list())).not.toContain(secretPart);
    expect(joinCommand(url, t.token, pki.pin)).toBe(
      `tether edge join --cloud ${url} --token ${t.token} --ca-cert-hash ${pki.pin}`,
    );
    expect(await tokens.revoke(t.info.id)).toBe(true);
    expect((await tokens.list()).some((x) => x.id === t.info.id)).toBe(false);
    expect(await tokens.revoke(t.info.id)).toBe(false);
    await expect(tokens.create({ node: 'Not_A_Node' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(tokens.create({ ttlMs: -1 })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('bootstrap — join with a good token: CN=node, O=tether:edges, key 0600, and the edge connects and syncs', async () => {
    const t = await tokens.create({ description: 'first edge' });
    const edgeDir = join(dir, 'edge-1');
    const creds = await joinCloud({
      cloudUrl: url,
      token: t.token,
      caCertHash: pki.pin,
      nodeName: 'edge-1',
      dir: edgeDir,
    });
    const info = certInfo(readFileSync(join(edgeDir, 'node.crt'), 'utf8'));
    expect(info.commonName).toBe('edge-1');
    expect(info.organizations).toEqual([EDGE_GROUP]);
    expect(statSync(join(edgeDir, 'node.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(edgeDir, 'ca.crt'), 'utf8')).toBe(pki.caPem);
    // Default validity 30 days.
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect((await tokens.list()).find((x) => x.id === t.info.id)?.uses).toBe(1);

    const edge = startEdge('edge-1', creds);
    await edge.link.start();
    await eventually(() => hub.session(nodeName('edge-1')) !== undefined, 'edge-1 connected');
    await core.createNamespacedPod({ namespace: 'default', body: podManifest('p1', 'edge-1') });
    await eventually(() => edge.store.get(podKey('p1')), 'pod p1 on edge-1');

    // A stolen token must not take over a live node.
    const t2 = await tokens.create({ node: 'edge-1' });
    const e = await refusedJoin(
      joinCloud({
        cloudUrl: url,
        token: t2.token,
        caCertHash: pki.pin,
        nodeName: 'edge-1',
        dir: join(dir, 'thief'),
      }),
    );
    expect(e.status).toBe(409);
    expect(e.message).toMatch(/node edge-1 is connected right now/);
  });

  it('bootstrap — expired, revoked, wrong-secret and wrong-node tokens and a wrong CA pin are each refused with their reason', async () => {
    const opts = (token: string, nodeName = 'edge-bad', caCertHash = pki.pin) => ({
      cloudUrl: url,
      token,
      caCertHash,
      nodeName,
      dir: join(dir, `bad-${randomUUID()}`),
    });
    const expired = await tokens.create({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    let e = await refusedJoin(joinCloud(opts(expired.token)));
    expect(e.status).toBe(401);
    expect(e.message).toContain(
      `token ${expired.info.id} expired at ${expired.info.expiresAt.toISOString()}: create a new one with \`tether token create\``,
    );

    const revoked = await tokens.create();
    await tokens.revoke(revoked.info.id);
    e = await refusedJoin(joinCloud(opts(revoked.token)));
    expect(e.message).toContain(`token ${revoked.info.id} does not exist or was revoked`);

    const good = await tokens.create();
    const wrong = `${good.info.id}.0123456789abcdef`;
    e = await refusedJoin(joinCloud(opts(wrong)));
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/: invalid token$/);
    // The same answer for a wrong secret on an expired token: expiry is no oracle.
    e = await refusedJoin(joinCloud(opts(`${expired.info.id}.0123456789abcdef`)));
    expect(e.message).toMatch(/: invalid token$/);

    const bound = await tokens.create({ node: 'edge-a' });
    e = await refusedJoin(joinCloud(opts(bound.token, 'edge-b')));
    expect(e.status).toBe(403);
    expect(e.message).toContain(`token ${bound.info.id} is bound to node edge-a; it cannot join node edge-b`);

    const other = await CertificateAuthority.create('someone-else');
    e = await refusedJoin(joinCloud(opts(good.token, 'edge-bad', other.pin)));
    expect(e.code).toBe('CA_PIN_MISMATCH');
    expect(e.message).toContain(`not the --ca-cert-hash ${other.pin}`);
    // Nothing was sent to a cloud whose CA did not match.
    expect((await tokens.list()).find((x) => x.id === good.info.id)?.uses).toBe(0);

    // A token limited to one use joins once.
    const once = await tokens.create({ maxUses: 1 });
    await joinCloud(opts(once.token, 'edge-once'));
    e = await refusedJoin(joinCloud(opts(once.token, 'edge-twice')));
    expect(e.message).toContain(`token ${once.info.id} was already used 1 time(s)`);

    // An unbound token cannot take over an existing node; a token bound to it can rejoin it.
    await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-old' } } });
    e = await refusedJoin(joinCloud(opts(good.token, 'edge-old')));
    expect(e.status).toBe(409);
    expect(e.message).toContain('node edge-old already exists');
    const rejoin = await tokens.create({ node: 'edge-old' });
    const creds = await joinCloud(opts(rejoin.token, 'edge-old'));
    expect(certInfo(creds.certPem).commonName).toBe('edge-old');
  });

  it('bootstrap — failed joins are rate-limited per source address', async () => {
    const limited = new JoinService(pki, tokens, kube, log, createRegistry(), {
      maxFailures: 3,
      windowMs: 60_000,
    });
    const { csrPem } = await createCsr('edge-rl');
    const req = { token: 'aaaaaa.0123456789abcdef', csr: csrPem, node: 'edge-rl' };
    for (let i = 0; i < 3; i++) {
      const r = await limited.join(req, { remoteAddress: '10.9.9.9' });
      expect(r).toMatchObject({ ok: false, status: 401 });
    }
    const blocked = await limited.join(req, { remoteAddress: '10.9.9.9' });
    expect(blocked).toMatchObject({ ok: false, status: 429 });
    if (!blocked.ok) expect(blocked.message).toMatch(/too many failed join attempts from 10\.9\.9\.9/);
    expect(await limited.join(req, { remoteAddress: '10.9.9.10' })).toMatchObject({ ok: false, status: 401 });
  });

  it('bootstrap — a revoked certificate is refused at admission with its reason; a rejoin gets in again', async () => {
    const t = await tokens.create();
    const creds = await joinCloud({
      cloudUrl: url,
      token: t.token,
      caCertHash: pki.pin,
      nodeName: 'edge-rv',
      dir: join(dir, 'edge-rv'),
    });
    const edge = startEdge('edge-rv', creds);
    await edge.link.start();
    await eventually(() => hub.session(nodeName('edge-rv')) !== undefined, 'edge-rv connected');
    const at = await revocations.revokeNode('edge-rv');
    // The live session is closed, and every reconnect is refused with the reason.
    await eventually(
      () =>
        edge.refusals.some((r) =>
          r.includes(
            `certificate of node edge-rv was revoked at ${at.toISOString()}: rejoin with a new token`,
          ),
        ),
      'refusal with the revocation reason',
    );
    expect(hub.session(nodeName('edge-rv'))).toBeUndefined();
    await edge.link.stop();
    // Certificates issued after the revocation are valid (fail-closed within the revocation's second).
    await new Promise((r) => setTimeout(r, 1100));
    const t2 = await tokens.create({ node: 'edge-rv' });
    const fresh = await joinCloud({
      cloudUrl: url,
      token: t2.token,
      caCertHash: pki.pin,
      nodeName: 'edge-rv',
      dir: join(dir, 'edge-rv'),
    });
    await edge.swap(fresh);
    await eventually(() => hub.session(nodeName('edge-rv')) !== undefined, 'edge-rv back after rejoin');

    // One certificate by serial, read from the ConfigMap by another replica's cache.
    const serial = certInfo(fresh.certPem).serial;
    await revocations.revokeSerial(serial, 'edge-rv', 'key leaked');
    const other = new Revocations(new KubeClient(kc, log), log);
    await other.refresh();
    expect(other.check('edge-rv', certInfo(fresh.certPem))).toMatch(
      /^certificate of node edge-rv was revoked at /,
    );
    expect(
      other.check('edge-1', certInfo(readFileSync(join(dir, 'edge-1', 'node.crt'), 'utf8'))),
    ).toBeUndefined();
    await eventually(
      () => hub.session(nodeName('edge-rv')) === undefined,
      'edge-rv closed after serial revocation',
    );
  });

  it('bootstrap — rotation: a short-lived certificate is renewed over the channel and the edge reconnects with it, data intact', async () => {
    // Start from a 6 s certificate, as a join with a short validity would give.
    const edgeDir = join(dir, 'edge-rot');
    mkdirSync(edgeDir, { recursive: true });
    const { csrPem, keyPem } = await createCsr('edge-rot');
    const first = await pki.ca.signClientCsr(csrPem, 'edge-rot', [EDGE_GROUP], { validMs: 6000 });
    writeFileSync(join(edgeDir, 'ca.crt'), pki.caPem);
    writeFileSync(join(edgeDir, 'node.crt'), first);
    writeFileSync(join(edgeDir, 'node.key'), keyPem, { mode: 0o600 });
    const firstSerial = certInfo(first).serial;
    const firstExpiry = certInfo(first).notAfter.getTime();

    const edge = startEdge('edge-rot', { certPem: first, keyPem, caPem: pki.caPem });
    const rotator = new CertRotator(
      { dir: edgeDir, checkMs: 100 },
      { send: (b, id) => edge.link.send(b, id) },
      log,
    );
    edge.setRotator(rotator);
    const rotated: string[] = [];
    rotator.on('rotated', (c) => {
      rotated.push(certInfo(c.certPem).serial);
      void edge.swap(c);
    });
    await edge.link.start();
    await eventually(() => hub.session(nodeName('edge-rot')) !== undefined, 'edge-rot connected');
    await core.createNamespacedPod({ namespace: 'default', body: podManifest('rot-1', 'edge-rot') });
    await eventually(() => edge.store.get(podKey('rot-1')), 'rot-1 on edge-rot');
    expect(rotation.certOf(nodeName('edge-rot'))?.serial).toBe(firstSerial);

    // A CSR for another node's name is refused: the CN comes from the session.
    const { csrPem: foreign } = await createCsr('edge-1');
    const qid = messageId(randomUUID());
    expect(edge.link.send({ kind: 'query', method: 'certRotate', params: { csr: foreign } }, qid)).toBe(true);
    const reply = await eventually(
      () => edge.replies.find((r) => r.kind === 'reply' && r.ref === qid),
      'reply to the foreign CSR',
    );
    expect(reply).toMatchObject({ method: 'error', code: 'CSR_REJECTED' });

    await rotator.start();
    await eventually(() => rotated.length >= 1, 'a rotation', 15_000);
    await eventually(
      () =>
        rotation.certOf(nodeName('edge-rot'))?.serial === rotated[rotated.length - 1] &&
        hub.session(nodeName('edge-rot')),
      'reconnected with the rotated certificate',
    );
    expect(rotated[0]).not.toBe(firstSerial);
    const onDisk = certInfo(readFileSync(join(edgeDir, 'node.crt'), 'utf8'));
    expect(onDisk.commonName).toBe('edge-rot');
    expect(onDisk.organizations).toEqual([EDGE_GROUP]);

    // Past the first certificate's expiry the node is still connected and in sync.
    await eventually(() => Date.now() > firstExpiry + 1000, 'first certificate expired', 15_000);
    await core.createNamespacedPod({ namespace: 'default', body: podManifest('rot-2', 'edge-rot') });
    await eventually(() => edge.store.get(podKey('rot-2')), 'rot-2 on edge-rot after rotation');
    expect(edge.store.get(podKey('rot-1'))).toBeTruthy();
    expect(edge.refusals).toEqual([]);
    expect(hub.session(nodeName('edge-rot'))).toBeDefined();
  });
});
