import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import {
  ConfigError,
  errorMessage,
  LifecycleError,
  type Component,
  type Logger,
  type Registry,
} from '../../common/index.js';
import {
  CoalescingLimiter,
  createMapper,
  DEVICE_GROUP,
  DEVICE_VERSION,
  DeviceError,
  deltaMessage,
  describeIssues,
  deviceSchema,
  deviceModelSchema,
  deviceTopic,
  failureResult,
  formatValue,
  lazySchema,
  MANAGER_SUBSCRIPTIONS,
  membershipGetSchema,
  membershipTopic,
  parseTopic,
  parseValue,
  PROTOCOLS,
  setCondition,
  stateUpdateSchema,
  twinGetSchema,
  twinResult,
  twinUpdateSchema,
  writeConfirmed,
  base,
  type Device,
  type DeviceCondition,
  type DeviceModelSpec,
  type DeviceRef,
  type DeviceTopicSuffix,
  type Mapper,
  type MapperDevice,
  type WireDevice,
} from '../../devices/index.js';
import { keyId, type JsonObject, type ObjectKey, type Uid } from '../../protocol/index.js';
import type { EdgeStore, StoreChange, StoredObject } from '../store/index.js';
import { TwinStore, type ReportedWrite } from '../store/twins.js';
import { busConfigSchema, EventBus } from './bus.js';
import { buildStatus, pendingDesired, wireTwins } from './twin.js';

const buildDeviceManagerConfigSchema = () =>
  z.strictObject({
    nodeName: z.string().min(1),
    bus: busConfigSchema.default({ mode: 'embedded', host: '127.0.0.1', port: 1883 }),
    /** at most one deviceStatus write per device per this interval (Online flips go at once) */
    statusIntervalMs: z.number().int().min(0).default(10_000),
    /** samples kept per property in the local history ring */
    historySize: z.number().int().min(1).max(100_000).default(120),
    /** protocols served by mapper processes on the bus: the manager does not poll those devices */
    externalProtocols: z.array(z.enum(PROTOCOLS)).default([]),
    /** reported values are batched into one SQLite transaction per this interval */
    flushIntervalMs: z.number().int().min(1).max(10_000).default(200),
  });
export const deviceManagerConfigSchema = lazySchema(buildDeviceManagerConfigSchema);
export type DeviceManagerConfig = z.input<typeof deviceManagerConfigSchema>;

export interface DeviceManagerOptions {
  readonly config: DeviceManagerConfig;
  readonly store: EdgeStore;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly now?: () => number;
}

/** Why something on the bus or in a spec was refused; one metric label per reason. */
export type RejectReason =
  | 'malformed'
  | 'unknownDevice'
  | 'unknownProperty'
  | 'invalidValue'
  | 'outOfRange'
  | 'readOnly'
  | 'invalidSpec'
  | 'modelNotFound'
  | 'ambiguousDevice';

interface Runtime {
  readonly id: string;
  readonly key: ObjectKey;
  readonly ref: DeviceRef;
  uid: Uid;
  device: Device;
  model: DeviceModelSpec | undefined;
  /** JSON of the spec without desired values: a change of it means a new mapper */
  shape: string;
  mapper: Mapper | undefined;
  timers: NodeJS.Timeout[];
  busy: Set<string>;
  writing: Set<string>;
  online: boolean | undefined;
  lastOnline: number | undefined;
  lastReport: number;
  conditions: DeviceCondition[];
  /** property → reason its desired value was refused */
  invalidDesired: Map<string, string>;
  writeError: Map<string, string>;
}

const DEVICE_KIND = 'Device';
const MODEL_KIND = 'DeviceModel';

/**
 * The edge's EdgeDeviceManager (DESIGN §5, issue 9): Devices synced into the edge store →
 * twins → mappers polled per collection interval → the MQTT bus (KubeEdge topics) and the
 * upstream outbox (`deviceStatus`, rate-limited per device, always the latest values).
 * Anything malformed — on the bus or in a spec — is refused with a logged, specific reason and
 * touches nothing else.
 */
export class DeviceManager implements Component {
  readonly name = 'device-manager';
  readonly bus: EventBus;
  private readonly config: z.output<typeof deviceManagerConfigSchema>;
  private readonly log: Logger;
  private readonly now: () => number;
  private twinStore: TwinStore | undefined;
  private readonly devices = new Map<string, Runtime>();
  private readonly limiter: CoalescingLimiter<string>;
  private pending: ReportedWrite[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void)[] = [];
  private running = false;
  private readonly metrics: {
    reads: Counter;
    writes: Counter;
    rejected: Counter;
    statusWrites: Counter;
    devices: Gauge;
    online: Gauge;
  };

