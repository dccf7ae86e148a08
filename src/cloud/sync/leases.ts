import { Counter, Gauge, Histogram } from 'prom-client';
import { z } from 'zod';
import { ConfigError, errorMessage, type Logger, type Registry } from '../../common/index.js';
import type { NodeName, SessionSettings } from '../../protocol/index.js';
import type { WriteOutcome } from '../kube/index.js';

export const LeaseRenewerConfigSchema = z.object({
  /** Off: the cloud offers no `leaseByCloud` and edges renew their Leases through the channel. */
  enabled: z.boolean().default(true),
  /** As the kubelet's renew interval (a quarter of the lease duration upstream). */
  renewIntervalSeconds: z.number().min(0.1).max(3600).default(10),
  leaseDurationSeconds: z.number().int().min(1).default(40),
  /**
   * The renew interval while the hub is admitting edges (a reconnect storm), at most half the
   * lease duration. A Lease renewed 20 s ago still has 20 s left; the writes saved are CPU the
   * cloud and the API server give to the edges still coming back (issue 12: 677 Lease writes/s of
   * edges already back went on during a 10,000-edge storm). Equal to renewIntervalSeconds: never.
   */
  busyRenewIntervalSeconds: z.number().min(0.1).max(3600).default(20),
  /**
   * Lease writes in flight at once, across all nodes (a reconnect storm is paced, not a flood).
   * Throughput is this over the API round trip: 16 kept pace with 10,000 idle nodes (1,000/s
   * due) but fell to 153/s against 500/s due right after a 5,000-node join (oldest due renewal
   * 29.9 s old, the Lease lapses at 40 s); upstream admits 200 mutating requests at once.
   */
  maxInFlight: z.number().int().min(1).max(1000).default(64),
  /**
   * A session is renewed only while its edge sent a frame within this long. Default:
   * keepaliveMs × (missedPongLimit − 1), at least 1.5 × keepaliveMs — the edge pings every
   * keepaliveMs, so that is one ping missed or late; the hub closes the session after
   * missedPongLimit empty intervals anyway.
   */
  freshnessMs: z.number().int().min(1).optional(),
});
export type LeaseRenewerConfig = z.input<typeof LeaseRenewerConfigSchema>;

/** The one Kubernetes write the renewer needs (STYLE §7): KubeClient.renewLease. */
export interface LeaseWriter {
  renewLease(node: string, spec: Record<string, unknown>): Promise<WriteOutcome>;
}

/** What the renewer reads of a hub session (EdgeSession has it). */
export interface LiveSession {
  readonly node: NodeName;
  readonly isOpen: boolean;
  /** When the edge's last frame arrived (ms). */
  readonly lastFrameAt: number;
}

/** Where the renewer learns whether a session is still the node's current one. */
export interface SessionLookup {
  session(node: NodeName): LiveSession | undefined;
  readonly settings: SessionSettings;
  /** Edges are waiting for or in their TLS handshake now (the hub's admission is busy). */
  readonly admitting?: boolean;
}

interface Entry {
  readonly session: LiveSession;
  timer: NodeJS.Timeout | undefined;
  /** When this renewal was due (the lag histogram measures from here). */
  dueAt: number;
  queued: boolean;
  /** Its write is in flight now. */
  writing: boolean;
  /** No renewal succeeded yet on this session. */
  first: boolean;
  /** An older edge renews its Lease itself through the channel: the cloud then stays out of it. */
  edgeRenews: boolean;
}

/** RFC 3339 with microseconds, as metav1.MicroTime (Lease spec.renewTime) is written. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Renews `kube-node-lease/<node>` from the link's liveness (DESIGN §3 "a Lease renewed while it is
 * connected"; issue 12): the edge sends nothing for it. A node is renewed at once when its session
 * starts (Ready quickly after a reconnect), then every renewInterval with jitter, as long as its
 * edge has sent any frame (pings included) within the freshness bound — a hung agent whose TCP
 * connection the kernel keeps open stops being renewed — and not at all once its session ended.
 */
export class LeaseRenewer {
  readonly name = 'leases';
  readonly cfg: z.output<typeof LeaseRenewerConfigSchema>;
  private readonly entries = new Map<NodeName, Entry>();
  private readonly pending: NodeName[] = [];
  private inFlight = 0;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly busyIntervalMs: number;
  private readonly freshnessMs: number;
  private readonly metrics;

