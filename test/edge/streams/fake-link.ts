import { randomUUID } from 'node:crypto';
import type { EdgeStreams, StreamLink } from '../../../src/edge/streams/index.js';
import {
  PROTOCOL_VERSION,
  decode,
  encode,
  messageId,
  streamId,
  type Body,
  type Envelope,
  type StreamEnd,
  type StreamId,
  type StreamTarget,
  type StreamWhat,
} from '../../../src/protocol/index.js';

/** Every frame goes through the real codec, as on the wire. */
function roundtrip(body: Body): Envelope {
  const r = decode(encode({ v: PROTOCOL_VERSION, id: messageId(randomUUID()), ts: Date.now(), ...body }));
  if (!r.ok) throw r.error;
  return r.value;
}

/**
 * The cloud end of the link, narrowed to what EdgeStreams uses (a hand-written fake of a narrow
 * interface). With `autoCredit` it plays a client that drains at once: every streamData is
 * answered with a streamWindow of the same size.
 */
export class FakeCloud implements StreamLink {
  bufferedAmount = 0;
  autoCredit = true;
  online = true;
  /** Count streamData bytes but keep neither the frames nor the payloads (bulk tests). */
  discard = false;
  readonly received = new Map<string, number>();
  readonly sent: Envelope[] = [];
  private readonly out = new Map<string, Buffer[]>();
  private readonly ends = new Map<string, StreamEnd>();
  private readonly inputCredit = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private next = 0;

  constructor(private readonly streams: EdgeStreams) {}

  send(body: Body): boolean {
    if (!this.online) return false;
    const env = roundtrip(body);
    if (!this.discard || env.kind !== 'streamData') this.sent.push(env);
    switch (env.kind) {
      case 'streamData': {
        this.received.set(env.stream, (this.received.get(env.stream) ?? 0) + env.data.length);
        const credit = env.data.length;
        if (this.autoCredit)
          setImmediate(() => {
            this.deliver({ kind: 'streamWindow', stream: env.stream, credit });
          });
        if (this.discard) break;
        const k = `${env.stream}/${env.channel}`;
        const list = this.out.get(k) ?? [];
        list.push(Buffer.from(env.data));
        this.out.set(k, list);
        break;
      }
      case 'streamClose':
        this.ends.set(env.stream, env.end);
        break;
      case 'streamWindow':
        this.inputCredit.set(env.stream, (this.inputCredit.get(env.stream) ?? 0) + env.credit);
        break;
      default:
        break;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return true;
  }

  deliver(body: Body): void {
    this.streams.message(roundtrip(body), this);
  }

  open(target: StreamTarget, what: StreamWhat, window = 1024 * 1024): StreamId {
    const id = streamId(`s${++this.next}`);
    this.deliver({ kind: 'streamOpen', stream: id, target, what, window });
    return id;
  }

  /** Sends input on channel 0 within the edge's credit (waits for credit like a real cloud). */
  async input(id: StreamId, data: Buffer | string): Promise<void> {
    const buf = Buffer.from(data);
    let off = 0;
    do {
      await this.until(
        `input credit on ${id}`,
        () => (this.inputCredit.get(id) ?? 0) > 0 || this.ends.has(id),
      );
      if (this.ends.has(id)) return;
      const n = Math.min(buf.length - off, this.inputCredit.get(id) ?? 0, 32 * 1024);
      this.inputCredit.set(id, (this.inputCredit.get(id) ?? 0) - n);
      this.deliver({ kind: 'streamData', stream: id, channel: 0, data: buf.subarray(off, off + n) });
      off += n;
    } while (off < buf.length);
  }

  /** Contract §4: an empty channel-0 frame is EOF. */
  endInput(id: StreamId): void {
    this.deliver({ kind: 'streamData', stream: id, channel: 0, data: new Uint8Array(0) });
  }

  output(id: StreamId, channel: number): Buffer {
    return Buffer.concat(this.out.get(`${id}/${channel}`) ?? []);
  }

  dataFrames(id: StreamId): number {
    return this.sent.filter((e) => e.kind === 'streamData' && e.stream === id).length;
  }

  end(id: StreamId): StreamEnd | undefined {
    return this.ends.get(id);
  }

  grantedInput(id: StreamId): boolean {
    return this.sent.some((e) => e.kind === 'streamWindow' && e.stream === id);
  }

  async ended(id: StreamId, timeoutMs = 60_000): Promise<StreamEnd> {
    await this.until(`end of ${id}`, () => this.ends.has(id), timeoutMs);
    return this.ends.get(id) as StreamEnd;
  }

  cancel(id: StreamId): void {
    this.deliver({ kind: 'streamClose', stream: id, end: { type: 'closed' } });
  }

  /** Waits (frame-driven, with a poll fallback) until `pred` holds. */
  async until(what: string, pred: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
