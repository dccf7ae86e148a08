import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeName } from '../../src/protocol/index.js';
import { eventually, type Cloud } from '../support/channel.js';
import { startLeaseCloud } from '../support/lease-cloud.js';
import { metricValue } from '../support/metrics.js';
import { LivenessEnv } from '../support/node-liveness.js';
import { startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-cloudlease';

/**
 * Issue 12 (heartbeats that scale): a real edge process in its own network namespace against a
 * cloud that renews the Lease from the link's liveness. The edge sends no lease; a hung agent
 * (SIGSTOP: the kernel keeps its TCP connection open) and a cut link both stop the renewals, and
 * the node lifecycle controller (ours embedded, kube-controller-manager upstream) judges the Lease.
 */
describe('e2e lease by cloud', () => {
  const env = new LivenessEnv();
  const { h, upstream, lapse } = env;
  let edge: NetnsEdge | undefined;
  let cloud: Cloud | undefined;

  beforeAll(async () => {
    await env.start();
  });
  afterAll(async () => {
    await cloud?.stop();
    await env.stop(edge);
  });

  it(
    'lease by cloud — renewed with no lease from the edge; a SIGSTOPped agent and a cut link stop the renewals (Ready Unknown); back to Ready after',
    { timeout: upstream ? 420_000 : 180_000 },
    async () => {
      const host = env.host;
      const c = await startLeaseCloud(h, {
        host: host.hostIp,
        keepaliveMs: 500,
        sync: { leases: { renewIntervalSeconds: 1 } },
      });
      cloud = c;
      edge = await startNetnsEdge(h, c, host, NODE);
      const pid = edge.proc.child.pid ?? 0;
      const n = env.node(NODE);
      const { ready, renewTime } = n;
      const session = () => c.hub.session(nodeName(NODE));

      await n.readyAndRenewed(edge);
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
      await n.readyTrue('Ready True after resuming');

      // ── a cut link ──
      host.cut();
      await eventually(() => session() === undefined, 'the cloud notices the dead link', 15_000);
      await new Promise((r) => setTimeout(r, 500));
      const cutRenew = await renewTime();
      const unknown = await n.readyUnknown();
      expect(unknown.reason).toBe('NodeStatusUnknown');
      expect(await renewTime()).toBe(cutRenew);
      host.restore();
      await n.readyTrue('Ready True after reconnect');
      expect(await renewTime()).toBeGreaterThan(cutRenew);
      // and it stays Ready on the cloud's renewals alone
      await new Promise((r) => setTimeout(r, 6_000));
      expect((await ready())?.status).toBe('True');
      expect(await metricValue(c.registry, 'tether_sync_upstream_total', { type: 'lease' })).toBe(0);
    },
  );
});
