import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  CoalescingLimiter,
  decodeRegisters,
  deviceSchema,
  deviceModelSchema,
  encodeRegisters,
  formatValue,
  getPath,
  modbusVisitorSchema,
  parseDeviceStatusPayload,
  parseTopic,
  deviceTopic,
  parseValue,
  sameValue,
  setCondition,
  setPath,
  MODBUS_DATA_TYPES,
  PROTOCOLS,
  PROPERTY_TYPES,
  MODBUS_REGISTERS,
} from '../../src/devices/index.js';

interface Schema {
  type?: string;
  enum?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
}
interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string };
    versions: {
      name: string;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const crds = parseAllDocuments(readFileSync('deploy/crds/devices.tether.dev.yaml', 'utf8')).map(
  (d) => d.toJSON() as Crd,
);
const crd = (kind: string): Crd => {
  const c = crds.find((x) => x.spec.names.kind === kind);
  if (c === undefined) throw new Error(kind);
  return c;
};
const at = (s: Schema | undefined, ...path: string[]): Schema => {
  let cur = s;
  for (const p of path) cur = p === '[]' ? cur?.items : cur?.properties?.[p];
  if (cur === undefined) throw new Error(path.join('.'));
  return cur;
};

const model = {
  apiVersion: 'devices.tether.dev/v1alpha1',
  kind: 'DeviceModel',
  metadata: { name: 'thermostat', namespace: 'default' },
  spec: {
    properties: [
      { name: 'temperature', type: 'float', unit: 'C', minimum: -40, maximum: 125 },
      { name: 'setpoint', type: 'int', accessMode: 'ReadWrite', minimum: 5, maximum: 35 },
    ],
  },
};
const device = {
  apiVersion: 'devices.tether.dev/v1alpha1',
  kind: 'Device',
  metadata: { name: 'thermo-1', namespace: 'default' },
  spec: {
    nodeName: 'edge-1',
    deviceModelRef: { name: 'thermostat' },
    protocol: { type: 'modbusTCP', modbusTCP: { host: '127.0.0.1', port: 1502 } },
    properties: [
      {
        name: 'temperature',
        visitor: { modbus: { register: 'InputRegister', address: 0, dataType: 'int16', scale: 0.1 } },
      },
      {
        name: 'setpoint',
        desired: { value: '21' },
        visitor: { modbus: { register: 'HoldingRegister', address: 10 } },
      },
    ],
  },
};

describe('devices/crd', () => {
  it('devices/crd — both CRDs are in group devices.tether.dev v1alpha1 with the right names', () => {
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'devicemodels.devices.tether.dev',
      'devices.devices.tether.dev',
    ]);
    for (const c of crds) {
      expect(c.spec.group).toBe('devices.tether.dev');
      expect(c.spec.versions.map((v) => v.name)).toEqual(['v1alpha1']);
    }
  });

  it('devices/crd — Device has a status subresource and the printer columns kubectl shows', () => {
    const v = crd('Device').spec.versions[0];
    expect(v?.subresources?.status).toEqual({});
    const cols = Object.fromEntries((v?.additionalPrinterColumns ?? []).map((c) => [c.name, c.jsonPath]));
    expect(cols).toMatchObject({
      Node: '.spec.nodeName',
      Model: '.spec.deviceModelRef.name',
      Protocol: '.spec.protocol.type',
      Online: '.status.conditions[?(@.type=="Online")].status',
      Age: '.metadata.creationTimestamp',
    });
  });

  it('devices/crd — enums in the CRD equal the TypeScript ones', () => {
    const dev = crd('Device').spec.versions[0]?.schema.openAPIV3Schema;
    const mdl = crd('DeviceModel').spec.versions[0]?.schema.openAPIV3Schema;
    expect(at(mdl, 'spec', 'properties', '[]', 'type').enum).toEqual([...PROPERTY_TYPES]);
    expect(at(dev, 'spec', 'protocol', 'type').enum).toEqual([...PROTOCOLS]);
    const modbus = at(dev, 'spec', 'properties', '[]', 'visitor', 'modbus');
    expect(at(modbus, 'register').enum).toEqual([...MODBUS_REGISTERS]);
    expect(at(modbus, 'dataType').enum).toEqual([...MODBUS_DATA_TYPES]);
    expect(at(dev, 'status', 'conditions', '[]', 'type').enum).toEqual(['Online', 'Synced']);
    // every field of the zod visitor is in the CRD, and nothing more
    expect(Object.keys(modbus.properties ?? {}).sort()).toEqual(
      Object.keys(modbusVisitorSchema.shape).sort(),
    );
  });
});

