/**
 * The cloud end of the stream contract (docs/streams.md, /work/briefs/streams-contract.md):
 * opens streams on a node's hub session and bridges bytes with per-stream credit, so a stalled
 * client holds only its own stream and memory stays bounded on both sides.
 */
import { Counter, Gauge } from 'prom-client';
import { assertNever, TetherError, type Logger, type Registry } from '../../common/index.js';
import {
  streamId,
  type Envelope,
  type NodeName,
  type SessionId,
  type StreamChannel,
  type StreamEnd,
  type StreamId,
  type StreamTarget,
  type StreamWhat,
} from '../../protocol/index.js';
import type { EdgeSession } from '../hub/index.js';

/** Contract §9: payloads at most 32 KiB so sync traffic interleaves. */
export const MAX_CHUNK = 32 * 1024;
/** Contract §1/§2: what the edge may send before more credit. */
export const DEFAULT_WINDOW = 256 * 1024;

export class StreamOpenError extends TetherError {
  readonly code = 'STREAM_OPEN_FAILED';
}

/** Contract §6: a node carries at most `maxPerNode` streams; the client gets 429, not a queue. */
export class StreamLimitError extends TetherError {
  readonly code = 'STREAM_LIMIT';
}

/** Where the bytes of one stream go (an HTTP response, a WebSocket, SPDY streams). */
export interface StreamSink {
  /** Bytes from the edge; call `done` once the client took them: that returns their credit. */
  data(channel: StreamChannel, data: Buffer, done: () => void): void;
  /** Called once; after it nothing else is delivered. */
  end(end: StreamEnd): void;
}

export interface SessionSource {
  session(node: NodeName): EdgeSession | undefined;
}

type StreamFrame = Extract<Envelope, { kind: 'streamData' | 'streamWindow' | 'streamClose' }>;

interface Pending {
  channel: StreamChannel;
  data: Buffer;
  resolve: (sent: boolean) => void;
}

/** One open stream, cloud side. */
export class RelayStream {
  private edgeCredit: number;
  private inputCredit = 0;
  private returnCredit = 0;
  private creditScheduled = false;
  private readonly queue: Pending[] = [];
  private ended = false;
  private answerTimer: NodeJS.Timeout | undefined;
  /** The edge never answered (an agent that predates the stream type drops the open). */
  timedOut = false;

  constructor(
    readonly id: StreamId,
    readonly node: NodeName,
    private readonly session: EdgeSession,
    private readonly sink: StreamSink,
    private readonly window: number,
    private readonly onFinish: (s: RelayStream) => void,
  ) {
    this.edgeCredit = window;
  }

  /**
   * Opens that the edge must answer promptly (input credit, or a finite log) fail with a clear
   * message if it stays silent, e.g. an agent that does not serve streams ignores streamOpen.
   */
  expectAnswer(ms: number, serves = 'logs/exec'): void {
    this.answerTimer = setTimeout(() => {
      if (this.ended) return;
      this.session.send({ kind: 'streamClose', stream: this.id, end: { type: 'closed' } });
      this.timedOut = true;
      this.fail(
        `the edge node "${this.node}" did not answer the stream within ${String(ms / 1000)} s (does its agent serve ${serves}?)`,
      );
    }, ms);
    this.answerTimer.unref();
  }

