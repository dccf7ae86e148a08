import { afterEach, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import type { DeviceStatus } from '../../../src/devices/index.js';
import { DeviceManager, deviceKey, type DeviceManagerConfig } from '../../../src/edge/devices/index.js';
import { TwinStore } from '../../../src/edge/store/twins.js';
import { keyId } from '../../../src/protocol/index.js';
import type { EdgeStore } from '../../../src/edge/store/index.js';
import {
  ModbusProcess,
  Mosquitto,
  freePort,
  mosquittoPub,
  put,
  recorder,
  tempStore,
  waitFor,
} from './helpers.js';

const NS = 'default';
const model = {
  apiVersion: 'devices.tether.dev/v1alpha1',
  kind: 'DeviceModel',
  metadata: { name: 'thermostat', namespace: NS },
  spec: {
    properties: [
      { name: 'temperature', type: 'float', unit: 'C' },
      { name: 'offset', type: 'int' },
      { name: 'setpoint', type: 'int', accessMode: 'ReadWrite', minimum: 5, maximum: 35 },
      { name: 'flow', type: 'float', accessMode: 'ReadWrite' },
    ],
  },
};
function modbusDevice(name: string, port: number, desired: Record<string, string> = {}, extra: object = {}) {
  const d = (p: string) => (desired[p] === undefined ? {} : { desired: { value: desired[p] } });
  return {
    apiVersion: 'devices.tether.dev/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace: NS, generation: 1 },
    spec: {
      nodeName: 'edge-1',
      deviceModelRef: { name: 'thermostat' },
      protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port } },
      collectIntervalMs: 300,
      timeoutMs: 300,
      properties: [
        {
          name: 'temperature',
          visitor: { modbus: { register: 'InputRegister', address: 0, dataType: 'int16', scale: 0.1 } },
        },
        { name: 'offset', visitor: { modbus: { register: 'InputRegister', address: 1, dataType: 'int16' } } },
        {
          name: 'setpoint',
          ...d('setpoint'),
          visitor: { modbus: { register: 'HoldingRegister', address: 10, dataType: 'uint16' } },
        },
        {
          name: 'flow',
          ...d('flow'),
          visitor: { modbus: { register: 'HoldingRegister', address: 20, dataType: 'float32' } },
        },
      ],
      ...extra,
    },
  };
}

function deviceStatus(store: EdgeStore, name: string): DeviceStatus | undefined {
  const item = store.pending(1000).find((i) => i.write.type === 'deviceStatus' && i.key.name === name);
  return item?.write.payload;
}
const reported = (s: DeviceStatus | undefined, p: string) =>
  s?.properties?.find((x) => x.name === p)?.reported?.value;
const cond = (s: DeviceStatus | undefined, t: string) => s?.conditions?.find((c) => c.type === t);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(config: Partial<DeviceManagerConfig> = {}) {
  const t = tempStore();
  cleanups.push(t.cleanup);
  const registry = createRegistry();
  const mgr = new DeviceManager({
    config: {
      nodeName: 'edge-1',
      bus: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      statusIntervalMs: 0,
      ...config,
    },
    store: t.store,
    logger: silentLogger(),
    registry,
  });
  await mgr.start();
  cleanups.push(() => mgr.stop());
  return { ...t, mgr, registry };
}

async function modbus(port = 0) {
  const m = await ModbusProcess.start(port);
  cleanups.push(() => m.stop());
  return m;
}

