/**
 * `tether mapper` (issue 9) as a process on a real broker: it asks the node's bus for its
 * devices (KubeEdge membership/get) and stops cleanly on SIGTERM.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../edge/devices/helpers.js';
import { tether } from '../support/procs.js';

describe('cli — tether mapper', () => {
  let broker: Mosquitto;
  let client: MqttClient;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    client = await connectAsync(broker.url, { reconnectPeriod: 0 });
  }, 30_000);

  afterAll(async () => {
    await client.endAsync();
    await broker.stop();
  });

  it('cli — the mapper asks the bus for its node’s devices, then SIGTERM stops it with exit 0', async () => {
    const asked = new Promise<string>((resolve) => {
      client.on('message', (topic) => {
        resolve(topic);
      });
    });
    await client.subscribeAsync('$hw/events/node/+/membership/get');
    const p = tether(['mapper', '--protocol', 'simulated', '--node', 'map-1', '--bus', broker.url]);
    try {
      expect(await asked).toBe('$hw/events/node/map-1/membership/get');
      const deadline = Date.now() + 30_000;
      while (!p.output().includes('serving simulated devices of node map-1') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(p.output()).toContain(`tether mapper: serving simulated devices of node map-1 on ${broker.url}`);
      const exited = new Promise<number | null>((r) => p.child.once('exit', r));
      p.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await p.kill('SIGKILL');
    }
  }, 60_000);
});
