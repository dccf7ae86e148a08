import { afterEach, describe, expect, it } from 'vitest';
import type { EdgeSession } from '../../../src/cloud/hub/index.js';
import { DeviceStatusLimiter, type DeviceStatusSink } from '../../../src/cloud/sync/index.js';
import { messageId, type Status } from '../../../src/protocol/index.js';

/** Unit tests of the cloud's per-Device status coalescing with a hand-written sink (STYLE §7). */

const session = {} as EdgeSession; // the limiter only hands it back to the sink
const status = (device: string, n: number): Status =>
  ({
    v: 1,
    id: messageId(`${device}-${String(n)}`),
    ts: Date.now(),
    kind: 'status',
    key: { group: 'devices.tether.dev', version: 'v1alpha1', kind: 'Device', namespace: 'ns', name: device },
    write: { type: 'deviceStatus', payload: { n } },
  }) as unknown as Status;
const n = (m: Status): number => m.write.payload['n'] as number;

class FakeSink implements DeviceStatusSink {
  readonly written: Status[] = [];
  readonly acked: Status[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly writeMs = 0,
    private readonly fail = false,
  ) {}
  async write(_s: EdgeSession, m: Status): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, this.writeMs));
    this.inFlight--;
    this.written.push(m);
    if (this.fail) throw new Error('API server unavailable');
  }
  superseded(_s: EdgeSession, m: Status): void {
    this.acked.push(m);
  }
}

const limiters: DeviceStatusLimiter[] = [];
afterEach(() => {
  for (const l of limiters.splice(0)) l.stop();
});
function limiter(sink: DeviceStatusSink, writesPerSecond: number): DeviceStatusLimiter {
  const l = new DeviceStatusLimiter(sink, { writesPerSecond });
  limiters.push(l);
  return l;
}
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('cloud/sync device status limiter', () => {
  it('cloud/sync — a burst: the first status is written at once, the last after the interval, the ones between are acked as replaced', async () => {
    const sink = new FakeSink();
    const l = limiter(sink, 20);
    for (let i = 1; i <= 50; i++) l.offer(session, status('a', i));
    expect(sink.written.map(n)).toEqual([]); // the first write is in progress
    expect(sink.acked.map(n)).toEqual(Array.from({ length: 48 }, (_, i) => i + 2));
    expect(l.parked).toBe(1);
    await until(() => sink.written.length === 2, 'the second write');
    expect(sink.written.map(n)).toEqual([1, 50]);
    expect(l.parked).toBe(0);
  });

  it('cloud/sync — a write slower than the interval: never two writes of one Device at once, and the latest wins', async () => {
    const sink = new FakeSink(60);
    const l = limiter(sink, 50); // 20 ms interval, 60 ms writes
    for (let i = 1; i <= 20; i++) {
      l.offer(session, status('a', i));
      await new Promise((r) => setTimeout(r, 7));
    }
    await until(
      () => sink.written.at(-1) !== undefined && n(sink.written.at(-1) as Status) === 20,
      'the last value',
    );
    expect(sink.maxInFlight).toBe(1);
    const order = sink.written.map(n);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Every status was either written or acked as replaced, none twice.
    expect([...order, ...sink.acked.map(n)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('cloud/sync — Devices are limited independently', async () => {
    const sink = new FakeSink();
    const l = limiter(sink, 1);
    l.offer(session, status('a', 1));
    l.offer(session, status('b', 1));
    l.offer(session, status('c', 1));
    await until(() => sink.written.length === 3, 'three writes');
    expect(sink.written.map((m) => m.key.name).sort()).toEqual(['a', 'b', 'c']);
    expect(sink.acked).toEqual([]);
  });

  it('cloud/sync — a failed write does not wedge the Device: the next status is still written', async () => {
    const sink = new FakeSink(0, true);
    const l = limiter(sink, 50);
    l.offer(session, status('a', 1));
    l.offer(session, status('a', 2));
    await until(() => sink.written.length === 2, 'the write after a failure');
    expect(sink.written.map(n)).toEqual([1, 2]);
  });

  it('cloud/sync — stop drops what is parked (unacked: the edge resends it) and writes nothing more', async () => {
    const sink = new FakeSink();
    const l = limiter(sink, 10);
    l.offer(session, status('a', 1));
    l.offer(session, status('a', 2));
    l.stop();
    l.offer(session, status('a', 3));
    await new Promise((r) => setTimeout(r, 250));
    expect(sink.written.map(n)).toEqual([1]);
    expect(sink.acked).toEqual([]);
    expect(l.parked).toBe(0);
  });

  it('cloud/sync — writesPerSecond must be positive', () => {
    expect(() => new DeviceStatusLimiter(new FakeSink(), { writesPerSecond: 0 })).toThrow(RangeError);
  });
});