  get sessionId(): SessionId {
    return this.session.id;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /**
   * Client → edge bytes (contract §3): sent only within the edge's credit, in chunks of at most
   * 32 KiB. Resolves when all of it left (true) or the stream ended (false); callers stop reading
   * their client until then, which is what bounds the buffer. Empty data on channel 0 = EOF (§4).
   */
  write(channel: StreamChannel, data: Buffer): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.queue.push({ channel, data, resolve });
      this.flushInput();
    });
  }

  /** Contract §4: the client closed stdin (or half-closed a forwarded port). */
  closeInput(): Promise<boolean> {
    return this.write(0, Buffer.alloc(0));
  }

  resize(cols: number, rows: number): void {
    if (this.ended) return;
    this.session.send({ kind: 'streamResize', stream: this.id, cols, rows });
  }

  /** The client went away (contract §7): tell the edge, release everything. */
  cancel(): void {
    if (this.ended) return;
    this.session.send({ kind: 'streamClose', stream: this.id, end: { type: 'closed' } });
    this.finish();
  }

  /** Ends from our side with an error delivered to the sink (e.g. the session dropped). */
  fail(message: string): void {
    if (this.ended) return;
    this.finish();
    this.sink.end({ type: 'error', message });
  }

  /** A frame for this stream from its own session (ownership was checked by the relay). */
  handle(env: StreamFrame): 'ok' | 'overrun' {
    if (this.ended) return 'ok';
    clearTimeout(this.answerTimer);
    switch (env.kind) {
      case 'streamData': {
        const n = env.data.byteLength;
        this.edgeCredit -= n;
        if (this.edgeCredit < 0) {
          // Contract §2: the edge sent more than granted: a broken peer must not grow our memory.
          this.session.send({
            kind: 'streamClose',
            stream: this.id,
            end: { type: 'error', message: 'flow control window exceeded' },
          });
          this.fail('the edge exceeded the stream flow-control window');
          return 'overrun';
        }
        const data = Buffer.from(env.data.buffer, env.data.byteOffset, n);
        let once = false;
        this.sink.data(env.channel, data, () => {
          if (once) return;
          once = true;
          this.giveCredit(n);
        });
        return 'ok';
      }
      case 'streamWindow':
        if (env.credit > 0) {
          this.inputCredit += env.credit;
          this.flushInput();
        }
        return 'ok';
      case 'streamClose':
        this.finish();
        this.sink.end(env.end);
        return 'ok';
    }
  }

  private giveCredit(n: number): void {
    if (this.ended || n === 0) return;
    this.returnCredit += n;
    this.edgeCredit += n;
    if (this.creditScheduled) return;
    this.creditScheduled = true;
    // Coalesce the credit of one tick into one streamWindow frame.
    setImmediate(() => {
      this.creditScheduled = false;
      const credit = this.returnCredit;
      this.returnCredit = 0;
      if (!this.ended && credit > 0) this.session.send({ kind: 'streamWindow', stream: this.id, credit });
    });
  }

  private flushInput(): void {
    while (!this.ended) {
      const head = this.queue[0];
      if (head === undefined) return;
      if (head.data.byteLength === 0) {
        this.session.send({ kind: 'streamData', stream: this.id, channel: head.channel, data: head.data });
        this.queue.shift();
        head.resolve(true);
        continue;
      }
      const n = Math.min(head.data.byteLength, MAX_CHUNK, this.inputCredit);
      if (n <= 0) return;
      this.session.send({
        kind: 'streamData',
        stream: this.id,
        channel: head.channel,
        data: head.data.subarray(0, n),
      });
      this.inputCredit -= n;
      if (n === head.data.byteLength) {
        this.queue.shift();
        head.resolve(true);
      } else head.data = head.data.subarray(n);
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.answerTimer);
    for (const p of this.queue.splice(0)) p.resolve(false);
    this.onFinish(this);
  }

  get windowSize(): number {
    return this.window;
  }
}

export interface StreamRelayOptions {
  /** Initial credit granted to the edge per stream (contract §1). */
  window?: number;
  /** How long an open that must be answered (stdin credit, finite logs) may stay unanswered. */
  answerTimeoutMs?: number;
  /** Streams open at once per node (the edge enforces its own limit too). Default 64. */
  maxPerNode?: number;
  /** How long a metrics scrape waits for the edge's first frame (Prometheus' default timeout is 10 s). */
  metricsTimeoutMs?: number;
}

/**
 * All streams of the cloud core, keyed by the session that carries them: frames are accepted
 * only from the session a stream was opened on (contract §8), a dropped session ends its
 * streams with an error (contract §10).
 */
export class StreamRelay {
  private readonly bySession = new Map<SessionId, Map<StreamId, RelayStream>>();
  private seq = 0;
  private readonly window: number;
  private readonly answerTimeoutMs: number;
  private readonly maxPerNode: number;
  private readonly metricsTimeoutMs: number;
  private readonly metrics;

  constructor(
    private readonly hub: SessionSource,
    private readonly log: Logger,
    registry: Registry,
    opts: StreamRelayOptions = {},
  ) {
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.answerTimeoutMs = opts.answerTimeoutMs ?? 30_000;
    this.maxPerNode = opts.maxPerNode ?? 64;
    this.metricsTimeoutMs = opts.metricsTimeoutMs ?? 10_000;
    const registers = [registry];
    this.metrics = {
      open: new Gauge({
        name: 'tether_streams_open',
        help: 'Streams open between clients and edges',
        registers,
        collect: () => {
          let n = 0;
          for (const m of this.bySession.values()) n += m.size;
          this.metrics.open.set(n);
        },
      }),
      opened: new Counter({
        name: 'tether_streams_opened_total',
        help: 'Streams opened, by type',
        labelNames: ['type'],
        registers,
      }),
      dropped: new Counter({
        name: 'tether_streams_dropped_frames_total',
        help: 'Stream frames from an edge that were dropped, by reason (unknown: not a stream this session was given)',
        labelNames: ['reason'],
        registers,
      }),
      refused: new Counter({
        name: 'tether_streams_refused_total',
        help: 'Stream opens refused because the node had its maximum of concurrent streams',
        registers,
      }),
      bytes: new Counter({
        name: 'tether_streams_bytes_total',
        help: 'Stream payload bytes relayed, by direction',
        labelNames: ['direction'],
        registers,
      }),
    };
  }

