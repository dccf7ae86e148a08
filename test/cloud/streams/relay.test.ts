/**
 * Cloud side of issue 8 against a hand-written edge that speaks the stream contract over a real
 * hub connection (the real EdgeStreams is tested end to end in test/e2e/streams.test.ts): the
 * kubelet endpoint with real TLS, the embedded API server's shorter path, the real kubectl.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startApiServer, type StartedApiServer } from '../../../src/apiserver/index.js';
import {
  CertificateAuthority,
  createCsr,
  createRegistry,
  silentLogger,
  type Registry,
} from '../../../src/common/index.js';
import { EDGE_GROUP, Hub } from '../../../src/cloud/hub/index.js';
import { KubeClient } from '../../../src/cloud/kube/index.js';
import { CloudStreams } from '../../../src/cloud/streams/index.js';
import { SyncController } from '../../../src/cloud/sync/index.js';
import { Link } from '../../../src/edge/link/index.js';
import { EdgeStore } from '../../../src/edge/store/index.js';
import {
  streamId,
  type Envelope,
  type StreamChannel,
  type StreamId,
  type StreamWhat,
} from '../../../src/protocol/index.js';
import { eventually, podManifest } from '../../support/channel.js';
import { freePort } from '../../support/procs.js';

const NOBODY_TOKEN = 'nobody-token-0123456789abcdef';

/** Larger than the loopback socket buffers can absorb, so a paused reader really stalls. */
const BIG = 32 * 1024 * 1024;

type Open = Extract<Envelope, { kind: 'streamOpen' }>;

interface FakeStream {
  open: Open;
  credit: number;
  outstandingMax: number;
  sent: number;
  queue: { channel: StreamChannel; data: Buffer }[];
  closed: boolean;
  stdin: Buffer[];
  resizes: { cols: number; rows: number }[];
  onCredit?: () => void;
}

/** A narrow fake of the edge side of the contract: logs, exec (cat / exit N), port-forward echo. */
class FakeEdge {
  readonly streams = new Map<StreamId, FakeStream>();
  constructor(
    readonly link: Link,
    readonly name = '',
  ) {
    link.setHandler({
      message: (env) => {
        this.message(env);
      },
    });
  }

  private message(env: Envelope): void {
    switch (env.kind) {
      case 'streamOpen':
        this.onOpen(env);
        return;
      case 'streamWindow': {
        const s = this.streams.get(env.stream);
        if (s === undefined) return;
        s.credit += env.credit;
        this.flush(s);
        s.onCredit?.();
        return;
      }
      case 'streamData': {
        const s = this.streams.get(env.stream);
        if (s === undefined || s.closed) return;
        const data = Buffer.from(env.data);
        if (s.open.what.type === 'portForward') {
          if (data.byteLength === 0) {
            this.close(s, { type: 'closed' });
            return;
          }
          this.send(s, 0, data);
        } else if (data.byteLength === 0) {
          // stdin EOF: `cat` ends
          this.close(s, { type: 'exit', code: 0 });
          return;
        } else {
          s.stdin.push(data);
          this.send(s, 1, data);
        }
        this.link.send({ kind: 'streamWindow', stream: env.stream, credit: data.byteLength });
        return;
      }
      case 'streamResize':
        this.streams.get(env.stream)?.resizes.push({ cols: env.cols, rows: env.rows });
        return;
      case 'streamClose': {
        const s = this.streams.get(env.stream);
        if (s !== undefined) s.closed = true;
        return;
      }
      default:
        return;
    }
  }

