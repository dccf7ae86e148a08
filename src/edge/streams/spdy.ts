import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { deflateSync } from 'node:zlib';
import { TetherError } from '../../common/index.js';

/**
 * A client for the Kubernetes streaming protocol as containerd's CRI streaming server speaks it
 * (k8s.io/kubelet/pkg/cri/streaming): an HTTP/1.1 Upgrade to SPDY/3.1, then one SPDY stream per
 * channel, each named by a `streamType` header (remotecommand: error, stdin, stdout, stderr,
 * resize; portforward: error, data + `port` + `requestID`).
 *
 * Why a small SPDY framer of our own rather than `spdy-transport`: the Go side (moby/spdystream)
 * answers SYN_STREAM with a SYN_REPLY without `:status`, which spdy-transport treats as a protocol
 * error (it resets the stream), and spdystream never sends WINDOW_UPDATE, so spdy-transport's
 * send window would stall stdin after 64 KiB. We only need the client half: SYN_STREAM, DATA,
 * RST_STREAM, PING echo, GOAWAY. Header blocks are sent as zlib *stored* blocks (valid deflate with
 * the SPDY/3 dictionary, no compression needed); the server's header blocks (SYN_REPLY) carry
 * nothing we need, so they are never inflated. Flow control is TCP's: spdystream does none, and we
 * pause the socket when the consumer has no room, which stalls the container's output.
 */

export class StreamingError extends TetherError {
  readonly code = 'CRI_STREAMING';
}

const require = createRequire(import.meta.url);
// The SPDY/3 header compression dictionary (RFC draft spdy/3 §2.6.10.1), shipped by spdy-transport.
const SPDY3_DICTIONARY = (
  require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>
)['3'] as Buffer;
/** The zlib stream header (CMF, FLG with FDICT, DICTID) that starts the first header block. */
const ZLIB_HEADER = deflateSync(Buffer.alloc(0), { dictionary: SPDY3_DICTIONARY }).subarray(0, 6);

/** A deflate stored-block header (RFC 1951 §3.2.4): BFINAL=0, BTYPE=00, byte-aligned, LEN, NLEN. */
function storedBlockHeader(len: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt16LE(len, 1);
  b.writeUInt16LE(~len & 0xffff, 3);
  return b;
}

const SPDY_VERSION = 3;
const TYPE = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goaway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;
const FLAG_FIN = 0x01;
/** RST_STREAM status CANCEL (spdy/3 §2.6.3). */
const RST_CANCEL = 5;
/** Largest DATA payload we send: spdystream accepts any, but small frames interleave channels. */
const MAX_DATA_FRAME = 32 * 1024;

export class SpdyStream extends EventEmitter<{ data: [Buffer]; end: []; reset: [number] }> {
  private localClosed = false;
  private remoteClosed = false;
  constructor(
    readonly id: number,
    private readonly conn: SpdyConnection,
  ) {
    super();
  }
  /** false: the socket buffer is full; wait for the connection's 'drain'. */
  write(data: Uint8Array): boolean {
    if (this.localClosed) return true;
    let ok = true;
    for (let off = 0; off < data.length; off += MAX_DATA_FRAME)
      ok = this.conn.writeData(this.id, data.subarray(off, off + MAX_DATA_FRAME), false);
    return ok;
  }
  /** Half-closes our side (a DATA frame with FIN): the server sees EOF (stdin closed). */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.conn.writeData(this.id, new Uint8Array(0), true);
  }
  get closedByPeer(): boolean {
    return this.remoteClosed;
  }
  /** @internal */
  onData(d: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (d.length > 0) this.emit('data', d);
    if (fin) {
      this.remoteClosed = true;
      this.emit('end');
    }
  }
  /** @internal */
  onReset(status: number): void {
    this.remoteClosed = true;
    this.localClosed = true;
    this.emit('reset', status);
  }
}

export interface SpdyConnectionEvents {
  close: [Error | undefined];
  drain: [];
}

