/**
 * Native memory of one idle connection in a Node server, by layer (issue 12: what the hub's
 * ~46 KB of non-heap memory per edge is): `npx tsx bench/tls-memory.ts [--conns 2000]`.
 * For each mode a fresh server child (plain node, no tsx) accepts N connections from this
 * process and the server's RSS after a forced GC is compared with 0 connections:
 *   tcp  — net.Server, the sockets only;
 *   tls  — tls.Server, TLS 1.3, server certificate only;
 *   mtls — tls.Server with requestCert (the hub's set-up: the peer certificate is kept);
 *   mtls-noticket — the same without TLS 1.3 session tickets (SSL_OP_NO_TICKET);
 *   mtls-tls12 — the same at TLS 1.2 at most;
 * each connection sends one small record after the handshake, as an edge sends hello.
 * `--modes tcp,mtls` picks some.
 * Figures, not assertions.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { CertificateAuthority, createCsr } from '../src/common/index.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const CONNS = Number(arg('conns', '2000'));
/** mtls-noticket: no TLS 1.3 session tickets (SSL_OP_NO_TICKET); mtls-tls12: TLS 1.2 at most */
const MODES = ['tcp', 'tls', 'mtls', 'mtls-noticket', 'mtls-tls12'] as const;
type Mode = (typeof MODES)[number];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// The server: plain JavaScript, run by plain node with --expose-gc (nothing else loaded).
const SERVER = `
const net = require('node:net'), tls = require('node:tls'), fs = require('node:fs');
const [mode, dir] = process.argv.slice(2);
const opts = { cert: fs.readFileSync(dir + '/s.crt'), key: fs.readFileSync(dir + '/s.key'),
  ca: fs.readFileSync(dir + '/ca.crt'), requestCert: mode.startsWith('mtls'), rejectUnauthorized: false,
  ...(mode === 'mtls-noticket' ? { secureOptions: require('node:crypto').constants.SSL_OP_NO_TICKET } : {}),
  ...(mode === 'mtls-tls12' ? { maxVersion: 'TLSv1.2' } : {}) };
const socks = [];
const onConn = (s) => { socks.push(s); s.on('data', () => {}); s.on('error', () => {}); };
const server = mode === 'tcp' ? net.createServer(onConn) : tls.createServer(opts, onConn);
server.listen(0, '127.0.0.1', 2048, () => process.send({ port: server.address().port }));
process.on('message', () => { global.gc(); global.gc();
  setTimeout(() => process.send({ rss: process.memoryUsage.rss(), heapTotal: process.memoryUsage().heapTotal,
    n: socks.length }), 500); });
`;

async function run(
  mode: Mode,
  dir: string,
  client: { cert: string; key: string; ca: string },
): Promise<Record<string, unknown>> {
  writeFileSync(join(dir, 'server.cjs'), SERVER);
  const child = fork(join(dir, 'server.cjs'), [mode, dir], { execArgv: ['--expose-gc'] });
  const next = (): Promise<{ port?: number; rss?: number; heapTotal?: number; n?: number }> =>
    new Promise((r) => child.once('message', r));
  const { port } = await next();
  const measure = async (): Promise<{ rss: number; heapTotal: number; n: number }> => {
    let best = { rss: Infinity, heapTotal: 0, n: 0 };
    for (let i = 0; i < 3; i++) {
      child.send('m');
      const m = await next();
      if ((m.rss ?? Infinity) < best.rss)
        best = { rss: m.rss ?? NaN, heapTotal: m.heapTotal ?? NaN, n: m.n ?? 0 };
    }
    return best;
  };
  await sleep(500);
  const m0 = await measure();
  const socks: Socket[] = [];
  for (let i = 0; i < CONNS; i += 100)
    await Promise.all(
      Array.from(
        { length: Math.min(100, CONNS - i) },
        () =>
          new Promise<void>((res, rej) => {
            const s =
              mode === 'tcp'
                ? netConnect({ host: '127.0.0.1', port: port ?? 0 }, () => {
                    s.write('hello');
                    res();
                  })
                : tlsConnect(
                    { host: '127.0.0.1', port: port ?? 0, ...client, servername: 'localhost' },
                    () => {
                      s.write('hello');
                      res();
                    },
                  );
            s.on('error', rej);
            socks.push(s);
          }),
      ),
    );
  await sleep(2000);
  const m1 = await measure();
  for (const s of socks) s.destroy();
  child.kill();
  const kb = (b: number): number => Math.round((b / CONNS / 1024) * 10) / 10;
  return {
    mode,
    connections: m1.n,
    rssPerConnKB: kb(m1.rss - m0.rss),
    nonHeapPerConnKB: kb(m1.rss - m0.rss - (m1.heapTotal - m0.heapTotal)),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-tlsmem-'));
try {
  const ca = await CertificateAuthority.create('tls-memory-ca');
  const s = await ca.issueServer('localhost', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
  writeFileSync(join(dir, 's.crt'), s.certPem);
  writeFileSync(join(dir, 's.key'), s.keyPem);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  const { csrPem, keyPem } = await createCsr('edge');
  const client = {
    cert: await ca.signClientCsr(csrPem, 'edge', ['tether:edges']),
    key: keyPem,
    ca: ca.certPem,
  };
  const rows = [];
  const only = arg('modes', MODES.join(',')).split(',');
  for (const mode of MODES.filter((m) => only.includes(m))) rows.push(await run(mode, dir, client));
  console.log(
    JSON.stringify(
      {
        benchmark: 'tls-memory',
        date: new Date().toISOString(),
        node: process.version,
        openssl: process.versions.openssl,
        command: `npx tsx bench/tls-memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
        rows,
        loadavg: loadavg()
          .map((x) => x.toFixed(1))
          .join(' '),
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
