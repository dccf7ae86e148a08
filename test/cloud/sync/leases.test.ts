import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/index.js';
import { discoverHardware } from '../../../src/edge/hardware/index.js';
import { NodeReporter, type NodeOutbox } from '../../../src/edge/node/index.js';
import { CLOUD_FEATURES, nodeName } from '../../../src/protocol/index.js';
import { ChannelHarness, eventually, type Edge } from '../../support/channel.js';
import { startLeaseCloud } from '../../support/lease-cloud.js';
import { metricValue } from '../../support/metrics.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/hw/x86-vm-kvm');

/** The outbox seam of the reporter, by hand: counts what it queued, then stores it for real. */
class CountingOutbox implements NodeOutbox {
  leases = 0;
  statuses = 0;
  constructor(private readonly inner: NodeOutbox) {}
  enqueue(...args: Parameters<NodeOutbox['enqueue']>): unknown {
    if (args[1].type === 'lease') this.leases++;
    else this.statuses++;
    return this.inner.enqueue(...args);
  }
}

describe('cloud/sync leases — the cloud renews node Leases from link liveness (issue 12)', () => {
  const h = new ChannelHarness();
  let leases: CoordinationV1Api;

  beforeAll(async () => {
    await h.start();
    leases = h.kc.makeApiClient(CoordinationV1Api);
  });
  afterAll(async () => {
    await h.stop();
  });

  const lease = async (node: string): Promise<V1Lease | undefined> =>
    leases.readNamespacedLease({ name: node, namespace: 'kube-node-lease' }).catch(() => undefined);
  const renewTime = async (node: string): Promise<number> =>
    new Date((await lease(node))?.spec?.renewTime ?? 0).getTime();

  /** An in-process edge (real store, link and reporter); `old` = an agent from before leaseByCloud. */
  async function edgeWithReporter(
    name: string,
    old: boolean,
  ): Promise<{
    edge: Edge;
    outbox: CountingOutbox;
    reporter: NodeReporter;
    runtime: { healthy: boolean; reason: string };
    stop(): Promise<void>;
  }> {
    const edge = await h.startEdge(name);
    const runtime = { healthy: true, reason: '' };
    const outbox = new CountingOutbox(edge.store);
    const dataDir = path.join(h.dir, `${name}-data`);
    mkdirSync(dataDir, { recursive: true });
    const reporter = new NodeReporter(
      { nodeName: name, dataDir, leaseRenewMs: 200, statusCheckMs: 60_000 },
      {
        hardware: () => discoverHardware({ root: FIXTURE }),
        runtimeVersion: () => Promise.resolve('containerd://1.6.20'),
        runtimeHealth: () => runtime,
        online: () => edge.link.state === 'online',
        ...(old ? {} : { leaseByCloud: () => edge.link.cloudFeatures.includes(CLOUD_FEATURES.leaseByCloud) }),
        outbox,
        kick: () => {
          edge.link.kick();
        },
      },
      silentLogger(),
    );
    edge.link.on('online', () => {
      reporter.connected();
    });
    await reporter.start();
    return {
      edge,
      outbox,
      reporter,
      runtime,
      stop: async () => {
        await reporter.stop();
        await edge.stop();
      },
    };
  }

  it('leases — a connected edge that sends no lease message has its Lease renewed by the cloud; none once its socket is gone', async () => {
    const cloud = await startLeaseCloud(h, { sync: { leases: { renewIntervalSeconds: 0.5 } } });
    const e = await edgeWithReporter('lease-new', false);
    try {
      await eventually(() => e.edge.link.state === 'online', 'link online');
      expect(e.edge.link.cloudFeatures).toContain(CLOUD_FEATURES.leaseByCloud);
      const first = await eventually(() => renewTime('lease-new'), 'a Lease written by the cloud', 20_000);
      await eventually(async () => (await renewTime('lease-new')) > first, 'renewTime advanced', 20_000);
      const second = await renewTime('lease-new');
      await eventually(
        async () => (await renewTime('lease-new')) > second,
        'renewTime advanced again',
        20_000,
      );
      const l = await lease('lease-new');
      expect(l?.spec?.holderIdentity).toBe('lease-new');
      expect(l?.spec?.leaseDurationSeconds).toBe(40);
      // the edge wrote its Node status but not one lease: no outbox row, no message, no ack
      expect(e.outbox.statuses).toBeGreaterThan(0);
      expect(e.outbox.leases).toBe(0);
      expect(await metricValue(cloud.registry, 'tether_sync_upstream_total', { type: 'lease' })).toBe(0);
      expect(await metricValue(cloud.registry, 'tether_sync_lease_renewals_total')).toBeGreaterThanOrEqual(3);
      // the cloud sends no pings of its own: the edge's rtt comes from pongs to its pings
      await eventually(() => e.edge.link.rtt !== undefined, 'an rtt from a pong', 10_000);

      // the socket dies (as a cut link ends): the session ends and no renewal follows
      e.edge.link.dropConnection();
      await e.reporter.stop();
      await e.edge.link.stop();
      await eventually(() => cloud.hub.session(nodeName('lease-new')) === undefined, 'session closed');
      const last = await renewTime('lease-new');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await renewTime('lease-new')).toBe(last);
      expect(cloud.sync.leases?.renewing).toBe(0);
    } finally {
      await e.stop();
      await cloud.stop();
    }
  }, 90_000);

  it('leases — an older edge that renews through the channel still works: its lease writes are applied and the cloud leaves the Lease to it', async () => {
    const cloud = await startLeaseCloud(h, { sync: { leases: { renewIntervalSeconds: 0.5 } } });
    const e = await edgeWithReporter('lease-old', true);
    try {
      await eventually(
        async () =>
          (await metricValue(cloud.registry, 'tether_sync_upstream_total', {
            type: 'lease',
            outcome: 'ok',
          })) >= 2,
        'lease writes from the edge accepted',
        20_000,
      );
      expect(e.outbox.leases).toBeGreaterThanOrEqual(2);
      await eventually(
        async () =>
          (await metricValue(cloud.registry, 'tether_sync_lease_renewals_skipped_total', {
            reason: 'edge',
          })) > 0,
        'the cloud stands back',
        20_000,
      );
      const t = await renewTime('lease-old');
      await eventually(async () => (await renewTime('lease-old')) > t, 'renewed by the edge', 20_000);
      expect(cloud.sync.leases?.renewing).toBe(0);
    } finally {
      await e.stop();
      await cloud.stop();
    }
  }, 90_000);

  it('leases — a newer edge against a cloud without leaseByCloud renews its Lease itself', async () => {
    const cloud = await startLeaseCloud(h, { sync: {} });
    const e = await edgeWithReporter('lease-oldcloud', false);
    try {
      await eventually(() => e.edge.link.state === 'online', 'link online');
      expect(e.edge.link.cloudFeatures).toEqual([]);
      const t = await eventually(() => renewTime('lease-oldcloud'), 'a Lease from the edge', 20_000);
      await eventually(async () => (await renewTime('lease-oldcloud')) > t, 'renewed by the edge', 20_000);
      expect(e.outbox.leases).toBeGreaterThanOrEqual(2);
      expect(await metricValue(cloud.registry, 'tether_sync_lease_renewals_total')).toBe(0);
    } finally {
      await e.stop();
      await cloud.stop();
    }
  }, 90_000);

  it('leases — a reconnect with unchanged labels and status costs no Node request; a changed status is written', async () => {
    const cloud = await startLeaseCloud(h, { sync: { leases: { renewIntervalSeconds: 30 } } });
    const e = await edgeWithReporter('lease-reconnect', false);
    const node = async () => h.core.readNode({ name: 'lease-reconnect' }).catch(() => undefined);
    try {
      await eventually(
        async () => (await node())?.status?.nodeInfo?.kubeletVersion,
        'Node registered',
        20_000,
      );
      // the watch cache has to have seen the registration before a reconnect can be compared with it
      await new Promise((r) => setTimeout(r, 2000));
      const before = new Map(cloud.kube.requests);
      const skippedBefore = cloud.kube.skippedNodeWrites;
      e.edge.link.dropConnection();
      await eventually(
        () => cloud.kube.skippedNodeWrites > skippedBefore,
        'the re-reported status seen',
        20_000,
      );
      const delta = (op: string): number => (cloud.kube.requests.get(op) ?? 0) - (before.get(op) ?? 0);
      expect(delta('node read')).toBe(0);
      expect(delta('node labels')).toBe(0);
      expect(delta('node status')).toBe(0);
      // the reconnect's only write: the Lease renewed at once when the session started
      await eventually(() => delta('lease update') >= 1, 'the Lease renewed at reconnect');
      expect(delta('lease update')).toBe(1);

      // a status that did change is written, in one patch
      const statusBefore = delta('node status');
      e.runtime.healthy = false;
      e.runtime.reason = 'runtime gone';
      e.edge.link.dropConnection();
      await eventually(
        async () => (await node())?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False',
        'Ready False written',
        20_000,
      );
      expect(delta('node status')).toBe(statusBefore + 1);
      expect(delta('node read')).toBe(0);
      expect(delta('node labels')).toBe(0);
    } finally {
      await e.stop();
      await cloud.stop();
    }
  }, 90_000);
});