/** One upgraded connection to the streaming server. */
export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private sentHeaderPrefix = false;
  private pending: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly protocol: string,
    head: Buffer,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.onBytes(d);
    });
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (e) => {
      this.finish(e);
    });
    socket.on('close', () => {
      this.finish(undefined);
    });
    if (head.length > 0) this.onBytes(head);
  }

  /**
   * Upgrades `url` (from CRI Exec/Attach/PortForward) to SPDY/3.1 offering `protocols`
   * (X-Stream-Protocol-Version, best first); resolves with the connection and the chosen one.
   */
  static connect(url: string, protocols: readonly string[], timeoutMs = 10_000): Promise<SpdyConnection> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      if (u.protocol !== 'http:') {
        reject(new StreamingError(`unsupported streaming URL scheme ${u.protocol}`));
        return;
      }
      const req = http.request({
        method: 'POST',
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'SPDY/3.1',
          'X-Stream-Protocol-Version': [...protocols],
          'Content-Length': '0',
        },
        timeout: timeoutMs,
      });
      req.on('timeout', () => {
        req.destroy(new StreamingError(`streaming server did not answer within ${timeoutMs} ms`));
      });
      req.on('error', (e) => {
        reject(new StreamingError(`streaming server: ${e.message}`, { cause: e }));
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 4096) body += c;
        });
        res.on('end', () => {
          reject(
            new StreamingError(
              `streaming server refused the upgrade: HTTP ${res.statusCode ?? 0} ${body.trim()}`,
            ),
          );
        });
      });
      req.on('upgrade', (res, socket, head) => {
        socket.setTimeout(0);
        const chosen = res.headers['x-stream-protocol-version'];
        const proto = (Array.isArray(chosen) ? chosen[0] : chosen) ?? '';
        resolve(new SpdyConnection(socket, proto, head));
      });
      req.end();
    });
  }

  /** Opens a stream with these headers (names are sent lowercased, as SPDY requires). */
  openStream(headers: Readonly<Record<string, string>>): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const s = new SpdyStream(id, this);
    this.streams.set(id, s);
    const block = this.headerBlock(headers);
    const payload = Buffer.alloc(10 + block.length);
    payload.writeUInt32BE(id & 0x7fffffff, 0);
    payload.writeUInt32BE(0, 4); // associated-to
    payload.writeUInt8(0, 8); // priority 0 (highest), unused bits
    payload.writeUInt8(0, 9); // slot
    block.copy(payload, 10);
    this.writeControl(TYPE.synStream, 0, payload);
    return s;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }

  /** Cancels every stream and drops the connection (the server then ends the exec's I/O). */
  close(): void {
    if (this.closed) return;
    for (const id of this.streams.keys()) {
      const p = Buffer.alloc(8);
      p.writeUInt32BE(id, 0);
      p.writeUInt32BE(RST_CANCEL, 4);
      this.writeControl(TYPE.rstStream, 0, p);
    }
    this.socket.end();
    this.socket.destroySoon();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish(undefined);
  }

  /** @internal */
  writeData(id: number, data: Uint8Array, fin: boolean): boolean {
    if (this.closed) return true;
    const h = Buffer.alloc(8);
    h.writeUInt32BE(id & 0x7fffffff, 0);
    h.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
    this.socket.write(h);
    return data.length === 0 ? !this.socket.writableNeedDrain : this.socket.write(data);
  }

  private writeControl(type: number, flags: number, payload: Buffer): void {
    if (this.closed) return;
    const h = Buffer.alloc(8);
    h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
    h.writeUInt16BE(type, 2);
    h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
    this.socket.write(Buffer.concat([h, payload]));
  }

  /** Name/value block (spdy/3 §2.6.10), wrapped in zlib stored blocks of one shared stream. */
  private headerBlock(headers: Readonly<Record<string, string>>): Buffer {
    const parts: Buffer[] = [];
    const entries = Object.entries(headers);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(entries.length, 0);
    parts.push(count);
    for (const [k, v] of entries) {
      for (const s of [k.toLowerCase(), v]) {
        const b = Buffer.from(s, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32BE(b.length, 0);
        parts.push(len, b);
      }
    }
    const raw = Buffer.concat(parts);
    const out: Buffer[] = [];
    if (!this.sentHeaderPrefix) {
      out.push(ZLIB_HEADER);
      this.sentHeaderPrefix = true;
    }
    for (let off = 0; off < raw.length; off += 0xffff) {
      const chunk = raw.subarray(off, off + 0xffff);
      out.push(storedBlockHeader(chunk.length), chunk);
    }
    // An empty stored block, as Z_SYNC_FLUSH ends each block: Go's flate hands out a stored
    // block's bytes only when it reaches the next block header, which must be in this frame.
    out.push(storedBlockHeader(0));
    return Buffer.concat(out);
  }

  private onBytes(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    while (this.pending.length >= 8 && !this.closed) {
      const len = this.pending.readUInt32BE(4) & 0xffffff;
      if (this.pending.length < 8 + len) break;
      const frame = this.pending.subarray(0, 8 + len);
      this.pending = this.pending.subarray(8 + len);
      this.onFrame(frame);
    }
  }

  private onFrame(f: Buffer): void {
    const flags = f.readUInt8(4);
    const payload = f.subarray(8);
    if ((f.readUInt8(0) & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      // copy: `payload` is a view into a buffer we keep slicing
      this.streams.get(id)?.onData(Buffer.from(payload), (flags & FLAG_FIN) !== 0);
      return;
    }
    const type = f.readUInt16BE(2);
    switch (type) {
      case TYPE.synReply:
      case TYPE.headers: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        if ((flags & FLAG_FIN) !== 0) this.streams.get(id)?.onData(Buffer.alloc(0), true);
        return;
      }
      case TYPE.rstStream: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        this.streams.get(id)?.onReset(payload.readUInt32BE(4));
        this.streams.delete(id);
        return;
      }
      case TYPE.ping:
        this.writeControl(TYPE.ping, 0, Buffer.from(payload));
        return;
      case TYPE.goaway:
        // the server is done with this connection; it closes the socket next, which ends us
        return;
      case TYPE.synStream: {
        // the streaming server never pushes streams; refuse politely
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const p = Buffer.alloc(8);
        p.writeUInt32BE(id, 0);
        p.writeUInt32BE(3 /* REFUSED_STREAM */, 4);
        this.writeControl(TYPE.rstStream, 0, p);
        return;
      }
      default:
        // SETTINGS, WINDOW_UPDATE: spdystream does no flow control; nothing to do
        return;
    }
  }

  private finish(e: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) if (!s.closedByPeer) s.onData(Buffer.alloc(0), true);
    this.streams.clear();
    this.emit('close', e);
  }
}

