import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../src/common/index.js';
import { DeviceManager } from '../../src/edge/devices/index.js';
import { ChannelHarness, eventually, type Edge } from '../support/channel.js';
import { REPO_ROOT, kubectl } from '../support/controlplane.js';
import { ModbusProcess } from '../edge/devices/helpers.js';

/**
 * DESIGN §5 end to end: Device CRs in the API, synced to the edge through the channel, read from
 * a real Modbus TCP server, reported values written back to the Device status, desired values
 * patched with kubectl written to the device and confirmed.
 */
describe('devices — through the channel', () => {
  const h = new ChannelHarness();
  let edge: Edge;
  let modbus: ModbusProcess;
  let mgr: DeviceManager;

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
    edge = await h.startEdge('edge-dev');
    mgr = new DeviceManager({
      config: {
        nodeName: 'edge-dev',
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

  it('devices — Modbus registers appear in the Device status; a kubectl patch of a desired value reaches the device', async () => {
    modbus.set('input', 0, 215); // 21.5 °C with scale 0.1
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'DeviceModel',
          metadata: { name: 'thermostat', namespace: 'default' },
          spec: {
            properties: [
              { name: 'temperature', type: 'float', unit: 'C' },
              { name: 'setpoint', type: 'int', accessMode: 'ReadWrite', minimum: 5, maximum: 35 },
            ],
          },
        },
        {
          apiVersion: 'devices.tether.dev/v1alpha1',
          kind: 'Device',
          metadata: { name: 'boiler', namespace: 'default' },
          spec: {
            nodeName: 'edge-dev',
            deviceModelRef: { name: 'thermostat' },
            protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: modbus.port } },
            collectIntervalMs: 300,
            timeoutMs: 300,
            properties: [
              {
                name: 'temperature',
                visitor: { modbus: { register: 'InputRegister', address: 0, dataType: 'int16', scale: 0.1 } },
              },
              {
                name: 'setpoint',
                visitor: { modbus: { register: 'HoldingRegister', address: 10, dataType: 'uint16' } },
              },
            ],
          },
        },
      ],
    };
    await kubectl(h.cp, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    const reported = async (prop: string): Promise<string | undefined> => {
      const r = await kubectl(h.cp, ['get', 'device', 'boiler', '-o', 'json'], { allowFailure: true });
      const dev = JSON.parse(r.stdout || '{}') as {
        status?: { properties?: { name: string; reported?: { value?: string } }[] };
      };
      return dev.status?.properties?.find((p) => p.name === prop)?.reported?.value;
    };
    expect(await eventually(() => reported('temperature'), 'temperature in the Device status', 30_000)).toBe(
      '21.5',
    );

    await kubectl(h.cp, [
      'patch',
      'device',
      'boiler',
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/spec/properties/1/desired', value: { value: '22' } }]),
    ]);
    await eventually(
      () => modbus.writes.some((w) => w === 'wrote 10 22'),
      'the write on the Modbus server',
      30_000,
    );
    expect(
      await eventually(
        async () => (await reported('setpoint')) === '22',
        'setpoint confirmed in status',
        30_000,
      ),
    ).toBe(true);
    const out = await kubectl(h.cp, ['get', 'devices']);
    expect(out.stdout).toMatch(/boiler\s+edge-dev/);
  });
});