  constructor(private readonly opts: DeviceManagerOptions) {
    const r = deviceManagerConfigSchema.safeParse(opts.config);
    if (!r.success) throw new ConfigError('invalid device manager config', describeIssues(r.error));
    this.config = r.data;
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.limiter = new CoalescingLimiter(this.config.statusIntervalMs);
    this.bus = new EventBus({
      config: this.config.bus,
      logger: opts.logger,
      clientId: `tether-devices-${this.config.nodeName}`,
      ...(opts.registry === undefined ? {} : { registry: opts.registry }),
    });
    const registers = opts.registry === undefined ? [] : [opts.registry];
    this.metrics = {
      reads: new Counter({
        name: 'tether_device_reads_total',
        help: 'Property reads through mappers, by result',
        labelNames: ['result'],
        registers,
      }),
      writes: new Counter({
        name: 'tether_device_writes_total',
        help: 'Desired-value writes through mappers, by result',
        labelNames: ['result'],
        registers,
      }),
      rejected: new Counter({
        name: 'tether_device_rejected_total',
        help: 'Bus messages and spec parts refused, by reason',
        labelNames: ['reason'],
        registers,
      }),
      statusWrites: new Counter({
        name: 'tether_device_status_writes_total',
        help: 'deviceStatus writes queued upstream',
        registers,
      }),
      devices: new Gauge({
        name: 'tether_devices',
        help: 'Devices bound to this node',
        registers,
        collect: () => {
          this.metrics.devices.set(this.devices.size);
        },
      }),
      online: new Gauge({
        name: 'tether_devices_online',
        help: 'Devices currently Online',
        registers,
        collect: () => {
          this.metrics.online.set([...this.devices.values()].filter((d) => d.online === true).length);
        },
      }),
    };
  }

