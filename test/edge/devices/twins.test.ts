import { afterEach, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { silentLogger } from '../../../src/common/index.js';
import { EventBus } from '../../../src/edge/devices/index.js';
import { TwinStore } from '../../../src/edge/store/twins.js';
import { buildStatus, pendingDesired, wireTwins } from '../../../src/edge/devices/index.js';
import { tempStore } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('edge/store twins', () => {
  it('devices — reported values, the history ring and state survive reopening the SQLite file', () => {
    const t = tempStore();
    cleanups.push(t.cleanup);
    const twins = new TwinStore(t.store, 4);
    const changed = twins.recordReported(
      Array.from({ length: 10 }, (_, i) => ({
        device: 'd',
        property: 'p',
        value: String(i % 3 === 0 ? 0 : i),
        at: 1000 + i,
      })),
    );
    // 0,1,2,0,4,5,0,7,8,0: every write differs from the previous one
    expect(changed).toHaveLength(10);
    expect(twins.recordReported([{ device: 'd', property: 'p', value: '0', at: 2000 }])).toEqual([]);
    expect(twins.setDesired('d', 'q', '5', 1500)).toBe(true);
    expect(twins.setDesired('d', 'q', '5', 1600)).toBe(false);
    twins.setState('d', {
      online: false,
      reason: 'Timeout',
      message: 'm',
      changedAt: 3000,
      lastOnline: 2500,
    });
    t.store.close();
    t.store.open();
    const again = new TwinStore(t.store, 4);
    expect(again.twins('d')).toEqual([
      { property: 'p', reported: '0', reportedAt: 2000 },
      { property: 'q', desired: '5', desiredAt: 1500 },
    ]);
    // ring of 4: the oldest samples were overwritten
    expect(again.history('d', 'p')).toEqual([
      { value: '7', at: 1007 },
      { value: '8', at: 1008 },
      { value: '0', at: 1009 },
      { value: '0', at: 2000 },
    ]);
    expect(again.state('d')).toEqual({
      online: false,
      reason: 'Timeout',
      message: 'm',
      changedAt: 3000,
      lastOnline: 2500,
    });
    again.retainProperties('d', ['q']);
    expect(again.twins('d').map((r) => r.property)).toEqual(['q']);
    expect(again.history('d', 'p')).toEqual([]);
    again.removeDevice('d');
    expect(again.devices()).toEqual([]);
  });

  it('devices — pending desired values, the KubeEdge wire twin and the status payload', () => {
    const model = {
      properties: [
        { name: 't', type: 'float' as const, accessMode: 'ReadOnly' as const },
        { name: 's', type: 'int' as const, accessMode: 'ReadWrite' as const },
        { name: 'f', type: 'float' as const, accessMode: 'ReadWrite' as const },
      ],
    };
    const rows = [
      { property: 's', desired: '5', desiredAt: 1, reported: '4', reportedAt: 2 },
      { property: 'f', desired: '2.5', desiredAt: 1, reported: '2.5000001', reportedAt: 2 },
      { property: 't', desired: '9', desiredAt: 1, reported: '1', reportedAt: 2 },
    ];
    // ReadOnly desired values are never driven; float32 noise is "the same"
    expect(pendingDesired(model, rows)).toEqual({ s: '5' });
    expect(wireTwins(model, rows).s).toEqual({
      expected: { value: '5', metadata: { timestamp: 1 } },
      actual: { value: '4', metadata: { timestamp: 2 } },
      optional: false,
      metadata: { type: 'int' },
    });
    const st = buildStatus({ model, rows, conditions: [], lastOnline: 0, generation: 3 });
    expect(st.observedGeneration).toBe(3);
    expect(st.lastOnlineTime).toBe('1970-01-01T00:00:00.000Z');
    expect(st.properties?.find((p) => p.name === 's')?.reported).toEqual({
      value: '4',
      timestamp: '1970-01-01T00:00:00.002Z',
    });
  });
});

describe('edge/devices bus', () => {
  it('devices — the embedded bus restarts after stop and releases its port', async () => {
    const bus = new EventBus({
      config: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      logger: silentLogger(),
    });
    await bus.start();
    const url1 = bus.url;
    const app = await connectAsync(url1, { reconnectPeriod: 0 });
    await bus.stop();
    // the broker ended the app's connection; stop did not hang on it
    await new Promise((r) => setTimeout(r, 100));
    expect(app.connected).toBe(false);
    await app.endAsync(true);
    await expect(connectAsync(url1, { reconnectPeriod: 0, connectTimeout: 500 })).rejects.toThrow();
    await bus.start();
    cleanups.push(() => bus.stop());
    const got: string[] = [];
    bus.onMessage((topic) => got.push(topic));
    await bus.subscribe(['a/#']);
    bus.publish('a/b', { x: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['a/b']);
    expect(bus.connected).toBe(true);
  });
});