// ── remotecommand (exec / attach) ────────────────────────────────────────────────────────

export const REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io'] as const;
export const PORTFORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

export type CommandResult =
  { readonly type: 'exit'; readonly code: number } | { readonly type: 'error'; readonly message: string };

export interface RemoteCommandOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  readonly timeoutMs?: number;
}

/**
 * An exec or attach session. Output arrives as 'stdout'/'stderr' events; `result` settles once
 * the error stream delivered the metav1.Status (v4: Success, or NonZeroExitCode with the code in
 * details.causes[reason=ExitCode]) or the connection ended.
 */
export class RemoteCommand extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer]; drain: [] }> {
  readonly result: Promise<CommandResult>;
  private stdinStream: SpdyStream | undefined;
  private resizeStream: SpdyStream | undefined;

  private constructor(
    private readonly conn: SpdyConnection,
    opts: RemoteCommandOptions,
  ) {
    super();
    // order as kubectl: the error stream first, so a failure before the others is still heard
    const error = conn.openStream({ streamType: 'error' });
    if (opts.stdin) this.stdinStream = conn.openStream({ streamType: 'stdin' });
    if (opts.stdout) conn.openStream({ streamType: 'stdout' }).on('data', (d) => this.emit('stdout', d));
    if (opts.stderr && !opts.tty)
      conn.openStream({ streamType: 'stderr' }).on('data', (d) => this.emit('stderr', d));
    if (opts.tty) this.resizeStream = conn.openStream({ streamType: 'resize' });
    conn.on('drain', () => this.emit('drain'));
    this.result = new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      error.on('data', (d) => {
        if (size < 64 * 1024) chunks.push(d);
        size += d.length;
      });
      const settle = (): void => {
        resolve(parseStatus(Buffer.concat(chunks).toString('utf8')));
      };
      // v4 writes the status and then closes the connection; whichever comes first ends it
      error.on('end', settle);
      conn.on('close', (e) => {
        if (chunks.length === 0 && e !== undefined)
          resolve({ type: 'error', message: `streaming connection failed: ${e.message}` });
        else settle();
      });
    });
  }

  static async open(url: string, opts: RemoteCommandOptions): Promise<RemoteCommand> {
    const conn = await SpdyConnection.connect(url, REMOTECOMMAND_PROTOCOLS, opts.timeoutMs);
    if (conn.protocol !== 'v4.channel.k8s.io') {
      conn.close();
      throw new StreamingError(`streaming server chose protocol "${conn.protocol}", need v4.channel.k8s.io`);
    }
    return new RemoteCommand(conn, opts);
  }

  /** false: back-pressure; wait for 'drain'. */
  writeStdin(d: Uint8Array): boolean {
    return this.stdinStream?.write(d) ?? true;
  }
  endStdin(): void {
    this.stdinStream?.end();
  }
  resize(cols: number, rows: number): void {
    this.resizeStream?.write(Buffer.from(`${JSON.stringify({ Width: cols, Height: rows })}\n`));
  }
  /** Stops reading output (TCP back-pressure reaches the container). */
  pause(): void {
    this.conn.pause();
  }
  resume(): void {
    this.conn.resume();
  }
  close(): void {
    this.conn.close();
  }
  get closed(): boolean {
    return this.conn.isClosed;
  }
}

