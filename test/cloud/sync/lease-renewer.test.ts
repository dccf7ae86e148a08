import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import type { WriteOutcome } from '../../../src/cloud/kube/index.js';
import { LeaseRenewer, type LeaseWriter, type LiveSession } from '../../../src/cloud/sync/index.js';
import { nodeName, type NodeName, type SessionSettings } from '../../../src/protocol/index.js';
import { eventually } from '../../support/channel.js';
import { metricValue } from '../../support/metrics.js';

/** The one write the renewer makes, by hand: records each renewal and how many ran at once. */
class SlowWriter implements LeaseWriter {
  readonly calls: { node: string; at: number; spec: Record<string, unknown> }[] = [];
  running = 0;
  maxRunning = 0;
  async renewLease(node: string, spec: Record<string, unknown>): Promise<WriteOutcome> {
    this.calls.push({ node, at: Date.now(), spec });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((r) => setTimeout(r, 20));
    this.running--;
    return { ok: true };
  }
  of(node: string): number[] {
    return this.calls.filter((c) => c.node === node).map((c) => c.at);
  }
}

class Sessions {
  /** the hub's admission busy (a reconnect storm) */
  admitting = false;
  readonly settings: SessionSettings = {
    keepaliveMs: 200,
    missedPongLimit: 3,
    windowSize: 64,
    maxFrameBytes: 1 << 20,
    inventoryChunk: 1000,
  };
  readonly map = new Map<NodeName, LiveSession & { lastFrameAt: number; isOpen: boolean }>();
  open(n: string): LiveSession & { lastFrameAt: number; isOpen: boolean } {
    const s = { node: nodeName(n), isOpen: true, lastFrameAt: Date.now() };
    this.map.set(s.node, s);
    return s;
  }
  session(n: NodeName): LiveSession | undefined {
    return this.map.get(n);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cloud/sync LeaseRenewer (issue 12)', () => {
  let renewer: LeaseRenewer | undefined;
  afterEach(() => {
    renewer?.stop();
  });

  it('leases — a storm of session starts is renewed at once but never more than maxInFlight writes at a time; the next round is spread over the interval', async () => {
    const writer = new SlowWriter();
    const sessions = new Sessions();
    const registry = createRegistry();
    const r = new LeaseRenewer(
      { renewIntervalSeconds: 1, maxInFlight: 4 },
      writer,
      sessions,
      silentLogger(),
      registry,
    );
    renewer = r;
    const nodes = Array.from({ length: 50 }, (_, i) => `n${String(i)}`);
    const keepFresh = setInterval(() => {
      for (const s of sessions.map.values()) s.lastFrameAt = Date.now();
    }, 50);
    try {
      for (const n of nodes) r.sessionOpened(sessions.open(n));
      await eventually(() => nodes.every((n) => writer.of(n).length >= 1), 'every node renewed once', 10_000);
      expect(writer.maxRunning).toBeLessThanOrEqual(4);
      expect(writer.maxRunning).toBeGreaterThan(1);
      const spec = writer.calls[0]?.spec;
      expect(spec).toMatchObject({ holderIdentity: 'n0', leaseDurationSeconds: 40 });
      expect(String(spec?.['renewTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      await eventually(
        () => nodes.every((n) => writer.of(n).length >= 2),
        'every node renewed twice',
        10_000,
      );
      // first periods drawn over the whole interval: the second renewals do not come back as one burst
      const seconds = nodes.map((n) => writer.of(n)[1] ?? 0);
      expect(Math.max(...seconds) - Math.min(...seconds)).toBeGreaterThan(300);
      // counted when a write completes: the last calls seen above may still be in flight
      await eventually(
        async () => (await metricValue(registry, 'tether_sync_lease_renewals_total')) >= 100,
        '100 renewals counted',
        10_000,
      );
    } finally {
      clearInterval(keepFresh);
    }
  });

  it('leases — a silent session is not renewed until it sends again; a closed one never again', async () => {
    const writer = new SlowWriter();
    const sessions = new Sessions();
    const registry = createRegistry();
    const r = new LeaseRenewer({ renewIntervalSeconds: 0.2 }, writer, sessions, silentLogger(), registry);
    renewer = r;
    expect(r.freshnessBoundMs).toBe(400); // keepaliveMs × (missedPongLimit − 1)
    const quiet = sessions.open('quiet');
    const gone = sessions.open('gone');
    r.sessionOpened(quiet);
    r.sessionOpened(gone);
    await eventually(
      () => writer.of('quiet').length >= 1 && writer.of('gone').length >= 1,
      'renewed at start',
    );
    // 'quiet' stops sending; 'gone' ends
    quiet.lastFrameAt = Date.now() - 10_000;
    r.sessionClosed(gone);
    gone.isOpen = false;
    sessions.map.delete(gone.node);
    const q = writer.of('quiet').length;
    const g = writer.of('gone').length;
    await eventually(
      async () =>
        (await metricValue(registry, 'tether_sync_lease_renewals_skipped_total', { reason: 'stale' })) >= 2,
      'stale renewals skipped',
    );
    expect(writer.of('quiet').length).toBe(q);
    expect(writer.of('gone').length).toBe(g);
    // a frame again: renewals resume
    quiet.lastFrameAt = Date.now();
    await eventually(() => writer.of('quiet').length > q, 'renewed again after a frame');
    expect(writer.of('gone').length).toBe(g);
    expect(r.renewing).toBe(1);
  });

  it('leases — renewals that cannot keep pace show as queued, in flight at the cap, and a growing oldest-due age; all 0 once they catch up', async () => {
    // a writer held until released: the API server is slower than the renewals fall due
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const writer: LeaseWriter = {
      async renewLease(): Promise<WriteOutcome> {
        calls++;
        await gate;
        return { ok: true };
      },
    };
    const sessions = new Sessions();
    const registry = createRegistry();
    const r = new LeaseRenewer(
      { renewIntervalSeconds: 600, maxInFlight: 3 },
      writer,
      sessions,
      silentLogger(),
      registry,
    );
    renewer = r;
    for (let i = 0; i < 10; i++) r.sessionOpened(sessions.open(`n${String(i)}`));
    const value = (name: string): Promise<number> => metricValue(registry, name);
    expect(calls).toBe(3);
    expect(await value('tether_sync_lease_renewals_in_flight')).toBe(3);
    expect(await value('tether_sync_lease_renewals_queued')).toBe(7);
    const first = await value('tether_sync_lease_renewal_oldest_due_seconds');
    await eventually(
      async () => (await value('tether_sync_lease_renewal_oldest_due_seconds')) > first,
      'the oldest due renewal ages while none completes',
    );
    release();
    await eventually(
      async () => (await metricValue(registry, 'tether_sync_lease_renewals_total')) === 10,
      'every node renewed',
    );
    // the next round is due in ~10 minutes: nothing is due now
    expect(await value('tether_sync_lease_renewals_in_flight')).toBe(0);
    expect(await value('tether_sync_lease_renewals_queued')).toBe(0);
    expect(await value('tether_sync_lease_renewal_oldest_due_seconds')).toBe(0);
  });

  it('leases — while the hub is admitting edges, connected nodes are renewed at busyRenewIntervalSeconds (never beyond half the lease), and at renewIntervalSeconds again after', async () => {
    const writer = new SlowWriter();
    const sessions = new Sessions();
    const registry = createRegistry();
    const r = new LeaseRenewer(
      // busy 5 s asked, but the lease lasts 1 s: capped at 0.5 s
      { renewIntervalSeconds: 0.1, busyRenewIntervalSeconds: 5, leaseDurationSeconds: 1 },
      writer,
      sessions,
      silentLogger(),
      registry,
    );
    renewer = r;
    const keepFresh = setInterval(() => {
      for (const s of sessions.map.values()) s.lastFrameAt = Date.now();
    }, 20);
    const gaps = (from: number): number[] => {
      const at = writer.of('storm').filter((t) => t >= from);
      return at.slice(1).map((t, i) => t - (at[i] ?? t));
    };
    try {
      sessions.admitting = true;
      r.sessionOpened(sessions.open('storm'));
      const t0 = Date.now();
      await eventually(() => writer.of('storm').length >= 4, 'four renewals while admitting', 10_000);
      // the first at once, then every 0.45–0.5 s (the cap, jittered down by ≤ 10 %) plus the write
      const busyGaps = gaps(t0).slice(1);
      expect(Math.min(...busyGaps)).toBeGreaterThanOrEqual(400);
      expect(Math.max(...busyGaps)).toBeLessThan(2500); // capped, not the 5 s asked
      expect(
        await metricValue(registry, 'tether_sync_lease_renewals_stretched_total'),
      ).toBeGreaterThanOrEqual(3);
      sessions.admitting = false;
      await sleep(600); // the renewal already scheduled at the busy interval runs first
      const t1 = Date.now();
      await eventually(
        () => writer.of('storm').filter((t) => t >= t1).length >= 6,
        'renewals at the normal interval',
        10_000,
      );
      // 0.09–0.1 s plus the 20 ms write: the median well under the busy interval's shortest gap
      const normal = gaps(t1).sort((a, b) => a - b);
      expect(normal[Math.floor(normal.length / 2)]).toBeLessThan(0.6 * Math.min(...busyGaps));
    } finally {
      clearInterval(keepFresh);
    }
  });
});
