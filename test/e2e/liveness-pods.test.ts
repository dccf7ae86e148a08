import { afterAll, beforeAll, describe, it } from 'vitest';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import { removeEdgeProcess } from '../edge/node/edge-process.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import { ChannelHarness, eventually } from '../support/channel.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { startLifecycleMarkingPods, startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

/**
 * What the cloud says about the pods of a node that went silent and came back: upstream's node
 * lifecycle controller marks them Ready=False (MarkPodsNotReady) once the node is Unknown;
 * after reconnect the edge must post their status again so they are Ready in the cloud —
 * Services route by it — although nothing changed on the edge.
 */
describe('pod readiness through a cut link', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let rt: CriRuntime;
  let controllers: { stop(): Promise<void> } | undefined;
  const upstream = process.env['TETHER_CONTROL_PLANE'] === 'upstream';
  const lapse = upstream ? 120_000 : 30_000;

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
    if (!upstream) controllers = await startLifecycleMarkingPods(h, 4);
  });
  afterAll(async () => {
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    host.remove();
    await controllers?.stop();
    await h.stop();
  });

  it(
    'liveness — a pod marked NotReady while its node was Unknown is Ready again in the cloud after reconnect',
    { timeout: upstream ? 420_000 : 240_000 },
    async () => {
      const node = 'edge-podlive';
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
      await h.core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name: 'steady' },
          spec: {
            nodeName: node,
            // no projected kube-api-access volume on upstream: the edge cannot mount one yet
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'c', image: SHELL_IMAGE, command: ['sleep', '100000'] }],
          },
        },
      });
      edge = await startNetnsEdge(h, cloud, host, node, { criSocket: CRI_SOCKET });
      const e = edge;
      const podReady = async (): Promise<string | undefined> =>
        (await h.core.readNamespacedPod({ name: 'steady', namespace: 'default' })).status?.conditions?.find(
          (c) => c.type === 'Ready',
        )?.status;
      await eventually(async () => (await podReady()) === 'True', 'pod Ready', 120_000).catch(
        async (err: unknown) => {
          const p = await h.core
            .readNamespacedPod({ name: 'steady', namespace: 'default' })
            .catch(() => undefined);
          throw new Error(
            `${String(err)}\npod status: ${JSON.stringify(p?.status)}\nedge output:\n${e.proc.output()}`,
          );
        },
      );

      host.cut();
      await eventually(
        async () =>
          (await h.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')
            ?.status === 'Unknown',
        'node Ready Unknown',
        lapse,
      );
      await eventually(async () => (await podReady()) === 'False', 'pod marked NotReady', lapse);

      host.restore();
      await eventually(
        async () =>
          (await h.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')
            ?.status === 'True',
        'node Ready again',
        90_000,
      );
      await eventually(async () => (await podReady()) === 'True', 'pod Ready again in the cloud', 60_000);
    },
  );
});
