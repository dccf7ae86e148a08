import { CoordinationV1Api, type V1Lease, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneControllers } from '../../src/controllers/index.js';
import { nodeName } from '../../src/protocol/index.js';
import { ChannelHarness, eventually, type Cloud } from '../support/channel.js';
import { startLeaseCloud } from '../support/lease-cloud.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { startControllers, startNetnsEdge, type NetnsEdge } from './autonomy-support.js';
import { metricValue } from '../support/metrics.js';

const NODE = 'edge-cloudlease';

/**
 * Issue 12 (heartbeats that scale): a real edge process in its own network namespace against a
 * cloud that renews the Lease from the link's liveness. The edge sends no lease; a hung agent
 * (SIGSTOP: the kernel keeps its TCP connection open) and a cut link both stop the renewals, and
 * the node lifecycle controller (ours embedded, kube-controller-manager upstream) judges the Lease.
 */
describe('e2e lease by cloud', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let controllers: ControlPlaneControllers | undefined;
  let cloud: Cloud | undefined;
  const upstream = process.env['TETHER_CONTROL_PLANE'] === 'upstream';
  const lapse = upstream ? 120_000 : 30_000;

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
    if (!upstream) controllers = await startControllers(h, ['nodelifecycle'], 4);
  });
  afterAll(async () => {
    const pid = edge?.proc.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await edge?.proc.kill('SIGKILL');
    host.remove();
    await controllers?.stop();
    await cloud?.stop();
    await h.stop();
  });

  it(
    'lease by cloud — renewed with no lease from the edge; a SIGSTOPped agent and a cut link stop the renewals (Ready Unknown); back to Ready after',
    { timeout: upstream ? 420_000 : 180_000 },
    async () => {
      const c = await startLeaseCloud(h, {
        host: host.hostIp,
        keepaliveMs: 500,
        sync: { leases: { renewIntervalSeconds: 1 } },
      });
      cloud = c;
      edge = await startNetnsEdge(h, c, host, NODE);
      const e = edge;
      const pid = e.proc.child.pid ?? 0;
      const leases = h.kc.makeApiClient(CoordinationV1Api);
      const node = async (): Promise<V1Node> => h.core.readNode({ name: NODE });
      const ready = async () =>
        (await node().catch(() => undefined))?.status?.conditions?.find((x) => x.type === 'Ready');
      const renewTime = async (): Promise<number> => {
        const l: V1Lease = await leases.readNamespacedLease({ name: NODE, namespace: 'kube-node-lease' });
        return new Date(l.spec?.renewTime ?? 0).getTime();
      };
      const session = () => c.hub.session(nodeName(NODE));

      await eventually(async () => (await ready())?.status === 'True', 'node Ready', 90_000).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}\nedge output:\n${e.proc.output()}`);
        },
      );
      const first = await eventually(() => renewTime(), 'a lease', 30_000);
      await eventually(async () => (await renewTime()) > first, 'the lease renewed', 30_000);
      // ... by the cloud: not one lease write came from the edge (its config renews every second)
      expect(await metricValue(c.registry, 'tether_sync_upstream_total', { type: 'lease' })).toBe(0);
      expect(await metricValue(c.registry, 'tether_sync_lease_renewals_total')).toBeGreaterThan(0);

      // ── a hung agent: its socket stays open, but no frame comes ──
      process.kill(pid, 'SIGSTOP');
      await eventually(
        async () =>
          (await metricValue(c.registry, 'tether_sync_lease_renewals_skipped_total', { reason: 'stale' })) >
            0 || session() === undefined,
        'renewals stop for the silent edge',
        15_000,
      );
      // a renewal already in flight may still land: read after the session is gone
      await eventually(() => session() === undefined, 'the hub closes the silent session', 15_000);
      await new Promise((r) => setTimeout(r, 500));
      const hungRenew = await renewTime();
      await new Promise((r) => setTimeout(r, 3000));
      expect(await renewTime()).toBe(hungRenew);
      if (!upstream) {
        await eventually(
          async () => (await ready())?.status === 'Unknown',
          'Ready Unknown while hung',
          lapse,
        );
      }
      process.kill(pid, 'SIGCONT');
      await eventually(
        async () => (await renewTime()) > hungRenew,
        'renewed after the agent resumed',
        60_000,
      );
      await eventually(async () => (await ready())?.status === 'True', 'Ready True after resuming', 90_000);

      // ── a cut link ──
      host.cut();
      await eventually(() => session() === undefined, 'the cloud notices the dead link', 15_000);
      await new Promise((r) => setTimeout(r, 500));
      const cutRenew = await renewTime();
      const unknown = await eventually(
        async () => {
          const r = await ready();
          return r?.status === 'Unknown' ? r : false;
        },
        'Ready Unknown after the lease lapsed',
        lapse,
      );
      expect(unknown.reason).toBe('NodeStatusUnknown');
      expect(await renewTime()).toBe(cutRenew);
      host.restore();
      await eventually(async () => (await ready())?.status === 'True', 'Ready True after reconnect', 90_000);
      expect(await renewTime()).toBeGreaterThan(cutRenew);
      // and it stays Ready on the cloud's renewals alone
      await new Promise((r) => setTimeout(r, 6_000));
      expect((await ready())?.status).toBe('True');
      expect(await metricValue(c.registry, 'tether_sync_upstream_total', { type: 'lease' })).toBe(0);
    },
  );
});
