import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CertificateAuthority, PkiError, caPin, certInfo, createCsr } from '../../src/common/index.js';

describe('common — pki', () => {
  it('pki — a CSR is signed with the subject the CA decides, and the cert carries it', async () => {
    const ca = await CertificateAuthority.create();
    const { csrPem } = await createCsr('edge-1');
    const certPem = await ca.signClientCsr(csrPem, 'edge-1', ['tether:edges'], { validMs: 60_000 });
    const info = certInfo(certPem);
    expect(info.commonName).toBe('edge-1');
    expect(info.organizations).toEqual(['tether:edges']);
    expect(info.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('pki — a CSR asking for another name is refused with CSR_SUBJECT', async () => {
    const ca = await CertificateAuthority.create();
    const { csrPem } = await createCsr('edge-2');
    await expect(ca.signClientCsr(csrPem, 'edge-1', [])).rejects.toMatchObject({ code: 'CSR_SUBJECT' });
    await expect(ca.signClientCsr('garbage', 'edge-1', [])).rejects.toBeInstanceOf(PkiError);
  });

  it('pki — the pin is stable across load and differs between CAs', async () => {
    const a = await CertificateAuthority.create();
    const b = await CertificateAuthority.create();
    const a2 = await CertificateAuthority.load(a.certPem, a.keyPem);
    expect(a2.pin).toBe(a.pin);
    expect(caPin(a.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.pin).not.toBe(a.pin);
  });

  it('pki — the certificates work for real mutual TLS', async () => {
    const ca = await CertificateAuthority.create();
    const server = await ca.issueServer('cloud', { dnsNames: ['localhost'], ips: ['127.0.0.1'] });
    const { csrPem, keyPem } = await createCsr('edge-1');
    const client = await ca.signClientCsr(csrPem, 'edge-1', []);
    const srv = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (s: TLSSocket) => {
        s.end(certInfo(s.getPeerX509Certificate()!.toString()).commonName);
      },
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const got = await new Promise<string>((resolve, reject) => {
      const c = connect(
        { host: '127.0.0.1', port, ca: ca.certPem, cert: client, key: keyPem },
        () => undefined,
      );
      let data = '';
      c.on('data', (d: Buffer) => (data += d.toString()));
      c.on('end', () => {
        resolve(data);
      });
      c.on('error', reject);
    });
    srv.close();
    expect(got).toBe('edge-1');
  });
});
