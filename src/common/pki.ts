/**
 * Certificates for every TLS link of Tether: a CA, serving and client certificates, CSRs
 * signed by the CA (edge bootstrap, DESIGN §2), and the CA pin an edge checks before it
 * trusts a cloud it has never met (the kubeadm discovery-token-ca-cert-hash scheme).
 * ECDSA P-256 throughout: small, fast to sign, accepted by Node's TLS and Kubernetes.
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { TetherError } from './errors.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const subtle = webcrypto.subtle;

let x509lib: Promise<typeof X509> | undefined;
/**
 * @peculiar/x509 with tsyringe, reflect-metadata and ten asn1 packages is ~7 MiB of RSS: loaded
 * only when a certificate or CSR is made, so an edge agent that already holds its certificate
 * never loads it (issue 12, edge footprint). Reading certificates uses node:crypto.
 */
function x509(): Promise<typeof X509> {
  x509lib ??= (async () => {
    await import('reflect-metadata'); // tsyringe, a dependency of @peculiar/x509, needs it first
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    return lib;
  })();
  return x509lib;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export class PkiError extends TetherError {
  constructor(
    readonly code: 'CSR_INVALID' | 'CSR_SUBJECT' | 'CERT_INVALID' | 'KEY_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface CertAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  try {
    const b64 = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    return await subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign']);
  } catch (e) {
    throw new PkiError('KEY_INVALID', 'the private key is not a PKCS#8 ECDSA P-256 key', { cause: e });
  }
}

/** RFC 4514 escaping of an attribute value. */
function rdn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}

export interface IssueOptions {
  readonly validMs?: number;
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

export class CertificateAuthority {
  private constructor(
    readonly certPem: string,
    readonly keyPem: string,
    private readonly cert: X509.X509Certificate,
    private readonly key: CryptoKey,
  ) {}

