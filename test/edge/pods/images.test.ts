import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import type { CriRuntime } from '../../../src/edge/cri/index.js';
import { PodManager } from '../../../src/edge/pods/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import { OwnContainerd } from '../../support/containerd.js';
import { freePort } from '../../support/procs.js';
import { removeCgroupTree } from '../cri/helpers.js';
import {
  SHELL_IMAGE,
  disposeEnv,
  makePod,
  outboxEvents,
  newEnv,
  newRuntime,
  putPod,
  putSecret,
  removeRunSandboxes,
  testConfig,
  waitFor,
  waitStatus,
  type Env,
} from './helpers.js';

const run = promisify(execFile);
const PAUSE_IMAGE = 'localhost:5000/tether/pause:1';
/** An image no pod uses (no layers; its own config, so its own id), pushed by this test. */
const GC_IMAGE = 'localhost:5000/tether/gc-test:1';
// bcrypt (cost 4, docker-registry's htpasswd needs bcrypt) of "s3cret" for user "tether".
const HTPASSWD = 'tether:$2b$04$5r/rF4VxpoIh8e2opEJdieYHFkFXJfpgWgrh5kPQLwzBckMS9KeFC\n';

let dir: string;
let registry: ChildProcess | undefined;
let privateImage = '';

/** A second docker-registry with htpasswd basic auth, on a free port of 127.0.0.1 (localhost = plain HTTP for containerd). */
async function startAuthRegistry(): Promise<string> {
  const port = await freePort();
  await writeFile(path.join(dir, 'htpasswd'), HTPASSWD);
  await writeFile(
    path.join(dir, 'registry.yml'),
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${path.join(dir, 'registry')}}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      `auth: {htpasswd: {realm: tether-test, path: ${path.join(dir, 'htpasswd')}}}`,
      '',
    ].join('\n'),
  );
  registry = spawn('docker-registry', ['serve', path.join(dir, 'registry.yml')], { stdio: 'ignore' });
  await waitFor('auth registry answers', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    return r?.status === 401 ? true : undefined;
  });
  const image = `localhost:${port}/tether/private:1`;
  await run('skopeo', [
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--dest-creds',
    'tether:s3cret',
    `docker://${PAUSE_IMAGE}`,
    `docker://${image}`,
  ]);
  return image;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tether-images-'));
  privateImage = await startAuthRegistry();
}, 120_000);