/** metav1.Status JSON from the v4 error stream → an exit code or an error message. */
export function parseStatus(text: string): CommandResult {
  if (text.trim() === '') return { type: 'exit', code: 0 };
  let st: unknown;
  try {
    st = JSON.parse(text);
  } catch {
    // v1–v3 wrote plain error text
    return { type: 'error', message: text.trim() };
  }
  if (typeof st !== 'object' || st === null) return { type: 'error', message: text.trim() };
  const s = st as {
    status?: string;
    reason?: string;
    message?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  if (s.status === 'Success') return { type: 'exit', code: 0 };
  if (s.reason === 'NonZeroExitCode') {
    const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number.parseInt(cause?.message ?? '', 10);
    if (Number.isInteger(code)) return { type: 'exit', code };
  }
  return { type: 'error', message: s.message ?? text.trim() };
}

// ── portforward ──────────────────────────────────────────────────────────────────────────

/**
 * One forwarded connection to `port` in the pod's network namespace (portforward.k8s.io:
 * an error and a data stream sharing `port` and `requestID`).
 */
export class PortForwardConnection extends EventEmitter<{
  data: [Buffer];
  error: [string];
  end: [];
  drain: [];
}> {
  private readonly data: SpdyStream;
  private ended = false;

  private constructor(
    private readonly conn: SpdyConnection,
    port: number,
  ) {
    super();
    const headers = { port: String(port), requestID: '0' };
    const error = conn.openStream({ streamType: 'error', ...headers });
    this.data = conn.openStream({ streamType: 'data', ...headers });
    // Go's writer sends the error text in one or a few frames; collect them up to a bound
    let errText = '';
    let errorDone = false;
    let dataDone = false;
    const reportError = (): void => {
      const t = errText.trim();
      errText = '';
      if (t !== '') this.emit('error', t);
    };
    // 'end' only once both streams are done (or the connection is): the runtime writes its
    // error text before it closes the data stream, but the frames may be read in either order
    const maybeEnd = (): void => {
      if (this.ended || !(errorDone && dataDone)) return;
      this.ended = true;
      this.emit('end');
    };
    error.on('data', (d) => {
      if (errText.length < 16 * 1024) errText += d.toString('utf8');
    });
    const errorEnd = (): void => {
      errorDone = true;
      reportError();
      maybeEnd();
    };
    error.on('end', errorEnd);
    error.on('reset', errorEnd);
    this.data.on('data', (d) => this.emit('data', d));
    const dataEnd = (): void => {
      dataDone = true;
      maybeEnd();
    };
    this.data.on('end', dataEnd);
    this.data.on('reset', dataEnd);
    conn.on('drain', () => this.emit('drain'));
    conn.on('close', () => {
      reportError();
      errorDone = true;
      dataDone = true;
      maybeEnd();
    });
  }

  static async open(url: string, port: number, timeoutMs?: number): Promise<PortForwardConnection> {
    const conn = await SpdyConnection.connect(url, PORTFORWARD_PROTOCOLS, timeoutMs);
    return new PortForwardConnection(conn, port);
  }

  write(d: Uint8Array): boolean {
    return this.data.write(d);
  }
  /** Half-close: the client has nothing more to send. */
  end(): void {
    this.data.end();
  }
  pause(): void {
    this.conn.pause();
  }
  resume(): void {
    this.conn.resume();
  }
  close(): void {
    this.conn.close();
  }
  get closed(): boolean {
    return this.conn.isClosed;
  }
}
