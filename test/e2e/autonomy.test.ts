import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneControllers } from '../../src/controllers/index.js';
import type { ContainerId, CriRuntime } from '../../src/edge/cri/index.js';
import { nodeName } from '../../src/protocol/index.js';
import { removeEdgeProcess } from '../edge/node/edge-process.js';
import { CRI_SOCKET, SHELL_IMAGE, TEST_RUN_LABEL, newRuntime } from '../edge/pods/helpers.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { kubectl } from '../support/controlplane.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { startControllers, startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-auto';
const NS = 'default';

const pod = (name: string, extra: { volumes?: object[]; mounts?: object[] } = {}): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: {
    nodeName: NODE,
    // upstream's ServiceAccount admission would add a projected kube-api-access volume, which
    // src/edge/pods does not mount yet (CreateContainerConfigError); not what this test is about
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'c',
        image: SHELL_IMAGE,
        command: ['sleep', '100000'],
        ...(extra.mounts === undefined ? {} : { volumeMounts: extra.mounts }),
      },
    ],
    ...(extra.volumes === undefined ? {} : { volumes: extra.volumes }),
  },
});

/**
 * Issue 6 (Done when: "Offline reboot test: cloud unreachable, edge process SIGKILLed and
 * restarted: pods keep or regain Running without the cloud, and nothing is lost when the link
 * returns") and DESIGN §3 autonomy: a real edge in its own network namespace running pods on
 * the real containerd; its link cut, the agent SIGKILLed, its pods' sandboxes stopped as a host
 * reboot would, the agent started again with no cloud; meanwhile the cloud changes a
 * ConfigMap, deletes two pods (gracefully and by force) and binds a new one. When the link
 * returns the edge converges: changes applied, deleted pods removed for good, statuses current.
 */
