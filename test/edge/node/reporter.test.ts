import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/index.js';
import { discoverHardware } from '../../../src/edge/hardware/index.js';
import { NodeReporter, type ConditionSource, type NodeOutbox } from '../../../src/edge/node/index.js';
import type { JsonObject, ObjectKey } from '../../../src/protocol/index.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/hw/x86-vm-kvm');

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The outbox seam, by hand: records what the reporter queued. */
class RecordingOutbox implements NodeOutbox {
  readonly writes: { key: ObjectKey; type: string; payload: JsonObject }[] = [];
  enqueue(key: ObjectKey, write: { type: 'nodeStatus' | 'lease'; payload: JsonObject }): void {
    this.writes.push({ key, type: write.type, payload: write.payload });
  }
  statuses(): JsonObject[] {
    return this.writes.filter((w) => w.type === 'nodeStatus').map((w) => w.payload);
  }
  lastConditions(): Map<string, Cond> {
    const s = this.statuses().at(-1)?.['status'] as { conditions: Cond[] } | undefined;
    return new Map((s?.conditions ?? []).map((c) => [c.type, c]));
  }
}

describe('edge/node reporter', () => {
  let dir: string;
  let outbox: RecordingOutbox;
  let runtime: { healthy: boolean; reason: string };
  let health: { status: 'True' | 'False' | 'Unknown'; reason: string; message: string };
  let reporter: NodeReporter;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tether-node-'));
    outbox = new RecordingOutbox();
    runtime = { healthy: true, reason: '' };
    health = { status: 'True', reason: 'Healthy', message: 'runtime=01@10:00:00Z' };
    const source: ConditionSource = { conditions: () => [{ type: 'EdgeHealthy', ...health }] };
    reporter = new NodeReporter(
      { nodeName: 'edge-unit', dataDir: dir, statusCheckMs: 60_000, leaseRenewMs: 60_000 },
      {
        hardware: () => discoverHardware({ root: FIXTURE }),
        runtimeVersion: () => Promise.resolve('containerd://1.6.20'),
        runtimeHealth: () => runtime,
        online: () => false,
        outbox,
        conditionSources: [source],
      },
      silentLogger(),
    );
  });
  afterEach(async () => {
    await reporter.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('edge/node — EdgeHealthy from its source and Ready from the runtime, with the CRI runtime version', async () => {
    await reporter.start();
    const c = outbox.lastConditions();
    expect(c.get('Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(c.get('EdgeHealthy')).toMatchObject({
      status: 'True',
      reason: 'Healthy',
      message: 'runtime=01@10:00:00Z',
    });
    const status = outbox.statuses().at(-1)?.['status'] as { nodeInfo: { containerRuntimeVersion: string } };
    expect(status.nodeInfo.containerRuntimeVersion).toBe('containerd://1.6.20');
  });

  it('edge/node — runtime loss makes Ready False with the reason; a condition change is written at the next check', async () => {
    await reporter.start();
    const before = outbox.statuses().length;
    runtime = { healthy: false, reason: 'container runtime is down: connect ENOENT' };
    health = { status: 'False', reason: 'Unhealthy', message: 'runtime=02@10:00:05Z' };
    await reporter.report(false);
    expect(outbox.statuses().length).toBe(before + 1);
    const c = outbox.lastConditions();
    expect(c.get('Ready')).toMatchObject({ status: 'False', reason: 'ContainerRuntimeUnreachable' });
    expect(c.get('Ready')?.message).toContain('connect ENOENT');
    expect(c.get('EdgeHealthy')).toMatchObject({ status: 'False', reason: 'Unhealthy' });
  });

  it('edge/node — a new status string alone (live values) does not cause a write before the report period', async () => {
    await reporter.start();
    const before = outbox.statuses().length;
    health = { ...health, message: 'runtime=01@10:00:10Z' };
    await reporter.report(false);
    expect(outbox.statuses().length).toBe(before);
    // …but a forced report carries the latest message.
    await reporter.report(true);
    expect(outbox.lastConditions().get('EdgeHealthy')?.message).toBe('runtime=01@10:00:10Z');
  });
});

describe('edge/node reporter — Lease renewal negotiated with the cloud (issue 12)', () => {
  it('edge/node — no lease writes while the cloud renews the Lease (leaseByCloud); lease writes again against a cloud that does not', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tether-node-'));
    const outbox = new RecordingOutbox();
    let byCloud = true;
    const reporter = new NodeReporter(
      { nodeName: 'edge-lease', dataDir: dir, statusCheckMs: 60_000, leaseRenewMs: 60_000 },
      {
        hardware: () => discoverHardware({ root: FIXTURE }),
        runtimeVersion: () => Promise.resolve('containerd://1.6.20'),
        online: () => true,
        leaseByCloud: () => byCloud,
        outbox,
      },
      silentLogger(),
    );
    try {
      await reporter.start();
      reporter.connected();
      reporter.renewLease();
      const leases = () => outbox.writes.filter((w) => w.type === 'lease');
      expect(leases()).toHaveLength(0);
      // the Node status still goes through the outbox
      expect(outbox.statuses().length).toBeGreaterThan(0);
      // reconnected to an older cloud: the welcome carries no leaseByCloud
      byCloud = false;
      reporter.connected();
      expect(leases()).toHaveLength(1);
      expect(leases()[0]?.payload).toMatchObject({ holderIdentity: 'edge-lease', leaseDurationSeconds: 40 });
    } finally {
      await reporter.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