  private onOpen(env: Open): void {
    const s: FakeStream = {
      open: env,
      credit: env.window,
      outstandingMax: 0,
      sent: 0,
      queue: [],
      closed: false,
      stdin: [],
      resizes: [],
    };
    this.streams.set(env.stream, s);
    const what: StreamWhat = env.what;
    if (env.target.container === 'missing') {
      this.close(s, {
        type: 'error',
        message: `container "missing" in pod "${env.target.namespace}/${env.target.pod}" is not running`,
      });
      return;
    }
    switch (what.type) {
      case 'logs': {
        if (env.target.pod === 'big') {
          this.bulk(s, BIG);
          return;
        }
        const prefix = what.timestamps ? '2026-01-01T00:00:00.000000000Z ' : '';
        const lines = what.previous ? ['previous life'] : ['line 1', 'line 2', 'line 3'];
        const tail = what.tailLines === undefined ? lines : lines.slice(-what.tailLines);
        this.send(s, 1, Buffer.from(tail.map((l) => `${prefix}${l}\n`).join('')));
        if (!what.follow) {
          this.close(s, { type: 'closed' });
          return;
        }
        let n = 0;
        const t = setInterval(() => {
          if (s.closed) {
            clearInterval(t);
            return;
          }
          this.send(s, 1, Buffer.from(`tick ${String(++n)}\n`));
        }, 100);
        return;
      }
      case 'exec': {
        if (what.stdin) this.link.send({ kind: 'streamWindow', stream: env.stream, credit: 256 * 1024 });
        const [cmd, arg] = what.command;
        if (cmd === 'exit') {
          this.send(s, 2, Buffer.from('bye\n'));
          this.close(s, { type: 'exit', code: Number(arg ?? '0') });
        } else if (cmd === 'echo') {
          this.send(s, 1, Buffer.from(`${what.command.slice(1).join(' ')}\n`));
          this.close(s, { type: 'exit', code: 0 });
        }
        // `cat`: echoes stdin (above) until EOF
        return;
      }
      case 'attach':
        this.link.send({ kind: 'streamWindow', stream: env.stream, credit: 256 * 1024 });
        return;
      case 'portForward':
        this.link.send({ kind: 'streamWindow', stream: env.stream, credit: 256 * 1024 });
        return;
      case 'metrics':
        this.send(
          s,
          1,
          Buffer.from(
            `# TYPE tether_edge_fake gauge\ntether_edge_fake{node="${this.name}",path="${what.path}"} 1\n`,
          ),
        );
        this.close(s, { type: 'closed' });
        return;
    }
  }

  /** Sends `total` bytes of logs, never more than the credit granted (contract §2). */
  private bulk(s: FakeStream, total: number): void {
    let left = total;
    const chunk = Buffer.alloc(32 * 1024, 'x');
    const pump = (): void => {
      while (left > 0 && s.credit > 0 && !s.closed) {
        const n = Math.min(chunk.byteLength, left, s.credit);
        this.send(s, 1, chunk.subarray(0, n));
        left -= n;
      }
      if (left === 0 && !s.closed) this.close(s, { type: 'closed' });
    };
    s.onCredit = pump;
    pump();
  }

  send(s: FakeStream, channel: StreamChannel, data: Buffer): void {
    s.queue.push({ channel, data });
    this.flush(s);
  }

  private flush(s: FakeStream): void {
    while (!s.closed) {
      const head = s.queue[0];
      if (head === undefined) return;
      const n = Math.min(head.data.byteLength, s.credit, 32 * 1024);
      if (n <= 0) return;
      this.link.send({
        kind: 'streamData',
        stream: s.open.stream,
        channel: head.channel,
        data: head.data.subarray(0, n),
      });
      s.credit -= n;
      s.sent += n;
      s.outstandingMax = Math.max(s.outstandingMax, s.open.window - s.credit);
      if (n === head.data.byteLength) s.queue.shift();
      else head.data = head.data.subarray(n);
    }
  }