describe('edge autonomy: offline reboot', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let rt: CriRuntime;
  let controllers: ControlPlaneControllers | undefined;

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
    // the embedded API server runs no controllers; the node lifecycle one marks the silent edge
    if (h.cp.kind === 'embedded')
      controllers = await startControllers(h, ['scheduler', 'replicaset', 'deployment', 'nodelifecycle'], 4);
  });
  afterAll(async () => {
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    host.remove();
    await controllers?.stop();
    await h.stop();
  });

  it(
    'autonomy — offline SIGKILL + reboot: pods regain Running without the cloud; on reconnect a ConfigMap edit is applied, pods deleted meanwhile are removed and stay gone, a new pod runs, statuses are current',
    { timeout: 420_000 },
    async () => {
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
      await h.core.createNamespacedConfigMap({
        namespace: NS,
        body: { metadata: { name: 'app-cfg' }, data: { greeting: 'v1' } },
      });
      const cmVolume = {
        volumes: [{ name: 'cfg', configMap: { name: 'app-cfg' } }],
        mounts: [{ name: 'cfg', mountPath: '/cfg' }],
      };
      for (const p of [pod('keeper'), pod('reader', cmVolume), pod('doomed'), pod('forced')])
        await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(p) });
      const template = pod('web') as { spec: object };
      await kubectl(h.cp, ['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web', namespace: NS },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: {
                ...template.spec,
                nodeName: undefined,
                nodeSelector: { 'kubernetes.io/hostname': NODE },
              },
            },
          },
        }),
      });

      edge = await startNetnsEdge(h, cloud, host, NODE, { criSocket: CRI_SOCKET, api: true });
      const e = edge;
      const fail = (what: string) => (err: unknown) => {
        throw new Error(`${what}: ${String(err)}\nedge output:\n${e.proc.output()}`);
      };
      const cloudPod = (name: string): Promise<V1Pod | undefined> =>
        h.core.readNamespacedPod({ name, namespace: NS }).catch(() => undefined);
      /** The pod's container running in containerd, if any. */
      const runningIn = async (uid: string): Promise<ContainerId | undefined> =>
        (await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': uid } })).find(
          (c) => c.state === 'running',
        )?.id;
      /** Running in the cloud, and the container the cloud names is the one running in containerd. */
      const currentAndRunning = async (name: string): Promise<V1Pod | false> => {
        const p = await cloudPod(name);
        const id = p?.status?.containerStatuses?.[0]?.containerID?.replace('containerd://', '');
        if (p?.status?.phase !== 'Running' || id === undefined) return false;
        return (await runningIn(p.metadata?.uid ?? '')) === id ? p : false;
      };
      const readGreeting = async (uid: string): Promise<string | undefined> => {
        const id = await runningIn(uid);
        if (id === undefined) return undefined;
        const r = await rt.execSync(id, ['cat', '/cfg/greeting'], 5);
        return r.exitCode === 0 ? r.stdout.toString() : undefined;
      };

      const before = new Map<string, V1Pod>();
      for (const name of ['keeper', 'reader', 'doomed', 'forced'])
        before.set(
          name,
          await eventually(() => currentAndRunning(name), `${name} Running`, 120_000).catch(
            async (err: unknown) => fail(`${name}: ${JSON.stringify((await cloudPod(name))?.status)}`)(err),
          ),
        );
      const uid = (name: string): string => before.get(name)?.metadata?.uid ?? '';
      expect(await readGreeting(uid('reader'))).toBe('v1');
      /** The Deployment's pods that run on the edge, current in the cloud. */
      const webRunning = async (): Promise<V1Pod[]> => {
        const pods = (await h.core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items;
        const ok = await Promise.all(
          pods.map(
            async (p) =>
              p.metadata?.deletionTimestamp == null && (await currentAndRunning(p.metadata?.name ?? '')),
          ),
        );
        return pods.filter((_, i) => ok[i] !== false);
      };
      await eventually(
        async () => (await webRunning()).length === 1,
        'the Deployment pod Running',
        120_000,
      ).catch(fail('web'));
      const events = async (): Promise<string[]> =>
        (
          await h.core.listNamespacedEvent({
            namespace: NS,
            fieldSelector: `involvedObject.kind=Node,involvedObject.name=${NODE}`,
          })
        ).items
          .filter((ev) => /\bshutdown=02\b/.test(ev.message ?? ''))
          .map((ev) => ev.metadata.name ?? '');
      expect(await events()).toEqual([]);

      // ── offline: cut, SIGKILL, "reboot" (every sandbox of the run stopped), restart ──────────
      host.cut();
      await eventually(
        () => cloud.hub.session(nodeName(NODE)) === undefined,
        'the cloud sees the cut',
        15_000,
      );
      // 1. the agent alone dies and comes back offline: it adopts the running containers
      const running = new Map<string, ContainerId | undefined>();
      for (const sb of await rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: e.run } }))
        running.set(sb.metadata.uid, await runningIn(sb.metadata.uid));
      expect(running.size).toBe(5);
      const endpointFile = join(e.dataDir, 'api.json');
      const startedAt = statSync(endpointFile).mtimeMs;
      await e.proc.kill('SIGKILL');
      e.restart();
      // a new agent writes its local API endpoint once its components (pods included) started
      await eventually(
        () => statSync(endpointFile).mtimeMs > startedAt,
        'the agent restarted offline',
        120_000,
      ).catch(fail('restart'));
      await new Promise((r) => setTimeout(r, 3_000)); // several reconcile rounds (500 ms)
      for (const [u, id] of running) expect(await runningIn(u)).toBe(id);

      // 2. the host "reboots" offline: agent killed, every sandbox of the run stopped
      await e.proc.kill('SIGKILL');
      const sandboxes = await rt.listPodSandbox({ labels: { [TEST_RUN_LABEL]: e.run } });
      // keeper, reader, doomed, forced and the Deployment's pod
      expect(sandboxes.length).toBe(5);
      const uids = sandboxes.map((sb) => sb.metadata.uid);
      for (const sb of sandboxes) await rt.stopPodSandbox(sb.id);
      for (const u of uids) expect(await runningIn(u)).toBeUndefined();

      e.restart();
      // every pod regains a running container from the store alone, the cloud still unreachable
      for (const u of uids)
        await eventually(
          async () => (await runningIn(u)) !== undefined,
          `pod ${u} running again offline`,
          120_000,
        ).catch(fail(`${u} offline`));
      expect(cloud.hub.session(nodeName(NODE))).toBeUndefined();

      // the cloud changes while the edge cannot hear it
      await h.core.replaceNamespacedConfigMap({
        namespace: NS,
        name: 'app-cfg',
        body: { metadata: { name: 'app-cfg' }, data: { greeting: 'v2' } },
      });
      await kubectl(h.cp, ['delete', 'pod', 'doomed', '--wait=false']);
      await kubectl(h.cp, ['delete', 'pod', 'forced', '--grace-period=0', '--force']);
      await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(pod('late')) });
      // same name, new uid: the edge must run the new one, never the one it holds
      await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(pod('forced')) });
      await kubectl(h.cp, ['scale', 'deployment', 'web', '--replicas=2']);
      // nothing deleted at the edge because the cloud is silent (or because it changed)
      await new Promise((r) => setTimeout(r, 2_000));
      for (const name of before.keys()) expect(await runningIn(uid(name))).toBeDefined();
      // the node lifecycle controller has seen the silence meanwhile
      if (controllers !== undefined) {
        const n = await h.core.readNode({ name: NODE });
        expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('Unknown');
      }

      // ── the link returns ────────────────────────────────────────────────────────────────
      host.restore();
      await eventually(() => cloud.hub.session(nodeName(NODE)), 'reconnected', 90_000).catch(
        fail('reconnect'),
      );
      for (const name of ['keeper', 'reader']) {
        const now = await eventually(
          () => currentAndRunning(name),
          `${name} current in the cloud`,
          90_000,
        ).catch(fail(name));
        // the same pod, with the container of this boot, not the one before the reboot
        expect(now.metadata?.uid).toBe(uid(name));
        expect(now.status?.containerStatuses?.[0]?.containerID).not.toBe(
          before.get(name)?.status?.containerStatuses?.[0]?.containerID,
        );
      }
      await eventually(() => currentAndRunning('late'), 'the pod bound while offline Running', 120_000).catch(
        fail('late'),
      );
      // the replica added while the node was tainted unreachable is scheduled once it is Ready again
      await eventually(
        async () => (await webRunning()).length === 2,
        'the Deployment scaled to 2',
        120_000,
      ).catch(fail('web scaled'));
      // the SIGKILLs while offline are reported once the link is back (issue 10); every start-up
      // check after one names it (a verdict change while the hold lasts may repeat it)
      await eventually(
        async () => (await events()).length >= 2,
        'an unclean-shutdown Event for each SIGKILL',
        60_000,
      ).catch(fail('event'));
      await eventually(
        async () => (await readGreeting(uid('reader'))) === 'v2',
        'the ConfigMap edit in the volume',
        60_000,
      ).catch(fail('configmap'));
      const reborn = await eventually(
        () => currentAndRunning('forced'),
        'the recreated pod Running',
        120_000,
      ).catch(fail('forced recreated'));
      expect(reborn.metadata?.uid).not.toBe(uid('forced'));
      await eventually(
        async () => (await cloudPod('doomed')) === undefined,
        'doomed gone in the cloud',
        60_000,
      ).catch(fail('doomed'));
      for (const name of ['doomed', 'forced']) {
        await eventually(
          async () =>
            (await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': uid(name) } })).length === 0 &&
            (await rt.listPodSandbox({ labels: { 'io.kubernetes.pod.uid': uid(name) } })).length === 0,
          `${name} removed at the edge`,
          60_000,
        ).catch(fail(name));
      }
      const ready = await eventually(
        async () => {
          const n = await h.core.readNode({ name: NODE });
          return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : false;
        },
        'node Ready again',
        60_000,
      );
      expect(ready.metadata?.name).toBe(NODE);

      // not resurrected: a few reconcile rounds later the deleted pods are still nowhere
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await cloudPod('doomed')).toBeUndefined();
      expect((await cloudPod('forced'))?.metadata?.uid).toBe(reborn.metadata?.uid);
      for (const name of ['doomed', 'forced']) {
        expect(await rt.listContainers({ labels: { 'io.kubernetes.pod.uid': uid(name) } })).toEqual([]);
      }
      const names = (await h.core.listNamespacedPod({ namespace: NS })).items
        .map((p) => p.metadata?.name)
        .sort();
      expect(names.filter((n) => !n?.startsWith('web-'))).toEqual(['forced', 'keeper', 'late', 'reader']);
      expect((await webRunning()).length).toBe(2);
    },
  );
});
