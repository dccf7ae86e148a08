// pods/ephemeralcontainers (kubectl debug): upstream's strategy and validation rules
// (ValidatePodEphemeralContainersUpdate, dropNonEphemeralContainerUpdates). The messages are
// also diffed against upstream in test/conformance/corpus.ts ('ephemeral containers').
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubectl, pod, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.stop();
});

const PODS = '/api/v1/namespaces/default/pods';
const SMP = { headers: { 'Content-Type': 'application/strategic-merge-patch+json' } };
const IMAGE = 'localhost:5000/tether/shell:1';

const addEphemeral = (name: string, ec: Record<string, unknown>) =>
  api(s, 'PATCH', `${PODS}/${name}/ephemeralcontainers`, { spec: { ephemeralContainers: [ec] } }, SMP);

async function freshPod(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await api(s, 'POST', PODS, pod(name, extra));
  expect(r.status).toBe(201);
}

type Cause = { field: string; reason: string; message: string };
function causes(r: { body: unknown }): Cause[] {
  return (r.body as { details: { causes: Cause[] } }).details.causes;
}

describe('apiserver ephemeral containers', () => {
  it('apiserver ephemeral containers — discovery lists pods/ephemeralcontainers with get, patch, update', async () => {
    const r = await api(s, 'GET', '/api/v1');
    const sub = r.body.resources.find((x: any) => x.name === 'pods/ephemeralcontainers');
    expect(sub).toMatchObject({ kind: 'Pod', namespaced: true });
    expect([...sub.verbs].sort()).toEqual(['get', 'patch', 'update']);
  });

  it('apiserver ephemeral containers — a strategic merge patch adds a defaulted container and bumps the generation', async () => {
    await freshPod('add');
    const r = await addEphemeral('add', {
      name: 'debugger',
      image: IMAGE,
      stdin: true,
      tty: true,
      targetContainerName: 'c',
    });
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('Pod');
    expect(r.body.metadata.generation).toBe(2);
    expect(r.body.spec.ephemeralContainers).toEqual([
      {
        name: 'debugger',
        image: IMAGE,
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        stdin: true,
        tty: true,
        targetContainerName: 'c',
      },
    ]);
    const g = await api(s, 'GET', `${PODS}/add/ephemeralcontainers`);
    expect(g.status).toBe(200);
    expect(g.body.spec.ephemeralContainers[0].name).toBe('debugger');
    // A second one is added next to the first (merge key: name).
    const two = await addEphemeral('add', { name: 'second', image: IMAGE });
    expect(two.status).toBe(200);
    // (Without $setElementOrder the order is the merge's; kubectl debug sends one.)
    expect(two.body.spec.ephemeralContainers.map((c: any) => String(c.name)).sort()).toEqual([
      'debugger',
      'second',
    ]);
  });

  it('apiserver ephemeral containers — names must be unique across containers and the target must be a pod container', async () => {
    await freshPod('names', { initContainers: [{ name: 'init', image: IMAGE }] });
    const dup = await addEphemeral('names', { name: 'init', image: IMAGE });
    expect(dup.status).toBe(422);
    expect(dup.body.message).toBe(
      'Pod "names" is invalid: spec.ephemeralContainers[0].name: Duplicate value: "init"',
    );
    const target = await addEphemeral('names', { name: 'd', image: IMAGE, targetContainerName: 'nope' });
    expect(target.status).toBe(422);
    expect(causes(target)).toEqual([
      {
        reason: 'FieldValueNotFound',
        message: 'Not found: "nope"',
        field: 'spec.ephemeralContainers[0].targetContainerName',
      },
    ]);
    // An init container is a valid target.
    expect(
      (await addEphemeral('names', { name: 'd', image: IMAGE, targetContainerName: 'init' })).status,
    ).toBe(200);
    // …but another ephemeral container is not.
    const eph = await addEphemeral('names', { name: 'e', image: IMAGE, targetContainerName: 'd' });
    expect(eph.status).toBe(422);
    expect(causes(eph)[0]?.field).toMatch(/^spec\.ephemeralContainers\[\d\]\.targetContainerName$/);
  });

  it('apiserver ephemeral containers — ports, resources, probes, lifecycle, subPath and restartPolicy are forbidden', async () => {
    await freshPod('fields', { volumes: [{ name: 'v', emptyDir: {} }] });
    const r = await addEphemeral('fields', {
      name: 'd',
      image: IMAGE,
      ports: [{ containerPort: 80 }],
      resources: { limits: { cpu: '1' } },
      livenessProbe: { exec: { command: ['true'] } },
      startupProbe: { exec: { command: ['true'] } },
      lifecycle: { preStop: { exec: { command: ['true'] } } },
      volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }],
      restartPolicy: 'Always',
    });
    expect(r.status).toBe(422);
    const forbidden = 'Forbidden: cannot be set for an Ephemeral Container';
    expect(causes(r)).toEqual(
      [
        'ports',
        'resources',
        'livenessProbe',
        'startupProbe',
        'lifecycle',
        'volumeMounts[0].subPath',
        'restartPolicy',
      ].map((f) => ({
        reason: 'FieldValueForbidden',
        message: forbidden,
        field: `spec.ephemeralContainers[0].${f}`,
      })),
    );
    const noImage = await addEphemeral('fields', { name: 'd' });
    expect(noImage.status).toBe(422);
    expect(causes(noImage)).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ephemeralContainers[0].image' },
    ]);
    const unknownVolume = await addEphemeral('fields', {
      name: 'd',
      image: IMAGE,
      volumeMounts: [{ name: 'nope', mountPath: '/n' }],
    });
    expect(causes(unknownVolume)[0]?.field).toBe('spec.ephemeralContainers[0].volumeMounts[0].name');
    // Nothing was stored by the refused writes.
    expect((await api(s, 'GET', `${PODS}/fields`)).body.spec.ephemeralContainers).toBeUndefined();
  });

  it('apiserver ephemeral containers — existing ones may not be removed or changed; other changes are dropped', async () => {
    await freshPod('keep');
    const added = await addEphemeral('keep', { name: 'debugger', image: IMAGE });
    expect(added.status).toBe(200);
    const current = added.body;

    const removed = structuredClone(current);
    removed.spec.ephemeralContainers = [];
    const rm = await api(s, 'PUT', `${PODS}/keep/ephemeralcontainers`, removed);
    expect(rm.status).toBe(422);
    expect(rm.body.message).toBe(
      'Pod "keep" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n',
    );

    const changed = structuredClone(current);
    changed.spec.ephemeralContainers[0].image = 'localhost:5000/tether/other:1';
    const ch = await api(s, 'PUT', `${PODS}/keep/ephemeralcontainers`, changed);
    expect(ch.status).toBe(422);
    expect(causes(ch)[0]?.message).toMatch(
      /^Forbidden: existing ephemeral containers "debugger" may not be changed/,
    );

    // Through the subresource only spec.ephemeralContainers is written.
    const other = structuredClone(current);
    other.metadata.labels = { dropped: 'yes' };
    other.spec.containers[0].image = 'localhost:5000/tether/other:1';
    other.spec.ephemeralContainers.push({ name: 'second', image: IMAGE });
    const put = await api(s, 'PUT', `${PODS}/keep/ephemeralcontainers`, other);
    expect(put.status).toBe(200);
    expect(put.body.metadata.labels).toBeUndefined();
    expect(put.body.spec.containers[0].image).toBe(IMAGE);
    expect(put.body.spec.ephemeralContainers.map((c: any) => String(c.name))).toEqual(['debugger', 'second']);

    // A stale resourceVersion is a conflict, as on any update.
    const stale = await api(s, 'PUT', `${PODS}/keep/ephemeralcontainers`, current);
    expect(stale.status).toBe(409);
  });

  it('apiserver ephemeral containers — neither a create nor a main-resource update may set them', async () => {
    const create = await api(
      s,
      'POST',
      PODS,
      pod('direct', { ephemeralContainers: [{ name: 'd', image: IMAGE }] }),
    );
    expect(create.status).toBe(422);
    expect(causes(create)).toContainEqual({
      reason: 'FieldValueForbidden',
      message: 'Forbidden: cannot be set on create',
      field: 'spec.ephemeralContainers',
    });
    await freshPod('main');
    const patch = await api(s, 'PATCH', `${PODS}/main`, {
      spec: { ephemeralContainers: [{ name: 'd', image: IMAGE }] },
    });
    expect(patch.status).toBe(422);
    expect(causes(patch)[0]?.field).toBe('spec');
    // Once added, a main-resource update that keeps them is fine, and so are status writes (the kubelet's).
    expect((await addEphemeral('main', { name: 'd', image: IMAGE })).status).toBe(200);
    const label = await api(s, 'PATCH', `${PODS}/main`, { metadata: { labels: { a: 'b' } } });
    expect(label.status).toBe(200);
    expect(label.body.spec.ephemeralContainers).toHaveLength(1);
    const status = await api(s, 'PATCH', `${PODS}/main/status`, {
      status: {
        ephemeralContainerStatuses: [
          { name: 'd', state: { running: {} }, ready: false, restartCount: 0, image: IMAGE, imageID: '' },
        ],
      },
    });
    expect(status.status).toBe(200);
    expect(status.body.status.ephemeralContainerStatuses[0].name).toBe('d');
  });

  it('apiserver ephemeral containers — static (mirror) pods refuse them; POST and DELETE are 405', async () => {
    const mirror = pod('mirror');
    mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'x' };
    mirror.spec.nodeName = 'edge-1';
    expect((await api(s, 'POST', PODS, mirror)).status).toBe(201);
    const r = await addEphemeral('mirror', { name: 'd', image: IMAGE });
    expect(r.status).toBe(422);
    expect(causes(r)[0]?.message).toBe('Forbidden: static pods do not support ephemeral containers');
    expect((await api(s, 'POST', `${PODS}/mirror/ephemeralcontainers`, {})).status).toBe(405);
    expect((await api(s, 'DELETE', `${PODS}/mirror/ephemeralcontainers`)).status).toBe(405);
    expect((await api(s, 'GET', `${PODS}/nope/ephemeralcontainers`)).status).toBe(404);
  });

  it('apiserver ephemeral containers — kubectl debug adds one with its target', async () => {
    await freshPod('kdebug');
    const r = await kubectl(s, [
      'debug',
      'kdebug',
      '-n',
      'default',
      `--image=${IMAGE}`,
      '--target=c',
      '--container=dbg',
      '--',
      'sh',
      '-c',
      'echo hi',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const g = await api(s, 'GET', `${PODS}/kdebug`);
    expect(g.body.spec.ephemeralContainers).toHaveLength(1);
    expect(g.body.spec.ephemeralContainers[0]).toMatchObject({
      name: 'dbg',
      image: IMAGE,
      command: ['sh', '-c', 'echo hi'],
      targetContainerName: 'c',
    });
  });
});
