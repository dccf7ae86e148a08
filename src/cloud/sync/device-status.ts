import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../../common/index.js';
import type { Status } from '../../protocol/index.js';
import type { EdgeSession } from '../hub/index.js';

export interface DeviceStatusLimiterOptions {
  /** Status writes per Device per second at most (issue 9); default 1. */
  readonly writesPerSecond?: number;
  readonly registry?: Registry;
  readonly now?: () => number;
}

/** The two things the limiter does with a status: write it (and answer the edge), or answer it as superseded. */
export interface DeviceStatusSink {
  /** Writes to the API server and acks/nacks the edge by the outcome; resolves when done. */
  write(s: EdgeSession, m: Status): Promise<void>;
  /** Acks a status that a newer one of the same Device replaced before it was written. */
  superseded(s: EdgeSession, m: Status): void;
}

interface Slot {
  lastStartAt?: number;
  writing: boolean;
  parked: { s: EdgeSession; m: Status } | undefined;
  /** Wakes at lastStartAt + interval: writes what is parked, or forgets the idle slot. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Cloud-side coalescing of Device status writes (issue 9: "a chatty device cannot flood the API
 * server"). Per Device: at most one write per interval, never two at once (so an older write
 * cannot land after a newer one), and the value written after a burst is always the latest
 * offered — a status parked behind the interval is replaced by the next one, never dropped in
 * favour of an older one. The edge's status is a whole status (conditions included) and its
 * outbox coalesces per Device (src/edge/store enqueue), so a replaced status is acked at once:
 * on the edge it is already gone, and the newer one, which is not acked until written, carries
 * everything it said. Nothing is lost if the cloud stops with a status parked: unacked, the edge
 * sends it again.
 */
export class DeviceStatusLimiter {
  private readonly slots = new Map<string, Slot>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly coalesced: Counter | undefined;
  private stopped = false;

  constructor(
    private readonly sink: DeviceStatusSink,
    opts: DeviceStatusLimiterOptions = {},
  ) {
    const perSecond = opts.writesPerSecond ?? 1;
    if (!(perSecond > 0)) throw new RangeError(`writesPerSecond must be > 0, got ${String(perSecond)}`);
    this.intervalMs = 1000 / perSecond;
    this.now = opts.now ?? Date.now;
    const registers = opts.registry === undefined ? [] : [opts.registry];
    if (opts.registry !== undefined) {
      this.coalesced = new Counter({
        name: 'tether_sync_device_status_coalesced_total',
        help: 'Device statuses from edges replaced by a newer one before being written (issue 9 rate limit)',
        registers,
      });
      const parked = (): number => this.parked;
      new Gauge({
        name: 'tether_sync_device_status_parked',
        help: 'Devices with a status waiting for their write interval',
        registers,
        collect() {
          this.set(parked());
        },
      });
    }
  }

  /** A deviceStatus from an edge. Keyed by the Device (namespace/name), whichever edge sends it. */
  offer(s: EdgeSession, m: Status): void {
    if (this.stopped) return;
    const id = `${m.key.namespace ?? ''}/${m.key.name}`;
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = { writing: false, parked: undefined, timer: undefined };
      this.slots.set(id, slot);
    }
    if (slot.parked !== undefined) {
      this.coalesced?.inc();
      this.sink.superseded(slot.parked.s, slot.parked.m);
    }
    slot.parked = { s, m };
    this.kick(id, slot);
  }

  /** Devices with a status parked (tests, metrics). */
  get parked(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.parked !== undefined) n++;
    return n;
  }

  /** Forgets everything parked (unacked, so edges resend it) and clears every timer. */
  stop(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private kick(id: string, slot: Slot): void {
    if (slot.writing || slot.timer !== undefined || slot.parked === undefined) return;
    const now = this.now();
    const wait = slot.lastStartAt === undefined ? 0 : slot.lastStartAt + this.intervalMs - now;
    if (wait > 0) {
      this.wake(id, slot, wait);
      return;
    }
    const { s, m } = slot.parked;
    slot.parked = undefined;
    slot.writing = true;
    slot.lastStartAt = now;
    const done = (): void => {
      slot.writing = false;
      if (this.stopped || this.slots.get(id) !== slot) return;
      // Every write is followed by one wake-up: the next parked status, or the slot is forgotten.
      this.wake(id, slot, Math.max(0, (slot.lastStartAt ?? 0) + this.intervalMs - this.now()));
    };
    // The sink answers the edge itself (ack or nack); a rejection here is already answered.
    this.sink.write(s, m).then(done, done);
  }

  private wake(id: string, slot: Slot, afterMs: number): void {
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.stopped) return;
      if (slot.parked === undefined && !slot.writing) this.slots.delete(id);
      else this.kick(id, slot);
    }, afterMs);
    slot.timer.unref();
  }
}
