import { DeviceError } from './errors.js';
import { modelProperty, type Mapper, type MapperDevice, type MapperHealth } from './mapper.js';
import type { SimulatedVisitor } from './types.js';
import type { Value } from './values.js';

/**
 * A simulated device for demos and the benchmark (issue 9): each property follows a pattern —
 * sine, random walk, step, constant — as a function of time; a written value holds until the
 * next write (a setpoint). `now` and `random` are injectable so tests are exact.
 */
export class SimulatedMapper implements Mapper {
  readonly protocol = 'simulated' as const;
  private readonly written = new Map<string, Value>();
  private readonly walk = new Map<string, number>();
  private readonly start: number;
  private closed = false;

  constructor(
    private readonly device: MapperDevice,
    private readonly clock: { now: () => number; random: () => number } = {
      now: Date.now,
      random: Math.random,
    },
  ) {
    this.start = clock.now();
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  private visitor(property: string): SimulatedVisitor {
    return (
      this.device.spec.properties.find((p) => p.name === property)?.visitor.simulated ?? {
        pattern: 'constant',
        base: 0,
        amplitude: 0,
        periodMs: 60_000,
      }
    );
  }

  read(property: string): Promise<Value> {
    if (this.closed)
      return Promise.reject(new DeviceError('DEVICE_CLOSED', `${this.device.id}: mapper closed`));
    const p = modelProperty(this.device, property);
    const w = this.written.get(property);
    if (w !== undefined) return Promise.resolve(w);
    const v = this.visitor(property);
    const t = this.clock.now() - this.start;
    let x: number;
    switch (v.pattern) {
      case 'constant':
        x = v.base;
        break;
      case 'sine':
        x = v.base + v.amplitude * Math.sin((2 * Math.PI * t) / v.periodMs);
        break;
      case 'step':
        x = v.base + v.amplitude * (Math.floor(t / v.periodMs) % 2);
        break;
      case 'randomWalk': {
        const prev = this.walk.get(property) ?? v.base;
        x = prev + (this.clock.random() * 2 - 1) * v.amplitude;
        if (v.minimum !== undefined) x = Math.max(v.minimum, x);
        if (v.maximum !== undefined) x = Math.min(v.maximum, x);
        this.walk.set(property, x);
        break;
      }
    }
    switch (p.type) {
      case 'int':
        return Promise.resolve(Math.round(x));
      case 'float':
        return Promise.resolve(x);
      case 'boolean':
        return Promise.resolve(x > v.base);
      case 'string':
        return Promise.resolve(String(x));
    }
  }

  write(property: string, value: Value): Promise<void> {
    if (this.closed)
      return Promise.reject(new DeviceError('DEVICE_CLOSED', `${this.device.id}: mapper closed`));
    modelProperty(this.device, property);
    this.written.set(property, value);
    return Promise.resolve();
  }

  health(): MapperHealth {
    return { connected: !this.closed };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