  static async create(commonName = 'tether-ca', validMs = 10 * 365 * DAY_MS): Promise<CertificateAuthority> {
    const x = await x509();
    const keys = await newKeys();
    const cert = await x.X509CertificateGenerator.createSelfSigned({
      name: `CN=${rdn(commonName)}`,
      keys,
      signingAlgorithm: ALG,
      serialNumber: serial(),
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + validMs),
      extensions: [
        new x.BasicConstraintsExtension(true, undefined, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign, true),
        await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(
      cert.toString('pem') + '\n',
      await exportKey(keys.privateKey),
      cert,
      keys.privateKey,
    );
  }

  static async load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    const x = await x509();
    let cert: X509.X509Certificate;
    try {
      cert = new x.X509Certificate(certPem);
    } catch (e) {
      throw new PkiError('CERT_INVALID', 'the CA certificate is not a valid PEM certificate', { cause: e });
    }
    return new CertificateAuthority(certPem, keyPem, cert, await importKey(keyPem));
  }

  /** sha256 pin of the CA's public key, as `sha256:<hex>` (what `tether edge join --ca-cert-hash` checks). */
  get pin(): string {
    return caPin(this.certPem);
  }

  private async sign(
    subject: string,
    publicKey: CryptoKey,
    usage: 'server' | 'client',
    opts: IssueOptions,
  ): Promise<string> {
    const x = await x509();
    const exts: X509.Extension[] = [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | x.KeyUsageFlags.keyEncipherment, true),
      new x.ExtendedKeyUsageExtension([
        usage === 'server' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth,
      ]),
      await x.AuthorityKeyIdentifierExtension.create(this.cert.publicKey),
    ];
    const san: X509.JsonGeneralNames = [
      ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (san.length > 0) exts.push(new x.SubjectAlternativeNameExtension(san));
    const cert = await x.X509CertificateGenerator.create({
      subject,
      issuer: this.cert.subject,
      publicKey,
      signingKey: this.key,
      signingAlgorithm: ALG,
      serialNumber: serial(),
      notBefore: new Date(Date.now() - 300_000),
      notAfter: new Date(Date.now() + (opts.validMs ?? 365 * DAY_MS)),
      extensions: exts,
    });
    return cert.toString('pem') + '\n';
  }

  /** A serving certificate (and a fresh key) for names and addresses. */
  async issueServer(commonName: string, opts: IssueOptions = {}): Promise<CertAndKey> {
    const keys = await newKeys();
    const certPem = await this.sign(`CN=${rdn(commonName)}`, keys.publicKey, 'server', opts);
    return { certPem, keyPem: await exportKey(keys.privateKey) };
  }

  /** A client certificate: CN = user, one O per group (the Kubernetes x509 convention). */
  async issueClient(
    user: string,
    groups: readonly string[] = [],
    opts: IssueOptions = {},
  ): Promise<CertAndKey> {
    const keys = await newKeys();
    const certPem = await this.sign(subjectOf(user, groups), keys.publicKey, 'client', opts);
    return { certPem, keyPem: await exportKey(keys.privateKey) };
  }

  /**
   * Signs a CSR as a client certificate. The subject is decided here, not by the requester:
   * the CSR must ask for exactly `user` (and may not add groups), else CSR_SUBJECT.
   */
  async signClientCsr(
    csrPem: string,
    user: string,
    groups: readonly string[],
    opts: IssueOptions = {},
  ): Promise<string> {
    const x = await x509();
    let csr: X509.Pkcs10CertificateRequest;
    try {
      csr = new x.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw new PkiError(
        'CSR_INVALID',
        'the certificate signing request is not a valid PEM PKCS#10 request',
        { cause: e },
      );
    }
    if (!(await csr.verify()))
      throw new PkiError('CSR_INVALID', 'the certificate signing request signature does not verify');
    const cn = csr.subjectName.getField('CN');
    if (cn.length !== 1 || cn[0] !== user)
      throw new PkiError(
        'CSR_SUBJECT',
        `the request asks for CN=${cn.join(',') || '(none)'}, but this token or node may only get CN=${user}`,
      );
    const publicKey = await subtle.importKey('spki', csr.publicKey.rawData, ALG, true, ['verify']);
    return this.sign(subjectOf(user, groups), publicKey, 'client', opts);
  }
}

function subjectOf(user: string, groups: readonly string[]): string {
  return [`CN=${rdn(user)}`, ...groups.map((g) => `O=${rdn(g)}`)].join(', ');
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f; // positive
  return Buffer.from(b).toString('hex');
}

/** A key pair and a CSR for CN=`commonName` (the edge keeps the key, sends the CSR). */
export async function createCsr(commonName: string): Promise<{ csrPem: string; keyPem: string }> {
  const x = await x509();
  const keys = await newKeys();
  const csr = await x.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${rdn(commonName)}`,
    keys,
    signingAlgorithm: ALG,
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

export interface CertInfo {
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprint256: string;
}

/** Reads the fields Tether decides on from a PEM certificate. */
export function certInfo(certPem: string): CertInfo {
  let c: X509Certificate;
  try {
    c = new X509Certificate(certPem);
  } catch (e) {
    throw new PkiError('CERT_INVALID', 'not a valid PEM certificate', { cause: e });
  }
  return certInfoOf(c);
}

/** certInfo of a parsed certificate (a TLS peer's, from getPeerX509Certificate): no second parse. */
export function certInfoOf(c: X509Certificate): CertInfo {
  const fields = c.subject.split('\n');
  const get = (k: string): string[] =>
    fields.filter((f) => f.startsWith(`${k}=`)).map((f) => f.slice(k.length + 1));
  return {
    commonName: get('CN')[0] ?? '',
    organizations: get('O'),
    serial: c.serialNumber.toLowerCase(),
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    fingerprint256: c.fingerprint256,
  };
}

/** `sha256:<hex>` of the certificate's SubjectPublicKeyInfo (kubeadm's CA pin format). */
export function caPin(certPem: string): string {
  const c = new X509Certificate(certPem);
  const spki = c.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
