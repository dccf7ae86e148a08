import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';

/**
 * The device API (issue 9, DESIGN §5): group `devices.tether.dev`, version `v1alpha1`.
 * These zod schemas are the TypeScript side of deploy/crds/devices.tether.dev.yaml; the two
 * must accept the same objects (test/devices/crd.test.ts checks the CRD against them).
 * Values travel as strings, as in KubeEdge's twins, and are typed by the model's property type.
 * Each schema is built by its `build…` function when first used and not kept (lazySchema: issue
 * 12, the edge's footprint); a schema made of others calls their builders.
 */
export const DEVICE_GROUP = 'devices.tether.dev';
export const DEVICE_VERSION = 'v1alpha1';
export const DEVICE_API_VERSION = `${DEVICE_GROUP}/${DEVICE_VERSION}`;

export const PROPERTY_TYPES = ['int', 'float', 'string', 'boolean'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];
export const ACCESS_MODES = ['ReadOnly', 'ReadWrite'] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];
export const PROTOCOLS = ['modbusTCP', 'mqtt', 'simulated'] as const;
export type ProtocolType = (typeof PROTOCOLS)[number];

// Kubernetes names (RFC 1123 subdomain for objects, label-ish for property names so they can be MQTT topic levels).
const objectName = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

/** Property names are keys (of the twin, of MQTT topics): a duplicate is refused where it stands. */
function uniquePropertyNames(properties: readonly { name: string }[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [i, p] of properties.entries()) {
    if (seen.has(p.name))
      ctx.addIssue({
        code: 'custom',
        path: ['properties', i, 'name'],
        message: `duplicate property ${p.name}`,
      });
    seen.add(p.name);
  }
}
const buildPropertyNameSchema = () =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/);
export const propertyNameSchema = lazySchema(buildPropertyNameSchema);

const buildModelPropertySchema = () =>
  z.strictObject({
    name: buildPropertyNameSchema(),
    type: z.enum(PROPERTY_TYPES),
    accessMode: z.enum(ACCESS_MODES).default('ReadOnly'),
    unit: z.string().max(32).optional(),
    description: z.string().max(1024).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  });
export const modelPropertySchema = lazySchema(buildModelPropertySchema);
export type ModelProperty = z.infer<typeof modelPropertySchema>;

const buildDeviceModelSpecSchema = () =>
  z
    .strictObject({
      protocol: z.enum(PROTOCOLS).optional(),
      properties: z.array(buildModelPropertySchema()).min(1).max(1024),
    })
    .superRefine((spec, ctx) => {
      uniquePropertyNames(spec.properties, ctx);
      for (const [i, p] of spec.properties.entries()) {
        if (p.minimum !== undefined && p.maximum !== undefined && p.minimum > p.maximum)
          ctx.addIssue({ code: 'custom', path: ['properties', i], message: 'minimum > maximum' });
      }
    });
export const deviceModelSpecSchema = lazySchema(buildDeviceModelSpecSchema);
export type DeviceModelSpec = z.infer<typeof deviceModelSpecSchema>;

// ── visitors: how one property is reached on the device ─────────────────────────────────

export const MODBUS_REGISTERS = ['HoldingRegister', 'InputRegister', 'Coil', 'DiscreteInput'] as const;
export type ModbusRegister = (typeof MODBUS_REGISTERS)[number];
export const MODBUS_DATA_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'boolean'] as const;
export type ModbusDataType = (typeof MODBUS_DATA_TYPES)[number];
export const BYTE_ORDERS = ['BigEndian', 'LittleEndian'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

const buildModbusVisitorSchema = () =>
  z.strictObject({
    register: z.enum(MODBUS_REGISTERS),
    /** 0-based protocol address of the (first) register or bit. */
    address: z.number().int().min(0).max(65535),
    dataType: z.enum(MODBUS_DATA_TYPES).default('uint16'),
    /** engineering value = raw × scale + offset */
    scale: z.number().default(1),
    offset: z.number().default(0),
    /** order of the two bytes inside each 16-bit register (Modbus itself is big-endian) */
    byteOrder: z.enum(BYTE_ORDERS).default('BigEndian'),
    /** order of the registers of a 32-bit value: BigEndian = high word first */
    wordOrder: z.enum(BYTE_ORDERS).default('BigEndian'),
  });
export const modbusVisitorSchema = lazySchema(buildModbusVisitorSchema);
export type ModbusVisitor = z.infer<typeof modbusVisitorSchema>;

const buildMqttVisitorSchema = () =>
  z.strictObject({
    /** topic the device publishes its JSON on */
    topic: z.string().min(1).max(1024),
    /** dot path into the JSON payload (`a.b.0.c`); empty or `$` means the whole payload */
    jsonPath: z.string().max(256).default(''),
    /** topic to publish desired values to; `{jsonPath: value}` as JSON (ReadWrite only) */
    writeTopic: z.string().min(1).max(1024).optional(),
  });
export const mqttVisitorSchema = lazySchema(buildMqttVisitorSchema);
export type MqttVisitor = z.infer<typeof mqttVisitorSchema>;

export const SIM_PATTERNS = ['sine', 'randomWalk', 'step', 'constant'] as const;
export type SimPattern = (typeof SIM_PATTERNS)[number];
const buildSimulatedVisitorSchema = () =>
  z.strictObject({
    pattern: z.enum(SIM_PATTERNS).default('sine'),
    /** sine: mid-point; randomWalk: start; step: first level; constant: the value */
    base: z.number().default(0),
    /** sine amplitude, random-walk max step, step height */
    amplitude: z.number().min(0).default(1),
    periodMs: z.number().int().min(1).default(60_000),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  });
export const simulatedVisitorSchema = lazySchema(buildSimulatedVisitorSchema);
export type SimulatedVisitor = z.infer<typeof simulatedVisitorSchema>;

const buildVisitorSchema = () =>
  z.strictObject({
    modbus: buildModbusVisitorSchema().optional(),
    mqtt: buildMqttVisitorSchema().optional(),
    simulated: buildSimulatedVisitorSchema().optional(),
  });
export const visitorSchema = lazySchema(buildVisitorSchema);
export type Visitor = z.infer<typeof visitorSchema>;

const buildDevicePropertySchema = () =>
  z.strictObject({
    name: buildPropertyNameSchema(),
    /** desired value (string, typed by the model's property type); only for ReadWrite properties */
    desired: z.strictObject({ value: z.string().max(4096) }).optional(),
    visitor: buildVisitorSchema().default({}),
    /** overrides the device's collectIntervalMs for this property */
    collectIntervalMs: z.number().int().min(100).max(86_400_000).optional(),
  });
export const devicePropertySchema = lazySchema(buildDevicePropertySchema);
export type DeviceProperty = z.infer<typeof devicePropertySchema>;

const buildModbusConnectionSchema = () =>
  z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(502),
    unitId: z.number().int().min(0).max(255).default(1),
  });
