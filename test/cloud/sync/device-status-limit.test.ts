import { join } from 'node:path';
import { Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject, ObjectKey, Uid } from '../../../src/protocol/index.js';
import { ChannelHarness, eventually, type Cloud, type Edge } from '../../support/channel.js';
import { REPO_ROOT, kubectl } from '../../support/controlplane.js';

/**
 * Issue 9: a chatty device cannot flood the API server. An edge sends a Device status 100 times a
 * second (straight into its outbox, kicking the link each time, so the cloud really receives
 * them all); the cloud writes at most one status per Device per second (the default), the last
 * status sent is the one that ends up in the API, and the Synced condition it carries with it.
 */
interface DeviceObj {
  metadata: { uid: string; resourceVersion: string };
  status?: {
    properties?: { name: string; reported?: { value: string } }[];
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

const NODE = 'edge-chatty';
const SENT = 300;

describe('cloud/sync device status rate limit', () => {
  const h = new ChannelHarness();
  let cloud: Cloud;
  let edge: Edge;
  let stopWatch: AbortController | undefined;

  beforeAll(async () => {
    await h.start();
    await kubectl(h.cp, ['apply', '-f', join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml')]);
    await kubectl(h.cp, [
      'wait',
      '--for=condition=Established',
      'crd/devices.devices.tether.dev',
      'crd/devicemodels.devices.tether.dev',
    ]);
    cloud = await h.startCloud({ devices: true });
    edge = await h.startEdge(NODE);
  });
  afterAll(async () => {
    stopWatch?.abort();
    await h.stop();
  });

  it('cloud/sync — 100 statuses/s from one device: at most one API write per second, the final value and Synced arrive', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'DeviceModel',
          metadata: { name: 'meter', namespace: 'default' },
          spec: { properties: [{ name: 'power', type: 'int' }] },
        },
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'Device',
          metadata: { name: 'chatty', namespace: 'default' },
          spec: {
            nodeName: NODE,
            deviceModelRef: { name: 'meter' },
            protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: 1 } },
            properties: [
              {
                name: 'power',
                visitor: { modbus: { register: 'HoldingRegister', address: 0, dataType: 'uint16' } },
              },
            ],
          },
        },
      ],
    };
    await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    const created = JSON.parse(
      (await kubectl(h.cp, ['get', 'device', 'chatty', '-o', 'json'])).stdout,
    ) as DeviceObj;
    const key: ObjectKey = {
      group: 'devices.tether.dev',
      version: 'v1alpha1',
      kind: 'Device',
      namespace: 'default',
      name: 'chatty',
    };
    // The cloud knows the Device is bound to this node once it has synced it to the edge.
    await eventually(() => edge.store.get(key), 'the Device synced to the edge', 30_000);

    // Every status write the API server applies, in order, as a watch sees them.
    const seen: string[] = [];
    const watching = new Promise<void>((resolve, reject) => {
      new Watch(h.kc)
        .watch(
          '/apis/devices.tether.dev/v1alpha1/namespaces/default/devices',
          { resourceVersion: created.metadata.resourceVersion, fieldSelector: 'metadata.name=chatty' },
          (type: string, obj: DeviceObj) => {
            const v = obj.status?.properties?.find((p) => p.name === 'power')?.reported?.value;
            if (type === 'MODIFIED' && v !== undefined) seen.push(v);
          },
          () => undefined,
        )
        .then((ctl) => {
          stopWatch = ctl;
          resolve();
        }, reject);
    });
    await watching;

    const writes = async (): Promise<number> => {
      const m = await cloud.registry.getSingleMetric('tether_sync_upstream_total')?.get();
      return (m?.values ?? [])
        .filter((v) => v.labels['type'] === 'deviceStatus' && v.labels['outcome'] === 'ok')
        .reduce((a, v) => a + v.value, 0);
    };
    const status = (i: number): JsonObject => ({
      properties: [{ name: 'power', reported: { value: String(i), timestamp: new Date().toISOString() } }],
      conditions: [
        { type: 'Online', status: 'True', reason: 'Reachable' },
        // The last status changes Synced: a coalesced condition change must not be lost either.
        i === SENT
          ? { type: 'Synced', status: 'False', reason: 'Pending', message: 'not yet on the device: power' }
          : { type: 'Synced', status: 'True', reason: 'InSync' },
      ],
    });

    const started = Date.now();
    for (let i = 1; i <= SENT; i++) {
      edge.store.enqueue(key, { type: 'deviceStatus', payload: status(i) }, created.metadata.uid as Uid);
      edge.link.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
    await eventually(() => seen.at(-1) === String(SENT), 'the last value in the API', 30_000);
    const elapsedMs = Date.now() - started;

    const written = await writes();
    // One write per started second, plus the first one at once.
    expect(written).toBeLessThanOrEqual(Math.ceil(elapsedMs / 1000) + 1);
    expect(written).toBeGreaterThanOrEqual(2);
    // The cloud really received the flood (the edge did not coalesce it away): most were replaced.
    const coalesced = (
      await cloud.registry.getSingleMetric('tether_sync_device_status_coalesced_total')?.get()
    )?.values[0]?.value;
    expect(coalesced).toBeGreaterThan(SENT / 2);
    // Written in order: a later write never carries an older value.
    const values = seen.map(Number);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
    expect(seen.length).toBeLessThanOrEqual(written);

    const final = JSON.parse(
      (await kubectl(h.cp, ['get', 'device', 'chatty', '-o', 'json'])).stdout,
    ) as DeviceObj;
    expect(final.status?.conditions?.find((c) => c.type === 'Synced')).toMatchObject({
      status: 'False',
      reason: 'Pending',
    });
    // Every status was answered: the superseded ones at once, the written ones after the write.
    await eventually(() => edge.store.outboxDepth() === 0, 'the edge outbox drained', 10_000);
    // No write after the last value: nothing was left parked to overwrite it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await writes()).toBe(written);
  });
});
