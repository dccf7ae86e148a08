import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ConfigError, errorMessage, type Logger } from '../common/index.js';
import { DeviceError } from './errors.js';
import { createMapper } from './factory.js';
import { base, deviceTopic, membershipTopic, parseTopic, type DeviceRef } from './kubeedge.js';
import { writeConfirmed, type Mapper, type MapperDevice } from './mapper.js';
import {
  deviceModelSpecSchema,
  deviceSpecSchema,
  PROTOCOLS,
  type DeviceModelSpec,
  type DeviceSpec,
} from './types.js';
import { formatValue, parseValue } from './values.js';

const buildMapperRunnerConfigSchema = () =>
  z.strictObject({
    /** the node's event bus */
    busUrl: z.string().min(1),
    nodeName: z.string().min(1),
    /** the protocol this process serves; devices of other protocols are left alone */
    protocol: z.enum(PROTOCOLS),
  });
export const mapperRunnerConfigSchema = lazySchema(buildMapperRunnerConfigSchema);
export type MapperRunnerConfig = z.input<typeof mapperRunnerConfigSchema>;

const buildWireDeviceSchema = () =>
  z.looseObject({
    id: z.string(),
    name: z.string(),
    twin: z
      .record(
        z.string(),
        z.looseObject({ expected: z.looseObject({ value: z.string() }).nullish() }).nullable(),
      )
      .optional(),
    tether: z.looseObject({ namespace: z.string(), spec: z.unknown(), model: z.unknown() }).optional(),
  });
const buildMembershipSchema = () =>
  z.looseObject({
    devices: z.array(buildWireDeviceSchema()).optional(),
    added_devices: z.array(buildWireDeviceSchema()).optional(),
    removed_devices: z.array(buildWireDeviceSchema()).optional(),
  });
const membershipSchema = lazySchema(buildMembershipSchema);
const buildDeltaSchema = () => z.looseObject({ delta: z.record(z.string(), z.string()) });
const deltaSchema = lazySchema(buildDeltaSchema);

interface Served {
  readonly ref: DeviceRef;
  readonly device: MapperDevice;
  readonly mapper: Mapper;
  readonly timers: NodeJS.Timeout[];
  readonly writing: Set<string>;
  online: boolean | undefined;
  shape: string;
}

/**
 * A mapper as its own process (issue 9): it speaks only MQTT on the node's bus, like a KubeEdge
 * mapper — membership/get to learn its devices (with Tether's `tether` extension carrying
 * spec and model), `twin/update` with actual values after each read, `state/update` on
 * online/offline flips, and `twin/update/delta` → write to the device → read back → twin/update.
 */
export class MapperRunner {
  private readonly config: z.output<typeof mapperRunnerConfigSchema>;
  private client: MqttClient | undefined;
  private readonly served = new Map<string, Served>();

  constructor(
    config: MapperRunnerConfig,
    private readonly log: Logger,
  ) {
    const r = mapperRunnerConfigSchema.safeParse(config);
    if (!r.success)
      throw new ConfigError(
        'invalid mapper config',
        r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.config = r.data;
  }

  async start(): Promise<void> {
    // loaded here, not at import: `tether` commands that only read the devices types stay light (issue 12)
    const { connectAsync } = await import('mqtt');
    const client = await connectAsync(this.config.busUrl, {
      protocolVersion: 4,
      clientId: `tether-mapper-${this.config.protocol}-${this.config.nodeName}-${String(process.pid)}`,
      reconnectPeriod: 1000,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      try {
        this.onMessage(topic, payload);
      } catch (e) {
        this.log.warn({ topic, err: errorMessage(e) }, 'mapper: message failed');
      }
    });
    const node = this.config.nodeName;
    await client.subscribeAsync(
      [
        membershipTopic(node, 'get/result'),
        membershipTopic(node, 'updated'),
        '$hw/events/device/+/+/twin/update/delta',
      ],
      { qos: 1 },
    );
    // ask again after every reconnect: the manager may have restarted
    client.on('connect', () => {
      client.publish(membershipTopic(node, 'get'), JSON.stringify(base()));
    });
    await client.publishAsync(membershipTopic(node, 'get'), JSON.stringify(base()));
    this.log.info({ bus: this.config.busUrl, protocol: this.config.protocol }, 'mapper started');
  }

  async stop(): Promise<void> {
    for (const s of this.served.values()) await this.drop(s);
    this.served.clear();
    const c = this.client;
    this.client = undefined;
    await c?.endAsync();
  }

  get devices(): string[] {
    return [...this.served.keys()];
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t === undefined) return;
    const doc: unknown = JSON.parse(payload.toString('utf8'));
    if (t.kind === 'membership') {
      const m = membershipSchema.parse(doc);
      for (const d of [...(m.devices ?? []), ...(m.added_devices ?? [])]) this.upsert(d);
      for (const d of m.removed_devices ?? []) {
        const id = `${d.tether?.namespace ?? ''}/${d.name}`;
        const s = this.served.get(id);
        if (s !== undefined) {
          this.served.delete(id);
          void this.drop(s);
        }
      }
      return;
    }
    if (t.suffix === 'twin/update/delta' && t.device.namespace !== undefined) {
      const s = this.served.get(`${t.device.namespace}/${t.device.name}`);
      if (s === undefined) return;
      const m = deltaSchema.parse(doc);
      for (const [name, value] of Object.entries(m.delta)) this.write(s, name, value);
    }
  }

