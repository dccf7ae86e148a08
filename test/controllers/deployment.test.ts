/**
 * Deployments and ReplicaSets against the real embedded API server, driven by the real kubectl:
 * create, scale, set image, rollout status/history/undo/pause/resume/restart, Recreate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { addNode, kc, kubectl, listPods, startCluster, until, type Cluster } from './support.js';

let c: Cluster;
const ns = 'deploy';

beforeAll(async () => {
  c = await startCluster();
  await addNode(c.kube, 'n1', {}, c.kubelet);
  await addNode(c.kube, 'n2', {}, c.kubelet);
  await kc(c.server, ['create', 'namespace', ns]);
});
afterAll(async () => {
  await c.stop();
});

async function deployment(name: string): Promise<V1Deployment> {
  return (await c.kube.request('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`)) as V1Deployment;
}
async function replicaSets(app: string): Promise<V1ReplicaSet[]> {
  const l = (await c.kube.request(
    'GET',
    `/apis/apps/v1/namespaces/${ns}/replicasets?labelSelector=app%3D${app}`,
  )) as {
    items: V1ReplicaSet[];
  };
  return l.items;
}
async function activePods(app: string): Promise<number> {
  return (await listPods(c.kube, ns, `app=${app}`)).filter((p) => p.metadata?.deletionTimestamp == null)
    .length;
}
const images = async (app: string): Promise<string[]> =>
  (await listPods(c.kube, ns, `app=${app}`))
    .filter((p) => p.metadata?.deletionTimestamp == null)
    .map((p) => p.spec?.containers[0]?.image ?? '')
    .sort();

describe('controllers/deployment', () => {
  it('deployment — kubectl create deployment rolls out, pods bound and ready, status like upstream', async () => {
    await kc(c.server, [
      '-n',
      ns,
      'create',
      'deployment',
      'web',
      '--image=localhost:5000/tether/shell:1',
      '--replicas=3',
    ]);
    const out = await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(out).toContain('deployment "web" successfully rolled out');
    const d = await deployment('web');
    expect(d.status).toMatchObject({
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    const conds = Object.fromEntries((d.status?.conditions ?? []).map((x) => [x.type, x]));
    expect(conds['Available']).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(conds['Progressing']).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    const rss = await replicaSets('web');
    expect(rss).toHaveLength(1);
    const rs = rss[0] as V1ReplicaSet;
    const hash = rs.metadata?.labels?.['pod-template-hash'] ?? '';
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.spec?.selector.matchLabels?.['pod-template-hash']).toBe(hash);
    expect(rs.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    const pods = await listPods(c.kube, ns, 'app=web');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.spec?.nodeName).toMatch(/^n[12]$/);
      expect(p.metadata?.labels?.['pod-template-hash']).toBe(hash);
      expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: rs.metadata?.name });
    }
    const wide = await kc(c.server, ['-n', ns, 'get', 'deploy', 'web']);
    expect(wide).toMatch(/web\s+3\/3\s+3\s+3/);
  });

  it('deployment — kubectl scale up and down keeps exactly the asked number of pods', async () => {
    await kc(c.server, ['-n', ns, 'scale', 'deployment/web', '--replicas=5']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(await until('5 pods', async () => ((await activePods('web')) === 5 ? true : undefined))).toBe(
      true,
    );
    await kc(c.server, ['-n', ns, 'scale', 'deployment/web', '--replicas=2']);
    await until('2 pods', async () => ((await activePods('web')) === 2 ? true : undefined));
    await until('status 2', async () =>
      (await deployment('web')).status?.availableReplicas === 2 ? true : undefined,
    );
    expect((await replicaSets('web')).length).toBe(1);
    // Still two after a while: nothing creates extra pods.
    await new Promise((r) => setTimeout(r, 500));
    expect(await activePods('web')).toBe(2);
  });

  it('deployment — set image rolls out a new ReplicaSet; history and undo work with the real kubectl', async () => {
    await kc(c.server, ['-n', ns, 'scale', 'deployment/web', '--replicas=4']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    await kc(c.server, ['-n', ns, 'set', 'image', 'deployment/web', 'shell=localhost:5000/tether/shell:2']);
    await kc(c.server, [
      '-n',
      ns,
      'annotate',
      'deployment/web',
      'kubernetes.io/change-cause=to v2',
      '--overwrite',
    ]);
    const st = await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    expect(st).toContain('successfully rolled out');
    expect(await images('web')).toEqual(Array(4).fill('localhost:5000/tether/shell:2'));
    const rss = await replicaSets('web');
    expect(rss).toHaveLength(2);
    const byRev = Object.fromEntries(
      rss.map((r) => [r.metadata?.annotations?.['deployment.kubernetes.io/revision'], r]),
    );
    expect(byRev['1']?.spec?.replicas).toBe(0);
    expect(byRev['2']?.spec?.replicas).toBe(4);
    const hist = await kc(c.server, ['-n', ns, 'rollout', 'history', 'deployment/web']);
    expect(hist).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(hist).toMatch(/\n1\s+<none>/);
    expect(hist).toMatch(/\n2\s+to v2/);
    const rev1 = await kc(c.server, ['-n', ns, 'rollout', 'history', 'deployment/web', '--revision=1']);
    expect(rev1).toContain('localhost:5000/tether/shell:1');

    const undo = await kc(c.server, ['-n', ns, 'rollout', 'undo', 'deployment/web']);
    expect(undo).toContain('rolled back');
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=30s']);
    await until('images back to v1', async () => {
      const im = await images('web');
      return im.length === 4 && im.every((i) => i.endsWith('shell:1')) ? true : undefined;
    });
    // The old ReplicaSet is reused and becomes revision 3 (revision 1 is gone from history).
    const after = await replicaSets('web');
    expect(after).toHaveLength(2);
    const v1 = after.find((r) => r.spec?.template?.spec?.containers[0]?.image?.endsWith('shell:1'));
    expect(v1?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(v1?.metadata?.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect((await deployment('web')).metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const hist2 = await kc(c.server, ['-n', ns, 'rollout', 'history', 'deployment/web']);
    expect(hist2).toMatch(/\n2\s+/);
    expect(hist2).toMatch(/\n3\s+/);
    expect(hist2).not.toMatch(/\n1\s+/);
  });

  it('deployment — rolling update respects maxSurge/maxUnavailable at every step', async () => {
    await kc(c.server, [
      '-n',
      ns,
      'create',
      'deployment',
      'roll',
      '--image=localhost:5000/tether/shell:1',
      '--replicas=4',
    ]);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/roll', '--timeout=30s']);
    // maxSurge 1, maxUnavailable 0: never more than 5 pods, never fewer than 4 ready.
    await kc(c.server, [
      '-n',
      ns,
      'patch',
      'deployment/roll',
      '--type=merge',
      '-p',
      '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}',
    ]);
    let maxSeen = 0;
    let minReady = 99;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = (await listPods(c.kube, ns, 'app=roll')).filter(
          (p) => p.metadata?.deletionTimestamp == null,
        );
        maxSeen = Math.max(maxSeen, pods.length);
        minReady = Math.min(
          minReady,
          pods.filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
            .length,
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await kc(c.server, ['-n', ns, 'set', 'image', 'deployment/roll', 'shell=localhost:5000/tether/shell:2']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/roll', '--timeout=30s']);
    sampling = false;
    await sampler;
    expect(maxSeen).toBeLessThanOrEqual(5);
    expect(minReady).toBeGreaterThanOrEqual(3); // a pod just created counts as not ready for a moment
    expect(await images('roll')).toEqual(Array(4).fill('localhost:5000/tether/shell:2'));
  });

  it('deployment — pause stops a rollout, resume finishes it; restart makes a new revision', async () => {
    await kc(c.server, ['-n', ns, 'rollout', 'pause', 'deployment/roll']);
    await kc(c.server, ['-n', ns, 'set', 'image', 'deployment/roll', 'shell=localhost:5000/tether/shell:3']);
    await until('paused condition', async () =>
      (await deployment('roll')).status?.conditions?.some((x) => x.reason === 'DeploymentPaused') === true
        ? true
        : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await images('roll')).toEqual(Array(4).fill('localhost:5000/tether/shell:2'));
    const undoPaused = await kubectl(c.server, ['-n', ns, 'rollout', 'undo', 'deployment/roll']);
    expect(undoPaused.code).not.toBe(0);
    expect(undoPaused.stderr).toContain('paused');
    await kc(c.server, ['-n', ns, 'rollout', 'resume', 'deployment/roll']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/roll', '--timeout=30s']);
    expect(await images('roll')).toEqual(Array(4).fill('localhost:5000/tether/shell:3'));
    const before = (await deployment('roll')).metadata?.annotations?.['deployment.kubernetes.io/revision'];
    await kc(c.server, ['-n', ns, 'rollout', 'restart', 'deployment/roll']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/roll', '--timeout=30s']);
    const after = (await deployment('roll')).metadata?.annotations?.['deployment.kubernetes.io/revision'];
    expect(Number(after)).toBe(Number(before) + 1);
    const pods = await listPods(c.kube, ns, 'app=roll');
    expect(pods.filter((p) => p.metadata?.deletionTimestamp == null)).toHaveLength(4);
  });

  it('deployment — Recreate kills every old pod before the first new one exists', async () => {
    await c.kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'rec' },
        spec: {
          replicas: 3,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: { app: 'rec' } },
          template: {
            metadata: { labels: { app: 'rec' } },
            spec: { containers: [{ name: 'shell', image: 'localhost:5000/tether/shell:1' }] },
          },
        },
      },
    });
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/rec', '--timeout=30s']);
    let mixed = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const im = new Set((await listPods(c.kube, ns, 'app=rec')).map((p) => p.spec?.containers[0]?.image));
        if (im.size > 1) mixed = true;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await kc(c.server, ['-n', ns, 'set', 'image', 'deployment/rec', 'shell=localhost:5000/tether/shell:2']);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/rec', '--timeout=30s']);
    sampling = false;
    await sampler;
    expect(mixed).toBe(false);
    expect(await images('rec')).toEqual(Array(3).fill('localhost:5000/tether/shell:2'));
  });

  it('deployment — progressDeadlineSeconds: a stuck rollout reports ProgressDeadlineExceeded and rollout status fails', async () => {
    c.kubelet.holdReady = (p) => p.spec?.containers[0]?.image === 'localhost:5000/tether/shell:stuck';
    await kc(c.server, [
      '-n',
      ns,
      'create',
      'deployment',
      'stuck',
      '--image=localhost:5000/tether/shell:1',
      '--replicas=2',
    ]);
    await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/stuck', '--timeout=30s']);
    await kc(c.server, [
      '-n',
      ns,
      'patch',
      'deployment/stuck',
      '--type=merge',
      '-p',
      '{"spec":{"progressDeadlineSeconds":2}}',
    ]);
    await kc(c.server, [
      '-n',
      ns,
      'set',
      'image',
      'deployment/stuck',
      'shell=localhost:5000/tether/shell:stuck',
    ]);
    const cond = await until('ProgressDeadlineExceeded', async () =>
      (await deployment('stuck')).status?.conditions?.find((x) => x.reason === 'ProgressDeadlineExceeded'),
    );
    expect(cond).toMatchObject({ type: 'Progressing', status: 'False' });
    expect(cond.message).toMatch(/^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    const st = await kubectl(c.server, ['-n', ns, 'rollout', 'status', 'deployment/stuck', '--timeout=10s']);
    expect(st.code).not.toBe(0);
    expect(st.stderr).toContain('exceeded its progress deadline');
    c.kubelet.holdReady = () => false;
  });

  it('deployment — revisionHistoryLimit prunes the oldest scaled-down ReplicaSets', async () => {
    await kc(c.server, [
      '-n',
      ns,
      'create',
      'deployment',
      'hist',
      '--image=localhost:5000/tether/shell:0',
      '--replicas=1',
    ]);
    await kc(c.server, [
      '-n',
      ns,
      'patch',
      'deployment/hist',
      '--type=merge',
      '-p',
      '{"spec":{"revisionHistoryLimit":1}}',
    ]);
    for (const v of ['1', '2', '3']) {
      await kc(c.server, [
        '-n',
        ns,
        'set',
        'image',
        'deployment/hist',
        `shell=localhost:5000/tether/shell:${v}`,
      ]);
      await kc(c.server, ['-n', ns, 'rollout', 'status', 'deployment/hist', '--timeout=30s']);
    }
    const rss = await until('history pruned', async () => {
      const l = await replicaSets('hist');
      return l.length === 2 ? l : undefined;
    });
    const revs = rss.map((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort();
    expect(revs).toEqual(['3', '4']);
  });
  it('deployment — kubectl 1.27 and 1.33 roll out, undo and list history alike', async () => {
    for (const version of ['1.27', '1.33'] as const) {
      const n = `v${version.replace('.', '')}`;
      const args = (...a: string[]): string[] => ['-n', ns, ...a];
      await kc(
        c.server,
        args('create', 'deployment', n, '--image=localhost:5000/tether/shell:1', '--replicas=2'),
        { version },
      );
      await kc(c.server, args('rollout', 'status', `deployment/${n}`, '--timeout=30s'), { version });
      await kc(c.server, args('set', 'image', `deployment/${n}`, 'shell=localhost:5000/tether/shell:2'), {
        version,
      });
      await kc(c.server, args('rollout', 'status', `deployment/${n}`, '--timeout=30s'), { version });
      expect(await kc(c.server, args('rollout', 'undo', `deployment/${n}`), { version })).toContain(
        'rolled back',
      );
      const st = await kc(c.server, args('rollout', 'status', `deployment/${n}`, '--timeout=30s'), {
        version,
      });
      expect(st).toContain('successfully rolled out');
      const hist = await kc(c.server, args('rollout', 'history', `deployment/${n}`), { version });
      expect(hist).toMatch(/\n2\s+<none>\s*\n3\s+<none>/);
    }
  });
});
