import type { MqttClient } from 'mqtt';
import { errorMessage } from '../common/index.js';
import { DeviceError } from './errors.js';
import { getPath, setPath } from './jsonpath.js';
import { modelProperty, type Mapper, type MapperDevice, type MapperHealth } from './mapper.js';
import type { MqttVisitor } from './types.js';
import { formatValue, parseValue, sameValue, type Value } from './values.js';

interface Latest {
  value: Value;
  at: number;
}

/**
 * Mapper for MQTT-native devices (issue 9): the device publishes JSON on a topic; each property
 * takes the value at its visitor's JSON path. A read returns the latest value if it is fresh
 * (younger than 3 collection intervals), otherwise waits for a new one up to the device timeout.
 * A write publishes `{path: value}` on the visitor's writeTopic and waits for the device to
 * publish the new value — that echo is the read-back that confirms it.
 */
export class MqttDeviceMapper implements Mapper {
  readonly protocol = 'mqtt' as const;
  private client: MqttClient | undefined;
  private readonly latest = new Map<string, Latest>();
  private readonly waiters = new Set<{
    property: string;
    accept: (v: Value) => boolean;
    resolve: (v: Value) => void;
  }>();
  private lastError: string | undefined;

  constructor(
    private readonly device: MapperDevice,
    private readonly url: string,
  ) {}

  private visitors(): [string, MqttVisitor][] {
    const out: [string, MqttVisitor][] = [];
    for (const p of this.device.spec.properties)
      if (p.visitor.mqtt !== undefined) out.push([p.name, p.visitor.mqtt]);
    return out;
  }

  async connect(): Promise<void> {
    if (this.client !== undefined) return;
    try {
      // mqtt is ~13-17 MiB of RSS: loaded by the first MQTT device, not at import (issue 12 footprint)
      const { connectAsync } = await import('mqtt');
      const client = await connectAsync(this.url, {
        protocolVersion: 4,
        clientId: `tether-mapper-${this.device.id.replace(/[^A-Za-z0-9-]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`,
        reconnectPeriod: 1000,
        connectTimeout: this.device.spec.timeoutMs,
      });
      this.client = client;
      client.on('message', (topic, payload) => {
        this.onMessage(topic, payload);
      });
      client.on('error', (e) => {
        this.lastError = errorMessage(e);
      });
      const topics = [...new Set(this.visitors().map(([, v]) => v.topic))];
      if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
    } catch (e) {
      this.lastError = errorMessage(e);
      throw new DeviceError(
        'DEVICE_UNREACHABLE',
        `${this.device.id}: cannot reach MQTT broker ${this.url}: ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    let doc: unknown = text;
    try {
      doc = JSON.parse(text);
    } catch {
      // a bare string payload is a value too (jsonPath '')
    }
    for (const [name, v] of this.visitors()) {
      if (v.topic !== topic) continue;
      const raw = getPath(doc, v.jsonPath);
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
      const prop = modelProperty(this.device, name);
      const parsed = parseValue({ ...prop, minimum: undefined, maximum: undefined }, String(raw));
      if (!parsed.ok) {
        this.lastError = parsed.reason;
        continue;
      }
      this.latest.set(name, { value: parsed.value, at: Date.now() });
      for (const w of this.waiters)
        if (w.property === name && w.accept(parsed.value)) w.resolve(parsed.value);
    }
  }

  private wait(property: string, accept: (v: Value) => boolean, what: string): Promise<Value> {
    return new Promise<Value>((resolve, reject) => {
      const w = {
        property,
        accept,
        resolve: (v: Value) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(
          new DeviceError(
            'DEVICE_TIMEOUT',
            `${this.device.id}: ${what}: no answer within ${String(this.device.spec.timeoutMs)} ms`,
          ),
        );
      }, this.device.spec.timeoutMs);
      this.waiters.add(w);
    });
  }

  private freshFor(property: string): number {
    const p = this.device.spec.properties.find((x) => x.name === property);
    return 3 * (p?.collectIntervalMs ?? this.device.spec.collectIntervalMs);
  }

  async read(property: string): Promise<Value> {
    const v = this.device.spec.properties.find((p) => p.name === property)?.visitor.mqtt;
    if (v === undefined)
      throw new DeviceError('DEVICE_CONFIG', `${this.device.id}: property ${property} has no mqtt visitor`);
    const l = this.latest.get(property);
    if (l !== undefined && Date.now() - l.at <= this.freshFor(property)) return l.value;
    return this.wait(property, () => true, `read ${property} from ${v.topic}`);
  }

  async write(property: string, value: Value): Promise<void> {
    const v = this.device.spec.properties.find((p) => p.name === property)?.visitor.mqtt;
    if (v?.writeTopic === undefined)
      throw new DeviceError(
        'DEVICE_NOT_WRITABLE',
        `${this.device.id}: property ${property} has no mqtt writeTopic`,
      );
    const client = this.client;
    if (client === undefined) throw new DeviceError('DEVICE_CLOSED', `${this.device.id}: not connected`);
    const prop = modelProperty(this.device, property);
    const want = formatValue(prop.type, value);
    const echoed = this.wait(
      property,
      (x) => sameValue(prop.type, formatValue(prop.type, x), want),
      `confirm ${property}=${want}`,
    );
    const body =
      v.jsonPath.trim() === '' || v.jsonPath.trim() === '$'
        ? want
        : JSON.stringify(setPath(v.jsonPath, value));
    try {
      await client.publishAsync(v.writeTopic, body, { qos: 1 });
    } catch (e) {
      echoed.catch(() => undefined);
      throw new DeviceError(
        'DEVICE_UNREACHABLE',
        `${this.device.id}: publish to ${v.writeTopic}: ${errorMessage(e)}`,
        { cause: e },
      );
    }
    try {
      await echoed;
    } catch (e) {
      throw new DeviceError(
        'DEVICE_WRITE_NOT_CONFIRMED',
        `${this.device.id}: ${property}=${want} was published but the device did not report it back`,
        { cause: e },
      );
    }
  }

  health(): MapperHealth {
    const last = Math.max(0, ...[...this.latest.values()].map((l) => l.at));
    return {
      connected: this.client?.connected === true,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(last === 0 ? {} : { lastOkAt: last }),
    };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) await c.endAsync(true);
  }
}
