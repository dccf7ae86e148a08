/**
 * The embedded bus loads aedes and mqtt only when a client connects (issue 12 footprint): checked
 * in a fresh process (the CommonJS cache of a test worker is shared with other files), with a real
 * MQTT client (mosquitto_sub would do too) connecting over TCP.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../../src/edge/devices/bus.js';
import { REPO_ROOT } from '../../support/controlplane.js';

const CHILD = `
import { createRequire } from 'node:module';
import { EventBus } from ${JSON.stringify(join(REPO_ROOT, 'src/edge/devices/index.ts'))};
import { silentLogger } from ${JSON.stringify(join(REPO_ROOT, 'src/common/index.ts'))};
const req = createRequire(${JSON.stringify(join(REPO_ROOT, 'package.json'))});
// aedes itself is ESM; its CommonJS dependency aedes-persistence shows that it loaded
const loaded = () => [...new Set(Object.keys(req.cache).flatMap((k) => /node_modules\\/(aedes-persistence|mqtt)\\//.exec(k)?.[1] ?? []))].sort();
const bus = new EventBus({ config: { mode: 'embedded', host: '127.0.0.1', port: 0 }, logger: silentLogger() });
await bus.start();
const got = [];
bus.onMessage((t, p) => got.push(t + ' ' + p.toString()));
await bus.subscribe(['a/+/c', 'z/#']);
bus.publish('a/b/c', { n: 1 });
bus.publish('x/y', 'nobody');
const before = { loaded: loaded(), got: [...got], connected: bus.connected };
const { connectAsync } = await import('mqtt');
const app = await connectAsync(bus.url, { reconnectPeriod: 0 });
await app.subscribeAsync('a/#', { qos: 1 });
const seen = new Promise((r) => app.once('message', (t, p) => r(t + ' ' + p.toString())));
bus.publish('a/q', 'to-app');
await app.publishAsync('z/1', 'from-app', { qos: 1 });
const appGot = await seen;
await new Promise((r) => setTimeout(r, 200));
const after = { loaded: loaded(), got: [...got], appGot };
await app.endAsync(true);
await bus.stop();
process.stdout.write(JSON.stringify({ before, after }));
`;

function runChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let errOut = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errOut += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`child exited ${String(code)}: ${errOut}`));
    });
  });
}

describe('edge/devices bus — lazy broker', () => {
  it('devices — an embedded bus without clients loads neither aedes nor mqtt, still delivers to its own subscriptions, and serves the first client', async () => {
    const r = JSON.parse(await runChild()) as {
      before: { loaded: string[]; got: string[]; connected: boolean };
      after: { loaded: string[]; got: string[]; appGot: string };
    };
    expect(r.before.loaded).toEqual([]);
    expect(r.before.got).toEqual(['a/b/c {"n":1}']);
    expect(r.before.connected).toBe(true);
    expect(r.after.loaded).toEqual(['aedes-persistence', 'mqtt']);
    expect(r.after.appGot).toBe('a/q to-app');
    expect(r.after.got).toEqual(['a/b/c {"n":1}', 'z/1 from-app']);
  }, 90_000);

  it('devices — topic filters match as MQTT 3.1.1 §4.7 says', () => {
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('+/b', '$sys/b')).toBe(false);
    expect(topicMatches('#', '$hw/x')).toBe(false);
    expect(topicMatches('$hw/events/device/+/twin/update', '$hw/events/device/d1/twin/update')).toBe(true);
    expect(topicMatches('$hw/events/device/+/twin/update', '$hw/events/device/d1/twin/update/delta')).toBe(
      false,
    );
  });
});