  close(s: FakeStream, end: Extract<Envelope, { kind: 'streamClose' }>['end']): void {
    const finish = (): void => {
      if (s.queue.length > 0) {
        setTimeout(finish, 10);
        return;
      }
      s.closed = true;
      this.link.send({ kind: 'streamClose', stream: s.open.stream, end });
    };
    finish();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectlRun(
  kubeconfig: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      '/usr/bin/kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { env: { ...process.env, ...opts.env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

describe('cloud streams relay (fake edge over a real hub, real kubectl)', () => {
  let dir: string;
  let api: StartedApiServer;
  let ca: CertificateAuthority;
  let hub: Hub;
  let sync: SyncController;
  let streams: CloudStreams;
  let registry: Registry;
  let core: CoreV1Api;
  let kubelet: { certPem: string; keyPem: string };
  let edgeCert: { certPem: string; keyPem: string };
  const edges: { link: Link; store: EdgeStore; fake: FakeEdge | undefined }[] = [];

  async function startEdge(name: string): Promise<FakeEdge> {
    const { csrPem, keyPem } = await createCsr(name);
    const cert = { certPem: await ca.signClientCsr(csrPem, name, [EDGE_GROUP]), keyPem };
    if (name === 'edge-a') edgeCert = cert;
    const store = new EdgeStore({ path: join(dir, `${name}.db`) });
    store.open();
    const link = new Link(
      {
        cloudUrl: `wss://127.0.0.1:${String(hub.port)}`,
        tls: { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
        reconnect: { initialMs: 50, maxMs: 500 },
        outboxPollMs: 50,
      },
      store,
      silentLogger(),
      createRegistry(),
    );
    const fake = new FakeEdge(link, name);
    await link.start();
    edges.push({ link, store, fake });
    await eventually(() => hub.session(name as never) !== undefined, `${name} connected`);
    return fake;
  }

  /** An edge agent that serves no streams: its link ignores stream frames. */
  async function startSilentEdge(name: string): Promise<void> {
    const { csrPem, keyPem } = await createCsr(name);
    const certPem = await ca.signClientCsr(csrPem, name, [EDGE_GROUP]);
    const store = new EdgeStore({ path: join(dir, `${name}.db`) });
    store.open();
    const link = new Link(
      { cloudUrl: `wss://127.0.0.1:${String(hub.port)}`, tls: { certPem, keyPem, caPem: ca.certPem } },
      store,
      silentLogger(),
      createRegistry(),
    );
    await link.start();
    edges.push({ link, store, fake: undefined });
    await eventually(() => hub.session(name as never) !== undefined, `${name} connected`);
  }

  let edgeA: FakeEdge;
  let edgeB: FakeEdge;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-streams-'));
    const streamPort = await freePort();
    api = await startApiServer({
      dataDir: join(dir, 'api'),
      kubeletProxy: { host: '127.0.0.1', port: streamPort },
      // a user with no role: nodes/proxy is refused to it
      tokens: [{ token: NOBODY_TOKEN, user: 'nobody', groups: [] }],
    });
    kubelet = {
      certPem: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.key'), 'utf8'),
    };
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    ca = await CertificateAuthority.create('tether-test-ca');
    const serving = await ca.issueServer('tether-cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    registry = createRegistry();
    const log = silentLogger();
    hub = new Hub(
      {
        host: '127.0.0.1',
        port: 0,
        tls: { certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem },
        settings: { keepaliveMs: 1000, missedPongLimit: 3 },
      },
      log,
      registry,
    );
    sync = new SyncController(new KubeClient(kc, log), hub, log, registry, { tickMs: 200 });
    streams = new CloudStreams(
      {
        host: '127.0.0.1',
        port: streamPort,
        // The edge CA is trusted too, so the refusal of edge certificates is by identity, not by chain.
        answerTimeoutMs: 2000,
        maxPerNode: 6,
        tls: {
          certPem: serving.certPem,
          keyPem: serving.keyPem,
          clientCaPem: readFileSync(api.kubeletClientCAPath, 'utf8') + ca.certPem,
        },
      },
      hub,
      core,
      log,
      registry,
    );
    hub.setHandler(streams.wrap(sync));
    await sync.start();
    await hub.start();
    await streams.start();
    edgeA = await startEdge('edge-a');
    edgeB = await startEdge('edge-b');
    await startSilentEdge('edge-c');
    // Real edges register their Node (with an address); the embedded API server looks it up.
    for (const name of ['edge-a', 'edge-b', 'edge-c']) {
      await core.createNode({ body: { metadata: { name } } });
      await core.replaceNodeStatus({
        name,
        body: {
          metadata: { name },
          status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
        },
      });
    }
    for (const [name, node] of [
      ['p1', 'edge-a'],
      ['big', 'edge-a'],
      ['pb', 'edge-b'],
      ['pc', 'edge-c'],
    ] as const)
      await core.createNamespacedPod({ namespace: 'default', body: podManifest(name, node) });
    // kubectl port-forward checks the phase first (the fake edge reports no status).
    const p1 = await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    p1.status = { phase: 'Running' };
    await core.replaceNamespacedPodStatus({ name: 'p1', namespace: 'default', body: p1 });
    mkdirSync(join(dir, 'cache'), { recursive: true });
  }, 60_000);

  afterAll(async () => {
    for (const e of edges) {
      await e.link.stop();
      e.store.close();
    }
    await streams.stop();
    await hub.stop();
    await sync.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function get(
    path: string,
    cert?: { certPem: string; keyPem: string },
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: streams.endpoint.port,
          path,
          rejectUnauthorized: false,
          ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }),
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const kc = (args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<Run> =>
    kubectlRun(api.kubeconfigPath, ['--cache-dir', join(dir, 'cache'), ...args], opts);

  it('streams — /containerLogs with the API server kubelet client certificate, options passed to the edge', async () => {
    const r = await get('/containerLogs/default/p1/c?tailLines=2&timestamps=true', kubelet);
    expect(r.status).toBe(200);
    expect(r.body).toBe('2026-01-01T00:00:00.000000000Z line 2\n2026-01-01T00:00:00.000000000Z line 3\n');
    const opened = [...edgeA.streams.values()].at(-1)?.open;
    expect(opened?.what).toMatchObject({ type: 'logs', tailLines: 2, timestamps: true, follow: false });
    expect(opened?.target).toMatchObject({ namespace: 'default', pod: 'p1', container: 'c' });
    expect(opened?.target.uid).toBeTruthy();
  });

  it('streams — no client certificate is 401, an edge certificate is 403, unknown container 404', async () => {
    expect((await get('/containerLogs/default/p1/c')).status).toBe(401);
    const asEdge = await get('/containerLogs/default/p1/c', edgeCert);
    expect(asEdge.status).toBe(403);
    const missing = await get('/containerLogs/default/p1/nope', kubelet);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('container "nope" not found');
    const gone = await get('/containerLogs/default/nopod/c', kubelet);
    expect(gone.status).toBe(404);
  });

  it('streams — kubectl logs, --tail, --previous and an edge error reach the user', async () => {
    const all = await kc(['logs', 'p1']);
    expect(all.stderr).toBe('');
    expect(all).toMatchObject({ code: 0, stdout: 'line 1\nline 2\nline 3\n' });
    expect((await kc(['logs', 'p1', '--tail=1'])).stdout).toBe('line 3\n');
    expect((await kc(['logs', 'p1', '--previous'])).stdout).toBe('previous life\n');
  });

  it('streams — kubectl logs -f follows until the client goes away, then the edge is told to stop', async () => {
    const child = spawn('/usr/bin/kubectl', [
      '--kubeconfig',
      api.kubeconfigPath,
      '--cache-dir',
      join(dir, 'cache'),
      'logs',
      '-f',
      'p1',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => out.includes('tick 3'), 'followed output', 30_000);
    const s = [...edgeA.streams.values()].find((x) => x.open.what.type === 'logs' && x.open.what.follow);
    expect(s?.closed).toBe(false);
    child.kill('SIGINT');
    await eventually(() => s?.closed === true, 'the edge got streamClose', 20_000);
  });

  for (const transport of ['websocket', 'spdy'] as const) {
    const env = transport === 'spdy' ? { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } : {};
    it(`streams — kubectl exec over ${transport}: piped stdin round trip, stderr and the exit code`, async () => {
      const cat = await kc(['exec', '-i', 'p1', '--', 'cat'], { input: 'hello edge\n', env });
      expect(cat).toMatchObject({ code: 0, stdout: 'hello edge\n' });
      const exit = await kc(['exec', 'p1', '--', 'exit', '7'], { env });
      expect(exit.code).toBe(7);
      expect(exit.stderr).toContain('bye');
      expect(exit.stderr).toContain('command terminated with exit code 7');
      const err = await kc(['exec', 'p1', '-c', 'missing', '--', 'echo'], { env });
      expect(err.code).not.toBe(0);
    });
  }

  for (const transport of ['websocket', 'spdy'] as const) {
    it(`streams — kubectl port-forward over ${transport}: bytes both ways through the edge`, async () => {
      const child = spawn(
        '/usr/bin/kubectl',
        [
          '--kubeconfig',
          api.kubeconfigPath,
          '--cache-dir',
          join(dir, 'cache'),
          'port-forward',
          'pod/p1',
          ':8080',
        ],
        {
          env: {
            ...process.env,
            ...(transport === 'spdy' ? { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } : {}),
          },
        },
      );
      let out = '';
      try {
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const port = Number(
          (
            await eventually(
              () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out),
              'port-forward ready',
              30_000,
            )
          )[1],
        );
        const echoed = await new Promise<string>((resolve, reject) => {
          const sock = connect(port, '127.0.0.1', () => {
            sock.end('ping through the edge');
          });
          let got = '';
          sock.on('data', (d: Buffer) => (got += d.toString()));
          sock.on('end', () => {
            resolve(got);
          });
          sock.on('error', reject);
        });
        expect(echoed).toBe('ping through the edge');
        const pf = [...edgeA.streams.values()].filter((x) => x.open.what.type === 'portForward').at(-1);
        expect(pf?.open.what).toEqual({ type: 'portForward', port: 8080 });
      } finally {
        if (child.exitCode === null) {
          child.kill('SIGINT');
          await new Promise((r) => child.once('exit', r));
        }
      }
    }, 60_000);
  }

  it('streams — WebSocket v5 exec directly: stdin close signal, tty resize and the Status on channel 3', async () => {
    const ws = new WebSocket(
      `wss://127.0.0.1:${String(streams.endpoint.port)}/exec/default/p1/c?command=cat&input=1&output=1&tty=1`,
      ['v5.channel.k8s.io'],
      { cert: kubelet.certPem, key: kubelet.keyPem, rejectUnauthorized: false },
    );
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    await new Promise((r) => ws.once('open', r));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('abc')]));
    await eventually(() => got.some((m) => m[0] === 1 && m.subarray(1).toString() === 'abc'), 'echo');
    ws.send(Buffer.from([255, 0]));
    await new Promise((r) => ws.once('close', r));
    const status = got.find((m) => m[0] === 3);
    expect(JSON.parse(status?.subarray(1).toString() ?? '{}')).toEqual({ metadata: {}, status: 'Success' });
    const s = [...edgeA.streams.values()].find((x) => x.resizes.length > 0);
    expect(s?.resizes).toEqual([{ cols: 120, rows: 40 }]);
  });

  it('streams — a stalled client holds only its own stream: the edge stays within the window, others flow', async () => {
    const before = edgeA.streams.size;
    let received = 0;
    let paused: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: streams.endpoint.port,
          path: '/containerLogs/default/big/c',
          cert: kubelet.certPem,
          key: kubelet.keyPem,
          rejectUnauthorized: false,
        },
        (res) => {
          res.pause();
          paused = () => {
            res.on('data', (d: Buffer) => (received += d.byteLength));
            res.on('end', resolve);
            res.resume();
          };
        },
      );
      req.on('error', reject);
      req.end();
    });
    await eventually(() => paused !== undefined, 'response headers');
    const big = await eventually(
      () => [...edgeA.streams.values()].slice(before).find((x) => x.open.target.pod === 'big'),
      'big stream open',
    );
    // The client reads nothing: the edge runs out of credit and stops.
    // (kernel socket buffers take a few MB first; then the credit stays at 0)
    let last = -1;
    await eventually(
      async () => {
        const still = big.credit === 0 && big.sent === last;
        last = big.sent;
        await new Promise((r) => setTimeout(r, 500));
        return still;
      },
      'the edge ran out of credit and stays stalled',
      30_000,
    );
    const stalledAt = big.sent;
    expect(stalledAt).toBeLessThan(BIG);
    // Meanwhile another stream of the same edge is unaffected.
    const other = await kc(['logs', 'p1']);
    expect(other.stdout).toBe('line 1\nline 2\nline 3\n');
    expect(big.sent).toBe(stalledAt);
    paused?.();
    await done;
    expect(received).toBe(BIG);
    expect(big.outstandingMax).toBeLessThanOrEqual(big.open.window);
  }, 60_000);

  it('streams — an edge cannot write into another edge’s stream (dropped and counted)', async () => {
    const child = spawn('/usr/bin/kubectl', [
      '--kubeconfig',
      api.kubeconfigPath,
      '--cache-dir',
      join(dir, 'cache'),
      'logs',
      '-f',
      'p1',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => out.includes('tick 1'), 'followed output', 30_000);
    const victim = [...edgeA.streams.values()].filter((x) => !x.closed && x.open.what.type === 'logs').at(-1);
    expect(victim).toBeDefined();
    const id = victim?.open.stream ?? streamId('none');
    const dropped = async (): Promise<number> => {
      const m = await registry.getSingleMetric('tether_streams_dropped_frames_total')?.get();
      return m?.values.find((v) => v.labels['reason'] === 'unknown')?.value ?? 0;
    };
    const before = await dropped();
    edgeB.link.send({ kind: 'streamData', stream: id, channel: 1, data: Buffer.from('INJECTED\n') });
    edgeB.link.send({ kind: 'streamClose', stream: id, end: { type: 'exit', code: 9 } });
    const ticks = (): number => (out.match(/tick/g) ?? []).length;
    const ticksBefore = ticks();
    await eventually(async () => (await dropped()) >= before + 2, 'frames dropped');
    await eventually(() => ticks() >= ticksBefore + 3, 'still flowing', 30_000);
    expect(out).not.toContain('INJECTED');
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }, 60_000);

  it('streams — a node carries at most maxPerNode streams: the next open gets 429 (logs and exec), a closed one frees a slot', async () => {
    const held: ClientRequest[] = [];
    const follow = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: streams.endpoint.port,
            path: '/containerLogs/default/pb/c?follow=true',
            cert: kubelet.certPem,
            key: kubelet.keyPem,
            rejectUnauthorized: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (e) => {
          if (!req.destroyed) reject(e);
        });
        req.end();
        held.push(req);
      });
    try {
      for (let i = 0; i < 6; i++) expect(await follow()).toBe(200);
      const refused = await get('/containerLogs/default/pb/c', kubelet);
      expect(refused.status).toBe(429);
      expect(refused.body).toContain('too many concurrent streams to the edge node "edge-b" (limit 6)');
      // an upgrade is refused before it happens, so kubectl reports it and exits non-zero
      const exec = await kc(['exec', 'pb', '--', 'echo', 'hi']);
      expect(exec.code).not.toBe(0);
      expect(exec.stderr).toContain('too many concurrent streams');
      // the limit is per node: edge-a is unaffected
      expect((await get('/containerLogs/default/p1/c', kubelet)).status).toBe(200);
      held[0]?.destroy();
      await eventually(
        async () => (await get('/containerLogs/default/pb/c', kubelet)).status === 200,
        'a slot freed by the closed stream',
      );
      const m = await registry.getSingleMetric('tether_streams_refused_total')?.get();
      expect(m?.values[0]?.value ?? 0).toBeGreaterThanOrEqual(2);
    } finally {
      for (const r of held) r.destroy();
    }
  }, 60_000);

  it('streams — a link drop ends the node’s streams with an error the user can read', async () => {
    const child = spawn('/usr/bin/kubectl', [
      '--kubeconfig',
      api.kubeconfigPath,
      '--cache-dir',
      join(dir, 'cache'),
      'exec',
      '-i',
      'pb',
      '--',
      'cat',
    ]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.write('x\n');
    await eventually(
      () => [...edgeB.streams.values()].some((s) => s.stdin.length > 0),
      'exec running',
      30_000,
    );
    edgeB.link.dropConnection();
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    expect(err).toContain('the edge node "edge-b" disconnected');
    await eventually(() => hub.session('edge-b' as never) !== undefined, 'edge-b back');
  }, 60_000);

  it('streams — an edge agent that ignores streams: kubectl gets an error, not a hang', async () => {
    const r = await kc(['logs', 'pc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the edge node "edge-c" did not answer');
    const x = await kc(['exec', '-i', 'pc', '--', 'cat'], { input: 'x' });
    expect(x.code).not.toBe(0);
    expect(x.stderr).toContain('did not answer');
  }, 60_000);

  function getWith(
    path: string,
    cert: { certPem: string; keyPem: string },
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string; type: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: streams.endpoint.port,
          path,
          headers,
          rejectUnauthorized: false,
          cert: cert.certPem,
          key: cert.keyPem,
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('streams metrics — kubectl get --raw nodes/<edge>/proxy/metrics[/resource] reaches that edge', async () => {
    const a = await kc(['get', '--raw', '/api/v1/nodes/edge-a/proxy/metrics']);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(
      '# TYPE tether_edge_fake gauge\ntether_edge_fake{node="edge-a",path="/metrics"} 1\n',
    );
    const b = await kc(['get', '--raw', '/api/v1/nodes/edge-b/proxy/metrics/resource']);
    expect(b.stdout).toContain('tether_edge_fake{node="edge-b",path="/metrics/resource"} 1');
    // `name:port` as upstream accepts it (the port is the kubelet's; kubeletProxy wins here)
    const port = await kc(['get', '--raw', '/api/v1/nodes/edge-a:10250/proxy/metrics']);
    expect(port.stdout).toContain('node="edge-a"');
    const opened = [...edgeB.streams.values()].at(-1)?.open;
    expect(opened?.what).toEqual({ type: 'metrics', path: '/metrics/resource' });
    expect(opened?.target).toEqual({ namespace: '', pod: '' });
  });

  it('streams metrics — nodes/proxy is authorized as get on nodes/proxy: a user without it gets 403 before any stream', async () => {
    const opened = edgeA.streams.size;
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${api.url}/api/v1/nodes/edge-a/proxy/metrics`,
        { headers: { authorization: `Bearer ${NOBODY_TOKEN}` }, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringContaining('cannot get resource "nodes/proxy" in API group ""') as unknown,
    });
    expect(edgeA.streams.size).toBe(opened);
  });

  it('streams metrics — the endpoint: the node from X-Forwarded-Uri or from the Host of a node address; edge cert 403', async () => {
    const fwd = await getWith('/metrics', kubelet, {
      'x-forwarded-uri': '/api/v1/nodes/edge-b/proxy/metrics',
    });
    expect(fwd).toMatchObject({ status: 200, type: 'text/plain; version=0.0.4; charset=utf-8' });
    expect(fwd.body).toContain('node="edge-b"');
    // an edge writes its Node status (through the wrapped hub handler): its address now means it
    const wrapped = streams.wrap({
      sessionOpened: () => undefined,
      sessionClosed: () => undefined,
      message: () => undefined,
    });
    wrapped.message(
      { node: 'edge-a' } as never,
      {
        v: 1,
        id: 'm-addr',
        ts: 0,
        kind: 'status',
        key: { group: '', version: 'v1', kind: 'Node', name: 'edge-a' },
        write: {
          type: 'nodeStatus',
          payload: { status: { addresses: [{ type: 'InternalIP', address: '10.213.99.7' }] } },
        },
      } as never,
    );
    const byHost = await getWith('/metrics/resource', kubelet, { host: '10.213.99.7:10250' });
    expect(byHost.status).toBe(200);
    expect(byHost.body).toContain('tether_edge_fake{node="edge-a",path="/metrics/resource"} 1');
    const unknown = await getWith('/metrics', kubelet, { host: '10.213.99.8:10250' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('cannot tell which edge node');
    const asEdge = await getWith('/metrics', edgeCert, {
      'x-forwarded-uri': '/api/v1/nodes/edge-a/proxy/metrics',
    });
    expect(asEdge.status).toBe(403);
    expect((await get('/metrics')).status).toBe(401);
  });

  it('streams metrics — an offline node is a clear 503, an agent that ignores the stream a 5xx, not a hang', async () => {
    await core.createNode({ body: { metadata: { name: 'edge-off' } } });
    await core.replaceNodeStatus({
      name: 'edge-off',
      body: {
        metadata: { name: 'edge-off' },
        status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
      },
    });
    const off = await getWith('/metrics', kubelet, {
      'x-forwarded-uri': '/api/v1/nodes/edge-off/proxy/metrics',
    });
    expect(off.status).toBe(503);
    expect(off.body).toBe('the edge node "edge-off" is not connected to the cloud\n');
    const viaKubectl = await kc(['get', '--raw', '/api/v1/nodes/edge-off/proxy/metrics']);
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toContain('ServiceUnavailable');
    // edge-c's agent never answers (like an agent from before the metrics stream): the answer timeout
    const silent = await getWith('/metrics', kubelet, {
      'x-forwarded-uri': '/api/v1/nodes/edge-c/proxy/metrics',
    });
    expect(silent.status).toBe(504);
    expect(silent.body).toContain(
      'the edge node "edge-c" did not answer the stream within 2 s (does its agent serve metrics?)',
    );
    const missing = await kc(['get', '--raw', '/api/v1/nodes/no-such-node/proxy/metrics']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('nodes "no-such-node" not found');
  }, 60_000);

  it('streams — the Node status an edge writes advertises the cloud kubelet endpoint', () => {
    const seen: Envelope[] = [];
    const wrapped = streams.wrap({
      sessionOpened: () => undefined,
      sessionClosed: () => undefined,
      message: (_s, env) => seen.push(env),
    });
    wrapped.message(
      {} as never,
      {
        v: 1,
        id: 'm1',
        ts: 0,
        kind: 'status',
        key: { group: '', version: 'v1', kind: 'Node', name: 'edge-a' },
        write: {
          type: 'nodeStatus',
          payload: { status: { daemonEndpoints: { kubeletEndpoint: { Port: 10250 } }, addresses: [] } },
        },
      } as never,
    );
    const out = seen[0] as Extract<Envelope, { kind: 'status' }>;
    expect(out.write.payload).toMatchObject({
      status: { daemonEndpoints: { kubeletEndpoint: { Port: streams.endpoint.port } } },
    });
  });
});
