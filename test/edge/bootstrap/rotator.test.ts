/**
 * Edge bootstrap pieces without a cloud: CA discovery against real TLS servers that present
 * the wrong things, the crash-safe credential pair, and the rotator's checks of the answer
 * (a hand-written fake for the narrow RotationLink seam).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority, certInfo, createCsr, silentLogger } from '../../../src/common/index.js';
import {
  CertRotator,
  discoverCa,
  JoinError,
  loadCredentials,
  writePair,
} from '../../../src/edge/bootstrap/index.js';
import { messageId, type Body, type Envelope, type MessageId } from '../../../src/protocol/index.js';

const log = silentLogger();
const EDGE = 'tether:edges';

async function serve(cert: string, key: string): Promise<{ url: string; server: Server }> {
  const server = createServer({ cert, key }, (_req, res) => res.end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return { url: `wss://127.0.0.1:${port}`, server };
}

describe('edge/bootstrap — CA discovery, credential files, rotation checks', () => {
  let ca: CertificateAuthority;
  let evil: CertificateAuthority;
  let dir: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    ca = await CertificateAuthority.create('tether-ca');
    evil = await CertificateAuthority.create('tether-ca');
    dir = mkdtempSync(join(tmpdir(), 'tether-edge-bootstrap-'));
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('edge/bootstrap — the CA is taken from the handshake chain only when its pin matches and it signed the server', async () => {
    const leaf = await ca.issueServer('cloud', { ips: ['127.0.0.1'] });
    const good = await serve(leaf.certPem + ca.certPem, leaf.keyPem);
    servers.push(good.server);
    expect(await discoverCa(good.url, ca.pin)).toBe(ca.certPem);

    const e1 = await discoverCa(good.url, evil.pin).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(JoinError);
    expect((e1 as JoinError).code).toBe('CA_PIN_MISMATCH');

    // A server without its chain cannot be pinned.
    const bare = await serve(leaf.certPem, leaf.keyPem);
    servers.push(bare.server);
    const e2 = await discoverCa(bare.url, ca.pin).catch((e: unknown) => e);
    expect((e2 as JoinError).code).toBe('CA_NOT_SENT');

    // An impostor that attaches the real (public) CA certificate to its own leaf is refused:
    // TLS links a chain certificate only to the certificate it issued, so the real CA is not
    // even offered; the signature check in discoverCa is the second line of defence.
    const fake = await evil.issueServer('cloud', { ips: ['127.0.0.1'] });
    const impostor = await serve(fake.certPem + ca.certPem, fake.keyPem);
    servers.push(impostor.server);
    const e3 = await discoverCa(impostor.url, ca.pin).catch((e: unknown) => e);
    expect((e3 as JoinError).code).toBe('CA_NOT_SENT');
    expect((e3 as JoinError).message).toMatch(/nothing was sent/);

    const e4 = await discoverCa(good.url, 'md5:abc').catch((e: unknown) => e);
    expect((e4 as JoinError).code).toBe('BAD_ARGUMENT');
  });

  it('edge/bootstrap — a rotation interrupted before or between the renames leaves a matching pair', async () => {
    const d = join(dir, 'pair');
    const a = await ca.issueClient('n1', [EDGE]);
    const b = await ca.issueClient('n1', [EDGE]);
    (await import('node:fs')).mkdirSync(d);
    writeFileSync(join(d, 'ca.crt'), ca.certPem);
    writePair(d, a.certPem, a.keyPem);
    expect(statSync(join(d, 'node.key')).mode & 0o777).toBe(0o600);

    // Crash before any rename: the old pair stays, the half-written next pair is dropped.
    writeFileSync(join(d, 'node.key.next'), b.keyPem);
    writeFileSync(join(d, 'node.crt.next'), b.certPem);
    let c = loadCredentials(d);
    expect(c.certPem).toBe(a.certPem);
    expect(c.keyPem).toBe(a.keyPem);
    expect(existsSync(join(d, 'node.crt.next'))).toBe(false);

    // Crash between the renames: the new key is in place, the certificate is completed.
    writeFileSync(join(d, 'node.key'), b.keyPem);
    writeFileSync(join(d, 'node.crt.next'), b.certPem);
    c = loadCredentials(d);
    expect(c.certPem).toBe(b.certPem);
    expect(c.keyPem).toBe(b.keyPem);
  });

  it('edge/bootstrap — the rotator asks when due and accepts only a certificate for its new key from the pinned CA', async () => {
    const d = join(dir, 'rot');
    (await import('node:fs')).mkdirSync(d);
    const { csrPem, keyPem } = await createCsr('n2');
    writeFileSync(join(d, 'ca.crt'), ca.certPem);
    writePair(d, await ca.signClientCsr(csrPem, 'n2', [EDGE], { validMs: 60_000 }), keyPem);

    const sent: { body: Body; id: MessageId }[] = [];
    const rot = new CertRotator(
      { dir: d, checkMs: 3_600_000 },
      { send: (body, id) => (sent.push({ body, id: id ?? messageId('x') }), true) },
      log,
    );
    const failures: string[] = [];
    const rotated: string[] = [];
    rot.on('failed', (f) => failures.push(f.code));
    rot.on('rotated', (c) => rotated.push(c.certPem));
    await rot.start();
    try {
      const due = rot.dueAt.getTime();
      // Measured from when the certificate was obtained (now), not the backdated notBefore.
      expect(due).toBeGreaterThan(Date.now() + 30_000);
      await rot.tick(due - 1000);
      expect(sent).toHaveLength(0);

      const reply = (id: MessageId, body: Record<string, unknown>): Envelope =>
        ({
          v: 1,
          id: messageId(`r-${Math.random()}`),
          ts: Date.now(),
          kind: 'reply',
          ref: id,
          ...body,
        }) as Envelope;
      const csrOf = (i: number): string => {
        const b = sent[i]?.body;
        if (b?.kind !== 'query' || b.method !== 'certRotate') throw new Error('not a certRotate query');
        return b.params.csr;
      };

      // 1: a certificate for some other key → refused, files untouched.
      await rot.tick(due + 1);
      expect(sent).toHaveLength(1);
      const other = await ca.issueClient('n2', [EDGE]);
      expect(
        rot.message(
          reply(sent[0]!.id, {
            method: 'certRotate',
            result: { certificate: other.certPem, caBundle: ca.certPem, notAfter: 0 },
          }),
        ),
      ).toBe(true);
      expect(failures).toEqual(['BAD_RESPONSE']);

      // 2: signed for the new key but by another CA → refused.
      await rot.tick(due + 2);
      const byEvil = await evil.signClientCsr(csrOf(1), 'n2', [EDGE]);
      rot.message(
        reply(sent[1]!.id, {
          method: 'certRotate',
          result: { certificate: byEvil, caBundle: evil.certPem, notAfter: 0 },
        }),
      );
      expect(failures).toEqual(['BAD_RESPONSE', 'BAD_RESPONSE']);

      // 3: the cloud refuses → its code is reported.
      await rot.tick(due + 3);
      rot.message(reply(sent[2]!.id, { method: 'error', code: 'REVOKED', message: 'revoked' }));
      expect(failures).toEqual(['BAD_RESPONSE', 'BAD_RESPONSE', 'REVOKED']);
      expect(rotated).toHaveLength(0);
      expect(readFileSync(join(d, 'node.key'), 'utf8')).toBe(keyPem);

      // 4: a good answer → written, emitted, and the rotation clock restarts.
      await rot.tick(due + 4);
      const fresh = await ca.signClientCsr(csrOf(3), 'n2', [EDGE], { validMs: 60_000 });
      expect(
        rot.message(
          reply(sent[3]!.id, {
            method: 'certRotate',
            result: { certificate: fresh, caBundle: ca.certPem, notAfter: 0 },
          }),
        ),
      ).toBe(true);
      expect(rotated).toEqual([fresh]);
      expect(readFileSync(join(d, 'node.crt'), 'utf8')).toBe(fresh);
      expect(readFileSync(join(d, 'node.key'), 'utf8')).not.toBe(keyPem);
      expect(statSync(join(d, 'node.key')).mode & 0o777).toBe(0o600);
      expect(certInfo(fresh).commonName).toBe('n2');
      // A reply nobody asked for is not the rotator's.
      expect(rot.message(reply(messageId('nope'), { method: 'error', code: 'X', message: '' }))).toBe(false);
    } finally {
      await rot.stop();
    }
  });
});
