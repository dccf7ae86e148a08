import { request } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { caPin, certInfo, createCsr, errorMessage, TetherError, type Logger } from '../../common/index.js';
import { ensureDir, FILES, keyMatches, writeAtomic, writePair, type EdgeCredentials } from './files.js';

export class JoinError extends TetherError {
  constructor(
    readonly code:
      'BAD_ARGUMENT' | 'UNREACHABLE' | 'CA_NOT_SENT' | 'CA_PIN_MISMATCH' | 'REFUSED' | 'BAD_RESPONSE',
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JoinOptions {
  /** wss://HOST:PORT of the cloud hub */
  readonly cloudUrl: string;
  /** ID.SECRET from `tether token create` */
  readonly token: string;
  /** sha256:<hex> from the join command */
  readonly caCertHash: string;
  readonly nodeName: string;
  /** Where ca.crt, node.crt and node.key (0600) are written. */
  readonly dir: string;
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

const PIN_RE = /^sha256:[0-9a-f]{64}$/;

function target(cloudUrl: string): { host: string; port: number; servername?: string } {
  let u: URL;
  try {
    u = new URL(cloudUrl);
  } catch (e) {
    throw new JoinError(
      'BAD_ARGUMENT',
      `--cloud ${cloudUrl} is not a URL (expected wss://HOST:PORT)`,
      undefined,
      {
        cause: e,
      },
    );
  }
  if (u.protocol !== 'wss:' && u.protocol !== 'https:')
    throw new JoinError('BAD_ARGUMENT', `--cloud must be a wss:// URL, got ${cloudUrl}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(u.port || 443), ...(isIP(host) === 0 ? { servername: host } : {}) };
}

/**
 * Learns the cloud's CA without trusting it first (kubeadm's discovery with
 * --discovery-token-ca-cert-hash): a TLS handshake that verifies nothing, then the CA is taken
 * from the chain the hub presents and accepted only if its public key hashes to `pin` and it
 * really signed the hub's certificate. Nothing secret is sent on this connection.
 */
export async function discoverCa(cloudUrl: string, pin: string, timeoutMs = 10_000): Promise<string> {
  if (!PIN_RE.test(pin))
    throw new JoinError('BAD_ARGUMENT', `--ca-cert-hash must look like sha256:<64 hex digits>, got ${pin}`);
  const t = target(cloudUrl);
  const chain = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    const sock = connect({ ...t, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    sock.setTimeout(timeoutMs, () => {
      sock.destroy();
      reject(new JoinError('UNREACHABLE', `no TLS answer from ${cloudUrl} within ${timeoutMs} ms`));
    });
    sock.once('secureConnect', () => {
      const c = sock.getPeerCertificate(true);
      sock.destroy();
      resolve(c);
    });
    sock.once('error', (e) => {
      reject(
        new JoinError('UNREACHABLE', `cannot reach the cloud at ${cloudUrl}: ${errorMessage(e)}`, undefined, {
          cause: e,
        }),
      );
    });
  });
  const leaf = new X509Certificate(chain.raw);
  const certs: X509Certificate[] = [];
  const seen = new Set<string>();
  // issuerCertificate is absent at the end of a chain the peer did not complete (typed as always present).
  for (
    let c: DetailedPeerCertificate | undefined = chain;
    c !== undefined;
    c = c.issuerCertificate as DetailedPeerCertificate | undefined
  ) {
    const fp = c.fingerprint256;
    if (seen.has(fp)) break; // a self-signed root is its own issuer
    seen.add(fp);
    certs.push(new X509Certificate(c.raw));
  }
  const cas = certs.filter((c) => c.ca);
  if (cas.length === 0)
    throw new JoinError(
      'CA_NOT_SENT',
      `the cloud at ${cloudUrl} did not send, in the TLS handshake, a CA certificate that issued its serving certificate, so it cannot be checked against --ca-cert-hash (the hub must serve its chain: serving certificate + CA); nothing was sent`,
    );
  const pins = cas.map((c) => caPin(c.toString()));
  const i = pins.indexOf(pin);
  const ca = cas[i];
  if (ca === undefined)
    throw new JoinError(
      'CA_PIN_MISMATCH',
      `the cloud's CA has hash ${pins.join(', ')}, not the --ca-cert-hash ${pin}: this is not the cloud the token was made for (or the hash is mistyped); nothing was sent`,
    );
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey))
    throw new JoinError(
      'CA_PIN_MISMATCH',
      `the CA matching ${pin} did not sign the certificate the cloud at ${cloudUrl} presented; nothing was sent`,
    );
  return ca.toString().trimEnd() + '\n';
}

async function postJoin(
  cloudUrl: string,
  caPem: string,
  body: { token: string; csr: string; node: string },
  timeoutMs: number,
): Promise<{ certificate: string; caBundle: string }> {
  const t = target(cloudUrl);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...t,
        ca: caPem,
        method: 'POST',
        path: '/v1/bootstrap',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          let parsed: { certificate?: unknown; caBundle?: unknown; message?: unknown } = {};
          try {
            parsed = JSON.parse(data) as typeof parsed;
          } catch {
            // handled below
          }
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const msg = typeof parsed.message === 'string' ? parsed.message : data.trim() || `HTTP ${status}`;
            reject(new JoinError('REFUSED', `the cloud refused the join (HTTP ${status}): ${msg}`, status));
            return;
          }
          if (typeof parsed.certificate !== 'string' || typeof parsed.caBundle !== 'string') {
            reject(new JoinError('BAD_RESPONSE', 'the cloud answered the join without a certificate'));
            return;
          }
          resolve({ certificate: parsed.certificate, caBundle: parsed.caBundle });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (e) => {
      reject(
        e instanceof JoinError
          ? e
          : new JoinError(
              'UNREACHABLE',
              `the join request to ${cloudUrl} failed: ${errorMessage(e)}`,
              undefined,
              {
                cause: e,
              },
            ),
      );
    });
    req.end(text);
  });
}

