import { errorMessage } from '../common/index.js';
import { DeviceError } from './errors.js';
import { modelProperty, withTimeout, type Mapper, type MapperDevice, type MapperHealth } from './mapper.js';
import { decodeRegisters, encodeRegisters, registerCount } from './modbus-codec.js';
import type { ModbusVisitor } from './types.js';
import type { Value } from './values.js';

type ModbusClient = InstanceType<typeof import('modbus-serial').default>;
type ModbusCtor = new () => ModbusClient;

// modbus-serial (with serialport and its native bindings) is ~15 MiB of RSS: loaded on the first
// connect of a Modbus device, not when the devices component is imported (issue 12 footprint).
let modbusCtor: Promise<ModbusCtor> | undefined;
function loadModbus(): Promise<ModbusCtor> {
  // Under module nodenext the CJS default export is typed as the module namespace; the value is the class.
  modbusCtor ??= import('modbus-serial').then((m) => m.default as unknown as ModbusCtor);
  return modbusCtor;
}

/**
 * Modbus TCP mapper (issue 9): holding/input registers, coils, discrete inputs; int16, uint16,
 * int32, uint32, float32 with scale/offset and byte/word order (see modbus-codec.ts).
 * One TCP connection per device, opened lazily and re-opened after any failure, so a device
 * that comes back is read again without a restart. Requests are serialised: Modbus TCP
 * servers commonly answer one request at a time per connection.
 */
export class ModbusMapper implements Mapper {
  readonly protocol = 'modbusTCP' as const;
  private client: ModbusClient | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private state: { connected: boolean; lastError?: string; lastOkAt?: number } = { connected: false };
  private closed = false;
  private readonly host: string;
  private readonly port: number;
  private readonly unitId: number;

  constructor(private readonly device: MapperDevice) {
    const c = device.spec.protocol.modbusTCP;
    if (c === undefined)
      throw new DeviceError('DEVICE_CONFIG', `${device.id}: protocol.modbusTCP is required`);
    this.host = c.host;
    this.port = c.port;
    this.unitId = c.unitId;
  }

  async connect(): Promise<void> {
    await this.serial(() => this.ensure());
  }

  private async ensure(): Promise<ModbusClient> {
    // first, so that a close() while the library loads is seen by the check below
    const ModbusRTU = await loadModbus();
    if (this.closed) throw new DeviceError('DEVICE_CLOSED', `${this.device.id}: mapper closed`);
    if (this.client?.isOpen === true) return this.client;
    this.drop();
    const client = new ModbusRTU();
    const timeout = this.device.spec.timeoutMs;
    try {
      await withTimeout(
        client.connectTCP(this.host, { port: this.port }),
        timeout,
        `${this.device.id}: connect ${this.host}:${String(this.port)}`,
      );
    } catch (e) {
      client.destroy(() => undefined);
      const msg = `${this.device.id}: cannot connect to ${this.host}:${String(this.port)}: ${errorMessage(e)}`;
      this.state = { ...this.state, connected: false, lastError: msg };
      throw e instanceof DeviceError ? e : new DeviceError('DEVICE_UNREACHABLE', msg, { cause: e });
    }
    client.setID(this.unitId);
    client.setTimeout(timeout);
    this.client = client;
    this.state = { ...this.state, connected: true };
    return client;
  }

  private drop(): void {
    const c = this.client;
    this.client = undefined;
    if (c !== undefined) c.destroy(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private visitor(property: string): ModbusVisitor {
    const v = this.device.spec.properties.find((p) => p.name === property)?.visitor.modbus;
    if (v === undefined)
      throw new DeviceError('DEVICE_CONFIG', `${this.device.id}: property ${property} has no modbus visitor`);
    return v;
  }

  private async op<T>(what: string, fn: (c: ModbusClient) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const c = await this.ensure();
      try {
        const r = await withTimeout(fn(c), this.device.spec.timeoutMs, `${this.device.id}: ${what}`);
        this.state = { connected: true, lastOkAt: Date.now() };
        return r;
      } catch (e) {
        // A timed-out or failed connection may hold a late answer that would be taken for the
        // next request's; start over on a fresh connection.
        this.drop();
        const msg = `${this.device.id}: ${what}: ${errorMessage(e)}`;
        this.state = { ...this.state, connected: false, lastError: msg };
        if (e instanceof DeviceError) throw e;
        const code = (e as { modbusCode?: unknown }).modbusCode;
        throw new DeviceError(code === undefined ? 'DEVICE_UNREACHABLE' : 'DEVICE_PROTOCOL', msg, {
          cause: e,
        });
      }
    });
  }

  async read(property: string): Promise<Value> {
    const v = this.visitor(property);
    const n = registerCount(v);
    switch (v.register) {
      case 'Coil':
        return this.op(
          `read coil ${String(v.address)}`,
          async (c) => (await c.readCoils(v.address, 1)).data[0] === true,
        );
      case 'DiscreteInput':
        return this.op(
          `read discrete input ${String(v.address)}`,
          async (c) => (await c.readDiscreteInputs(v.address, 1)).data[0] === true,
        );
      case 'HoldingRegister':
      case 'InputRegister': {
        const words = await this.op(`read ${v.register} ${String(v.address)}`, async (c) =>
          v.register === 'HoldingRegister'
            ? (await c.readHoldingRegisters(v.address, n)).data
            : (await c.readInputRegisters(v.address, n)).data,
        );
        const value = decodeRegisters(words, v);
        return modelProperty(this.device, property).type === 'boolean' ? value !== 0 : value;
      }
    }
  }

  async write(property: string, value: Value): Promise<void> {
    const v = this.visitor(property);
    switch (v.register) {
      case 'InputRegister':
      case 'DiscreteInput':
        throw new DeviceError(
          'DEVICE_NOT_WRITABLE',
          `${this.device.id}: ${property} is a read-only ${v.register}`,
        );
      case 'Coil':
        await this.op(`write coil ${String(v.address)}`, (c) =>
          c.writeCoil(v.address, value === true || value === 'true' || value === 1),
        );
        return;
      case 'HoldingRegister': {
        const num = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
        const enc = encodeRegisters(num, v);
        if (!enc.ok) throw new DeviceError('DEVICE_VALUE', `${this.device.id}: ${property}: ${enc.reason}`);
        await this.op(`write holding register ${String(v.address)}`, (c) =>
          c.writeRegisters(v.address, enc.words),
        );
        return;
      }
    }
  }

  health(): MapperHealth {
    return { ...this.state };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    this.drop();
  }
}
