import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/index.js';
import type { DeviceStatus } from '../../../src/devices/index.js';
import { DeviceManager } from '../../../src/edge/devices/index.js';
import type { EdgeStore } from '../../../src/edge/store/index.js';
import { ModbusProcess, put, tempStore, waitFor } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function deviceStatus(store: EdgeStore, name: string): DeviceStatus | undefined {
  return store.pending(1000).find((i) => i.write.type === 'deviceStatus' && i.key.name === name)?.write
    .payload;
}
const prop = (s: DeviceStatus | undefined, p: string) => s?.properties?.find((x) => x.name === p);
const online = (s: DeviceStatus | undefined) => s?.conditions?.find((c) => c.type === 'Online')?.status;

function startMapper(bus: string): ChildProcess {
  const script = new URL('../../../src/devices/mapper-main.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, '--bus', bus, '--node', 'edge-1', '--protocol', 'modbusTCP'],
    {
      stdio: 'ignore',
      env: { ...process.env, TETHER_LOG_LEVEL: 'warn' },
    },
  );
  cleanups.push(async () => {
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  });
  return child;
}

describe('devices/mapper process', () => {
  it('devices — a Modbus mapper in its own process serves a device over the bus only: values, desired writes, Online flips', async () => {
    const srv = await ModbusProcess.start();
    cleanups.push(() => srv.stop());
    const t = tempStore();
    cleanups.push(t.cleanup);
    const mgr = new DeviceManager({
      config: {
        nodeName: 'edge-1',
        bus: { mode: 'embedded', host: '127.0.0.1', port: 0 },
        statusIntervalMs: 0,
        externalProtocols: ['modbusTCP'],
      },
      store: t.store,
      logger: silentLogger(),
    });
    await mgr.start();
    cleanups.push(() => mgr.stop());
    put(t.store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'DeviceModel',
      metadata: { name: 'thermostat', namespace: 'default' },
      spec: {
        properties: [
          { name: 'temperature', type: 'float' },
          { name: 'setpoint', type: 'int', accessMode: 'ReadWrite', minimum: 5, maximum: 35 },
        ],
      },
    });
    const device = (setpoint: string) => ({
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: { name: 'thermo-x', namespace: 'default' },
      spec: {
        nodeName: 'edge-1',
        deviceModelRef: { name: 'thermostat' },
        protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: srv.port } },
        collectIntervalMs: 300,
        timeoutMs: 300,
        properties: [
          {
            name: 'temperature',
            visitor: { modbus: { register: 'InputRegister', address: 0, dataType: 'int16', scale: 0.1 } },
          },
          {
            name: 'setpoint',
            desired: { value: setpoint },
            visitor: { modbus: { register: 'HoldingRegister', address: 10 } },
          },
        ],
      },
    });
    put(t.store, device('24'));
    startMapper(mgr.bus.url);
    // desired set before the mapper started: taken from membership's `expected`
    await waitFor(
      () => {
        const s = deviceStatus(t.store, 'thermo-x');
        return (
          prop(s, 'temperature')?.reported?.value === '21.5' && prop(s, 'setpoint')?.reported?.value === '24'
        );
      },
      'values through the mapper process',
      20_000,
    );
    expect(srv.writes).toContain('wrote 10 24');
    expect(online(deviceStatus(t.store, 'thermo-x'))).toBe('True');
    // a later desired change reaches it as a delta
    put(t.store, device('26'));
    await waitFor(
      () => prop(deviceStatus(t.store, 'thermo-x'), 'setpoint')?.reported?.value === '26',
      'delta written',
    );
    expect(srv.writes).toContain('wrote 10 26');
    await srv.stop();
    await waitFor(() => online(deviceStatus(t.store, 'thermo-x')) === 'False', 'offline via state/update');
  });
});