describe('edge/devices manager with a Modbus TCP device', () => {
  it('devices — register values become reported twins and a deviceStatus within two collection intervals', async () => {
    const srv = await modbus();
    const { store, mgr } = await setup();
    put(store, model);
    // collection every 2 s: the values must be there within two intervals
    put(store, modbusDevice('thermo-1', srv.port, {}, { collectIntervalMs: 2000 }));
    const s = await waitFor(
      () => {
        const st = deviceStatus(store, 'thermo-1');
        return reported(st, 'temperature') !== undefined && reported(st, 'flow') !== undefined && st;
      },
      'deviceStatus with values',
      2 * 2000,
    );
    expect(reported(s, 'temperature')).toBe('21.5');
    expect(reported(s, 'offset')).toBe('-2');
    expect(reported(s, 'setpoint')).toBe('20');
    expect(reported(s, 'flow')).toBe('21.5');
    expect(cond(s, 'Online')).toMatchObject({ status: 'True', reason: 'Reachable' });
    const twin = mgr.twin(NS, 'thermo-1');
    expect(twin?.rows.find((r) => r.property === 'temperature')?.reported).toBe('21.5');
    // a changed register shows up too
    srv.set('input', 0, 250);
    await waitFor(
      () => reported(deviceStatus(store, 'thermo-1'), 'temperature') === '25',
      'new temperature',
      2 * 2000,
    );
    expect(mgr.history(NS, 'thermo-1', 'temperature').map((x) => x.value)).toContain('25');
  });

  it('devices — a desired value is written to the Modbus server, read back and reported as Synced', async () => {
    const srv = await modbus();
    const { store } = await setup();
    put(store, model);
    put(store, modbusDevice('thermo-2', srv.port, { setpoint: '23', flow: '12.25' }));
    const s = await waitFor(() => {
      const st = deviceStatus(store, 'thermo-2');
      return cond(st, 'Synced')?.status === 'True' && st;
    }, 'Synced=True');
    expect(reported(s, 'setpoint')).toBe('23');
    expect(reported(s, 'flow')).toBe('12.25');
    expect(s.properties?.find((p) => p.name === 'setpoint')?.desired?.value).toBe('23');
    expect(srv.writes).toContain('wrote 10 23');
    // 12.25f = 0x41440000, high word first
    expect(srv.writes).toContain(`wrote 20 ${String(0x4144)}`);
    // a changed desired value (kubectl patch → sync) is written too
    put(store, modbusDevice('thermo-2', srv.port, { setpoint: '30', flow: '12.25' }));
    await waitFor(() => reported(deviceStatus(store, 'thermo-2'), 'setpoint') === '30', 'setpoint 30');
    expect(srv.writes).toContain('wrote 10 30');
  });

  it('devices — stopping the Modbus server turns the device Online=False, restarting turns it back', async () => {
    const srv = await modbus();
    const { store, mgr } = await setup();
    put(store, model);
    put(store, modbusDevice('thermo-3', srv.port));
    await waitFor(() => cond(deviceStatus(store, 'thermo-3'), 'Online')?.status === 'True', 'online');
    await srv.stop();
    const off = await waitFor(() => {
      const c = cond(deviceStatus(store, 'thermo-3'), 'Online');
      return c?.status === 'False' && c;
    }, 'offline');
    expect(['Timeout', 'Unreachable']).toContain(off.reason);
    expect(mgr.health()).toMatchObject({
      running: true,
      busConnected: true,
      devices: 1,
      online: 0,
      offline: 1,
    });
    expect(off.message).toContain('thermo-3');
    await modbus(srv.port);
    await waitFor(() => cond(deviceStatus(store, 'thermo-3'), 'Online')?.status === 'True', 'online again');
    expect(deviceStatus(store, 'thermo-3')?.lastOnlineTime).toBeDefined();
  });

  it('devices — an out-of-range desired value is refused with a reason; the device keeps working', async () => {
    const srv = await modbus();
    const { store, registry } = await setup();
    put(store, model);
    put(store, modbusDevice('thermo-4', srv.port, { setpoint: '99' }));
    const s = await waitFor(() => {
      const st = deviceStatus(store, 'thermo-4');
      return (
        cond(st, 'Synced')?.reason === 'InvalidDesired' && reported(st, 'temperature') !== undefined && st
      );
    }, 'InvalidDesired');
    expect(cond(s, 'Synced')?.message).toBe('setpoint: 99 is above the maximum 35');
    expect(srv.writes).toEqual([]);
    expect(reported(s, 'setpoint')).toBe('20');
    const metric = await registry.getSingleMetricAsString('tether_device_rejected_total');
    expect(metric).toContain('reason="outOfRange"} 1');
  });
});