  private get twins(): TwinStore {
    if (this.twinStore === undefined) throw new LifecycleError('device manager not started');
    return this.twinStore;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.twinStore = new TwinStore(this.opts.store, this.config.historySize);
    await this.bus.start();
    try {
      this.running = true;
      this.unsubscribe.push(
        this.bus.onMessage((t, p) => {
          this.onBusMessage(t, p);
        }),
      );
      await this.bus.subscribe(MANAGER_SUBSCRIPTIONS);
      this.unsubscribe.push(
        this.opts.store.onChange((c) => {
          this.onStoreChange(c);
        }),
      );
      const present = new Set<string>();
      for (const o of this.opts.store.list({ group: DEVICE_GROUP, kind: DEVICE_KIND })) {
        present.add(keyId(o.key));
        this.upsertDevice(o);
      }
      // twins of Devices deleted while the agent was down
      for (const d of this.twins.devices()) if (!present.has(d)) this.twins.removeDevice(d);
      this.tick = setInterval(
        () => {
          this.onTick();
        },
        Math.max(100, Math.min(1000, this.config.statusIntervalMs)),
      );
      this.tick.unref();
      this.log.info({ devices: this.devices.size, bus: this.bus.url }, 'device manager started');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.tick !== undefined) clearInterval(this.tick);
    this.tick = undefined;
    await Promise.all([...this.devices.values()].map((d) => this.teardown(d)));
    try {
      this.flush();
      // the latest status of each device must reach the outbox even if its interval has not passed
      for (const [id] of this.limiter.drain()) this.emitStatus(id);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'device manager: final flush failed');
    }
    this.devices.clear();
    await this.bus.stop();
  }

  // ── local API (for the metaserver / dashboards) ─────────────────────────────────────

  /** The twin of a device by namespace/name (undefined if the node has no such Device). */
  twin(
    namespace: string,
    name: string,
  ): { rows: ReturnType<TwinStore['twins']>; online: boolean | undefined } | undefined {
    const rt = this.devices.get(keyId(deviceKey(namespace, name)));
    if (rt === undefined) return undefined;
    this.flush();
    return { rows: this.twins.twins(rt.id), online: rt.online };
  }

  history(namespace: string, name: string, property: string): ReturnType<TwinStore['history']> {
    this.flush();
    return this.twins.history(keyId(deviceKey(namespace, name)), property);
  }

  /** For the health unit of the device manager (DESIGN §4): bus reachable, devices and how many are online. */
  health(): { running: boolean; busConnected: boolean; devices: number; online: number; offline: number } {
    const all = [...this.devices.values()];
    return {
      running: this.running,
      busConnected: this.running && this.bus.connected,
      devices: all.length,
      online: all.filter((d) => d.online === true).length,
      offline: all.filter((d) => d.online === false).length,
    };
  }

  // ── store → devices ─────────────────────────────────────────────────────────────────

  private onStoreChange(c: StoreChange): void {
    if (!this.running) return;
    const key = c.type === 'upsert' ? c.object.key : c.key;
    if (key.group !== DEVICE_GROUP) return;
    try {
      if (key.kind === DEVICE_KIND) {
        if (c.type === 'upsert') this.upsertDevice(c.object);
        else this.removeDevice(keyId(key));
      } else if (key.kind === MODEL_KIND) {
        // every Device of that model re-reads it (a model may arrive after its devices)
        for (const rt of this.devices.values())
          if (rt.key.namespace === key.namespace && rt.device.spec.deviceModelRef.name === key.name) {
            const o = this.opts.store.get(rt.key);
            if (o !== undefined) this.upsertDevice(o);
          }
      }
    } catch (e) {
      this.log.error({ key, err: errorMessage(e) }, 'device manager: applying a store change failed');
    }
  }

  private reject(reason: RejectReason, fields: Record<string, unknown>, msg: string): void {
    this.metrics.rejected.inc({ reason });
    this.log.warn({ reason, ...fields }, msg);
  }

  private loadModel(namespace: string | undefined, name: string): DeviceModelSpec | undefined {
    const o = this.opts.store.get({
      group: DEVICE_GROUP,
      version: DEVICE_VERSION,
      kind: MODEL_KIND,
      ...(namespace === undefined ? {} : { namespace }),
      name,
    });
    if (o === undefined) return undefined;
    const r = deviceModelSchema.safeParse(o.object);
    if (!r.success) {
      this.reject(
        'invalidSpec',
        { model: name },
        `DeviceModel ${name} refused: ${describeIssues(r.error).join('; ')}`,
      );
      return undefined;
    }
    return r.data.spec;
  }

  private upsertDevice(o: StoredObject): void {
    const id = keyId(o.key);
    const parsed = deviceSchema.safeParse(o.object);
    if (!parsed.success) {
      const why = describeIssues(parsed.error).join('; ');
      this.reject('invalidSpec', { device: id }, `Device ${o.key.name} refused: ${why}`);
      const old = this.devices.get(id);
      if (old !== undefined) void this.teardown(old);
      this.devices.delete(id);
      // tell the user in the Device's own status
      this.opts.store.enqueue(
        o.key,
        {
          type: 'deviceStatus',
          payload: {
            conditions: [
              {
                type: 'Synced',
                status: 'False',
                reason: 'InvalidSpec',
                message: why.slice(0, 32_000),
                lastTransitionTime: new Date(this.now()).toISOString(),
              },
            ],
          },
        },
        o.uid,
      );
      return;
    }
    const device = parsed.data;
    if (device.spec.nodeName !== this.config.nodeName) {
      // DESIGN §2: a node receives only its Devices; one bound elsewhere is not ours to drive
      this.reject(
        'invalidSpec',
        { device: id, nodeName: device.spec.nodeName },
        `Device ${o.key.name} is bound to another node`,
      );
      this.removeDevice(id);
      return;
    }
    const model = this.loadModel(o.key.namespace, device.spec.deviceModelRef.name);
    const { properties, ...rest } = device.spec;
    const shape = JSON.stringify({ rest, p: properties.map(({ desired: _d, ...p }) => p), model });
    let rt = this.devices.get(id);
    const fresh = rt === undefined;
    if (rt === undefined) {
      const state = this.twins.state(id);
      rt = {
        id,
        key: o.key,
        ref: { ...(o.key.namespace === undefined ? {} : { namespace: o.key.namespace }), name: o.key.name },
        uid: o.uid,
        device,
        model,
        shape: '',
        mapper: undefined,
        timers: [],
        busy: new Set(),
        writing: new Set(),
        online: state?.online,
        lastOnline: state?.lastOnline,
        lastReport: this.now(),
        conditions: [],
        invalidDesired: new Map(),
        writeError: new Map(),
      };
      this.devices.set(id, rt);
    }
    rt.uid = o.uid;
    rt.device = device;
    rt.model = model;
    if (model === undefined) {
      this.reject(
        'modelNotFound',
        { device: id },
        `Device ${o.key.name}: DeviceModel ${device.spec.deviceModelRef.name} not on this node (yet)`,
      );
      this.stopPolling(rt);
      rt.shape = '';
      this.setCond(rt, {
        type: 'Synced',
        status: 'False',
        reason: 'ModelNotFound',
        message: `DeviceModel ${device.spec.deviceModelRef.name} not found`,
      });
      this.markDirty(rt, true);
      return;
    }
    this.twins.retainProperties(
      id,
      model.properties.map((p) => p.name),
    );
    this.applyDesired(rt, model);
    const reshaped = rt.shape !== shape;
    if (reshaped) {
      rt.shape = shape;
      this.restartPolling(rt);
    }
    // mapper processes learn new devices and changed specs (visitors, connection) from this
    if (fresh || reshaped)
      this.bus.publish(membershipTopic(this.config.nodeName, 'updated'), {
        ...base(),
        added_devices: [this.wireDevice(rt)],
        removed_devices: [],
      });
    this.updateSynced(rt);
    this.markDirty(rt, fresh);
  }

  /** Desired values of the spec → the twin; refused ones are named in Synced (issue 9). */
  private applyDesired(rt: Runtime, model: DeviceModelSpec): void {
    rt.invalidDesired.clear();
    const delta: Record<string, string> = {};
    const at = this.now();
    const wanted = new Map<string, string>();
    for (const p of rt.device.spec.properties) {
      if (p.desired === undefined) continue;
      const mp = model.properties.find((x) => x.name === p.name);
      if (mp === undefined) {
        rt.invalidDesired.set(
          p.name,
          `${p.name} is not a property of model ${rt.device.spec.deviceModelRef.name}`,
        );
        this.reject(
          'unknownProperty',
          { device: rt.id, property: p.name },
          `desired ${p.name} refused: not in the model`,
        );
        continue;
      }
      if (mp.accessMode !== 'ReadWrite') {
        rt.invalidDesired.set(p.name, `${p.name} is ReadOnly`);
        this.reject('readOnly', { device: rt.id, property: p.name }, `desired ${p.name} refused: ReadOnly`);
        continue;
      }
      const v = parseValue(mp, p.desired.value);
      if (!v.ok) {
        rt.invalidDesired.set(p.name, v.reason);
        this.reject(
          /range|minimum|maximum/.test(v.reason) ? 'outOfRange' : 'invalidValue',
          { device: rt.id, property: p.name },
          `desired value refused: ${v.reason}`,
        );
        continue;
      }
      wanted.set(p.name, formatValue(mp.type, v.value));
    }
    for (const mp of model.properties) {
      // a refused desired value leaves the previous (valid) one in place: nothing else is disturbed
      if (rt.invalidDesired.has(mp.name)) continue;
      const next = wanted.get(mp.name);
      if (this.twins.setDesired(rt.id, mp.name, next, at) && next !== undefined) delta[mp.name] = next;
    }
    if (Object.keys(delta).length > 0) {
      this.publishDelta(rt, delta);
      this.driveDesired(rt);
    }
  }

  private publishDelta(rt: Runtime, delta: Record<string, string>): void {
    if (rt.model === undefined) return;
    const msg = deltaMessage(
      wireTwins(rt.model, this.twins.twins(rt.id), new Set(Object.keys(delta))),
      delta,
    );
    for (const t of this.topics(rt, 'twin/update/delta')) this.bus.publish(t, msg);
  }

  /** Both the KubeEdge form (by name, unless two namespaces share the name here) and the namespaced form. */
  private topics(rt: Runtime, suffix: DeviceTopicSuffix): string[] {
    const out = [deviceTopic(rt.ref, suffix)];
    if (this.byName(rt.ref.name).length === 1) out.push(deviceTopic({ name: rt.ref.name }, suffix));
    return out;
  }

  private byName(name: string): Runtime[] {
    return [...this.devices.values()].filter((d) => d.ref.name === name);
  }

  private removeDevice(id: string): void {
    const rt = this.devices.get(id);
    this.twins.removeDevice(id);
    this.limiter.forget(id);
    if (rt === undefined) return;
    this.devices.delete(id);
    void this.teardown(rt);
    this.bus.publish(membershipTopic(this.config.nodeName, 'updated'), {
      ...base(),
      added_devices: [],
      removed_devices: [this.wireDevice(rt)],
    });
    this.log.info({ device: id }, 'device removed');
  }

  // ── polling and writing ─────────────────────────────────────────────────────────────

  /** Whether a late callback of this device's mapper may still touch state (not stopped, not replaced). */
  private live(rt: Runtime): boolean {
    return this.running && this.devices.get(rt.id) === rt;
  }

  private isExternal(rt: Runtime): boolean {
    return this.config.externalProtocols.includes(rt.device.spec.protocol.type);
  }

  private stopPolling(rt: Runtime): void {
    for (const t of rt.timers.splice(0)) clearInterval(t);
    const m = rt.mapper;
    rt.mapper = undefined;
    if (m !== undefined) void m.close().catch(() => undefined);
  }

  private async teardown(rt: Runtime): Promise<void> {
    for (const t of rt.timers.splice(0)) clearInterval(t);
    const m = rt.mapper;
    rt.mapper = undefined;
    await m?.close().catch(() => undefined);
  }

  private restartPolling(rt: Runtime): void {
    this.stopPolling(rt);
    if (rt.model === undefined || this.isExternal(rt)) return;
    const md: MapperDevice = { id: rt.id, spec: rt.device.spec, model: rt.model };
    let mapper: Mapper;
    try {
      mapper = createMapper(md, { busUrl: this.bus.url });
    } catch (e) {
      this.reject('invalidSpec', { device: rt.id }, `no mapper for device: ${errorMessage(e)}`);
      return;
    }
    rt.mapper = mapper;
    // properties grouped by collection interval: one timer per distinct interval
    const groups = new Map<number, string[]>();
    const polled = new Set<string>();
    const protocol = rt.device.spec.protocol.type;
    for (const p of rt.device.spec.properties) {
      if (!rt.model.properties.some((m) => m.name === p.name)) continue;
      // A property without a visitor for the device's protocol is not polled: its values come
      // from device apps on the bus (twin/update). Simulated properties default to a constant.
      if (protocol === 'modbusTCP' && p.visitor.modbus === undefined) continue;
      if (protocol === 'mqtt' && p.visitor.mqtt === undefined) continue;
      polled.add(p.name);
      const ms = p.collectIntervalMs ?? rt.device.spec.collectIntervalMs;
      groups.set(ms, [...(groups.get(ms) ?? []), p.name]);
    }
    for (const m of rt.model.properties)
      if (!polled.has(m.name))
        this.log.debug(
          { device: rt.id, property: m.name },
          'property without a visitor: not polled, values only from the bus',
        );
    for (const [ms, props] of groups) {
      const t = setInterval(() => {
        void this.poll(rt, mapper, props);
      }, ms);
      t.unref();
      rt.timers.push(t);
    }
    void (async () => {
      try {
        await mapper.connect();
      } catch (e) {
        this.log.debug({ device: rt.id, err: errorMessage(e) }, 'mapper connect failed; polling retries');
      }
      for (const props of groups.values()) void this.poll(rt, mapper, props);
    })();
  }

  private async poll(rt: Runtime, mapper: Mapper, props: readonly string[]): Promise<void> {
    const group = props.join(',');
    if (rt.busy.has(group) || rt.mapper !== mapper || rt.model === undefined) return;
    rt.busy.add(group);
    try {
      let okCount = 0;
      let lastErr: unknown;
      for (const name of props) {
        if (rt.mapper !== mapper || !this.live(rt)) return;
        const mp = rt.model.properties.find((m) => m.name === name);
        if (mp === undefined) continue;
        try {
          const v = await mapper.read(name);
          okCount++;
          this.metrics.reads.inc({ result: 'ok' });
          this.report(rt, name, formatValue(mp.type, v));
        } catch (e) {
          lastErr = e;
          this.metrics.reads.inc({ result: e instanceof DeviceError ? e.code : 'error' });
          // a timed-out device answers no other property either; don't wait N timeouts per round
          if (e instanceof DeviceError && (e.code === 'DEVICE_TIMEOUT' || e.code === 'DEVICE_UNREACHABLE'))
            break;
        }
      }
      if (rt.mapper !== mapper || !this.live(rt)) return;
      if (okCount > 0) this.setOnline(rt, true, 'Reachable', 'the device answers');
      else if (lastErr !== undefined) {
        const code = lastErr instanceof DeviceError ? lastErr.code : 'ERROR';
        const reason =
          code === 'DEVICE_TIMEOUT'
            ? 'Timeout'
            : code === 'DEVICE_UNREACHABLE'
              ? 'Unreachable'
              : 'ReadFailed';
        this.setOnline(rt, false, reason, errorMessage(lastErr));
      }
      if (okCount > 0) this.driveDesired(rt);
    } finally {
      rt.busy.delete(group);
    }
  }

  /** Writes every pending desired value of the device through its mapper, confirming each by reading it back. */
  private driveDesired(rt: Runtime): void {
    const mapper = rt.mapper;
    const model = rt.model;
    if (mapper === undefined || model === undefined) return;
    // most devices have no desired values: don't pay a SQLite commit per polling round for them
    if (!rt.device.spec.properties.some((p) => p.desired !== undefined)) return;
    this.flush();
    const pending = pendingDesired(model, this.twins.twins(rt.id));
    for (const [name, value] of Object.entries(pending)) {
      if (rt.writing.has(name) || rt.invalidDesired.has(name)) continue;
      const mp = model.properties.find((m) => m.name === name);
      if (mp === undefined) continue;
      const parsed = parseValue(mp, value);
      if (!parsed.ok) continue;
      rt.writing.add(name);
      void writeConfirmed(mapper, { id: rt.id, spec: rt.device.spec, model }, name, parsed.value)
        .then((back) => {
          if (!this.live(rt)) return;
          this.metrics.writes.inc({ result: 'ok' });
          rt.writeError.delete(name);
          this.log.info(
            { device: rt.id, property: name, value: back },
            'desired value written and confirmed',
          );
          this.report(rt, name, back);
          this.flush();
        })
        .catch((e: unknown) => {
          if (!this.live(rt)) return;
          this.metrics.writes.inc({ result: e instanceof DeviceError ? e.code : 'error' });
          const msg = errorMessage(e);
          if (rt.writeError.get(name) !== msg)
            this.log.warn(
              { device: rt.id, property: name, err: msg },
              'desired value not written; retrying next round',
            );
          rt.writeError.set(name, msg);
          this.updateSynced(rt);
          this.markDirty(rt, false);
        })
        .finally(() => rt.writing.delete(name));
    }
  }

  /** A reported value (from a mapper or a device app on the bus): batched into the twin. */
  private report(rt: Runtime, property: string, value: string): void {
    rt.lastReport = this.now();
    this.pending.push({ device: rt.id, property, value, at: rt.lastReport });
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        try {
          this.flush();
        } catch (e) {
          this.log.error({ err: errorMessage(e) }, 'device twins: flush failed');
        }
      }, this.config.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** Writes batched reported values in one transaction; devices whose values changed get a status. */
  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const changed = this.twins.recordReported(batch);
    const touched = new Set(changed.map((w) => w.device));
    for (const id of touched) {
      const rt = this.devices.get(id);
      if (rt === undefined) continue;
      this.updateSynced(rt);
      this.markDirty(rt, false);
    }
  }

  private setOnline(rt: Runtime, online: boolean, reason: string, message: string): void {
    const now = this.now();
    if (online) rt.lastOnline = now;
    const flipped = rt.online !== online;
    const cond = rt.conditions.find((c) => c.type === 'Online');
    if (!flipped && cond?.reason === reason) {
      if (online) this.twins.setState(rt.id, { online, reason, message, changedAt: now, lastOnline: now });
      return;
    }
    rt.online = online;
    this.twins.setState(rt.id, {
      online,
      reason,
      message,
      changedAt: now,
      ...(rt.lastOnline === undefined ? {} : { lastOnline: rt.lastOnline }),
    });
    this.setCond(rt, { type: 'Online', status: online ? 'True' : 'False', reason, message });
    if (flipped)
      this.log.info({ device: rt.id, online, reason, message }, online ? 'device online' : 'device offline');
    // Online flips reach the cloud without waiting for the rate limit (issue 9)
    this.markDirty(rt, flipped);
  }

  private setCond(
    rt: Runtime,
    c: { type: 'Online' | 'Synced'; status: 'True' | 'False' | 'Unknown'; reason: string; message?: string },
  ): void {
    rt.conditions = setCondition(rt.conditions, c, new Date(this.now()));
  }

  private updateSynced(rt: Runtime): void {
    if (rt.model === undefined) return;
    const pending = Object.keys(pendingDesired(rt.model, this.twins.twins(rt.id)));
    if (rt.invalidDesired.size > 0) {
      const msg = [...rt.invalidDesired.values()].join('; ');
      this.setCond(rt, { type: 'Synced', status: 'False', reason: 'InvalidDesired', message: msg });
    } else if (pending.some((p) => rt.writeError.has(p))) {
      const msg = pending.flatMap((p) => rt.writeError.get(p) ?? []).join('; ');
      this.setCond(rt, { type: 'Synced', status: 'False', reason: 'WriteFailed', message: msg });
    } else if (pending.length > 0) {
      this.setCond(rt, {
        type: 'Synced',
        status: 'False',
        reason: 'Pending',
        message: `not yet on the device: ${pending.join(', ')}`,
      });
    } else {
      this.setCond(rt, {
        type: 'Synced',
        status: 'True',
        reason: 'InSync',
        message: 'the device holds every desired value',
      });
    }
  }

  // ── upstream ────────────────────────────────────────────────────────────────────────

  private markDirty(rt: Runtime, urgent: boolean): void {
    if (this.limiter.offer(rt.id, rt.id, this.now(), urgent) !== undefined) this.emitStatus(rt.id);
  }

  private emitStatus(id: string): void {
    const rt = this.devices.get(id);
    if (rt === undefined) return;
    const payload = buildStatus({
      model: rt.model,
      rows: this.twins.twins(id),
      conditions: rt.conditions,
      ...(rt.lastOnline === undefined ? {} : { lastOnline: rt.lastOnline }),
      ...(rt.device.metadata.generation === undefined ? {} : { generation: rt.device.metadata.generation }),
    });
    this.opts.store.enqueue(
      rt.key,
      { type: 'deviceStatus', payload: payload as unknown as JsonObject },
      rt.uid,
    );
    this.metrics.statusWrites.inc();
  }

  private onTick(): void {
    try {
      this.flush();
      for (const [id] of this.limiter.due(this.now())) this.emitStatus(id);
      // devices served by mapper processes: silence for 3 intervals + timeout means offline
      const now = this.now();
      for (const rt of this.devices.values()) {
        if (!this.isExternal(rt) || rt.online !== true) continue;
        const limit = 3 * rt.device.spec.collectIntervalMs + rt.device.spec.timeoutMs;
        if (now - rt.lastReport > limit)
          this.setOnline(
            rt,
            false,
            'NoReports',
            `no report from the mapper for ${String(now - rt.lastReport)} ms`,
          );
      }
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'device manager tick failed');
    }
  }

  // ── the bus (KubeEdge topics) ────────────────────────────────────────────────────────

  private resolve(ref: DeviceRef): Runtime | 'unknown' | 'ambiguous' {
    if (ref.namespace !== undefined)
      return this.devices.get(keyId(deviceKey(ref.namespace, ref.name))) ?? 'unknown';
    const found = this.byName(ref.name);
    if (found.length > 1) return 'ambiguous';
    return found[0] ?? 'unknown';
  }

  private onBusMessage(topic: string, payload: Buffer): void {
    if (!this.running) return;
    const t = parseTopic(topic);
    if (t === undefined) return;
    try {
      if (t.kind === 'membership') {
        if (t.op !== 'get') return;
        if (t.node !== this.config.nodeName) return;
        const m = this.json(topic, payload, membershipGetSchema);
        if (m === undefined) return;
        this.bus.publish(membershipTopic(this.config.nodeName, 'get/result'), {
          ...base(m.event_id),
          devices: [...this.devices.values()].map((d) => this.wireDevice(d)),
        });
        return;
      }
      switch (t.suffix) {
        case 'twin/update':
          this.onTwinUpdate(topic, t.device, payload);
          return;
        case 'twin/get':
          this.onTwinGet(topic, t.device, payload);
          return;
        case 'state/update':
          this.onStateUpdate(topic, t.device, payload);
          return;
        default:
          // results and deltas are ours, echoed back by the broker to our own subscription
          return;
      }
    } catch (e) {
      this.log.error({ topic, err: errorMessage(e) }, 'device bus message failed');
    }
  }

  private json<S extends z.ZodType>(topic: string, payload: Buffer, schema: S): z.output<S> | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      this.reject('malformed', { topic }, `bus message refused: not JSON (${errorMessage(e)})`);
      return undefined;
    }
    const r = schema.safeParse(doc);
    if (!r.success) {
      this.reject('malformed', { topic }, `bus message refused: ${describeIssues(r.error).join('; ')}`);
      return undefined;
    }
    return r.data;
  }

  private lookup(topic: string, ref: DeviceRef): Runtime | undefined {
    const rt = this.resolve(ref);
    if (rt === 'unknown') {
      this.reject(
        'unknownDevice',
        { topic },
        `bus message refused: no device ${ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`} on node ${this.config.nodeName}`,
      );
      return undefined;
    }
    if (rt === 'ambiguous') {
      this.reject(
        'ambiguousDevice',
        { topic },
        `bus message refused: several namespaces have a device ${ref.name}; use $hw/events/device/{namespace}/{name}/…`,
      );
      return undefined;
    }
    return rt;
  }

  private onTwinUpdate(topic: string, ref: DeviceRef, payload: Buffer): void {
    const rt = this.lookup(topic, ref);
    if (rt === undefined) return;
    const resultTopic = topic.replace(/twin\/update$/, 'twin/update/result');
    const m = this.json(topic, payload, twinUpdateSchema);
    if (m === undefined) {
      this.bus.publish(resultTopic, failureResult(undefined, 400, 'malformed twin update'));
      return;
    }
    const model = rt.model;
    if (model === undefined) {
      this.bus.publish(
        resultTopic,
        failureResult(m.event_id, 503, 'the device model is not on this node yet'),
      );
      return;
    }
    // validate everything first: a twin update is taken whole or not at all
    const accepted: [string, string][] = [];
    const problems: string[] = [];
    for (const [name, tw] of Object.entries(m.twin)) {
      if (tw === null) continue;
      const mp = model.properties.find((p) => p.name === name);
      if (mp === undefined) {
        problems.push(`${name}: not a property of model ${rt.device.spec.deviceModelRef.name}`);
        continue;
      }
      if (tw.expected?.value != null)
        problems.push(
          `${name}: expected (desired) values are set in the Device spec in the cloud, not on the bus`,
        );
      const raw = tw.actual?.value;
      if (raw == null) continue;
      const v = parseValue({ name, type: mp.type }, raw);
      if (!v.ok) problems.push(v.reason);
      else accepted.push([name, formatValue(mp.type, v.value)]);
    }
    if (problems.length > 0) {
      this.reject(
        problems.some((p) => p.includes('not a property')) ? 'unknownProperty' : 'invalidValue',
        { topic, device: rt.id },
        `twin update refused: ${problems.join('; ')}`,
      );
      this.bus.publish(resultTopic, failureResult(m.event_id, 400, problems.join('; ')));
      return;
    }
    for (const [name, value] of accepted) this.report(rt, name, value);
    this.flush();
    if (accepted.length > 0) this.setOnline(rt, true, 'Reported', 'the device reports on the bus');
    this.bus.publish(
      resultTopic,
      twinResult(m.event_id, wireTwins(model, this.twins.twins(rt.id), new Set(accepted.map(([n]) => n)))),
    );
  }

  private onTwinGet(topic: string, ref: DeviceRef, payload: Buffer): void {
    const rt = this.lookup(topic, ref);
    if (rt === undefined) return;
    const m = this.json(topic, payload, twinGetSchema);
    if (m === undefined) return;
    this.flush();
    const out = topic.replace(/twin\/get$/, 'twin/get/result');
    this.bus.publish(
      out,
      rt.model === undefined
        ? failureResult(m.event_id, 503, 'the device model is not on this node yet')
        : twinResult(m.event_id, wireTwins(rt.model, this.twins.twins(rt.id))),
    );
  }

  private onStateUpdate(topic: string, ref: DeviceRef, payload: Buffer): void {
    const rt = this.lookup(topic, ref);
    if (rt === undefined) return;
    const m = this.json(topic, payload, stateUpdateSchema);
    if (m === undefined) return;
    if (m.state !== 'unknown') {
      rt.lastReport = this.now();
      this.setOnline(
        rt,
        m.state === 'online',
        m.state === 'online' ? 'Reported' : 'ReportedOffline',
        `the device app reported ${m.state}`,
      );
    }
    this.bus.publish(`${topic}/result`, {
      ...base(m.event_id),
      device: {
        name: rt.ref.name,
        state: m.state,
        last_online: rt.lastOnline === undefined ? '' : new Date(rt.lastOnline).toISOString(),
      },
    });
  }

  private wireDevice(rt: Runtime): WireDevice {
    return {
      id: rt.ref.name,
      name: rt.ref.name,
      state: rt.online === undefined ? 'unknown' : rt.online ? 'online' : 'offline',
      last_online: rt.lastOnline === undefined ? '' : new Date(rt.lastOnline).toISOString(),
      twin: rt.model === undefined ? {} : wireTwins(rt.model, this.twins.twins(rt.id)),
      tether: { namespace: rt.ref.namespace ?? '', spec: rt.device.spec, model: rt.model },
    };
  }
}

export function deviceKey(namespace: string, name: string): ObjectKey {
  return { group: DEVICE_GROUP, version: DEVICE_VERSION, kind: DEVICE_KIND, namespace, name };
}
