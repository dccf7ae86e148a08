/**
 * The client-facing halves of exec/attach/portforward: the WebSocket channel protocols
 * (v5/v4.channel.k8s.io, and SPDY tunnelled in WebSocket for port-forward) and SPDY/3.1
 * (k8s.io/apimachinery httpstream, what kube-apiserver v1.34 speaks to kubelets), each bridged
 * to one RelayStream per exec / per forwarded connection.
 */
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';
import { errorMessage, type Logger } from '../../common/index.js';
import type { StreamChannel, StreamEnd, StreamTarget } from '../../protocol/index.js';
import type { RelayStream, StreamRelay, StreamSink } from './relay.js';
import { spdyServer, type SpdyStream } from './spdy.js';
import type { NodeName } from '../../protocol/index.js';

export interface ExecParams {
  type: 'exec' | 'attach';
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export const WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export const WS_PORTFORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';
export const SPDY_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export const SPDY_PORTFORWARD_PROTOCOL = 'portforward.k8s.io';

/** The error-channel Status kubectl reads (v4+): exit codes as NonZeroExitCode/ExitCode. */
export function statusOf(end: StreamEnd, command: readonly string[]): Record<string, unknown> {
  switch (end.type) {
    case 'closed':
      return { metadata: {}, status: 'Success' };
    case 'exit':
      if (end.code === 0) return { metadata: {}, status: 'Success' };
      return {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${String(end.code)}`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(end.code) }] },
      };
    case 'error':
      return { metadata: {}, status: 'Failure', message: end.message, reason: 'InternalError', code: 500 };
  }
}

interface ExecCtx {
  relay: StreamRelay;
  node: NodeName;
  target: StreamTarget;
  params: ExecParams;
  log: Logger;
}

function whatOf(p: ExecParams) {
  const io = { stdin: p.stdin, stdout: p.stdout, stderr: p.stderr && !p.tty, tty: p.tty };
  return p.type === 'exec'
    ? { type: 'exec' as const, command: p.command, ...io }
    : { type: 'attach' as const, ...io };
}

// ── WebSocket channel protocol ─────────────────────────────────────────────────────────

/** exec/attach over v5/v4.channel.k8s.io: one binary message = channel byte + data. */
export function wsExec(ws: WebSocket, protocol: string, ctx: ExecCtx): void {
  const v5 = protocol === 'v5.channel.k8s.io';
  const sink: StreamSink = {
    data: (channel: StreamChannel, data: Buffer, done) => {
      const ch = ctx.params.tty && channel === 2 ? 1 : channel;
      ws.send(Buffer.concat([Buffer.from([ch]), data]), () => {
        done();
      });
    },
    end: (end) => {
      ws.send(
        Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(statusOf(end, ctx.params.command)))]),
      );
      ws.close(1000);
    },
  };
  const r = ctx.relay.open(ctx.node, ctx.target, whatOf(ctx.params), sink);
  if (!r.ok) {
    sink.end({ type: 'error', message: r.error.message });
    return;
  }
  const s = r.stream;
  // kubelet (cri/streaming/remotecommand/websocket.go): an empty frame on the lowest writable
  // channel tells the client the connection is established.
  const first = ctx.params.stdout ? 1 : ctx.params.stderr && !ctx.params.tty ? 2 : 3;
  ws.send(Buffer.from([first]));
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (!isBinary || raw.byteLength === 0) return;
    const ch = raw[0] ?? 0;
    const data = raw.subarray(1);
    if (ch === 0) {
      if (data.byteLength === 0) return;
      ctx.relay.countInput(data.byteLength);
      // Backpressure: stop reading the client until the edge granted credit for this chunk.
      ws.pause();
      void s.write(0, Buffer.from(data)).then(() => {
        ws.resume();
      });
    } else if (ch === 4) {
      resizeFrom(data.toString('utf8'), s);
    } else if (v5 && ch === 255 && data[0] === 0) {
      void s.closeInput();
    }
  });
  ws.on('close', () => {
    s.cancel();
  });
  ws.on('error', (e) => {
    ctx.log.debug({ err: errorMessage(e) }, 'exec websocket error');
    s.cancel();
  });
}

function resizeFrom(text: string, s: RelayStream): void {
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as { Width?: unknown; Height?: unknown };
      if (typeof v.Width === 'number' && typeof v.Height === 'number') s.resize(v.Width, v.Height);
    } catch {
      // a malformed resize message is ignored, like the kubelet does
    }
  }
}

/** kubectl ≥1.31 port-forward: SPDY tunnelled in WebSocket binary messages. */
export function wsPortForward(ws: WebSocket, ctx: PortForwardCtx): void {
  const duplex = createWebSocketStream(ws);
  duplex.on('error', () => undefined);
  spdyPortForward(duplex, ctx);
}

// ── SPDY ───────────────────────────────────────────────────────────────────────────────

/** exec/attach over SPDY/3.1: the client opens one stream per channel (streamtype header). */
export function spdyExec(socket: Duplex, ctx: ExecCtx): void {
  const conn = spdyServer(socket);
  const p = ctx.params;
  const expected = new Set<string>(['error']);
  if (p.stdin) expected.add('stdin');
  if (p.stdout) expected.add('stdout');
  if (p.stderr && !p.tty) expected.add('stderr');
  if (p.tty) expected.add('resize');
  const streams = new Map<string, SpdyStream>();
  let relayStream: RelayStream | undefined;
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    relayStream?.cancel();
    const t = setTimeout(() => socket.destroy(), 1000);
    t.unref();
    conn.end(() => {
      socket.end();
    });
  };
  const waitTimer = setTimeout(() => {
    ctx.log.debug({ got: [...streams.keys()] }, 'spdy exec: streams did not arrive in time');
    finish();
  }, 30_000);
  waitTimer.unref();
  conn.on('error', () => {
    finish();
  });
  conn.on('close', () => {
    clearTimeout(waitTimer);
    relayStream?.cancel();
  });
  socket.on('close', () => {
    clearTimeout(waitTimer);
    relayStream?.cancel();
  });
  conn.on('stream', (st) => {
    const type = st.headers['streamtype'] ?? '';
    st.respond(200, {});
    st.on('error', () => undefined);
    streams.set(type, st);
    if (relayStream !== undefined || ![...expected].every((t) => streams.has(t))) return;
    clearTimeout(waitTimer);
    start();
  });
  const start = (): void => {
    const errorStream = streams.get('error');
    const sink: StreamSink = {
      data: (channel, data, done) => {
        const target = channel === 2 && !p.tty ? streams.get('stderr') : streams.get('stdout');
        if (target === undefined) {
          done();
          return;
        }
        target.write(data, () => {
          done();
        });
      },
      end: (end) => {
        for (const t of ['stdout', 'stderr']) streams.get(t)?.end();
        // The client closes the connection once it read the status (client-go does); ending it
        // ourselves right away could cut the status off, so only after a grace period.
        errorStream?.end(JSON.stringify(statusOf(end, p.command)));
        const t = setTimeout(finish, 5000);
        t.unref();
      },
    };
    const r = ctx.relay.open(ctx.node, ctx.target, whatOf(p), sink);
    if (!r.ok) {
      sink.end({ type: 'error', message: r.error.message });
      return;
    }
    const s = r.stream;
    relayStream = s;
    const stdin = streams.get('stdin');
    if (stdin !== undefined) {
      stdin.on('data', (d: Buffer) => {
        ctx.relay.countInput(d.byteLength);
        stdin.pause();
        void s.write(0, d).then(() => stdin.resume());
      });
      stdin.on('end', () => {
        void s.closeInput();
      });
    }
    const resize = streams.get('resize');
    if (resize !== undefined) {
      let buf = '';
      resize.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const cut = buf.lastIndexOf('\n');
        if (cut < 0) {
          // json.Encoder always ends with a newline; tolerate a lone object too
          if (buf.trim().endsWith('}')) {
            resizeFrom(buf, s);
            buf = '';
          }
          return;
        }
        resizeFrom(buf.slice(0, cut), s);
        buf = buf.slice(cut + 1);
      });
      resize.resume();
    }
  };
}

export interface PortForwardCtx {
  relay: StreamRelay;
  node: NodeName;
  target: StreamTarget;
  /** Ports the request allowed (`port` query); empty = any. */
  ports: number[];
  log: Logger;
}

/** port-forward over SPDY: per connection an error stream and a data stream with the same requestid. */
export function spdyPortForward(socket: Duplex, ctx: PortForwardCtx): void {
  const conn = spdyServer(socket);
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream }>();
  const open = new Set<RelayStream>();
  const closeAll = (): void => {
    for (const s of [...open]) s.cancel();
    open.clear();
  };
  conn.on('error', closeAll);
  conn.on('close', closeAll);
  socket.on('close', closeAll);
  conn.on('stream', (st) => {
    st.respond(200, {});
    st.on('error', () => undefined);
    const type = st.headers['streamtype'] ?? '';
    const id = st.headers['requestid'] ?? '';
    const port = Number(st.headers['port'] ?? '');
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (type === 'error') pair.error = st;
    else if (type === 'data') pair.data = st;
    else {
      st.abort();
      return;
    }
    if (pair.error === undefined || pair.data === undefined) return;
    pairs.delete(id);
    const { error, data } = pair;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      error.end(`invalid port ${st.headers['port'] ?? ''}`);
      data.end();
      return;
    }
    if (ctx.ports.length > 0 && !ctx.ports.includes(port)) {
      error.end(`port ${String(port)} was not requested`);
      data.end();
      return;
    }
    const sink: StreamSink = {
      data: (channel, bytes, done) => {
        const to = channel === 3 ? error : data;
        to.write(bytes, () => {
          done();
        });
      },
      end: (end) => {
        if (end.type === 'error') error.write(end.message);
        error.end();
        data.end();
      },
    };
    const r = ctx.relay.open(ctx.node, ctx.target, { type: 'portForward', port }, sink);
    if (!r.ok) {
      sink.end({ type: 'error', message: r.error.message });
      return;
    }
    const s = r.stream;
    open.add(s);
    data.on('data', (d: Buffer) => {
      ctx.relay.countInput(d.byteLength);
      data.pause();
      void s.write(0, d).then(() => data.resume());
    });
    data.on('end', () => {
      void s.closeInput();
    });
    data.on('close', () => {
      open.delete(s);
    });
    error.resume();
  });
}
