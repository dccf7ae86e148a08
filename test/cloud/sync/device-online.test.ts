import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { DeviceManager } from '../../../src/edge/devices/index.js';
import { ChannelHarness, eventually, type Edge } from '../../support/channel.js';
import { REPO_ROOT, kubectl } from '../../support/controlplane.js';
import { ModbusProcess } from '../../edge/devices/helpers.js';

/**
 * Issue 9 "Device down → Online=False in the cloud with a reason; back → Online=True", seen from
 * the API: the Online condition's lastTransitionTime moves only on a flip, and lastOnlineTime
 * stays at the last successful read while the device is down and moves on when it is back.
 */
interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface DeviceObj {
  status?: { conditions?: Cond[]; lastOnlineTime?: string };
}

const NODE = 'edge-online';

describe('cloud/sync device Online condition', () => {
  const h = new ChannelHarness();
  let edge: Edge;
  let mgr: DeviceManager;
  let modbus: ModbusProcess;

  beforeAll(async () => {
    await h.start();
    await kubectl(h.cp, ['apply', '-f', join(REPO_ROOT, 'deploy/crds/devices.tether.dev.yaml')]);
    await kubectl(h.cp, [
      'wait',
      '--for=condition=Established',
      'crd/devices.devices.tether.dev',
      'crd/devicemodels.devices.tether.dev',
    ]);
    await h.startCloud({ devices: true });
    edge = await h.startEdge(NODE);
    mgr = new DeviceManager({
      config: {
        nodeName: NODE,
        bus: { mode: 'embedded', host: '127.0.0.1', port: 0 },
        statusIntervalMs: 200,
      },
      store: edge.store,
      logger: silentLogger(),
      registry: createRegistry(),
    });
    await mgr.start();
    modbus = await ModbusProcess.start();
  });
  afterAll(async () => {
    await mgr.stop();
    await modbus.stop();
    await h.stop();
  });

  it('cloud/sync — a device that stops answering goes Online=False with a reason, lastOnlineTime frozen; back, Online=True and lastOnlineTime moves on', async () => {
    modbus.set('input', 0, 100);
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'DeviceModel',
          metadata: { name: 'gauge', namespace: 'default' },
          spec: { properties: [{ name: 'level', type: 'int' }] },
        },
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'Device',
          metadata: { name: 'tank', namespace: 'default' },
          spec: {
            nodeName: NODE,
            deviceModelRef: { name: 'gauge' },
            protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: modbus.port } },
            collectIntervalMs: 300,
            timeoutMs: 300,
            properties: [
              {
                name: 'level',
                visitor: { modbus: { register: 'InputRegister', address: 0, dataType: 'uint16' } },
              },
            ],
          },
        },
      ],
    };
    await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    const get = async (): Promise<DeviceObj['status']> => {
      const r = await kubectl(h.cp, ['get', 'device', 'tank', '-o', 'json'], { allowFailure: true });
      return (JSON.parse(r.stdout || '{}') as DeviceObj).status;
    };
    const online = (s: DeviceObj['status']): Cond | undefined =>
      s?.conditions?.find((c) => c.type === 'Online');
    const when = (iso: string | undefined): number => {
      expect(iso).toBeDefined();
      return Date.parse(iso ?? '');
    };

    const up = await eventually(
      async () => {
        const s = await get();
        return online(s)?.status === 'True' && s?.lastOnlineTime !== undefined ? s : undefined;
      },
      'Online=True in the cloud',
      30_000,
    );
    expect(online(up)?.reason).toBe('Reachable');
    const upSince = when(online(up)?.lastTransitionTime);

    const stoppedAt = Date.now();
    await modbus.stop();
    const down = await eventually(
      async () => {
        const s = await get();
        return online(s)?.status === 'False' ? s : undefined;
      },
      'Online=False in the cloud',
      30_000,
    );
    const off = online(down);
    expect(['Timeout', 'Unreachable']).toContain(off?.reason);
    expect(off?.message ?? '').toContain('tank');
    const downSince = when(off?.lastTransitionTime);
    expect(downSince).toBeGreaterThan(upSince);
    // The last successful read was before the device went down, and stays so while it is down.
    const lastOnline = when(down.lastOnlineTime);
    expect(lastOnline).toBeLessThanOrEqual(downSince);
    expect(lastOnline).toBeLessThanOrEqual(stoppedAt + 1000);
    await new Promise((r) => setTimeout(r, 2000)); // several failed polling rounds
    const still = await get();
    expect(online(still)).toMatchObject({ status: 'False', lastTransitionTime: off?.lastTransitionTime });
    expect(still?.lastOnlineTime).toBe(down.lastOnlineTime);

    modbus = await ModbusProcess.start(modbus.port);
    modbus.set('input', 0, 101);
    const back = await eventually(
      async () => {
        const s = await get();
        return online(s)?.status === 'True' ? s : undefined;
      },
      'Online=True again',
      30_000,
    );
    expect(online(back)?.reason).toBe('Reachable');
    expect(when(online(back)?.lastTransitionTime)).toBeGreaterThan(downSince);
    expect(when(back.lastOnlineTime)).toBeGreaterThan(lastOnline);
  });
});
