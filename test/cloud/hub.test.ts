import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EDGE_GROUP, Hub, type CloseReason, type HubHandler } from '../../src/cloud/hub/index.js';
import { KeepaliveWheel, type KeepaliveMember } from '../../src/cloud/hub/keepalive.js';
import {
  CertificateAuthority,
  createCsr,
  createRegistry,
  silentLogger,
  type Registry,
} from '../../src/common/index.js';
import { Link } from '../../src/edge/link/index.js';
import { EdgeStore } from '../../src/edge/store/index.js';
import { encode, messageId, nodeName, PROTOCOL_VERSION } from '../../src/protocol/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually(fn: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('hub keepalive wheel (unit)', () => {
  const member = (): KeepaliveMember & { pings: number; deaths: number[] } => ({
    missed: 0,
    pings: 0,
    deaths: [],
    ping() {
      this.pings++;
    },
    dead(missed: number) {
      this.deaths.push(missed);
    },
  });

  it('hub — keepalive wheel pings each member once per interval and declares a silent one dead after the limit', async () => {
    const wheel = new KeepaliveWheel({ intervalMs: 100, missedLimit: 3, slots: 5 });
    const silent = member();
    const chatty = member();
    wheel.add(silent);
    wheel.add(chatty);
    const answer = setInterval(() => {
      chatty.missed = 0; // any frame from the edge resets the count
    }, 20);
    try {
      await eventually(() => silent.deaths.length > 0, 'the silent member declared dead', 5000);
      // three pings unanswered, then dead at its fourth turn: ~4 intervals after joining
      expect(silent.pings).toBe(3);
      expect(silent.deaths).toEqual([3]);
      expect(wheel.size).toBe(1);
      const before = chatty.pings;
      await sleep(550);
      // one ping per 100 ms interval (5 ± 1 in 550 ms: timers on a loaded machine drift)
      expect(chatty.pings - before).toBeGreaterThanOrEqual(4);
      expect(chatty.pings - before).toBeLessThanOrEqual(6);
      expect(chatty.deaths).toEqual([]);
    } finally {
      clearInterval(answer);
      wheel.remove(chatty);
    }
    expect(wheel.size).toBe(0);
    const p = chatty.pings;
    await sleep(250);
    expect(chatty.pings).toBe(p); // removed: no more pings, and the wheel's timer stopped
  });
});

