/**
 * The server's PKI: a self-signed CA, a serving certificate for the listen addresses, and
 * client certificates (CN = user, O = groups, as upstream's x509 authenticator reads them).
 * Everything is persisted in the data dir so restarts keep the same identity.
 */
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata'; // tsyringe (used by @peculiar/x509) needs it loaded first
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return crypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign']);
}

function escapeRdn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}

export class CertificateAuthority {
  private constructor(
    readonly certPem: string,
    readonly keyPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
  ) {}

  static async create(commonName = 'tether-ca'): Promise<CertificateAuthority> {
    const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${escapeRdn(commonName)}`,
      keys,
      signingAlgorithm: ALG,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 10 * YEAR_MS),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
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
    return new CertificateAuthority(
      certPem,
      keyPem,
      new x509.X509Certificate(certPem),
      await importKey(keyPem),
    );
  }

  /** Loads `<dir>/ca.crt` + `ca.key`, creating them on first use. */
  static async loadOrCreate(dir: string): Promise<CertificateAuthority> {
    const crt = join(dir, 'ca.crt');
    const key = join(dir, 'ca.key');
    if (existsSync(crt) && existsSync(key))
      return CertificateAuthority.load(readFileSync(crt, 'utf8'), readFileSync(key, 'utf8'));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await CertificateAuthority.create();
    writeFileSync(crt, ca.certPem, { mode: 0o644 });
    writeFileSync(key, ca.keyPem, { mode: 0o600 });
    return ca;
  }

  private async issue(
    subject: string,
    usages: x509.ExtendedKeyUsage[],
    san: x509.JsonGeneralNames | undefined,
    validMs: number,
  ): Promise<KeyPairPem> {
    const keys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const exts: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(this.cert.publicKey),
    ];
    if (san !== undefined) exts.push(new x509.SubjectAlternativeNameExtension(san));
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: this.cert.subject,
      publicKey: keys.publicKey,
      signingKey: this.key,
      signingAlgorithm: ALG,
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + validMs),
      extensions: exts,
    });
    return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
  }

  /** A serving certificate for the given DNS names and IP addresses. */
  issueServing(dnsNames: readonly string[], ips: readonly string[]): Promise<KeyPairPem> {
    const san: x509.JsonGeneralNames = [
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ips.map((value) => ({ type: 'ip' as const, value })),
    ];
    return this.issue(
      `CN=${escapeRdn(dnsNames[0] ?? 'tether-apiserver')}`,
      [x509.ExtendedKeyUsage.serverAuth],
      san,
      YEAR_MS,
    );
  }

  /** A client certificate: CN = user name, one O per group (upstream x509 authenticator). */
  issueClient(user: string, groups: readonly string[], validMs = YEAR_MS): Promise<KeyPairPem> {
    const subject = [`CN=${escapeRdn(user)}`, ...groups.map((g) => `O=${escapeRdn(g)}`)].join(', ');
    return this.issue(subject, [x509.ExtendedKeyUsage.clientAuth], undefined, validMs);
  }
}

/** The serving pair in `<dir>/serving.{crt,key}`, reissued when a SAN is missing. */
export async function loadOrIssueServing(
  ca: CertificateAuthority,
  dir: string,
  extraSans: readonly string[],
): Promise<KeyPairPem> {
  const crt = join(dir, 'serving.crt');
  const key = join(dir, 'serving.key');
  const dns = ['localhost', hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];
  const ips = ['127.0.0.1', '::1'];
  for (const s of extraSans) {
    if (/^[\d.]+$/.test(s) || s.includes(':')) {
      if (!ips.includes(s)) ips.push(s);
    } else if (!dns.includes(s)) dns.push(s);
  }
  if (existsSync(crt) && existsSync(key)) {
    const certPem = readFileSync(crt, 'utf8');
    const cert = new x509.X509Certificate(certPem);
    const sanExt = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const have = new Set((sanExt?.names.toJSON() ?? []).map((n) => n.value));
    const fresh = cert.notAfter.getTime() - Date.now() > 30 * 24 * 3600 * 1000;
    if (fresh && [...dns, ...ips].every((n) => have.has(n)))
      return { certPem, keyPem: readFileSync(key, 'utf8') };
  }
  const pair = await ca.issueServing(dns, ips);
  writeFileSync(crt, pair.certPem, { mode: 0o644 });
  writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return pair;
}

/** Subject fields of a verified peer certificate as node's TLS socket reports them. */
export function identityFromPeer(
  subject: { CN?: string | string[]; O?: string | string[] } | undefined,
): { user: string; groups: string[] } | undefined {
  if (subject === undefined) return undefined;
  const cn = subject.CN;
  const user = Array.isArray(cn) ? cn[0] : cn;
  if (user === undefined || user === '') return undefined;
  const o = subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { user, groups };
}

/** A client pair in `<dir>/<file>.{crt,key}`, issued once (e.g. the API server's kubelet client). */
export async function loadOrIssueClient(
  ca: CertificateAuthority,
  dir: string,
  file: string,
  user: string,
  groups: readonly string[],
): Promise<KeyPairPem> {
  const crt = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  if (existsSync(crt) && existsSync(key))
    return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
  const pair = await ca.issueClient(user, groups);
  writeFileSync(crt, pair.certPem, { mode: 0o644 });
  writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return pair;
}
