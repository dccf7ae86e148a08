import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_GROUP } from '../../../src/cloud/hub/index.js';
import { CertificateAuthority, createCsr, createRegistry, silentLogger } from '../../../src/common/index.js';
import { Link, type LinkConfig } from '../../../src/edge/link/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on: connecting to it is refused by the kernel. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) =>
    s.close(() => {
      r();
    }),
  );
  return typeof a === 'object' && a !== null ? a.port : 0;
}

describe('link reconnect policy', () => {
  let dir: string;
  let tls: LinkConfig['tls'];
  let resetter: Server;
  let resetPort = 0;
  const links: Link[] = [];
  const stores: EdgeStore[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-link-reconnect-'));
    const ca = await CertificateAuthority.create('link-reconnect-ca');
    const { csrPem, keyPem } = await createCsr('edge-r');
    tls = { certPem: await ca.signClientCsr(csrPem, 'edge-r', [EDGE_GROUP]), keyPem, caPem: ca.certPem };
    // a listener that closes every connection at once: the edge sees a reset, not a refusal
    resetter = createServer((s) => s.resetAndDestroy());
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
    const a = resetter.address();
    resetPort = typeof a === 'object' && a !== null ? a.port : 0;
  });

  afterAll(async () => {
    for (const l of links) await l.stop();
    for (const s of stores) s.close();
    await new Promise<void>((r) =>
      resetter.close(() => {
        r();
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  const link = async (port: number, reconnect: LinkConfig['reconnect']): Promise<Link> => {
    const store = new EdgeStore({ path: join(dir, `${String(links.length)}.db`) });
    store.open();
    stores.push(store);
    const l = new Link(
      { cloudUrl: `wss://127.0.0.1:${String(port)}`, tls, ...(reconnect === undefined ? {} : { reconnect }) },
      store,
      silentLogger(),
      createRegistry(),
    );
    links.push(l);
    await l.start();
    return l;
  };

  it('link — while the cloud refuses connections (restarting) it retries within refusedRetryMaxMs; after refusedWindowMs, and on resets (an overloaded cloud), it backs off exponentially', async () => {
    const refused = await closedPort();
    const fast = await link(refused, { refusedRetryMaxMs: 200 });
    const windowOver = await link(refused, { refusedRetryMaxMs: 200, refusedWindowMs: 0 });
    const reset = await link(resetPort, { refusedRetryMaxMs: 200 });
    await sleep(3000);
    // fast: delays of 20–200 ms → dozens of attempts in 3 s
    expect(fast.counters.refused).toBeGreaterThanOrEqual(12);
    // exponential from 0.5 s doubling (full jitter): 9 attempts need 8 delays summing < 3 s, with
    // bases 0.5, 1, 2, 4, 8, 16, 30, 30 s — practically never
    expect(windowOver.counters.refused).toBeGreaterThanOrEqual(1);
    expect(windowOver.counters.attempts).toBeLessThanOrEqual(8);
    expect(reset.counters.resets).toBeGreaterThanOrEqual(1);
    expect(reset.counters.refused).toBe(0);
    expect(reset.counters.attempts).toBeLessThanOrEqual(8);
  });

  it('link — refusals do not escalate the back-off: when the cloud is back but turns the edge away, it backs off from the start (0.5 s), not from the cap', async () => {
    const port = await closedPort();
    const l = await link(port, { refusedRetryMaxMs: 100 });
    const until = Date.now() + 10_000;
    while (l.counters.refused < 10 && Date.now() < until) await sleep(20);
    expect(l.counters.refused).toBeGreaterThanOrEqual(10);
    // the port now answers and closes every connection (an overloaded cloud's admission)
    const busy = createServer((s) => {
      s.resetAndDestroy();
    });
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', r));
    try {
      await sleep(2000);
      // delays U(0, 0.5 s), U(0, 1 s), …: at least two resets in 2 s; after ten escalated
      // attempts (U(0, 30 s) each) two would almost never come
      expect(l.counters.resets).toBeGreaterThanOrEqual(2);
    } finally {
      await l.stop();
      await new Promise<void>((r) =>
        busy.close(() => {
          r();
        }),
      );
    }
  });
});