  /** The error an open would get for the node's stream limit, checked before an upgrade too. */
  atLimit(node: NodeName): StreamLimitError | undefined {
    const session = this.hub.session(node);
    const open = session === undefined ? 0 : (this.bySession.get(session.id)?.size ?? 0);
    if (open < this.maxPerNode) return undefined;
    this.metrics.refused.inc();
    return new StreamLimitError(
      `too many concurrent streams to the edge node "${node}" (limit ${String(this.maxPerNode)}); try again later`,
    );
  }

  /** Opens a stream on the node's current session; an error value when the node is not connected or at its limit. */
  open(
    node: NodeName,
    target: StreamTarget,
    what: StreamWhat,
    sink: StreamSink,
  ): { ok: true; stream: RelayStream } | { ok: false; error: StreamOpenError | StreamLimitError } {
    const session = this.hub.session(node);
    if (session?.isOpen !== true)
      return {
        ok: false,
        error: new StreamOpenError(`the edge node "${node}" is not connected to the cloud`),
      };
    const limit = this.atLimit(node);
    if (limit !== undefined) return { ok: false, error: limit };
    const id = streamId(`s${String(++this.seq)}`);
    let streams = this.bySession.get(session.id);
    if (streams === undefined) {
      streams = new Map();
      this.bySession.set(session.id, streams);
    }
    const countingSink: StreamSink = {
      data: (ch, data, done) => {
        this.metrics.bytes.inc({ direction: 'edge-to-client' }, data.byteLength);
        sink.data(ch, data, done);
      },
      end: (e) => {
        sink.end(e);
      },
    };
    const stream = new RelayStream(id, node, session, countingSink, this.window, (s) => {
      const m = this.bySession.get(s.sessionId);
      m?.delete(s.id);
      if (m?.size === 0) this.bySession.delete(s.sessionId);
    });
    streams.set(id, stream);
    this.metrics.opened.inc({ type: what.type });
    session.send({ kind: 'streamOpen', stream: id, target, what, window: this.window });
    switch (what.type) {
      case 'portForward':
        stream.expectAnswer(this.answerTimeoutMs);
        break;
      case 'logs':
        if (!what.follow) stream.expectAnswer(this.answerTimeoutMs);
        break;
      case 'exec':
      case 'attach':
        if (what.stdin) stream.expectAnswer(this.answerTimeoutMs);
        break;
      case 'metrics':
        // An edge agent older than the metrics stream refuses the open as an invalid frame
        // (a nack the relay never sees): only the answer timeout ends the wait.
        stream.expectAnswer(Math.min(this.answerTimeoutMs, this.metricsTimeoutMs), 'metrics');
        break;
      default:
        assertNever(what);
    }
    this.log.debug(
      { node, stream: id, type: what.type, pod: `${target.namespace}/${target.pod}` },
      'stream opened',
    );
    return { ok: true, stream };
  }

  /** Counts client → edge bytes (called by the endpoint). */
  countInput(n: number): void {
    this.metrics.bytes.inc({ direction: 'client-to-edge' }, n);
  }

  /** A stream frame from a session (hub routing). */
  frame(s: EdgeSession, env: Envelope): void {
    if (env.kind !== 'streamData' && env.kind !== 'streamWindow' && env.kind !== 'streamClose') {
      this.metrics.dropped.inc({ reason: 'kind' });
      return;
    }
    const stream = this.bySession.get(s.id)?.get(env.stream);
    if (stream === undefined) {
      // Contract §8: not a stream this session was given (or already closed): never delivered.
      this.metrics.dropped.inc({ reason: 'unknown' });
      return;
    }
    if (stream.handle(env) === 'overrun') this.metrics.dropped.inc({ reason: 'overrun' });
  }

  /** Contract §10: a link drop ends every stream of the session. */
  sessionClosed(s: EdgeSession): void {
    const streams = this.bySession.get(s.id);
    if (streams === undefined) return;
    this.bySession.delete(s.id);
    for (const st of [...streams.values()]) st.fail(`the edge node "${s.node}" disconnected`);
  }

  /** Ends every stream (shutdown). */
  stop(): void {
    for (const m of [...this.bySession.values()])
      for (const st of [...m.values()]) st.fail('the cloud core is shutting down');
    this.bySession.clear();
  }

  get openCount(): number {
    let n = 0;
    for (const m of this.bySession.values()) n += m.size;
    return n;
  }
}
