/**
 * ApiServer.stop() is bounded: it ends connections that are not HTTP requests yet or any more —
 * a TLS handshake that never completes (Node's https server waits 120 s for it by default) and
 * an upgraded connection (exec/attach/port-forward proxied to a kubelet) — instead of waiting
 * in server.close() for them to end on their own (a test's afterAll timed out at 120 s under load).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';

describe('apiserver stop', () => {
  let s: TestServer | undefined;
  const sockets: Socket[] = [];

  afterAll(async () => {
    for (const x of sockets) x.destroy();
    await s?.stop();
  });

  it('apiserver — stop() closes a connection stuck in its TLS handshake instead of waiting for it', async () => {
    s = await startTestServer();
    const { hostname, port } = new URL(s.url);
    // a client that connects and never sends its ClientHello (a hung or very slow peer)
    const raw = connect(Number(port), hostname);
    sockets.push(raw);
    raw.on('error', () => undefined);
    await new Promise<void>((resolve) => raw.once('connect', resolve));
    const closed = new Promise<void>((resolve) =>
      raw.once('close', () => {
        resolve();
      }),
    );
    await s.server.stop(); // without the bound: 120 s (the vitest timeout fails the test first)
    await closed;
    expect(raw.destroyed).toBe(true);
  }, 30_000);
});
