import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { err, ok, silentLogger } from '../../../src/common/index.js';
import type { Pod } from '../../../src/edge/cri/index.js';
import { Refs, setUpVolumes, TokenManager, type TokenSource } from '../../../src/edge/pods/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import {
  resourceVersion,
  uid as toUid,
  type Body,
  type JsonObject,
  type MessageId,
  type ObjectKey,
} from '../../../src/protocol/index.js';

let dir: string;
let store: EdgeStore;
let seq = 0;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-projected-'));
  store = new EdgeStore({ path: path.join(dir, 'store.db') });
  store.open();
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

function put(kind: 'ConfigMap' | 'Secret', name: string, data: Record<string, string>, rv: number): void {
  const key: ObjectKey = { group: '', version: 'v1', kind, namespace: 'default', name };
  const object = {
    apiVersion: 'v1',
    kind,
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: String(rv) },
    data:
      kind === 'Secret'
        ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
        : data,
  } as JsonObject;
  store.applySync({
    kind: 'sync',
    op: 'upsert',
    seq: ++seq,
    key,
    uid: toUid(`uid-${name}`),
    resourceVersion: resourceVersion(String(rv)),
    object,
  });
}

/** The volume ServiceAccount admission adds on a real cluster, plus a Secret source. */
function podWithProjected(extra: object[] = []): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'pod-uid-1' },
    spec: {
      serviceAccountName: 'default',
      containers: [{ name: 'c', image: 'x' }],
      volumes: [
        {
          name: 'kube-api-access-abcde',
          projected: {
            defaultMode: 0o644,
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
              ...extra,
            ],
          },
        },
      ],
    },
  } as unknown as Pod;
}

const fields = { podIP: '10.0.0.9', hostIP: '10.0.0.1', nodeName: 'edge-1' };
const fixedToken = (t: string): TokenSource => ({ token: () => ok(t) });