describe('hub sessions', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let hub: Hub;
  let registry: Registry;
  const closed: { node: string; reason: CloseReason }[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];

  const creds = async (name: string): Promise<{ certPem: string; keyPem: string; caPem: string }> => {
    const { csrPem, keyPem } = await createCsr(name);
    return { certPem: await ca.signClientCsr(csrPem, name, [EDGE_GROUP]), keyPem, caPem: ca.certPem };
  };
  const metric = async (name: string): Promise<number> => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1] ?? NaN);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-hub-'));
    ca = await CertificateAuthority.create('hub-test-ca');
    const serving = await ca.issueServer('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    registry = createRegistry();
    hub = new Hub(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
        settings: { keepaliveMs: 300, missedPongLimit: 2 },
      },
      silentLogger(),
      registry,
    );
    const handler: HubHandler = {
      sessionOpened: () => undefined,
      message: () => undefined,
      sessionClosed: (s, reason) => {
        closed.push({ node: s.node, reason });
      },
    };
    hub.setHandler(handler);
    await hub.start();
  });

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hub — a silent edge is closed for missed keepalives while a live link stays; bytes out are counted as sent', async () => {
    // a live edge: the real Link (it pings the cloud every keepalive interval)
    const link = await edge('live', hub.port);
    await eventually(() => link.state === 'online', 'the live link online');

    // a silent edge: says hello, then nothing (a hung agent behind a half-open connection)
    const c = await creds('silent');
    const ws = new WebSocket(`wss://127.0.0.1:${String(hub.port)}/v1/connect`, {
      cert: c.certPem,
      key: c.keyPem,
      ca: c.caPem,
    });
    cleanups.push(() => {
      ws.terminate();
    });
    await new Promise<void>((res, rej) => {
      ws.once('open', () => {
        res();
      });
      ws.once('error', rej);
    });
    const bytesBefore = await metric('tether_hub_bytes_out_total');
    ws.send(
      encode({
        v: PROTOCOL_VERSION,
        id: messageId('hello-1'),
        ts: Date.now(),
        kind: 'hello',
        agentVersion: 'test',
        protocols: [PROTOCOL_VERSION],
      }),
    );
    await eventually(() => hub.session(nodeName('silent')) !== undefined, 'the silent session');
    // the welcome was counted while the session is still open (not at its close)
    expect(hub.session(nodeName('silent'))?.isOpen).toBe(true);
    expect(await metric('tether_hub_bytes_out_total')).toBeGreaterThan(bytesBefore);

    await eventually(() => closed.some((x) => x.node === 'silent'), 'the silent session closed', 15_000);
    expect(closed.find((x) => x.node === 'silent')?.reason).toBe('keepalive');
    // the live link outlived several keepalive intervals on the same hub
    await sleep(1500);
    expect(closed.some((x) => x.node === 'live')).toBe(false);
    expect(hub.session(nodeName('live'))?.isOpen).toBe(true);
    expect(link.state).toBe('online');
  });

  /** A hub with one handshake slot (and the given admission queue), its registry and busy count. */
  const smallHub = async (
    queue: {
      maxQueuedConnections?: number;
      queueWaitMs?: number;
      acceptors?: number;
      listenBacklog?: number;
    } = {},
  ): Promise<{
    hub: Hub;
    reg: Registry;
    busy: () => Promise<number>;
    handshakes: (r: string) => Promise<number>;
  }> => {
    const serving = await ca.issueServer('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const reg = createRegistry();
    const h = new Hub(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
        maxPendingHandshakes: 1,
        ...queue,
      },
      silentLogger(),
      reg,
    );
    h.setHandler({
      sessionOpened: () => undefined,
      message: () => undefined,
      sessionClosed: () => undefined,
    });
    await h.start();
    cleanups.push(() => h.stop());
    const line = async (prefix: string): Promise<number> =>
      Number(
        (await reg.metrics())
          .split('\n')
          .find((l) => l.startsWith(prefix))
          ?.split(' ')[1] ?? 0,
      );
    return {
      hub: h,
      reg,
      busy: () => line('tether_hub_refused_connections_total{reason="busy"}'),
      handshakes: (r) => line(`tether_hub_handshakes_total{result="${r}"}`),
    };
  };
  /** A TCP client that never starts TLS: it holds a handshake slot until it goes. */
  const holdSlot = async (port: number): Promise<Socket> => {
    const holder = connect(port, '127.0.0.1');
    holder.on('error', () => undefined);
    await new Promise<void>((r) =>
      holder.once('connect', () => {
        r();
      }),
    );
    return holder;
  };
  const edge = async (name: string, port: number): Promise<Link> => {
    const store = new EdgeStore({ path: join(dir, `${name}.db`) });
    store.open();
    const link = new Link(
      { cloudUrl: `wss://127.0.0.1:${String(port)}`, tls: await creds(name) },
      store,
      silentLogger(),
      createRegistry(),
    );
    cleanups.push(() => {
      store.close();
    });
    cleanups.push(() => link.stop());
    await link.start();
    return link;
  };

  it('hub — connections beyond the handshake limit wait unread in the admission queue instead of being closed: the edge connects on its first attempt once a slot frees', async () => {
    const { hub: small, busy, handshakes } = await smallHub({ queueWaitMs: 60_000 });
    const holder = await holdSlot(small.port);
    await eventually(() => small.pendingHandshakes === 1, 'the held handshake');
    const links = await Promise.all([edge('queued-a', small.port), edge('queued-b', small.port)]);
    await eventually(() => small.queuedConnections === 2, 'both edges held in the queue');
    await sleep(300);
    // held, not refused: no TLS work yet, and neither edge saw a failure to back off from
    expect(small.queuedConnections).toBe(2);
    expect(links.map((l) => l.state)).toEqual(['connecting', 'connecting']);
    holder.destroy();
    await eventually(() => links.every((l) => l.state === 'online'), 'both edges online');
    expect(links.map((l) => l.counters.attempts)).toEqual([1, 1]);
    expect(await busy()).toBe(0);
    expect(await handshakes('shed')).toBe(0);
    expect(await handshakes('completed')).toBe(2);
    expect(small.queuedConnections).toBe(0);
    expect(small.pendingHandshakes).toBe(0);
  });

  it('link — a reconnecting link reuses one parsed TLS context; new credentials (setTls) get a new one from the next connect', async () => {
    const link = await edge('ctx-a', hub.port);
    await eventually(
      () => link.state === 'online' && hub.session(nodeName('ctx-a')) !== undefined,
      'ctx-a online',
    );
    const ctx = (): unknown => (link as unknown as { secureContext?: unknown }).secureContext;
    const first = ctx();
    expect(first).toBeDefined();
    const connects = link.counters.connects;
    link.dropConnection();
    await eventually(() => link.counters.connects > connects && link.state === 'online', 'ctx-a reconnected');
    expect(ctx()).toBe(first);
    link.setTls(await creds('ctx-b'));
    link.dropConnection();
    // the hub names the session from the certificate: the rotated one was used
    await eventually(
      () => hub.session(nodeName('ctx-b')) !== undefined,
      'the session under the new certificate',
    );
    expect(ctx()).not.toBe(first);
    expect(ctx()).toBeDefined();
  });

  it('hub — the handshake limit falls to its floor while the event loop lags and grows back to maxPendingHandshakes when it idles', async () => {
    const serving = await ca.issueServer('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const h = new Hub(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
        maxPendingHandshakes: 128,
      },
      silentLogger(),
      createRegistry(),
    );
    h.setHandler({
      sessionOpened: () => undefined,
      message: () => undefined,
      sessionClosed: () => undefined,
    });
    await h.start();
    cleanups.push(() => h.stop());
    await eventually(() => h.handshakeLimit === 128, 'the limit at its maximum while idle', 10_000);
    // saturate the loop: 700 ms of synchronous work per turn (callbacks wait that long: beyond the
    // 500 ms the limit tolerates), timers still get their turn between
    let lowest = h.handshakeLimit;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const spin = Date.now() + 700;
      while (Date.now() < spin) {
        /* busy: what a cloud registering thousands of Nodes does to its loop */
      }
      await new Promise((r) => setImmediate(r));
      lowest = Math.min(lowest, h.handshakeLimit);
    }
    expect(lowest).toBe(16);
    await eventually(() => h.handshakeLimit === 128, 'the limit back at its maximum', 10_000);
  });

  it('hub — a held connection is closed after queueWaitMs (its edge would give up anyway)', async () => {
    const { hub: small, busy } = await smallHub({ queueWaitMs: 300 });
    const holder = await holdSlot(small.port);
    await eventually(() => small.pendingHandshakes === 1, 'the held handshake');
    const waiting = connect(small.port, '127.0.0.1');
    let closedAt = 0;
    const at = Date.now();
    waiting.on('error', () => undefined);
    waiting.on('close', () => {
      closedAt = Date.now();
    });
    await eventually(() => closedAt > 0, 'the held connection closed', 10_000);
    expect(closedAt - at).toBeGreaterThanOrEqual(250);
    expect(await busy()).toBe(1);
    expect(small.queuedConnections).toBe(0);
    holder.destroy();
    await eventually(() => small.pendingHandshakes === 0, 'no handshake pending');
  });

  it('hub — connections beyond maxPendingHandshakes with no queue room are closed before any TLS work; the count returns to 0 and edges connect again', async () => {
    const { hub: small, busy } = await smallHub({ maxQueuedConnections: 0 });
    const holder = await holdSlot(small.port);
    await eventually(() => small.pendingHandshakes === 1, 'the held handshake');
    const shed = connect(small.port, '127.0.0.1');
    let shedClosed = false;
    shed.on('error', () => undefined);
    shed.on('close', () => {
      shedClosed = true;
    });
    await eventually(() => shedClosed, 'the second connection closed by the hub', 10_000);
    expect(await busy()).toBe(1);
    holder.destroy();
    await eventually(() => small.pendingHandshakes === 0, 'no handshake pending');
    // with the slot free, an edge completes its handshake and session
    const link = await edge('after-shed', small.port);
    await eventually(() => link.state === 'online', 'the edge online');
    expect(small.pendingHandshakes).toBe(0);
    expect(await busy()).toBe(1);
  });

  /**
   * Most connections the hub accepted within one event-loop iteration while `n` connect at once
   * and each iteration is kept busy for a few ms (as a cloud with thousands of sessions is): the
   * slot is held, so every accepted connection waits in the admission queue and is counted there.
   */
  const acceptsPerIteration = async (
    acceptors: number,
    n: number,
  ): Promise<{ max: number; port: number; hub: Hub }> => {
    const { hub: h, reg } = await smallHub({ acceptors, queueWaitMs: 60_000 });
    expect((await reg.metrics()).split('\n').find((l) => l.startsWith('tether_hub_listening_handles '))).toBe(
      `tether_hub_listening_handles ${String(acceptors)}`,
    );
    const holder = await holdSlot(h.port);
    cleanups.push(() => {
      holder.destroy();
    });
    await eventually(() => h.pendingHandshakes === 1, 'the held handshake');
    let max = 0;
    let last = h.queuedConnections;
    let spinning = true;
    const spin = (): void => {
      const t = Date.now();
      while (Date.now() - t < 5);
      const now = h.queuedConnections;
      max = Math.max(max, now - last);
      last = now;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const clients = Array.from({ length: n }, () =>
      connect(h.port, '127.0.0.1').on('error', () => undefined),
    );
    cleanups.push(() => {
      for (const c of clients) c.destroy();
    });
    await eventually(() => h.queuedConnections >= n, `all ${String(n)} connections held`, 30_000);
    spinning = false;
    return { max, port: h.port, hub: h };
  };

  it('hub — with acceptors > 1 one event-loop iteration accepts several connections (libuv accepts one per listening handle and iteration), and stop() releases every handle', async () => {
    const one = await acceptsPerIteration(1, 40);
    expect(one.max).toBe(1);
    const four = await acceptsPerIteration(4, 40);
    expect(four.max).toBeGreaterThan(1);
    expect(four.max).toBeLessThanOrEqual(4);
    await four.hub.stop();
    // every duplicate handle of the socket is closed: the port can be bound again
    const again = createTcpServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(four.port, '127.0.0.1', () => {
        resolve();
      });
    });
    await new Promise<void>((r) =>
      again.close(() => {
        r();
      }),
    );
  });
  it('hub — the listen backlog is listenBacklog with duplicate handles too (their listen() resets it to 511)', async () => {
    const { hub: h } = await smallHub({ acceptors: 4, listenBacklog: 1234 });
    // a listening socket's Send-Q in `ss` is its backlog
    const out = execFileSync('ss', ['-Hltn', `sport = :${String(h.port)}`], { encoding: 'utf8' });
    expect(out.trim().split(/\s+/)[2]).toBe('1234');
  });
});
