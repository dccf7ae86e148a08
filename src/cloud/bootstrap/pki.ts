import type { V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  CertificateAuthority,
  certInfo,
  ConfigError,
  errorMessage,
  type CertAndKey,
  type Logger,
} from '../../common/index.js';
import type { KubeClient } from '../kube/index.js';
import { EDGE_GROUP } from '../hub/index.js';
import { apiStatus, BootstrapError } from './errors.js';
import { b64, ensureNamespace, unb64 } from './kube.js';

const DAY_MS = 24 * 3600 * 1000;

export const CloudPkiConfigSchema = z.object({
  namespace: z.string().min(1).default('tether-system'),
  secretName: z.string().min(1).default('tether-ca'),
  caCommonName: z.string().min(1).default('tether-ca'),
  /** The hub's serving certificate: the names and addresses edges dial (`--cloud wss://HOST:PORT`). */
  serving: z
    .object({
      commonName: z.string().min(1).default('tether-cloud'),
      dnsNames: z.array(z.string().min(1)).default(['localhost']),
      ips: z.array(z.string().min(1)).default(['127.0.0.1']),
      validMs: z
        .number()
        .int()
        .min(1000)
        .default(365 * DAY_MS),
    })
    .prefault({}),
  /** Validity of edge client certificates (join and rotation); the edge rotates at 2/3 of it. */
  edgeCertValidMs: z
    .number()
    .int()
    .min(1000)
    .default(30 * DAY_MS),
});
export type CloudPkiConfig = z.input<typeof CloudPkiConfigSchema>;

/** What the hub's `tls` config takes: the chain (serving + CA) lets an edge pin the CA in the handshake. */
export interface HubTls {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/**
 * The cloud CA (issue 5 "Bootstrap and certificates"), kept in the Secret
 * `tether-system/tether-ca` (kubernetes.io/tls) so every cloud core replica signs with the same
 * key. The first replica to start creates it; a replica that loses the create race (409) loads
 * the winner's, so there is never more than one CA.
 */
export class CloudPki {
  readonly name = 'cloud-pki';
  readonly cfg: z.output<typeof CloudPkiConfigSchema>;
  private caValue: CertificateAuthority | undefined;

  constructor(
    config: CloudPkiConfig,
    private readonly kube: KubeClient,
    private readonly log: Logger,
  ) {
    const parsed = CloudPkiConfigSchema.safeParse(config);
    if (!parsed.success)
      throw new ConfigError(
        'invalid cloud PKI configuration',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      );
    this.cfg = parsed.data;
  }

  async start(): Promise<void> {
    const { namespace, secretName } = this.cfg;
    const core = this.kube.core;
    try {
      await ensureNamespace(core, namespace);
      const existing = await this.read();
      if (existing !== undefined) {
        this.caValue = existing;
        this.log.info({ pin: existing.pin }, 'loaded the cloud CA from its Secret');
        return;
      }
      const fresh = await CertificateAuthority.create(this.cfg.caCommonName);
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: {
          name: secretName,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'tether' },
        },
        data: { 'tls.crt': b64(fresh.certPem), 'tls.key': b64(fresh.keyPem) },
      };
      try {
        await core.createNamespacedSecret({ namespace, body });
        this.caValue = fresh;
        this.log.info({ pin: fresh.pin }, 'created the cloud CA and stored it in its Secret');
      } catch (e) {
        if (apiStatus(e) !== 409) throw e;
        // Another replica created it between our read and our create: use theirs, drop ours.
        const theirs = await this.read();
        if (theirs === undefined) throw new BootstrapError('CA_STORE', 'the CA Secret vanished after a 409');
        this.caValue = theirs;
        this.log.info({ pin: theirs.pin }, 'another replica created the cloud CA first; using it');
      }
    } catch (e) {
      if (e instanceof BootstrapError) throw e;
      throw new BootstrapError(
        'CA_STORE',
        `could not load or create the cloud CA in Secret ${namespace}/${secretName}: ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  private async read(): Promise<CertificateAuthority | undefined> {
    const { namespace, secretName } = this.cfg;
    let s: V1Secret;
    try {
      s = await this.kube.core.readNamespacedSecret({ name: secretName, namespace });
    } catch (e) {
      if (apiStatus(e) === 404) return undefined;
      throw e;
    }
    const crt = unb64(s.data?.['tls.crt']);
    const key = unb64(s.data?.['tls.key']);
    if (crt === undefined || key === undefined)
      throw new BootstrapError(
        'CA_INVALID',
        `Secret ${namespace}/${secretName} lacks tls.crt or tls.key; fix or delete it (deleting it invalidates every edge certificate)`,
      );
    return CertificateAuthority.load(crt, key);
  }

  get ca(): CertificateAuthority {
    if (this.caValue === undefined) throw new BootstrapError('CA_STORE', 'the cloud PKI is not started');
    return this.caValue;
  }

  /** `sha256:<hex>` for `tether edge join --ca-cert-hash`. */
  get pin(): string {
    return this.ca.pin;
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  /**
   * A fresh serving certificate for the hub. `certPem` is the chain leaf + CA: the edge's join
   * reads the CA from the handshake and checks it against its pin before trusting it.
   */
  async hubTls(): Promise<HubTls> {
    const { commonName, dnsNames, ips, validMs } = this.cfg.serving;
    const s: CertAndKey = await this.ca.issueServer(commonName, { dnsNames, ips, validMs });
    return { certPem: s.certPem + this.ca.certPem, keyPem: s.keyPem, caPem: this.ca.certPem };
  }

  /**
   * Signs an edge CSR: CN is `node` (decided by the caller from the token or the session, never
   * from the CSR; PkiError CSR_SUBJECT if the CSR asks for another), O = tether:edges.
   */
  async signEdge(csrPem: string, node: string, validMs = this.cfg.edgeCertValidMs): Promise<string> {
    const cert = await this.ca.signClientCsr(csrPem, node, [EDGE_GROUP], { validMs });
    this.log.info({ node, serial: certInfo(cert).serial, validMs }, 'issued an edge certificate');
    return cert;
  }
}