  private upsert(d: z.infer<ReturnType<typeof buildWireDeviceSchema>>): void {
    if (d.tether === undefined) return;
    const spec = deviceSpecSchema.safeParse(d.tether.spec);
    const model = deviceModelSpecSchema.safeParse(d.tether.model);
    if (!spec.success || !model.success) {
      this.log.warn(
        { device: d.name },
        'mapper: device without a usable spec or model in membership; skipped',
      );
      return;
    }
    if (spec.data.protocol.type !== this.config.protocol) return;
    const id = `${d.tether.namespace}/${d.name}`;
    const shape = JSON.stringify([spec.data, model.data]);
    const old = this.served.get(id);
    if (old?.shape === shape) return;
    if (old !== undefined) void this.drop(old);
    const s = this.serve(id, { namespace: d.tether.namespace, name: d.name }, spec.data, model.data, shape);
    // desired values set before this process started arrive as `expected` in membership, not as deltas
    for (const [name, tw] of Object.entries(d.twin ?? {})) {
      const want = tw?.expected?.value;
      const mp = model.data.properties.find((p) => p.name === name);
      if (want != null && mp?.accessMode === 'ReadWrite') this.write(s, name, want);
    }
  }

  private serve(id: string, ref: DeviceRef, spec: DeviceSpec, model: DeviceModelSpec, shape: string): Served {
    const device: MapperDevice = { id, spec, model };
    const mapper = createMapper(device, { busUrl: this.config.busUrl });
    const s: Served = { ref, device, mapper, timers: [], writing: new Set(), online: undefined, shape };
    this.served.set(id, s);
    const groups = new Map<number, string[]>();
    for (const p of spec.properties) {
      const ms = p.collectIntervalMs ?? spec.collectIntervalMs;
      groups.set(ms, [...(groups.get(ms) ?? []), p.name]);
    }
    for (const [ms, props] of groups) {
      const t = setInterval(() => void this.poll(s, props), ms);
      s.timers.push(t);
      void this.poll(s, props);
    }
    this.log.info({ device: id }, 'mapper: serving device');
    return s;
  }

  private async drop(s: Served): Promise<void> {
    for (const t of s.timers.splice(0)) clearInterval(t);
    await s.mapper.close().catch(() => undefined);
  }

  private publish(s: Served, suffix: 'twin/update' | 'state/update', body: object): void {
    this.client?.publish(deviceTopic(s.ref, suffix), JSON.stringify(body), { qos: 1 });
  }

  private async poll(s: Served, props: readonly string[]): Promise<void> {
    const twin: Record<
      string,
      { actual: { value: string; metadata: { timestamp: number } }; metadata: { type: string } }
    > = {};
    let failure: unknown;
    for (const name of props) {
      const mp = s.device.model.properties.find((p) => p.name === name);
      if (mp === undefined) continue;
      try {
        const v = await s.mapper.read(name);
        twin[name] = {
          actual: { value: formatValue(mp.type, v), metadata: { timestamp: Date.now() } },
          metadata: { type: 'Updated' },
        };
      } catch (e) {
        failure = e;
        if (e instanceof DeviceError && (e.code === 'DEVICE_TIMEOUT' || e.code === 'DEVICE_UNREACHABLE'))
          break;
      }
    }
    if (this.served.get(s.device.id) !== s) return;
    const online = Object.keys(twin).length > 0 || failure === undefined;
    if (Object.keys(twin).length > 0) this.publish(s, 'twin/update', { ...base(), twin });
    if (s.online !== online) {
      s.online = online;
      this.publish(s, 'state/update', { ...base(), state: online ? 'online' : 'offline' });
      if (!online)
        this.log.warn({ device: s.device.id, err: errorMessage(failure) }, 'mapper: device offline');
    }
  }

  private write(s: Served, name: string, raw: string): void {
    const mp = s.device.model.properties.find((p) => p.name === name);
    if (mp === undefined || s.writing.has(name)) return;
    const v = parseValue(mp, raw);
    if (!v.ok) {
      this.log.warn({ device: s.device.id, reason: v.reason }, 'mapper: delta refused');
      return;
    }
    s.writing.add(name);
    void writeConfirmed(s.mapper, s.device, name, v.value)
      .then((back) => {
        this.publish(s, 'twin/update', {
          ...base(),
          twin: {
            [name]: {
              actual: { value: back, metadata: { timestamp: Date.now() } },
              metadata: { type: 'Updated' },
            },
          },
        });
      })
      .catch((e: unknown) => {
        this.log.warn({ device: s.device.id, property: name, err: errorMessage(e) }, 'mapper: write failed');
      })
      .finally(() => s.writing.delete(name));
  }
}
