import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeName } from '../../src/protocol/index.js';
import { eventually } from '../support/channel.js';
import { kubectl } from '../support/controlplane.js';
import { LivenessEnv } from '../support/node-liveness.js';
import { startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-live';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

/**
 * Issue 6 (Done when: "cutting the link makes the node's Ready condition go Unknown in the cloud
 * after the lease lapses, and Ready again after reconnect"): a real edge process in its own
 * network namespace, its Lease renewed by the edge through the channel (a cloud without
 * leaseByCloud, as for older edges); the node lifecycle controller
 * (ours on the embedded control plane, kube-controller-manager on upstream) judges it.
 */
describe('node liveness through a cut link', () => {
  const env = new LivenessEnv();
  const { h, upstream, lapse } = env;
  let edge: NetnsEdge | undefined;

  beforeAll(async () => {
    await env.start();
  });
  afterAll(async () => {
    await env.stop(edge);
  });

  it(
    'liveness — the Lease is renewed; a cut link turns Ready Unknown (NodeStatusUnknown) with the unreachable taint; restoring it turns Ready True and removes the taint',
    { timeout: upstream ? 360_000 : 180_000 },
    async () => {
      const host = env.host;
      // the edge-renews path (older edges; a cloud without leaseByCloud): the cloud-renews one is
      // test/e2e/lease-by-cloud.test.ts
      const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500, leases: false });
      edge = await startNetnsEdge(h, cloud, host, NODE);
      const n = env.node(NODE);

      await n.readyAndRenewed(edge);
      expect(await n.taints()).not.toContain(`${UNREACHABLE}:NoSchedule`);

      host.cut();
      const cutRenew = await eventually(
        async () => cloud.hub.session(nodeName(NODE)) === undefined && (await n.renewTime()),
        'the cloud notices the dead link',
        15_000,
      );
      const unknown = await n.readyUnknown();
      expect(unknown.reason).toBe('NodeStatusUnknown');
      await eventually(
        async () => (await n.taints()).includes(`${UNREACHABLE}:NoSchedule`),
        'the unreachable taint',
        lapse,
      );
      // the edge could not have renewed its lease while cut off
      expect(await n.renewTime()).toBe(cutRenew);
      const got = await kubectl(h.cp, ['get', 'node', NODE]);
      expect(got.stdout).toMatch(new RegExp(`${NODE}\\s+NotReady`));

      host.restore();
      // the link reconnects with back-off (capped at 30 s by default)
      await n.readyTrue('Ready True after reconnect');
      expect(await n.renewTime()).toBeGreaterThan(cutRenew);
      await eventually(
        async () => (await n.taints()).every((t) => !t.startsWith(UNREACHABLE)),
        'the unreachable taints removed',
        lapse,
      );
      // and it stays Ready: the renewals after reconnect keep the controller satisfied
      await new Promise((r) => setTimeout(r, 6_000));
      expect((await n.ready())?.status).toBe('True');
    },
  );
});