describe('devices/types', () => {
  it('devices/types — a model and a Modbus device parse, with defaults filled', () => {
    const m = deviceModelSchema.parse(model);
    expect(m.spec.properties[0]?.accessMode).toBe('ReadOnly');
    const d = deviceSchema.parse(device);
    expect(d.spec.collectIntervalMs).toBe(5000);
    expect(d.spec.properties[1]?.visitor.modbus).toMatchObject({
      dataType: 'uint16',
      scale: 1,
      byteOrder: 'BigEndian',
    });
  });

  it('devices/types — bad specs are refused with the field that is wrong', () => {
    const noConn = { ...device, spec: { ...device.spec, protocol: { type: 'modbusTCP' } } };
    const r = deviceSchema.safeParse(noConn);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('modbusTCP');
    const dup = { ...model, spec: { properties: [model.spec.properties[0], model.spec.properties[0]] } };
    expect(JSON.stringify(deviceModelSchema.safeParse(dup).error?.issues)).toContain('duplicate property');
    const p0 = device.spec.properties[0];
    const dupDevice = { ...device, spec: { ...device.spec, properties: [p0, p0] } };
    expect(JSON.stringify(deviceSchema.safeParse(dupDevice).error?.issues)).toContain('duplicate property');
    const unknown = { ...device, spec: { ...device.spec, bogus: 1 } };
    expect(deviceSchema.safeParse(unknown).success).toBe(false);
  });
});

describe('devices/values', () => {
  const setpoint = { name: 'setpoint', type: 'int' as const, minimum: 5, maximum: 35 };
  it('devices/values — typed parsing with min/max and a specific reason', () => {
    expect(parseValue(setpoint, '21')).toEqual({ ok: true, value: 21 });
    expect(parseValue(setpoint, '99')).toEqual({ ok: false, reason: 'setpoint: 99 is above the maximum 35' });
    expect(parseValue(setpoint, '2.5')).toMatchObject({ ok: false, reason: 'setpoint: "2.5" is not an int' });
    expect(parseValue({ name: 'b', type: 'boolean' }, 'TRUE')).toEqual({ ok: true, value: true });
    expect(parseValue({ name: 'f', type: 'float' }, 'NaN').ok).toBe(false);
    expect(parseValue({ name: 'f', type: 'float' }, '')).toMatchObject({ ok: false });
  });
  it('devices/values — formatting and sameness tolerate float32 round trips', () => {
    expect(formatValue('float', 0.1 + 0.2)).toBe('0.3');
    expect(sameValue('float', '25', '25.0000001')).toBe(true);
    expect(sameValue('float', '25', '25.1')).toBe(false);
    expect(sameValue('string', 'a', 'b')).toBe(false);
  });
});

describe('devices/modbus-codec', () => {
  const v = (o: object) => modbusVisitorSchema.parse({ register: 'HoldingRegister', address: 0, ...o });
  it('devices/modbus-codec — every data type, byte and word order round-trips', () => {
    const cases: [object, number][] = [
      [{ dataType: 'int16' }, -1234],
      [{ dataType: 'uint16', byteOrder: 'LittleEndian' }, 0xabcd],
      [{ dataType: 'int32', wordOrder: 'LittleEndian' }, -70000],
      [{ dataType: 'uint32', byteOrder: 'LittleEndian', wordOrder: 'LittleEndian' }, 4000000000],
      [{ dataType: 'float32' }, 21.5],
      [{ dataType: 'int16', scale: 0.1, offset: -40 }, 21.5],
    ];
    for (const [o, value] of cases) {
      const vis = v(o);
      const enc = encodeRegisters(value, vis);
      expect(enc.ok).toBe(true);
      if (enc.ok) expect(decodeRegisters(enc.words, vis)).toBeCloseTo(value, 5);
    }
  });
  it('devices/modbus-codec — known wire layouts decode as devices send them', () => {
    // 0x41AC0000 = 21.5f; word-swapped devices send 0x0000 0x41AC
    expect(decodeRegisters([0x41ac, 0x0000], v({ dataType: 'float32' }))).toBe(21.5);
    expect(decodeRegisters([0x0000, 0x41ac], v({ dataType: 'float32', wordOrder: 'LittleEndian' }))).toBe(
      21.5,
    );
    expect(decodeRegisters([0xac41, 0x0000], v({ dataType: 'float32', byteOrder: 'LittleEndian' }))).toBe(
      21.5,
    );
    expect(decodeRegisters([0xfffe], v({ dataType: 'int16' }))).toBe(-2);
    expect(decodeRegisters([0xfffe], v({ dataType: 'uint16' }))).toBe(65534);
    expect(decodeRegisters([215], v({ dataType: 'uint16', scale: 0.1 }))).toBeCloseTo(21.5);
  });
  it('devices/modbus-codec — values outside the register type are refused', () => {
    expect(encodeRegisters(70000, v({ dataType: 'int16' }))).toMatchObject({ ok: false });
    expect(encodeRegisters(-1, v({ dataType: 'uint16' }))).toMatchObject({ ok: false });
  });
});

