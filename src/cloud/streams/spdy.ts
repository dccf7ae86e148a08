/**
 * SPDY/3.1 server side of the Kubernetes streaming protocols (what kube-apiserver speaks to a
 * kubelet for exec/attach/portforward), on the `spdy-transport` package. It has no types, so
 * the few members used are declared here and it is loaded with createRequire (no ambient
 * module declaration that could clash with another component's).
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

export interface SpdyStream extends Duplex {
  readonly id: number;
  /** Lower-cased SYN_STREAM headers (k8s: streamtype, port, requestid). */
  readonly headers: Record<string, string | undefined>;
  respond(status: number, headers: Record<string, string>, cb?: (err?: Error) => void): void;
  abort(code?: string, cb?: () => void): void;
}

export interface SpdyConnection extends EventEmitter {
  start(version: number): void;
  end(cb?: () => void): void;
  destroyStreams(err?: Error): void;
  on(event: 'stream', l: (s: SpdyStream) => void): this;
  on(event: 'error' | 'close', l: (e?: Error) => void): this;
  _spdyState: {
    parser: {
      parseKVs(
        buf: unknown,
        cb: (err: Error | null, headers?: Record<string, string | undefined>) => void,
      ): void;
    };
  };
}

interface SpdyTransport {
  connection: {
    create(
      socket: Duplex,
      opts: { protocol: 'spdy'; isServer: boolean; windowSize?: number; maxChunk?: number },
    ): SpdyConnection;
  };
}

const spdy = createRequire(import.meta.url)('spdy-transport') as SpdyTransport;

/**
 * A SPDY/3.1 server connection on an upgraded socket. The Kubernetes clients (moby/spdystream)
 * send SYN_STREAMs without the HTTP `:method`/`:path` pseudo-headers spdy-transport insists on,
 * so defaults are filled in while parsing header blocks.
 */
export function spdyServer(socket: Duplex): SpdyConnection {
  const conn = spdy.connection.create(socket, { protocol: 'spdy', isServer: true, maxChunk: 32 * 1024 });
  const parser = conn._spdyState.parser;
  const parse = parser.parseKVs.bind(parser);
  parser.parseKVs = (buf, cb) => {
    parse(buf, (err, headers) => {
      if (err !== null || headers === undefined) {
        cb(err, headers);
        return;
      }
      cb(null, { ':method': 'POST', ':path': '/', ...headers });
    });
  };
  conn.start(3.1);
  return conn;
}