describe('edge/pods projected volumes', () => {
  it('edge/pods — a kube-api-access volume is written atomically: token, ca.crt, namespace, secret items with modes', async () => {
    put('ConfigMap', 'kube-root-ca.crt', { 'ca.crt': 'CA-PEM' }, 1);
    put('Secret', 's', { user: 'alice', pass: 'x' }, 2);
    const pod = podWithProjected([
      { secret: { name: 's', items: [{ key: 'user', path: 'creds/user', mode: 0o400 }] } },
    ]);
    const root = path.join(dir, 'pods');
    const paths = await setUpVolumes(pod, root, new Refs(store), fields, 0, fixedToken('tok-1'));
    const vol = paths['kube-api-access-abcde'] ?? '';
    expect(vol).toBe(
      path.join(root, 'pod-uid-1', 'volumes', 'kubernetes.io~projected', 'kube-api-access-abcde'),
    );
    expect(await readFile(path.join(vol, 'token'), 'utf8')).toBe('tok-1');
    expect(await readFile(path.join(vol, 'ca.crt'), 'utf8')).toBe('CA-PEM');
    expect(await readFile(path.join(vol, 'namespace'), 'utf8')).toBe('default');
    expect(await readFile(path.join(vol, 'creds/user'), 'utf8')).toBe('alice');
    expect((await stat(path.join(vol, 'creds/user'))).mode & 0o777).toBe(0o400);
    expect((await stat(path.join(vol, 'token'))).mode & 0o777).toBe(0o644);
    // AtomicWriter layout: user-visible names are symlinks through ..data.
    expect((await lstat(path.join(vol, 'token'))).isSymbolicLink()).toBe(true);
    const before = await readlink(path.join(vol, '..data'));

    // A refreshed token and a changed ConfigMap are swapped in as one new payload.
    put('ConfigMap', 'kube-root-ca.crt', { 'ca.crt': 'CA-PEM-2' }, 3);
    await setUpVolumes(pod, root, new Refs(store), fields, 0, fixedToken('tok-2'));
    expect(await readlink(path.join(vol, '..data'))).not.toBe(before);
    expect(await readFile(path.join(vol, 'token'), 'utf8')).toBe('tok-2');
    expect(await readFile(path.join(vol, 'ca.crt'), 'utf8')).toBe('CA-PEM-2');
  });

  it('edge/pods — a missing token, ConfigMap or key fails the mount with kubelet wording; optional sources are skipped', async () => {
    const root = path.join(dir, 'pods');
    const pod = podWithProjected();
    await expect(setUpVolumes(pod, root, new Refs(store), fields, 0, fixedToken('t'))).rejects.toThrow(
      'MountVolume.SetUp failed for volume "kube-api-access-abcde" : configmap "kube-root-ca.crt" not found',
    );
    put('ConfigMap', 'kube-root-ca.crt', { 'ca.crt': 'CA' }, 1);
    const none: TokenSource = { token: () => err('NOT_FOUND: no TokenRequest here') };
    await expect(setUpVolumes(pod, root, new Refs(store), fields, 0, none)).rejects.toThrow(
      /failed to fetch token: NOT_FOUND: no TokenRequest here/,
    );
    await expect(setUpVolumes(pod, root, new Refs(store), fields, 0)).rejects.toThrow(
      /failed to fetch token/,
    );
    const opt = podWithProjected([{ secret: { name: 'absent', optional: true } }]);
    const paths = await setUpVolumes(opt, root, new Refs(store), fields, 0, fixedToken('t'));
    expect(await readFile(path.join(paths['kube-api-access-abcde'] ?? '', 'ca.crt'), 'utf8')).toBe('CA');
  });

  it('edge/pods — the token manager asks the cloud once, serves the answer, keeps it across restarts and refreshes at 80 % of the lifetime', () => {
    const sent: { body: Body; id: MessageId | undefined }[] = [];
    let online = true;
    const link = {
      send: (body: Body, id?: MessageId): boolean => {
        if (online) sent.push({ body, id });
        return online;
      },
    };
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = (): number => now;
    const tm = new TokenManager(store, link, silentLogger(), { now: clock });
    const pod = podWithProjected();
    const want = { expirationSeconds: 3607 };
    const first = tm.token(pod, want);
    expect(first.ok).toBe(false);
    expect(tm.token(pod, want).ok).toBe(false);
    expect(sent).toHaveLength(1); // one request in flight, not one per sync
    const q = sent[0];
    expect(q?.body).toMatchObject({
      kind: 'query',
      method: 'serviceAccountToken',
      params: {
        namespace: 'default',
        pod: 'p',
        podUid: 'pod-uid-1',
        serviceAccountName: 'default',
        expirationSeconds: 3607,
      },
    });
    const woken: string[] = [];
    tm.onToken((u) => woken.push(u));
    const expiry = new Date(now + 3600_000).toISOString();
    expect(
      tm.message({
        kind: 'reply',
        id: 'r1' as MessageId,
        ref: q?.id as MessageId,
        method: 'serviceAccountToken',
        result: { token: 'jwt-1', expirationTimestamp: expiry },
      } as never),
    ).toBe(true);
    expect(woken).toEqual(['pod-uid-1']);
    expect(tm.token(pod, want)).toEqual({ ok: true, value: 'jwt-1' });

    // A restarted agent serves the stored token without asking.
    const again = new TokenManager(store, link, silentLogger(), { now: clock });
    expect(again.token(pod, want)).toEqual({ ok: true, value: 'jwt-1' });
    expect(sent).toHaveLength(1);

    // Past 80 % while offline: the held token is still served; back online, a refresh is asked.
    now += 0.85 * 3600_000;
    online = false;
    expect(again.token(pod, want)).toEqual({ ok: true, value: 'jwt-1' });
    online = true;
    expect(again.token(pod, want)).toEqual({ ok: true, value: 'jwt-1' });
    expect(sent).toHaveLength(2);

    // A refusal is what the FailedMount event shows; a gone pod's tokens are dropped.
    const other = { ...pod, metadata: { ...pod.metadata, uid: 'pod-uid-2' } } as Pod;
    again.token(other, want);
    const q3 = sent[2];
    again.message({
      kind: 'reply',
      id: 'r2' as MessageId,
      ref: q3?.id as MessageId,
      method: 'error',
      code: 'FORBIDDEN',
      message: 'pod default/p is not bound to node edge-1',
    } as never);
    expect(again.token(other, want)).toEqual({
      ok: false,
      error: 'FORBIDDEN: pod default/p is not bound to node edge-1',
    });
    // A refused request is not repeated at every pod sync, only after the retry delay.
    expect(sent).toHaveLength(3);
    now += 11_000;
    again.token(other, want);
    expect(sent).toHaveLength(4);
    again.forget('pod-uid-1');
    expect(new TokenManager(store, link, silentLogger(), { now: clock }).token(pod, want).ok).toBe(false);
  });
});
