import { appendFile, open } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import { EdgeStreams } from '../../../src/edge/streams/index.js';
import { FakeCloud } from './fake-link.js';
import {
  SHELL_IMAGE,
  disposeStreamEnv,
  makePod,
  newStreamEnv,
  runPod,
  waitFor,
  type StreamEnv,
} from './helpers.js';

// A bound, not a timing: what the edge may retain while 100 MB of log output streams through.
const TOTAL = 100 * 1024 * 1024;
const BOUND = 32 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function used(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

let env: StreamEnv;
beforeAll(async () => {
  env = await newStreamEnv('heap');
}, 60_000);
afterAll(async () => {
  await disposeStreamEnv(env);
}, 60_000);

describe('edge/streams bounded memory', () => {
  it('edge/streams — 100 MB of logs stream through without the heap growing more than 32 MB', async () => {
    const p = await runPod(
      env,
      makePod(env, 'bulk', [{ name: 'app', image: SHELL_IMAGE, command: ['true'] }]),
    );
    const id = p.containers.get('app');
    if (id === undefined) throw new Error('no container');
    const st = await waitFor('the container to exit', async () => {
      const s = await env.rt.containerStatus(id);
      return s.state === 'exited' ? s : undefined;
    });
    // the exited container's real log file grows to 100 MB of CRI lines (containerd is done with it)
    const line = `2026-11-26T10:00:00.000000000Z stdout F ${'x'.repeat(983)}\n`; // 1 KiB per line
    const block = line.repeat(1024);
    const fh = await open(st.logPath, 'a');
    for (let n = 0; n < TOTAL; n += block.length) await fh.write(block);
    await fh.close();
    await appendFile(st.logPath, '2026-11-26T10:00:01.000000000Z stdout F the end\n');

    const streams = new EdgeStreams(
      { nodeName: env.nodeName, podLogsRoot: env.logsRoot },
      { store: env.store, runtime: env.rt, logger: silentLogger(), registry: createRegistry() },
    );
    await streams.start();
    const cloud = new FakeCloud(streams);
    cloud.discard = true;
    const base = used();
    let peak = 0;
    const sid = cloud.open(
      { namespace: 'streams-test', pod: 'bulk' },
      { type: 'logs', follow: false, timestamps: false, previous: false },
      256 * 1024,
    );
    for (const q of [0.25, 0.5, 0.75]) {
      await cloud.until(`${q * 100}% through`, () => (cloud.received.get(sid) ?? 0) >= TOTAL * q, 300_000);
      peak = Math.max(peak, used() - base);
    }
    expect(await cloud.ended(sid, 300_000)).toEqual({ type: 'closed' });
    peak = Math.max(peak, used() - base);
    await streams.stop();
    // every message byte of the file arrived (983 x + '\n' per line, and the last line)
    expect(cloud.received.get(sid)).toBe((TOTAL / 1024) * 984 + 'the end\n'.length);
    expect(peak).toBeLessThan(BOUND);
  }, 600_000);
});
