import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/**
 * Why `tether up --edges` needs this: kubectl logs/exec/port-forward end at the edge agent, which
 * asks containerd (CRI Exec/Attach/PortForward) and connects to the URL containerd answers — on
 * containerd's streaming server, which listens on 127.0.0.1 of the host (the project containerd:
 * `stream_server_address = "127.0.0.1"`, a random port). On a real edge host the agent and
 * containerd share that loopback. The namespace edges of `tether up` share the host's containerd
 * but have a loopback of their own, where nothing listens: their streams failed.
 *
 * So each of containerd's 127.0.0.1 listeners is carried into each edge namespace, on the same
 * port of the namespace's loopback: a forwarder inside the namespace (a child process) connects
 * to a unix socket in the state dir (file systems are shared across network namespaces), which
 * this process connects to containerd's port. The same bridge as test/e2e/streams.test.ts.
 * The ports are read once at start: after a containerd restart, re-run `tether up`.
 */

/** The pid file scripts/setup writes for the project containerd. */
const CONTAINERD_PID_FILE = '/run/tether-test/containerd.pid';

/** containerd's TCP listeners on 127.0.0.1 (its streaming server), by `ss`. */
export function containerdLoopbackPorts(): number[] {
  let pid: string | undefined;
  try {
    pid = readFileSync(CONTAINERD_PID_FILE, 'utf8').trim();
  } catch {
    pid = undefined;
  }
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  const ports = new Set<number>();
  for (const line of out.split('\n')) {
    const m = /127\.0\.0\.1:(\d+)\s.*users:\(\("containerd",pid=(\d+),/.exec(line);
    if (m === null) continue;
    if (pid !== undefined && m[2] !== pid) continue;
    ports.add(Number(m[1]));
  }
  return [...ports];
}

/** What the forwarder inside a namespace runs: `node -e SCRIPT port=socket …`. */
const NS_SCRIPT =
  "const net=require('node:net');for(const a of process.argv.slice(1)){const i=a.indexOf('=');const s=a.slice(i+1);" +
  "net.createServer(c=>{const u=net.connect(s);c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())})" +
  ".listen(Number(a.slice(0,i)),'127.0.0.1')}";

export interface StreamsBridge {
  /** Pids of the forwarders inside namespaces (recorded in up.json for leftover clean-up). */
  readonly pids: number[];
  /** Starts the forwarder inside one namespace; its pid. */
  addNamespace(ns: string): number | undefined;
  stop(): Promise<void>;
}

/** The host side: one unix socket per containerd port in `dir`, each connected to that port. */
export async function startStreamsBridge(dir: string, ports: readonly number[]): Promise<StreamsBridge> {
  const servers: { port: number; path: string; srv: Server }[] = [];
  const open = new Set<Socket>();
  for (const port of ports) {
    const path = join(dir, `cri-stream-${String(port)}.sock`);
    rmSync(path, { force: true });
    const srv = createServer((c) => {
      const up = connect(port, '127.0.0.1');
      open.add(c).add(up);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.once('close', () => open.delete(c));
      up.once('close', () => open.delete(up));
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(path, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    servers.push({ port, path, srv });
  }
  const children: ChildProcess[] = [];
  const pids: number[] = [];
  return {
    pids,
    addNamespace(ns: string): number | undefined {
      if (servers.length === 0) return undefined;
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '-e',
          NS_SCRIPT,
          ...servers.map((x) => `${String(x.port)}=${x.path}`),
        ],
        { stdio: 'ignore' },
      );
      child.on('error', () => undefined);
      children.push(child);
      if (child.pid !== undefined) pids.push(child.pid);
      return child.pid;
    },
    async stop(): Promise<void> {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      // a `kubectl logs -f` in progress would hold close() open
      for (const c of open) c.destroy();
      await Promise.all(
        servers.map(
          (x) =>
            new Promise<void>((resolve) => {
              x.srv.close(() => {
                resolve();
              });
            }),
        ),
      );
      for (const x of servers) rmSync(x.path, { force: true });
    },
  };
}
