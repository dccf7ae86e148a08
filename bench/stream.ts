/**
 * Stream benchmark (issue 8): `npx tsx bench/stream.ts [--mb 100] [--samples 300]`
 * Prints one JSON document, then a human summary. Figures, not assertions (DESIGN §9).
 *
 * Set-up, all on 127.0.0.1 with real TLS: the embedded API server with `kubeletProxy` to the
 * cloud core's kubelet endpoint (StreamEndpoint + StreamRelay on a real Hub), and one edge
 * `Link` whose stream handler is a synthetic source speaking the contract (it produces log
 * bytes as fast as its credit allows and echoes exec stdin), so the figures are those of the
 * path API server → endpoint → relay → channel, not of containerd or the CRI log files.
 *
 * 1. log throughput: the real `kubectl logs` of N MB of 128-byte lines (stdout to a counting
 *    pipe), MB/s, and the heap of this process (cloud + edge side) sampled during the transfer;
 *    then the same N MB through the API server with Node's HTTPS client (no kubectl) and straight
 *    from the endpoint (no API server), to show where the time goes;
 * 2. exec round trip: one byte on stdin → its echo on stdout, over a v5.channel.k8s.io WebSocket
 *    (a) directly to the endpoint with the kubelet client certificate and (b) through the API
 *    server (what kubectl does), p50/p90/p99 over the samples.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { startApiServer } from '../src/apiserver/index.js';
import { EDGE_GROUP, Hub } from '../src/cloud/hub/index.js';
import { KubeClient } from '../src/cloud/kube/index.js';
import { CloudStreams } from '../src/cloud/streams/index.js';
import { SyncController } from '../src/cloud/sync/index.js';
import { CertificateAuthority, createCsr, createRegistry, silentLogger } from '../src/common/index.js';
import { Link } from '../src/edge/link/index.js';
import { EdgeStore } from '../src/edge/store/index.js';
import type { Envelope, StreamId } from '../src/protocol/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}
const MB = Number(arg('mb', '100'));
const SAMPLES = Number(arg('samples', '300'));

/** The synthetic edge: logs of `total` bytes within credit; exec echoes stdin. */
function syntheticEdge(link: Link, total: number): void {
  const credit = new Map<StreamId, { credit: number; pump?: () => void }>();
  // 128-byte lines: kubectl logs writes line by line, so the line length sets its cost
  const line = `${'level=info msg="request served" path=/api/v1/items status=200 '.padEnd(127, '.')}\n`;
  const chunk = Buffer.from(line.repeat(256));
  link.setHandler({
    message: (env: Envelope) => {
      switch (env.kind) {
        case 'streamOpen': {
          const s: { credit: number; pump?: () => void } = { credit: env.window };
          credit.set(env.stream, s);
          if (env.what.type === 'logs') {
            let left = total;
            s.pump = () => {
              while (left > 0 && s.credit > 0) {
                const n = Math.min(chunk.byteLength, left, s.credit);
                link.send({ kind: 'streamData', stream: env.stream, channel: 1, data: chunk.subarray(0, n) });
                s.credit -= n;
                left -= n;
              }
              if (left === 0) {
                left = -1;
                link.send({ kind: 'streamClose', stream: env.stream, end: { type: 'closed' } });
              }
            };
            s.pump();
          } else link.send({ kind: 'streamWindow', stream: env.stream, credit: 256 * 1024 });
          return;
        }
        case 'streamWindow': {
          const s = credit.get(env.stream);
          if (s === undefined) return;
          s.credit += env.credit;
          s.pump?.();
          return;
        }
        case 'streamData':
          if (env.data.byteLength === 0) {
            link.send({ kind: 'streamClose', stream: env.stream, end: { type: 'exit', code: 0 } });
            return;
          }
          link.send({ kind: 'streamData', stream: env.stream, channel: 1, data: env.data });
          link.send({ kind: 'streamWindow', stream: env.stream, credit: env.data.byteLength });
          return;
        case 'streamClose':
          credit.delete(env.stream);
          return;
        default:
          return;
      }
    },
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function rtt(url: string, opts: WebSocket.ClientOptions, samples: number): Promise<number[]> {
  const ws = new WebSocket(url, ['v5.channel.k8s.io'], opts);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const out: number[] = [];
  let waiting: (() => void) | undefined;
  ws.on('message', (m: Buffer) => {
    if (m[0] === 1 && m.byteLength > 1) waiting?.();
  });
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((r) => {
      waiting = r;
      ws.send(Buffer.from([0, 97]));
    });
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ws.send(Buffer.from([255, 0]));
  ws.close();
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-stream-'));
  const log = silentLogger();
  const registry = createRegistry();
  const streamPortProbe = await import('node:net').then(
    (net) =>
      new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const a = s.address();
          s.close(() => {
            resolve(typeof a === 'object' && a !== null ? a.port : 0);
          });
        });
      }),
  );
  const api = await startApiServer({
    dataDir: join(dir, 'api'),
    kubeletProxy: { host: '127.0.0.1', port: streamPortProbe },
    storage: { synchronous: 'NORMAL' },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const ca = await CertificateAuthority.create('bench-ca');
  const serving = await ca.issueServer('cloud', { ips: ['127.0.0.1'] });
  const hub = new Hub({ host: '127.0.0.1', port: 0, tls: { ...serving, caPem: ca.certPem } }, log, registry);
  const sync = new SyncController(new KubeClient(kc, log), hub, log, registry);
  const streams = new CloudStreams(
    {
      host: '127.0.0.1',
      port: streamPortProbe,
      tls: { ...serving, clientCaPem: readFileSync(api.kubeletClientCAPath, 'utf8') },
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
  const { csrPem, keyPem } = await createCsr('bench-edge');
  const certPem = await ca.signClientCsr(csrPem, 'bench-edge', [EDGE_GROUP]);
  const store = new EdgeStore({ path: join(dir, 'edge.db') });
  store.open();
  const link = new Link(
    { cloudUrl: `wss://127.0.0.1:${String(hub.port)}`, tls: { certPem, keyPem, caPem: ca.certPem } },
    store,
    log,
    createRegistry(),
  );
  syntheticEdge(link, MB * 1024 * 1024);
  await link.start();
  while (hub.session('bench-edge' as never) === undefined) await new Promise((r) => setTimeout(r, 50));
  await core.createNode({
    body: { metadata: { name: 'bench-edge' } },
  });
  await core.replaceNodeStatus({
    name: 'bench-edge',
    body: {
      metadata: { name: 'bench-edge' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
    },
  });
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: 'src' },
      spec: { nodeName: 'bench-edge', containers: [{ name: 'c', image: 'x' }] },
    },
  });

  // 1. log throughput through the real kubectl
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let heapMax = heap0;
  const sampler = setInterval(() => {
    heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  }, 50);
  const t0 = process.hrtime.bigint();
  const bytes = await new Promise<number>((resolve, reject) => {
    const child = spawn('/usr/bin/kubectl', ['--kubeconfig', api.kubeconfigPath, 'logs', 'src']);
    let n = 0;
    child.stdout.on('data', (d: Buffer) => (n += d.byteLength));
    child.on('exit', (code) => {
      if (code === 0) resolve(n);
      else reject(new Error(`kubectl logs exited ${String(code)}`));
    });
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);

  // 1b. the same straight from the endpoint (no API server, no kubectl)
  const kcert = {
    cert: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.crt')),
    key: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.key')),
  };
  const tD = process.hrtime.bigint();
  const directBytes = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: streams.endpoint.port,
        path: '/containerLogs/default/src/c',
        ...kcert,
        rejectUnauthorized: false,
      },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.byteLength));
        res.on('end', () => {
          resolve(n);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  const directSecs = Number(process.hrtime.bigint() - tD) / 1e9;

  // 1c. through the API server with a plain HTTPS client (kubectl's share of the time = 1 − 1c/1)
  const apiHttps: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(apiHttps);
  const apiUrl = new URL(kc.getCurrentCluster()?.server ?? '');
  const tA = process.hrtime.bigint();
  const apiBytes = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(
      {
        ...apiHttps,
        host: apiUrl.hostname,
        port: Number(apiUrl.port),
        path: '/api/v1/namespaces/default/pods/src/log',
        rejectUnauthorized: false,
      },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.byteLength));
        res.on('end', () => {
          resolve(n);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
  const apiSecs = Number(process.hrtime.bigint() - tA) / 1e9;

  // 2. exec round trip
  const kubeletCert = {
    cert: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.crt')),
    key: readFileSync(join(dir, 'api', 'pki', 'kubelet-client.key')),
    rejectUnauthorized: false,
  };
  const direct = await rtt(
    `wss://127.0.0.1:${String(streams.endpoint.port)}/exec/default/src/c?command=cat&input=1&output=1`,
    kubeletCert,
    SAMPLES,
  );
  const apiOpts: WebSocket.ClientOptions = {};
  await kc.applyToHTTPSOptions(apiOpts);
  const server = kc.getCurrentCluster()?.server ?? '';
  const viaApi = await rtt(
    `${server.replace(/^https/, 'wss')}/api/v1/namespaces/default/pods/src/exec?command=cat&stdin=true&stdout=true&container=c`,
    { ...apiOpts, rejectUnauthorized: false },
    SAMPLES,
  );

  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memGB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    logs: {
      bytes,
      seconds: Number(secs.toFixed(2)),
      MBps: Number((bytes / 2 ** 20 / secs).toFixed(1)),
      heapStartMB: Number((heap0 / 2 ** 20).toFixed(1)),
      heapGrowthMaxMB: Number(((heapMax - heap0) / 2 ** 20).toFixed(1)),
      viaApiServerHttpsMBps: Number((apiBytes / 2 ** 20 / apiSecs).toFixed(1)),
      directFromEndpointMBps: Number((directBytes / 2 ** 20 / directSecs).toFixed(1)),
    },
    execRttMs: {
      direct: { p50: pct(direct, 50), p90: pct(direct, 90), p99: pct(direct, 99) },
      viaApiServer: { p50: pct(viaApi, 50), p90: pct(viaApi, 90), p99: pct(viaApi, 99) },
      samples: SAMPLES,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  const f = (x: number): string => x.toFixed(2);
  console.log(
    `\nlogs: ${String(MB)} MB through kubectl in ${f(secs)} s = ${String(result.logs.MBps)} MB/s; heap growth max ${String(result.logs.heapGrowthMaxMB)} MB\n` +
      `exec rtt direct p50 ${f(result.execRttMs.direct.p50)} ms p99 ${f(result.execRttMs.direct.p99)} ms; ` +
      `via API server p50 ${f(result.execRttMs.viaApiServer.p50)} ms p99 ${f(result.execRttMs.viaApiServer.p99)} ms`,
  );
  await link.stop();
  store.close();
  await streams.stop();
  await hub.stop();
  await sync.stop();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