describe('edge/devices manager and the MQTT bus', () => {
  const simModel = {
    apiVersion: 'devices.tether.dev/v1alpha1',
    kind: 'DeviceModel',
    metadata: { name: 'meter', namespace: NS },
    spec: {
      properties: [
        { name: 'power', type: 'float' },
        { name: 'limit', type: 'int', accessMode: 'ReadWrite', minimum: 0, maximum: 100 },
      ],
    },
  };
  const busDevice = (name: string, desired?: string) => ({
    apiVersion: 'devices.tether.dev/v1alpha1',
    kind: 'Device',
    metadata: { name, namespace: NS },
    spec: {
      nodeName: 'edge-1',
      deviceModelRef: { name: 'meter' },
      protocol: { type: 'mqtt' },
      collectIntervalMs: 1000,
      properties: [
        { name: 'power' },
        { name: 'limit', ...(desired === undefined ? {} : { desired: { value: desired } }) },
      ],
    },
  });

  it('devices — a KubeEdge-style twin update from mosquitto_pub updates the reported value; a desired change publishes a delta', async () => {
    // devices served by a mapper process on the bus: the manager only speaks MQTT for them
    const { store, mgr } = await setup({ externalProtocols: ['mqtt'] });
    const port = Number(new URL(mgr.bus.url).port);
    put(store, simModel);
    put(store, busDevice('meter-1'));
    const rec = await recorder(mgr.bus.url, ['$hw/events/device/#']);
    cleanups.push(() => rec.client.endAsync());
    const update = JSON.stringify({
      event_id: 'e1',
      timestamp: Date.now(),
      twin: { power: { actual: { value: '1234.5' }, metadata: { type: 'Updated' } } },
    });
    expect(await mosquittoPub(port, '$hw/events/device/meter-1/twin/update', update)).toBe(0);
    const s = await waitFor(() => {
      const st = deviceStatus(store, 'meter-1');
      return reported(st, 'power') === '1234.5' && st;
    }, 'reported power');
    expect(cond(s, 'Online')?.status).toBe('True');
    const result = await waitFor(
      () => rec.got.find((m) => m.topic === '$hw/events/device/meter-1/twin/update/result'),
      'update result',
    );
    expect(JSON.parse(result.body)).toMatchObject({
      event_id: 'e1',
      twin: { power: { actual: { value: '1234.5' } } },
    });
    // desired change in the spec → a delta on both topic forms
    put(store, busDevice('meter-1', '42'));
    const delta = await waitFor(
      () => rec.got.find((m) => m.topic === '$hw/events/device/meter-1/twin/update/delta'),
      'delta',
    );
    expect(JSON.parse(delta.body)).toMatchObject({
      delta: { limit: '42' },
      twin: { limit: { expected: { value: '42' }, metadata: { type: 'int' } } },
    });
    expect(rec.got.some((m) => m.topic === '$hw/events/device/default/meter-1/twin/update/delta')).toBe(true);
    // twin/get answers with the whole twin
    const c = await connectAsync(mgr.bus.url, { reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    await c.publishAsync(
      '$hw/events/device/default/meter-1/twin/get',
      JSON.stringify({ event_id: 'g1', timestamp: 1 }),
    );
    const got = await waitFor(
      () => rec.got.find((m) => m.topic === '$hw/events/device/default/meter-1/twin/get/result'),
      'get result',
    );
    expect(JSON.parse(got.body)).toMatchObject({
      event_id: 'g1',
      twin: { power: { actual: { value: '1234.5' } }, limit: { expected: { value: '42' } } },
    });
  });

  it('devices — malformed payloads, unknown devices and properties are refused without disturbing others', async () => {
    const { store, mgr, registry } = await setup({ externalProtocols: ['mqtt'] });
    put(store, simModel);
    put(store, busDevice('meter-2'));
    const c = await connectAsync(mgr.bus.url, { reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync());
    const rec = await recorder(mgr.bus.url, ['$hw/events/device/meter-2/twin/update/result']);
    cleanups.push(() => rec.client.endAsync());
    await c.publishAsync('$hw/events/device/meter-2/twin/update', '{not json');
    await c.publishAsync('$hw/events/device/meter-2/twin/update', JSON.stringify({ twin: 'nope' }));
    await c.publishAsync(
      '$hw/events/device/ghost/twin/update',
      JSON.stringify({ twin: { power: { actual: { value: '1' } } } }),
    );
    await c.publishAsync(
      '$hw/events/device/meter-2/twin/update',
      JSON.stringify({ twin: { bogus: { actual: { value: '1' } } } }),
    );
    await c.publishAsync(
      '$hw/events/device/meter-2/twin/update',
      JSON.stringify({ twin: { power: { actual: { value: 'hot' } } } }),
    );
    await c.publishAsync(
      '$hw/events/device/meter-2/twin/update',
      JSON.stringify({ twin: { power: { actual: { value: '7' } } } }),
    );
    await waitFor(() => reported(deviceStatus(store, 'meter-2'), 'power') === '7', 'the good update');
    const text = await registry.getSingleMetricAsString('tether_device_rejected_total');
    expect(text).toContain('reason="malformed"} 2');
    expect(text).toContain('reason="unknownDevice"} 1');
    expect(text).toContain('reason="unknownProperty"} 1');
    expect(text).toContain('reason="invalidValue"} 1');
    const failures = await waitFor(
      () =>
        rec.got.length >= 5 && rec.got.map((m) => JSON.parse(m.body) as { code?: number; reason?: string }),
      'results',
    );
    expect(failures.filter((f) => f.code === 400).map((f) => f.reason)).toContain(
      'power: "hot" is not a finite number',
    );
  });

  it("devices — membership get lists the node's devices with their twins", async () => {
    const { store, mgr } = await setup({ externalProtocols: ['mqtt'] });
    put(store, simModel);
    put(store, busDevice('meter-3', '5'));
    const rec = await recorder(mgr.bus.url, ['$hw/events/node/edge-1/membership/#']);
    cleanups.push(() => rec.client.endAsync());
    await rec.client.publishAsync(
      '$hw/events/node/edge-1/membership/get',
      JSON.stringify({ event_id: 'm1' }),
    );
    const r = await waitFor(
      () => rec.got.find((m) => m.topic.endsWith('membership/get/result')),
      'membership',
    );
    const body = JSON.parse(r.body) as {
      event_id: string;
      devices: { id: string; twin: Record<string, unknown>; tether: { namespace: string } }[];
    };
    expect(body.event_id).toBe('m1');
    expect(body.devices.map((d) => d.id)).toEqual(['meter-3']);
    expect(body.devices[0]?.tether.namespace).toBe(NS);
    expect(body.devices[0]?.twin).toHaveProperty('limit');
  });

  it('devices — the embedded broker refuses MQTT 5 clients (aedes speaks 3.1.1 only)', async () => {
    const { mgr } = await setup();
    await expect(
      connectAsync(mgr.bus.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 2000 }),
    ).rejects.toThrow();
    const ok = await connectAsync(mgr.bus.url, { protocolVersion: 4, reconnectPeriod: 0 });
    await ok.endAsync();
  });

  it('devices — with an external mosquitto broker an MQTT 5 device app updates the twin', async () => {
    const mosq = await Mosquitto.start();
    cleanups.push(() => mosq.stop());
    const { store } = await setup({ bus: { mode: 'external', url: mosq.url }, externalProtocols: ['mqtt'] });
    put(store, simModel);
    put(store, busDevice('meter-4'));
    const app = await connectAsync(mosq.url, { protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(() => app.endAsync());
    await app.publishAsync(
      '$hw/events/device/default/meter-4/twin/update',
      JSON.stringify({ event_id: 'x', timestamp: 1, twin: { power: { actual: { value: '3.5' } } } }),
    );
    await waitFor(() => reported(deviceStatus(store, 'meter-4'), 'power') === '3.5', 'power via mosquitto');
    await app.publishAsync(
      '$hw/events/device/meter-4/state/update',
      JSON.stringify({ event_id: 's', state: 'offline' }),
    );
    await waitFor(
      () => cond(deviceStatus(store, 'meter-4'), 'Online')?.status === 'False',
      'offline by state/update',
    );
  });
});

describe('edge/devices other mappers', () => {
  it("devices — an MQTT-native device: JSON path reads, and a write confirmed by the device's echo", async () => {
    const { store, mgr } = await setup();
    const dev = await connectAsync(mgr.bus.url, { reconnectPeriod: 0 });
    cleanups.push(() => dev.endAsync());
    // the "device": publishes its state every 100 ms, applies writes from its command topic
    let level = 3;
    await dev.subscribeAsync('plant/pump/cmd');
    dev.on('message', (_t, p) => {
      level = (JSON.parse(p.toString()) as { level: number }).level;
    });
    const timer = setInterval(() => {
      dev.publish('plant/pump/state', JSON.stringify({ sensors: { rpm: 1500 }, level }));
    }, 100);
    cleanups.push(() => {
      clearInterval(timer);
    });
    put(store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'DeviceModel',
      metadata: { name: 'pump', namespace: NS },
      spec: {
        properties: [
          { name: 'rpm', type: 'int' },
          { name: 'level', type: 'int', accessMode: 'ReadWrite' },
        ],
      },
    });
    put(store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: { name: 'pump-1', namespace: NS },
      spec: {
        nodeName: 'edge-1',
        deviceModelRef: { name: 'pump' },
        protocol: { type: 'mqtt' },
        collectIntervalMs: 200,
        timeoutMs: 1000,
        properties: [
          { name: 'rpm', visitor: { mqtt: { topic: 'plant/pump/state', jsonPath: 'sensors.rpm' } } },
          {
            name: 'level',
            desired: { value: '7' },
            visitor: { mqtt: { topic: 'plant/pump/state', jsonPath: 'level', writeTopic: 'plant/pump/cmd' } },
          },
        ],
      },
    });
    const s = await waitFor(() => {
      const st = deviceStatus(store, 'pump-1');
      return cond(st, 'Synced')?.status === 'True' && st;
    }, 'pump synced');
    expect(reported(s, 'rpm')).toBe('1500');
    expect(reported(s, 'level')).toBe('7');
    expect(level).toBe(7);
  });

  it('devices — a simulated device, status writes rate-limited per device', async () => {
    const { store, registry, mgr } = await setup({ statusIntervalMs: 60_000 });
    put(store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'DeviceModel',
      metadata: { name: 'sim', namespace: NS },
      spec: { properties: [{ name: 'wave', type: 'float' }] },
    });
    put(store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: { name: 'sim-1', namespace: NS },
      spec: {
        nodeName: 'edge-1',
        deviceModelRef: { name: 'sim' },
        protocol: { type: 'simulated' },
        collectIntervalMs: 100,
        properties: [
          { name: 'wave', visitor: { simulated: { pattern: 'randomWalk', base: 10, amplitude: 1 } } },
        ],
      },
    });
    await new Promise((r) => setTimeout(r, 1200));
    const reads = await registry.getSingleMetricAsString('tether_device_reads_total');
    const n = Number(/result="ok"} (\d+)/.exec(reads)?.[1]);
    expect(n).toBeGreaterThanOrEqual(8);
    const writes = await registry.getSingleMetricAsString('tether_device_status_writes_total');
    // the first status and the Online flip go at once; every later value waits for the interval
    expect(Number(/ (\d+)$/m.exec(writes)?.[1])).toBeLessThanOrEqual(3);
    expect(store.pending(100).filter((i) => i.write.type === 'deviceStatus')).toHaveLength(1);
    // nobody acks the outbox (the link is down): on stop the parked latest status still goes in,
    // replacing the queued one, so the cloud gets the latest value when the link returns
    await mgr.stop();
    const twin = new TwinStore(store).twins(keyId(deviceKey(NS, 'sim-1')));
    const items = store.pending(100).filter((i) => i.write.type === 'deviceStatus');
    expect(items).toHaveLength(1);
    expect(reported(items[0]?.write.payload, 'wave')).toBe(twin[0]?.reported);
  });
});