describe('devices/kubeedge', () => {
  it('devices/kubeedge — plain and namespaced device topics parse, others do not', () => {
    expect(parseTopic('$hw/events/device/thermo-1/twin/update')).toEqual({
      kind: 'device',
      device: { name: 'thermo-1' },
      suffix: 'twin/update',
    });
    expect(parseTopic('$hw/events/device/default/thermo-1/twin/get')).toEqual({
      kind: 'device',
      device: { namespace: 'default', name: 'thermo-1' },
      suffix: 'twin/get',
    });
    // a device named "twin" in the namespaced form
    expect(parseTopic('$hw/events/device/ns/twin/twin/update')).toMatchObject({
      device: { namespace: 'ns', name: 'twin' },
    });
    expect(parseTopic('$hw/events/node/edge-1/membership/get')).toEqual({
      kind: 'membership',
      node: 'edge-1',
      op: 'get',
    });
    expect(parseTopic('$hw/events/device/x/bogus')).toBeUndefined();
    expect(parseTopic('other/topic')).toBeUndefined();
    expect(deviceTopic({ namespace: 'a', name: 'b' }, 'twin/update/delta')).toBe(
      '$hw/events/device/a/b/twin/update/delta',
    );
  });
  it('devices/jsonpath — get and set by dot path', () => {
    expect(getPath({ a: { b: [1, { c: 7 }] } }, '$.a.b.1.c')).toBe(7);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(setPath('a.b', 3)).toEqual({ a: { b: 3 } });
  });
});

describe('devices/status', () => {
  it('devices/status — a condition keeps its transition time while its status holds', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const t2 = new Date('2026-01-01T00:01:00Z');
    const a = setCondition([], { type: 'Online', status: 'True', reason: 'Reachable' }, t1);
    const b = setCondition(a, { type: 'Online', status: 'True', reason: 'Reachable' }, t2);
    expect(b[0]?.lastTransitionTime).toBe(t1.toISOString());
    const c = setCondition(b, { type: 'Online', status: 'False', reason: 'Timeout' }, t2);
    expect(c[0]?.lastTransitionTime).toBe(t2.toISOString());
  });
  it('devices/status — the coalescing limiter emits at most once per interval, always the latest', () => {
    const l = new CoalescingLimiter<number>(10_000);
    expect(l.offer('d', 1, 0)).toBe(1);
    expect(l.offer('d', 2, 1000)).toBeUndefined();
    expect(l.offer('d', 3, 2000)).toBeUndefined();
    expect(l.due(5000)).toEqual([]);
    expect(l.due(10_000)).toEqual([['d', 3]]);
    expect(l.offer('d', 4, 11_000, true)).toBe(4);
    expect(l.parked).toBe(0);
  });
  it('devices/status — the cloud refuses a malformed deviceStatus payload with a reason', () => {
    const bad = parseDeviceStatusPayload({ conditions: [{ type: 'Bogus', status: 'True' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toContain('conditions.0.type');
    expect(
      parseDeviceStatusPayload({ properties: [{ name: 'x', reported: { value: '1', timestamp: 'T' } }] }).ok,
    ).toBe(true);
  });
});
