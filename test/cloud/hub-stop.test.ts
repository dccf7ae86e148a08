/**
 * Hub.stop() ends every connection it accepted, whatever state it is in: a WebSocket upgraded
 * but not yet greeted when stop() begins, whose hello (and pings) arrive after, must not become a
 * session of a stopped hub — that connection kept the listening socket's close() waiting for as
 * long as its edge kept pinging (a test's afterAll hook timed out at 120 s under load).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EDGE_GROUP, Hub, type HubHandler } from '../../src/cloud/hub/index.js';
import { CertificateAuthority, createCsr, createRegistry, silentLogger } from '../../src/common/index.js';
import { encode, messageId, PROTOCOL_VERSION, type Body } from '../../src/protocol/index.js';

describe('hub stop', () => {
  let ca: CertificateAuthority;
  let hub: Hub;
  const opened: string[] = [];
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    ca = await CertificateAuthority.create('hub-stop-ca');
    const serving = await ca.issueServer('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    hub = new Hub(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
        settings: { keepaliveMs: 300, missedPongLimit: 2 },
      },
      silentLogger(),
      createRegistry(),
    );
    const handler: HubHandler = {
      sessionOpened: (s) => {
        opened.push(s.node);
      },
      message: () => undefined,
      sessionClosed: () => undefined,
    };
    hub.setHandler(handler);
    await hub.start();
  });

  afterAll(async () => {
    for (const c of clients) c.terminate();
    await hub.stop();
  });

  it('hub — stop() closes a connection that was upgraded before it and says hello after it; no session opens', async () => {
    const { csrPem, keyPem } = await createCsr('late-hello');
    const certPem = await ca.signClientCsr(csrPem, 'late-hello', [EDGE_GROUP]);
    const ws = new WebSocket(`wss://127.0.0.1:${String(hub.port)}/v1/connect`, {
      cert: certPem,
      key: keyPem,
      ca: ca.certPem,
    });
    clients.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.on('error', () => undefined);
    const frame = (body: Body): Buffer =>
      Buffer.from(
        encode({ v: PROTOCOL_VERSION, id: messageId(`m-${String(Date.now())}`), ts: Date.now(), ...body }),
      );

    const stopped = hub.stop();
    // the edge's hello and then its pings (a live edge keeps its link busy) — all after stop() began
    ws.send(frame({ kind: 'hello', agentVersion: 'test', protocols: [PROTOCOL_VERSION] }));
    const pinger = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame({ kind: 'ping' }));
    }, 100);
    try {
      await stopped; // without the fix: never (the vitest timeout fails the test)
      expect(await closed).toBe(1001); // "going away": the hub shutting down
    } finally {
      clearInterval(pinger);
    }
    expect(opened).toEqual([]);
    expect(hub.session('late-hello' as never)).toBeUndefined();
  }, 30_000);
});