export const modbusConnectionSchema = lazySchema(buildModbusConnectionSchema);
const buildMqttConnectionSchema = () =>
  z.strictObject({
    /** broker of the device; absent: the node's event bus */
    url: z.string().min(1).optional(),
  });
export const mqttConnectionSchema = lazySchema(buildMqttConnectionSchema);
const buildProtocolSchema = () =>
  z.strictObject({
    type: z.enum(PROTOCOLS),
    modbusTCP: buildModbusConnectionSchema().optional(),
    mqtt: buildMqttConnectionSchema().optional(),
    simulated: z.strictObject({}).optional(),
  });
export const protocolSchema = lazySchema(buildProtocolSchema);
export type DeviceProtocol = z.infer<typeof protocolSchema>;

const buildDeviceSpecSchema = () =>
  z
    .strictObject({
      nodeName: objectName(),
      deviceModelRef: z.strictObject({ name: objectName() }),
      protocol: buildProtocolSchema(),
      collectIntervalMs: z.number().int().min(100).max(86_400_000).default(5000),
      /** no answer within this → the read fails; a failed round → Online=False */
      timeoutMs: z.number().int().min(50).max(60_000).default(2000),
      properties: z.array(buildDevicePropertySchema()).max(1024).default([]),
    })
    .superRefine((spec, ctx) => {
      if (spec.protocol.type === 'modbusTCP' && spec.protocol.modbusTCP === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['protocol', 'modbusTCP'],
          message: 'required for type modbusTCP',
        });
      uniquePropertyNames(spec.properties, ctx);
    });
export const deviceSpecSchema = lazySchema(buildDeviceSpecSchema);
export type DeviceSpec = z.infer<typeof deviceSpecSchema>;

// ── status ──────────────────────────────────────────────────────────────────────────────

export const CONDITION_TYPES = ['Online', 'Synced'] as const;
export type DeviceConditionType = (typeof CONDITION_TYPES)[number];
const buildConditionSchema = () =>
  z.strictObject({
    type: z.enum(CONDITION_TYPES),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string().max(128).optional(),
    message: z.string().max(32_768).optional(),
    lastTransitionTime: z.string().optional(),
  });
export const conditionSchema = lazySchema(buildConditionSchema);
export type DeviceCondition = z.infer<typeof conditionSchema>;

const timedValue = () => z.strictObject({ value: z.string(), timestamp: z.string() });
const buildPropertyStatusSchema = () =>
  z.strictObject({
    name: buildPropertyNameSchema(),
    reported: timedValue().optional(),
    /** the desired value the edge last observed (and is driving the device to) */
    desired: timedValue().optional(),
  });
export const propertyStatusSchema = lazySchema(buildPropertyStatusSchema);
export type PropertyStatus = z.infer<typeof propertyStatusSchema>;

const buildDeviceStatusSchema = () =>
  z.strictObject({
    properties: z.array(buildPropertyStatusSchema()).optional(),
    conditions: z.array(buildConditionSchema()).optional(),
    lastOnlineTime: z.string().optional(),
    /** metadata.generation of the spec the edge acted on */
    observedGeneration: z.number().int().optional(),
  });
export const deviceStatusSchema = lazySchema(buildDeviceStatusSchema);
export type DeviceStatus = z.infer<typeof deviceStatusSchema>;

const buildMetaSchema = () =>
  z.looseObject({
    name: objectName(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    resourceVersion: z.string().optional(),
  });

const buildDeviceModelSchema = () =>
  z.looseObject({
    apiVersion: z.literal(DEVICE_API_VERSION),
    kind: z.literal('DeviceModel'),
    metadata: buildMetaSchema(),
    spec: buildDeviceModelSpecSchema(),
  });
export const deviceModelSchema = lazySchema(buildDeviceModelSchema);
export type DeviceModel = z.infer<typeof deviceModelSchema>;

const buildDeviceSchema = () =>
  z.looseObject({
    apiVersion: z.literal(DEVICE_API_VERSION),
    kind: z.literal('Device'),
    metadata: buildMetaSchema(),
    spec: buildDeviceSpecSchema(),
    status: buildDeviceStatusSchema().optional(),
  });
export const deviceSchema = lazySchema(buildDeviceSchema);
export type Device = z.infer<typeof deviceSchema>;

/** Issues of a zod failure as `path: message` lines, for logs and rejection reasons. */
export function describeIssues(e: z.ZodError): string[] {
  return e.issues.map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`);
}