afterAll(async () => {
  if (registry !== undefined && registry.exitCode === null) {
    const exited = new Promise((r) => registry?.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('edge/pods images (real containerd)', () => {
  it('edge/pods — imagePullSecrets against an authenticating registry: without the secret ErrImagePull with the 401, with it Running', async () => {
    const env: Env = await newEnv('auth');
    try {
      await env.manager.start();
      const spec = (secrets: boolean): Parameters<typeof makePod>[2] => ({
        ...(secrets ? { imagePullSecrets: [{ name: 'regcred' }] } : {}),
        containers: [{ name: 'main', image: privateImage, imagePullPolicy: 'Always' }],
      });
      putPod(env, makePod(env, 'nocreds', spec(false)));
      // ErrImagePull, then ImagePullBackOff while the back-off runs (the outbox keeps the latest).
      const denied = await waitStatus(
        env,
        'nocreds',
        (x) => x.containerStatuses?.[0]?.state['waiting']?.['reason'] === 'ImagePullBackOff',
        'ImagePullBackOff',
      );
      expect(String(denied.containerStatuses?.[0]?.state['waiting']?.['message'])).toMatch(
        new RegExp(`^Failed to pull image "${privateImage}": .*401 Unauthorized`),
      );
      const failed = outboxEvents(env, 'nocreds').filter((e) => e.reason === 'Failed');
      expect(failed[0]?.message).toMatch(/401 Unauthorized/);

      const host = privateImage.split('/')[0] ?? '';
      putSecret(
        env,
        'regcred',
        {
          '.dockerconfigjson': JSON.stringify({
            auths: {
              [host]: {
                username: 'tether',
                password: 's3cret',
                auth: Buffer.from('tether:s3cret').toString('base64'),
              },
            },
          }),
        },
        'kubernetes.io/dockerconfigjson',
      );
      putPod(env, makePod(env, 'withcreds', spec(true)));
      const s = await waitStatus(env, 'withcreds', (x) => x.phase === 'Running', 'Running');
      expect(s.containerStatuses?.[0]?.imageID).toMatch(/\/tether\/private@sha256:[0-9a-f]{64}$/);
      // The pod without the secret still cannot pull (policy Always asks the registry each time).
      expect(
        (await waitStatus(env, 'nocreds', (x) => x.phase === 'Pending', 'still Pending'))
          .containerStatuses?.[0]?.state['waiting'],
      ).toBeDefined();
    } finally {
      await disposeEnv(env);
      await env.rt.removeImage(privateImage).catch(() => undefined);
    }
  });

  it('edge/pods — image GC above the high threshold removes unused images, keeps in-use and sandbox images, honours the minimum age', async () => {
    // An image of its own for GC to find (umoci: empty rootfs, a config label makes its id unique).
    const layout = path.join(dir, 'layout');
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:gc`]);
    await run('umoci', ['config', '--image', `${layout}:gc`, '--config.label', 'tether.dev/gc-test=1']);
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:gc`, `docker://${GC_IMAGE}`]);

    // A containerd of the test's own: GC with a 1 % threshold must not touch the shared one.
    const own = new OwnContainerd(path.join(dir, 'containerd'));
    await run('mkdir', ['-p', path.join(dir, 'containerd')]);
    await own.start();
    const rt: CriRuntime = newRuntime(own.socket);
    const store = new EdgeStore({ path: path.join(dir, 'edge.db') });
    const runId = Math.random().toString(16).slice(2, 10);
    const nodeName = `edge-gc-${runId}`;
    const gcConfig = {
      ...testConfig(runId, path.join(dir, 'gc'), nodeName),
      imageGcHighThresholdPercent: 1,
      imageGcLowThresholdPercent: 0,
      imageMinimumGcAgeMs: 0,
    };
    const deps = { store, runtime: rt, logger: silentLogger(), registry: createRegistry() };
    const manager = new PodManager(gcConfig, deps);
    try {
      store.open();
      await rt.start();
      await waitFor('CRI answers', async () =>
        (await rt.version().catch(() => undefined)) ? true : undefined,
      );
      await rt.pullImage(SHELL_IMAGE);
      await rt.pullImage(GC_IMAGE);
      await manager.start();
      const env = { run: runId, dir, nodeName, store, rt, manager, seq: 0 } satisfies Env;
      putPod(
        env,
        makePod(env, 'user', {
          containers: [{ name: 'main', image: SHELL_IMAGE, command: ['sleep', '3600'] }],
        }),
      );
      await waitStatus(env, 'user', (x) => x.phase === 'Running', 'Running');
      const ids = async (): Promise<string[]> => (await rt.listImages()).flatMap((i) => i.repoTags);
      expect(await ids()).toEqual(expect.arrayContaining([SHELL_IMAGE, GC_IMAGE, PAUSE_IMAGE]));

      // kubelet imageMinimumGCAge: an image first seen just now is not old enough to go.
      const young = new PodManager(
        { ...gcConfig, imageMinimumGcAgeMs: 3_600_000 },
        { ...deps, registry: createRegistry() },
      );
      expect((await young.imageGc()).removed).toEqual([]);

      const gcId = (await rt.imageStatus(GC_IMAGE))?.id;
      const { removed } = await manager.imageGc();
      expect(removed).toEqual([gcId]);
      const left = await ids();
      expect(left).not.toContain(GC_IMAGE);
      expect(left).toContain(SHELL_IMAGE); // used by the running container
      expect(left).toContain(PAUSE_IMAGE); // the runtime's sandbox image
    } finally {
      await manager.stop();
      await removeRunSandboxes(rt, runId).catch(() => undefined);
      await rt.stop();
      await own.kill('SIGTERM');
      store.close();
      await removeCgroupTree(`/tether-test-pods-${runId}`);
    }
  });
});