/**
 * `tether edge join` (issue 5): pins the cloud's CA, exchanges the token and a CSR for the
 * node's client certificate over TLS verified against that CA, and writes ca.crt, node.crt and
 * node.key (0600) into `dir`. The private key never leaves the edge.
 */
export async function joinCloud(opts: JoinOptions): Promise<EdgeCredentials> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const caPem = await discoverCa(opts.cloudUrl, opts.caCertHash, timeoutMs);
  opts.log?.info({ pin: opts.caCertHash }, 'the cloud CA matches the pin');
  const { csrPem, keyPem } = await createCsr(opts.nodeName);
  const r = await postJoin(
    opts.cloudUrl,
    caPem,
    { token: opts.token, csr: csrPem, node: opts.nodeName },
    timeoutMs,
  );
  let info;
  try {
    info = certInfo(r.certificate);
  } catch (e) {
    throw new JoinError('BAD_RESPONSE', 'the cloud sent a certificate that does not parse', undefined, {
      cause: e,
    });
  }
  if (info.commonName !== opts.nodeName || !keyMatches(r.certificate, keyPem))
    throw new JoinError(
      'BAD_RESPONSE',
      `the cloud sent a certificate for ${info.commonName}, not for this node's key`,
    );
  if (!new X509Certificate(r.certificate).checkIssued(new X509Certificate(caPem)))
    throw new JoinError('BAD_RESPONSE', 'the cloud sent a certificate not issued by the pinned CA');
  ensureDir(opts.dir);
  // The pinned CA is what the edge trusts from now on, not the bundle the cloud sent back.
  writeAtomic(join(opts.dir, FILES.ca), caPem, 0o644);
  writePair(opts.dir, r.certificate, keyPem);
  opts.log?.info({ node: opts.nodeName, serial: info.serial, notAfter: info.notAfter }, 'joined the cloud');
  return {
    certPem: r.certificate,
    keyPem,
    caPem,
    obtainedAt: new Date(),
    paths: { cert: join(opts.dir, FILES.cert), key: join(opts.dir, FILES.key), ca: join(opts.dir, FILES.ca) },
  };
}