  constructor(
    config: LeaseRenewerConfig,
    private readonly writer: LeaseWriter,
    private readonly sessions: SessionLookup,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const parsed = LeaseRenewerConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid lease configuration',
        parsed.error.issues.map((i) => `leases.${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
    this.intervalMs = Math.round(this.cfg.renewIntervalSeconds * 1000);
    // never beyond half the lease: a renewal late by the other half still lands in time
    this.busyIntervalMs = Math.max(
      this.intervalMs,
      Math.min(
        Math.round(this.cfg.busyRenewIntervalSeconds * 1000),
        (this.cfg.leaseDurationSeconds * 1000) / 2,
      ),
    );
    const { keepaliveMs, missedPongLimit } = sessions.settings;
    this.freshnessMs = this.cfg.freshnessMs ?? Math.round(keepaliveMs * Math.max(1.5, missedPongLimit - 1));
    const registers = [registry];
    this.metrics = {
      renewals: new Counter({
        name: 'tether_sync_lease_renewals_total',
        help: 'Node Leases renewed by the cloud from link liveness',
        registers,
      }),
      failed: new Counter({
        name: 'tether_sync_lease_renewal_failures_total',
        help: 'Lease renewals the API server refused or did not answer, by reason',
        labelNames: ['reason'],
        registers,
      }),
      skipped: new Counter({
        name: 'tether_sync_lease_renewals_skipped_total',
        help: 'Renewals not written: stale = no frame from the edge within the freshness bound, edge = an older edge renews itself',
        labelNames: ['reason'],
        registers,
      }),
      // Keeping pace (issue 12: 10,000 nodes are 1,000 writes/s at the 10 s interval): the age of
      // the oldest renewal that is due and not yet accepted grows without bound when they do not.
      oldestDue: new Gauge({
        name: 'tether_sync_lease_renewal_oldest_due_seconds',
        help: 'Age of the oldest Lease renewal that is due and not yet accepted (queued or in flight); 0 when none',
        registers,
        collect: () => {
          const now = Date.now();
          let oldest = now;
          for (const e of this.entries.values())
            if (e.queued || e.writing) oldest = Math.min(oldest, e.dueAt);
          this.metrics.oldestDue.set((now - oldest) / 1000);
        },
      }),
      queuedNow: new Gauge({
        name: 'tether_sync_lease_renewals_queued',
        help: 'Lease renewals due and waiting for a write slot (maxInFlight)',
        registers,
        collect: () => {
          this.metrics.queuedNow.set(this.pending.length);
        },
      }),
      inFlightNow: new Gauge({
        name: 'tether_sync_lease_renewals_in_flight',
        help: 'Lease writes in flight now (at most maxInFlight)',
        registers,
        collect: () => {
          this.metrics.inFlightNow.set(this.inFlight);
        },
      }),
      stretched: new Counter({
        name: 'tether_sync_lease_renewals_stretched_total',
        help: 'Renewals scheduled at busyRenewIntervalSeconds instead of renewIntervalSeconds because the hub was admitting edges',
        registers,
      }),
      lag: new Histogram({
        name: 'tether_sync_lease_renewal_lag_seconds',
        help: 'From when a renewal was due to when the API server accepted it',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    };
  }

  get enabled(): boolean {
    return this.cfg.enabled;
  }

  /** The bound in effect (ms): renewals stop when the edge's last frame is older. */
  get freshnessBoundMs(): number {
    return this.freshnessMs;
  }

  /** A session started: renew now (the node must be Ready quickly after a reconnect). */
  sessionOpened(s: LiveSession): void {
    if (!this.cfg.enabled || this.stopped) return;
    this.clear(s.node);
    const entry: Entry = {
      session: s,
      timer: undefined,
      dueAt: Date.now(),
      queued: false,
      writing: false,
      first: true,
      edgeRenews: false,
    };
    this.entries.set(s.node, entry);
    this.enqueue(s.node, entry);
  }

  /** A session ended: no more renewals for it and no write (the Lease lapses by itself). */
  sessionClosed(s: LiveSession): void {
    if (this.entries.get(s.node)?.session === s) this.clear(s.node);
  }

  /** The edge sent a `lease` write itself (an agent older than leaseByCloud): leave the Lease to it. */
  edgeRenewed(s: LiveSession): void {
    const e = this.entries.get(s.node);
    if (e?.session !== s || e.edgeRenews) return;
    e.edgeRenews = true;
    this.log.info({ node: s.node }, 'edge renews its own Lease (older agent); the cloud stops renewing it');
  }

  /** Nodes currently renewed by the cloud. */
  get renewing(): number {
    return [...this.entries.values()].filter((e) => !e.edgeRenews).length;
  }

  stop(): void {
    this.stopped = true;
    for (const n of [...this.entries.keys()]) this.clear(n);
    this.pending.length = 0;
  }

  private clear(node: NodeName): void {
    const e = this.entries.get(node);
    if (e === undefined) return;
    clearTimeout(e.timer);
    this.entries.delete(node);
  }

  private schedule(node: NodeName, e: Entry, delayMs: number): void {
    clearTimeout(e.timer);
    e.dueAt = Date.now() + delayMs;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      this.enqueue(node, e);
    }, delayMs);
    e.timer.unref();
  }

  private enqueue(node: NodeName, e: Entry): void {
    if (e.queued) return;
    e.queued = true;
    this.pending.push(node);
    this.drain();
  }

  private drain(): void {
    while (this.inFlight < this.cfg.maxInFlight && this.pending.length > 0) {
      const node = this.pending.shift() as NodeName;
      const e = this.entries.get(node);
      if (e === undefined) continue;
      e.queued = false;
      const s = e.session;
      if (!s.isOpen || this.sessions.session(node) !== s) {
        this.clear(node);
        continue;
      }
      if (e.edgeRenews) {
        this.metrics.skipped.inc({ reason: 'edge' });
        this.schedule(node, e, this.nextDelay());
        continue;
      }
      const now = Date.now();
      if (now - s.lastFrameAt > this.freshnessMs) {
        // A hung edge (no pings) must not look alive; look again soon in case it only stalled.
        this.metrics.skipped.inc({ reason: 'stale' });
        this.schedule(node, e, Math.min(this.intervalMs, Math.max(100, this.freshnessMs / 4)));
        continue;
      }
      this.inFlight++;
      e.writing = true;
      void this.renew(node, e, now);
    }
  }

  private async renew(node: NodeName, e: Entry, now: number): Promise<void> {
    let outcome: WriteOutcome;
    try {
      outcome = await this.writer.renewLease(node, {
        holderIdentity: node,
        leaseDurationSeconds: this.cfg.leaseDurationSeconds,
        renewTime: microTime(now),
      });
    } catch (err) {
      outcome = { ok: false, reason: 'BUSY', message: errorMessage(err), retryable: true };
    } finally {
      this.inFlight--;
      e.writing = false;
    }
    const current = this.entries.get(node) === e;
    if (outcome.ok) {
      this.metrics.renewals.inc();
      this.metrics.lag.observe(Math.max(0, Date.now() - e.dueAt) / 1000);
      // the first renewal after a session starts is spread over the whole interval, later ones
      // keep their phase with a little jitter: after a reconnect storm the writes fan out
      if (current && !this.stopped) this.schedule(node, e, this.nextDelay(e.first));
      e.first = false;
    } else {
      this.metrics.failed.inc({ reason: outcome.reason });
      this.log.warn({ node, reason: outcome.reason, message: outcome.message }, 'lease renewal failed');
      // retry well within the lease duration, jittered so a struggling API server is not hammered in step
      if (current && !this.stopped)
        this.schedule(node, e, Math.round((this.intervalMs / 4) * (0.5 + Math.random())));
    }
    this.drain();
  }

  private nextDelay(spread = false): number {
    const f = spread ? 0.1 + 0.9 * Math.random() : 1 - 0.1 * Math.random();
    const interval = this.sessions.admitting === true ? this.busyIntervalMs : this.intervalMs;
    if (interval !== this.intervalMs) this.metrics.stretched.inc();
    return Math.max(1, Math.round(interval * f));
  }
}
