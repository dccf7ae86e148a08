/** pods/log and the streaming subresources are proxied to the node's kubelet endpoint (a fake kubelet here). */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/apiserver/index.js';
import { api, kc, kubectl, pod, startTestServer, type TestServer } from './harness.js';

let s: TestServer;
let kubelet: Server;
const seen: { path: string; cn: string }[] = [];

beforeAll(async () => {
  s = await startTestServer();
  const ca = await CertificateAuthority.create('fake-kubelet-ca');
  const pair = await ca.issueServing(['localhost'], ['127.0.0.1']);
  kubelet = createServer(
    { cert: pair.certPem, key: pair.keyPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject.CN ?? '');
      seen.push({ path: req.url ?? '', cn });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('line one\nline two\n');
    },
  );
  kubelet.on('upgrade', (req, socket) => {
    seen.push({
      path: req.url ?? '',
      cn: String((req.socket as TLSSocket).getPeerCertificate().subject.CN ?? ''),
    });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  const port = (kubelet.address() as AddressInfo).port;
  await api(s, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'edge-1' } });
  await api(s, 'PATCH', '/api/v1/nodes/edge-1/status', {
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
    },
  });
  await api(s, 'POST', '/api/v1/namespaces/default/pods', pod('p', { nodeName: 'edge-1' }));
  await api(s, 'POST', '/api/v1/namespaces/default/pods', pod('unbound'));
});
afterAll(async () => {
  kubelet.closeAllConnections();
  await new Promise((r) => kubelet.close(r));
  await s.stop();
});

describe('apiserver proxy', () => {
  it('apiserver proxy — kubectl logs reaches /containerLogs on the node with the kubelet client identity', async () => {
    const out = await kc(s, ['logs', 'p', '--tail=2', '--timestamps']);
    expect(out).toBe('line one\nline two\n');
    const hit = seen.find((x) => x.path.startsWith('/containerLogs/'));
    expect(hit?.path).toBe('/containerLogs/default/p/c?timestamps=true&tailLines=2');
    expect(hit?.cn).toBe('kube-apiserver-kubelet-client');
  });

  it('apiserver proxy — a pod without a node is a 400 like upstream', async () => {
    const r = await kubectl(s, ['logs', 'unbound']);
    expect(r.stderr).toContain('pod unbound does not have a host assigned');
  });

  it('apiserver proxy — exec upgrades are authorized and spliced to /exec on the kubelet', async () => {
    const url = new URL(s.url);
    const sock = connect({
      host: url.hostname,
      port: Number(url.port),
      ca: s.caPem,
      cert: s.adminCert,
      key: s.adminKey,
    });
    await new Promise((r) => sock.once('secureConnect', r));
    sock.write(
      'POST /api/v1/namespaces/default/pods/p/exec?command=ls&command=-l&stdout=true&stderr=true HTTP/1.1\r\n' +
        `Host: ${url.host}\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n`,
    );
    let buf = '';
    await new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\r\n\r\n') && !buf.includes('ping')) sock.write('ping');
        if (buf.includes('ping')) resolve();
      });
    });
    sock.destroy();
    expect(buf).toMatch(/^HTTP\/1.1 101/);
    expect(seen.find((x) => x.path.startsWith('/exec/'))?.path).toBe(
      '/exec/default/p/c?output=1&error=1&command=ls&command=-l',
    );
  });

  it('apiserver proxy — exec without an upgrade is a 400; a read-only user may not exec', async () => {
    const plain = await api(s, 'POST', '/api/v1/namespaces/default/pods/p/exec?command=ls', '');
    expect(plain.status).toBe(400);
    const path = `${s.dir}/ro.kubeconfig`;
    await s.server.writeKubeconfigFor(path, 'viewer', ['tether:read-only']);
    const r = await kubectl(s, ['exec', 'p', '--', 'ls'], { env: { KUBECONFIG: path } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('forbidden');
  });
});