describe('edge/devices twins survive a restart', () => {
  it('devices — reported values and history are in the SQLite file after the manager and store reopen', async () => {
    const t = tempStore();
    cleanups.push(t.cleanup);
    const port = await freePort();
    const mgr = new DeviceManager({
      config: {
        nodeName: 'edge-1',
        bus: { mode: 'embedded', host: '127.0.0.1', port },
        statusIntervalMs: 0,
        historySize: 3,
      },
      store: t.store,
      logger: silentLogger(),
    });
    await mgr.start();
    put(t.store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'DeviceModel',
      metadata: { name: 'sim', namespace: NS },
      spec: { properties: [{ name: 'n', type: 'int' }] },
    });
    put(t.store, {
      apiVersion: 'devices.tether.dev/v1alpha1',
      kind: 'Device',
      metadata: { name: 'sim-2', namespace: NS },
      spec: {
        nodeName: 'edge-1',
        deviceModelRef: { name: 'sim' },
        protocol: { type: 'simulated' },
        collectIntervalMs: 100,
        properties: [
          { name: 'n', visitor: { simulated: { pattern: 'randomWalk', base: 0, amplitude: 100 } } },
        ],
      },
    });
    await waitFor(() => mgr.history(NS, 'sim-2', 'n').length === 3, 'three samples');
    await new Promise((r) => setTimeout(r, 500));
    const hist = mgr.history(NS, 'sim-2', 'n');
    expect(hist).toHaveLength(3); // the ring is bounded
    expect(hist[0]!.at).toBeLessThanOrEqual(hist[2]!.at);
    await mgr.stop();
    const last = mgr.twin(NS, 'sim-2');
    expect(last).toBeUndefined();
    t.store.close();
    t.store.open();
    const again = new DeviceManager({
      config: { nodeName: 'edge-1', bus: { mode: 'embedded', host: '127.0.0.1', port: 0 } },
      store: t.store,
      logger: silentLogger(),
    });
    await again.start();
    cleanups.push(() => again.stop());
    expect(again.twin(NS, 'sim-2')?.rows[0]?.reported).toBeDefined();
  });
});
