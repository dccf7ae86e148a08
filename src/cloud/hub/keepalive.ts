/** What the wheel needs of a session: a ping, the verdict, and a miss count the session resets on traffic. */
export interface KeepaliveMember {
  /** pings sent since the last sign of life; the member sets it to 0 on any frame */
  missed: number;
  ping(): void;
  dead(missed: number): void;
}

export interface KeepaliveWheelOptions {
  readonly intervalMs: number;
  readonly missedLimit: number;
  /** Slots per interval: sessions are spread over them so pings do not all leave at once. */
  readonly slots?: number;
}

/**
 * One timer for every session's keepalive (issue 12: a setInterval, a Heartbeat and their
 * closures per connected edge cost memory and timers at 10,000 edges). Each member is pinged
 * once per interval, in the slot it joined (so the first ping comes one interval after joining,
 * as with a per-session interval); a member with `missedLimit` pings unanswered is declared dead
 * at its next turn — the same rule as common/Heartbeat.
 */
export class KeepaliveWheel {
  private readonly slots: Set<KeepaliveMember>[];
  private readonly slotOf = new Map<KeepaliveMember, number>();
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: KeepaliveWheelOptions) {
    const n = Math.max(1, Math.min(opts.slots ?? 10, opts.intervalMs));
    this.slots = Array.from({ length: n }, () => new Set<KeepaliveMember>());
  }

  get size(): number {
    return this.slotOf.size;
  }

  add(m: KeepaliveMember): void {
    if (this.slotOf.has(m)) return;
    // the slot that was just processed comes round again after one full interval
    const slot = (this.cursor + this.slots.length - 1) % this.slots.length;
    this.slots[slot]?.add(m);
    this.slotOf.set(m, slot);
    m.missed = 0;
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.tick();
      }, this.opts.intervalMs / this.slots.length);
      this.timer.unref();
    }
  }

  remove(m: KeepaliveMember): void {
    const slot = this.slotOf.get(m);
    if (slot === undefined) return;
    this.slotOf.delete(m);
    this.slots[slot]?.delete(m);
    if (this.slotOf.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const slot = this.slots[this.cursor];
    this.cursor = (this.cursor + 1) % this.slots.length;
    if (slot === undefined) return;
    for (const m of [...slot]) {
      if (m.missed >= this.opts.missedLimit) {
        this.remove(m);
        m.dead(m.missed);
        continue;
      }
      m.missed++;
      m.ping();
    }
  }
}
