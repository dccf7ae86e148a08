/**
 * Application-level keepalive (STYLE §6): ping every interval; a peer that misses `missedLimit`
 * pongs in a row is dead, even if TCP still believes the connection is open (half-open links
 * after a NAT or a cut cable are the common case at the edge).
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private outstanding = 0;

  constructor(
    private readonly opts: {
      intervalMs: number;
      missedLimit: number;
      ping: () => void;
      dead: (missed: number) => void;
    },
  ) {}

  start(): void {
    this.stop();
    this.outstanding = 0;
    this.timer = setInterval(() => {
      if (this.outstanding >= this.opts.missedLimit) {
        this.stop();
        this.opts.dead(this.outstanding);
        return;
      }
      this.outstanding++;
      this.opts.ping();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Any sign of life (a pong, or any frame) resets the count. */
  alive(): void {
    this.outstanding = 0;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
