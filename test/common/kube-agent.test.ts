import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, reuseConnections } from '../../src/common/index.js';

/** A TLS server answering every request with an empty NamespaceList; counts TLS connections. */
describe('common/kube-agent — API calls reuse TLS connections', () => {
  let server: Server;
  let ca: CertificateAuthority;
  let connections = 0;
  let url = '';

  beforeAll(async () => {
    ca = await CertificateAuthority.create('kube-agent-test');
    const serving = await ca.issueServer('127.0.0.1', { ips: ['127.0.0.1'] });
    server = createServer(
      { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true },
      (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: {}, items: [] }));
      },
    );
    server.on('secureConnection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const config = async (user: string): Promise<KubeConfig> => {
    const client = await ca.issueClient(user);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: url, caData: Buffer.from(ca.certPem).toString('base64') }],
      users: [
        {
          name: 'u',
          certData: Buffer.from(client.certPem).toString('base64'),
          keyData: Buffer.from(client.keyPem).toString('base64'),
        },
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  };

  it('common/kube-agent — client-node alone opens a connection per call; with reuseConnections one serves them all', async () => {
    const plain = (await config('plain')).makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 10; i++) await plain.listNamespace();
    // the library's behaviour this works around; if a release fixes it, this fails and the patch can go
    expect(connections).toBe(10);

    const kc = reuseConnections(await config('reused'));
    expect(reuseConnections(kc)).toBe(kc); // idempotent
    const api = kc.makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 10; i++) await api.listNamespace();
    await Promise.all(Array.from({ length: 5 }, () => api.listNamespace()));
    expect(connections).toBeLessThanOrEqual(5);
    expect(connections).toBeGreaterThanOrEqual(1);
    const sequentialOnly = connections;

    // another client identity (a rotated certificate) gets its own connection, not the old one
    const rotated = await ca.issueClient('rotated');
    kc.users[0] = {
      name: 'u',
      certData: Buffer.from(rotated.certPem).toString('base64'),
      keyData: Buffer.from(rotated.keyPem).toString('base64'),
    };
    await api.listNamespace();
    expect(connections).toBe(sequentialOnly + 1);
  });
});
