/**
 * A rate-limited work queue with client-go's workqueue semantics: a key is queued at most once
 * (dedup), is never processed by two workers at once (a key re-added while in flight is queued
 * again after `done`), and failed keys come back after a per-key exponential back-off.
 */
export interface WorkQueueOptions {
  /** First retry delay of a failing key. */
  baseDelayMs: number;
  /** Cap of the per-key back-off. */
  maxDelayMs: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private waiters: (() => void)[] = [];
  private shut = false;

  constructor(private readonly opts: WorkQueueOptions = { baseDelayMs: 5, maxDelayMs: 60_000 }) {}

  /** Queues a key unless it is already queued. */
  add(key: string): void {
    if (this.shut || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.wake();
  }

  /** Queues a key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shut) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const cur = this.delayed.get(key);
    if (cur !== undefined) {
      if (cur.at <= at) return;
      clearTimeout(cur.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Queues a failed key after its exponential back-off (base·2^failures, capped). */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(n, 30));
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its back-off starts over. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue is shut down. */
  async get(): Promise<string | undefined> {
    while (this.head >= this.queue.length) {
      if (this.shut) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const key = this.queue[this.head++] as string;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  /** Processing of `key` finished; if it was re-added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shut) {
      this.queue.push(key);
      this.wake();
    }
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  get isShutDown(): boolean {
    return this.shut;
  }

  shutdown(): void {
    this.shut = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private wake(): void {
    const r = this.waiters.shift();
    if (r !== undefined) r();
  }
}
