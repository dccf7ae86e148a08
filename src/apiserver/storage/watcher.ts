/**
 * One watch: replays the revision log from `fromRevision`, then switches to live events.
 *
 * No gap, no duplicate (the race upstream's watch cache and kine's poll loop have to
 * handle): every write is committed and fanned out synchronously, inside one call on the
 * single JS thread. A watcher in 'replay' mode ignores live fan-out and reads the log in
 * pages of `pageSize`; when a page comes back short it has read everything up to the
 * current revision, and it switches to 'live' in that same synchronous step — no write
 * can commit between the read and the switch, so the next event it receives live is the
 * first one it did not read. Replay is lazy (a page per consumer pull), so a watch from an
 * old revision never holds more than one page in memory.
 *
 * Slow consumers (STYLE §6, kine's broadcaster "slow consumer, drop"): in 'live' mode
 * events are queued up to `maxBuffered`; one more closes the watcher with reason 'SLOW'.
 * Writers never wait for a watcher. The events already queued are still delivered (they
 * are a gap-free prefix), then iteration ends, so the consumer can resume from the last
 * revision it saw.
 */
import type { WatchEvent, Watcher } from './types.js';

/** What a watcher needs from its store. */
export interface WatchSource {
  currentRevision(): number;
  compactedRevision(): number;
  /** Log entries under `prefix` with revision > `after`, in revision order, at most `limit`. */
  readEvents(prefix: string, after: number, limit: number): WatchEvent[];
  detach(watcher: LogWatcher): void;
}

type Mode = 'replay' | 'live' | 'closed';

export class LogWatcher implements Watcher {
  private mode: Mode = 'replay';
  /** Every event with revision <= pos has been queued (or, before fromRevision, skipped). */
  private pos: number;
  private queue: WatchEvent[] = [];
  private head = 0;
  private readonly waiters: ((r: IteratorResult<WatchEvent>) => void)[] = [];
  private reason: 'CLOSED' | 'SLOW' | undefined;

  constructor(
    private readonly source: WatchSource,
    readonly prefix: string,
    fromRevision: number,
    private readonly maxBuffered: number,
    private readonly pageSize: number,
    private readonly onSlow: () => void,
  ) {
    this.pos = fromRevision;
    this.replayPage();
  }

  get closedReason(): 'CLOSED' | 'SLOW' | undefined {
    return this.reason;
  }

  get progressRevision(): number {
    return this.source.currentRevision();
  }

  get isLive(): boolean {
    return this.mode === 'live';
  }

  /** Events queued and not yet taken by the consumer. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Whether a committed write at `revision` on `key` must be delivered live. */
  wants(key: string, revision: number): boolean {
    return this.mode === 'live' && revision > this.pos && key.startsWith(this.prefix);
  }

  /** Called by the store right after the commit of a write this watcher `wants`. */
  deliver(event: WatchEvent): void {
    if (this.mode !== 'live') return;
    this.pos = event.object.modRevision;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter({ done: false, value: event });
      return;
    }
    if (this.buffered >= this.maxBuffered) {
      this.onSlow();
      this.close('SLOW');
      return;
    }
    this.queue.push(event);
  }

  /** Compaction to `revision`: a replaying watcher that has not read past it lost history. */
  compacted(revision: number): void {
    if (this.mode === 'replay' && this.pos < revision) {
      this.onSlow();
      this.close('SLOW');
    }
  }

  close(reason: 'CLOSED' | 'SLOW' = 'CLOSED'): void {
    if (this.mode === 'closed') return;
    this.mode = 'closed';
    this.reason = reason;
    if (reason === 'CLOSED') {
      this.queue = [];
      this.head = 0;
    }
    this.source.detach(this);
    for (const w of this.waiters.splice(0)) w({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private next(): Promise<IteratorResult<WatchEvent>> {
    if (this.buffered === 0 && this.mode === 'replay') this.replayPage();
    const ev = this.take();
    if (ev !== undefined) return Promise.resolve({ done: false, value: ev });
    if (this.mode === 'closed') return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private take(): WatchEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const ev = this.queue[this.head];
    this.queue[this.head] = undefined as unknown as WatchEvent; // release for GC
    this.head++;
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return ev;
  }

  private replayPage(): void {
    if (this.pos < this.source.compactedRevision()) {
      this.onSlow();
      this.close('SLOW');
      return;
    }
    const page = this.source.readEvents(this.prefix, this.pos, this.pageSize);
    for (const ev of page) this.queue.push(ev);
    const last = page.at(-1);
    if (page.length < this.pageSize) {
      // Read up to the current revision in this same synchronous step: switch to live
      // (see the file comment for why no write can slip in between).
      this.pos = Math.max(this.pos, this.source.currentRevision());
      this.mode = 'live';
    } else if (last !== undefined) {
      this.pos = last.object.modRevision;
    }
  }
}
