/**
 * The server's PKI: a self-signed CA, a serving certificate for the listen addresses, and
 * client certificates (CN = user, O = groups, as upstream's x509 authenticator reads them).
 * Everything is persisted in the data dir so restarts keep the same identity.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority as SharedCa, type CertAndKey } from '../common/index.js';

const YEAR_MS = 365 * 24 * 3600 * 1000;

export type KeyPairPem = CertAndKey;

/** The API server's CA: the shared PKI (src/common/pki.ts) plus where its files live. */
export class CertificateAuthority {
  private constructor(private readonly ca: SharedCa) {}

  get certPem(): string {
    return this.ca.certPem;
  }

  get keyPem(): string {
    return this.ca.keyPem;
  }

  static async create(commonName = 'tether-ca'): Promise<CertificateAuthority> {
    return new CertificateAuthority(await SharedCa.create(commonName));
  }

  static async load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    return new CertificateAuthority(await SharedCa.load(certPem, keyPem));
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

  /** A serving certificate for the given DNS names and IP addresses. */
  issueServing(dnsNames: readonly string[], ips: readonly string[]): Promise<KeyPairPem> {
    return this.ca.issueServer(dnsNames[0] ?? 'tether-apiserver', { dnsNames, ips, validMs: YEAR_MS });
  }

  /** A client certificate: CN = user, one O per group (upstream x509 authenticator). */
  issueClient(user: string, groups: readonly string[], validMs = YEAR_MS): Promise<KeyPairPem> {
    return this.ca.issueClient(user, groups, { validMs });
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
    const cert = new X509Certificate(certPem);
    // node prints SANs as "DNS:localhost, IP Address:127.0.0.1"
    const have = new Set(
      (cert.subjectAltName ?? '').split(', ').map((n) => n.replace(/^(DNS|IP Address):/, '')),
    );
    if (have.has('0:0:0:0:0:0:0:1')) have.add('::1'); // node spells IPv6 SANs out in full
    const fresh = new Date(cert.validTo).getTime() - Date.now() > 30 * 24 * 3600 * 1000;
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
