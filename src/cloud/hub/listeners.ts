import { spawn } from 'node:child_process';
import { Server as TcpServer, Socket } from 'node:net';
import { errorMessage, type Logger } from '../../common/index.js';

/**
 * A short-lived helper process's script (CommonJS, run with `node -e`): fd 4 is a duplicate of
 * the hub's listening socket; it sends that back `argv[1]` times as a listening server, so the
 * hub receives as many more file descriptors of the one socket (SCM_RIGHTS duplicates), then
 * exits. A connection it accepts meanwhile (the socket is live) is handed over too, unread.
 */
const HELPER = `
const net = require('node:net');
const k = Number(process.argv[1]);
let forwarding = 0, closed = false, sent = 0;
const finish = () => { if (closed && forwarding === 0) process.disconnect(); };
const srv = net.createServer({ pauseOnConnect: true }, (s) => {
  forwarding++;
  process.send({ t: 'conn' }, s, () => { forwarding--; finish(); });
});
srv.listen({ fd: 4 }, () => {
  for (let i = 0; i < k; i++)
    process.send({ t: 'listener' }, srv, () => {
      if (++sent === k) srv.close(() => { closed = true; finish(); });
    });
});
process.on('disconnect', () => process.exit(0));
`;

/**
 * More listening handles on the hub's one listening socket (issue 12, reconnect storm). libuv
 * (Node ≥ 20) accepts one connection per listening handle and event-loop iteration
 * (libuv/libuv#3696); a cloud busy with thousands of sessions turns ~100 iterations a second, so
 * in a 5,000-edge storm the kernel's accept queue stayed full (511) while the hub held no one and
 * ran 2–7 handshakes of its 256: edges' SYNs were dropped and their connects timed out. With k
 * handles an iteration accepts up to k (measured: 8 ms iterations, 1 handle ~120/s, 8 ~600/s).
 * Node 20 has no SO_REUSEPORT (`reusePort` came in Node 22.12), and no way to duplicate a file
 * descriptor in-process, hence the helper process. Best effort: on any failure the hub keeps
 * accepting on its one handle.
 */
export async function duplicateListener(
  primary: TcpServer,
  extra: number,
  onConnection: (socket: Socket) => void,
  log: Logger,
  backlog?: number,
  timeoutMs = 5000,
): Promise<TcpServer[]> {
  const fd = (primary as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (extra <= 0 || typeof fd !== 'number' || fd < 0) return [];
  const servers: TcpServer[] = [];
  // env {}: nothing of the cloud's environment (NODE_OPTIONS loaders, credentials) goes to it
  const child = spawn(process.execPath, ['-e', HELPER, String(extra)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc', fd],
    env: {},
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      log.warn(
        { got: servers.length, wanted: extra },
        'hub: listener helper too slow; accepting on fewer handles',
      );
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    child.on('message', (m: { t?: unknown }, handle: unknown) => {
      if (m.t === 'listener' && handle instanceof TcpServer) {
        // Node listened on it before this event (child_process 'net.Server'), within one tick: no
        // connection can have been accepted yet. Held unread like the primary's (admission).
        // (a public option, read per connection; @types/node does not list the property)
        (handle as TcpServer & { pauseOnConnect: boolean }).pauseOnConnect = true;
        handle.on('connection', onConnection);
        handle.on('error', (e) => {
          log.warn({ err: errorMessage(e) }, 'hub: a duplicate listening handle failed');
        });
        servers.push(handle);
        if (servers.length === extra) done();
      } else if (m.t === 'conn' && handle instanceof Socket) {
        onConnection(handle);
      }
    });
    child.on('error', (e) => {
      log.warn({ err: errorMessage(e) }, 'hub: could not start the listener helper; accepting on one handle');
      done();
    });
    child.on('exit', (code) => {
      if (servers.length < extra)
        log.warn(
          { code, stderr: stderr.trim() },
          'hub: listener helper exited early; accepting on fewer handles',
        );
      done();
    });
  });
  // Each duplicate's listen() (Node's child_process 'net.Server' handler) set the socket's
  // backlog back to Node's default 511; the backlog is the socket's, so one call restores it.
  if (servers.length > 0 && backlog !== undefined)
    (primary as unknown as { _handle?: { listen?(b: number): number } })._handle?.listen?.(backlog);
  return servers;
}
