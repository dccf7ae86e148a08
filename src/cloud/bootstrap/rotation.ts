import { certInfo, errorMessage, PkiError, type CertInfo, type Logger } from '../../common/index.js';
import type { Envelope, NodeName } from '../../protocol/index.js';
import type { EdgeSession, HubHandler } from '../hub/index.js';
import type { CloudPki } from './pki.js';
import type { Revocations } from './revocation.js';

/**
 * The cloud side of certificate rotation (issue 5): answers `certRotate` queries. The new
 * certificate's CN is the session's node — the identity proven by the current certificate —
 * never a name from the CSR (a CSR asking for another CN is refused), with the same validity
 * as a join.
 */
export class CertRotation {
  /** The certificate each node connected with (recorded at admission), for revocation checks. */
  private readonly admitted = new Map<NodeName, CertInfo>();
  /** Last rotation per node: signing is CPU work a node could otherwise demand in a loop. */
  private readonly lastRotation = new Map<NodeName, number>();

  constructor(
    private readonly pki: CloudPki,
    private readonly log: Logger,
    private readonly revocations?: Revocations,
    /** Validity of rotated certificates; default the CloudPki's edgeCertValidMs (same rule as a join). */
    private readonly validMs?: number,
    /** Minimum time between two rotations of one node. */
    private readonly minIntervalMs = 1000,
  ) {}

  /** Called when the hub admits a connection of `node` with `cert`. */
  admittedWith(node: NodeName, cert: CertInfo): void {
    this.admitted.set(node, cert);
  }

  certOf(node: NodeName): CertInfo | undefined {
    return this.admitted.get(node);
  }

  /** Nodes admitted since start (their sessions may have closed since). */
  nodes(): NodeName[] {
    return [...this.admitted.keys()];
  }

  /** True if `env` is a certRotate query (so the composition root can route it here). */
  static accepts(env: Envelope): env is Envelope<'query'> & { method: 'certRotate' } {
    return env.kind === 'query' && env.method === 'certRotate';
  }

  async handle(s: EdgeSession, env: Envelope<'query'>): Promise<void> {
    if (env.method !== 'certRotate') return;
    const fail = (code: string, message: string): void => {
      this.log.warn({ node: s.node, code, message }, 'refused a certificate rotation');
      s.send({ kind: 'reply', ref: env.id, method: 'error', code, message });
    };
    const current = this.admitted.get(s.node);
    const revoked = current === undefined ? undefined : this.revocations?.check(s.node, current);
    if (revoked !== undefined) {
      fail('REVOKED', revoked);
      return;
    }
    const last = this.lastRotation.get(s.node);
    if (last !== undefined && Date.now() - last < this.minIntervalMs) {
      fail(
        'BUSY',
        `node ${s.node} rotated its certificate less than ${this.minIntervalMs} ms ago; retry later`,
      );
      return;
    }
    this.lastRotation.set(s.node, Date.now());
    try {
      const certificate = await this.pki.signEdge(env.params.csr, s.node, this.validMs);
      const info = certInfo(certificate);
      s.send({
        kind: 'reply',
        ref: env.id,
        method: 'certRotate',
        result: { certificate, caBundle: this.pki.caPem, notAfter: info.notAfter.getTime() },
      });
      this.log.info(
        { node: s.node, serial: info.serial, notAfter: info.notAfter },
        'rotated an edge certificate',
      );
    } catch (e) {
      if (e instanceof PkiError) fail('CSR_REJECTED', e.message);
      else fail('INTERNAL', `could not sign the certificate: ${errorMessage(e)}`);
    }
  }
}

/**
 * Wraps the hub handler (the sync controller) with the edge-security checks:
 * - admit: refuse revoked certificates, then the inner handler's own admit;
 * - message: `certRotate` queries go to `rotation`, everything else to the inner handler;
 * - when the revocation list changes, sessions whose certificate is now revoked are closed.
 * Wire it as `hub.setHandler(edgeSecurity(sync, { revocations, rotation, hub }))`.
 */
export function edgeSecurity(
  inner: HubHandler,
  parts: {
    revocations: Revocations;
    rotation: CertRotation;
    hub?: { session(node: NodeName): EdgeSession | undefined };
    log?: Logger;
  },
): HubHandler & { dispose(): void } {
  const { revocations, rotation, hub } = parts;
  const onChanged = (): void => {
    if (hub === undefined) return;
    for (const node of rotation.nodes()) {
      const cert = rotation.certOf(node);
      const why = cert === undefined ? undefined : revocations.check(node, cert);
      if (why !== undefined) hub.session(node)?.close('protocol', why);
    }
  };
  revocations.on('changed', onChanged);
  return {
    admit(node, cert) {
      const why = revocations.check(node, cert) ?? inner.admit?.(node, cert);
      if (why === undefined) rotation.admittedWith(node, cert);
      return why;
    },
    sessionOpened: (s, hello) => {
      inner.sessionOpened(s, hello);
    },
    message: (s, env) => {
      if (CertRotation.accepts(env)) {
        rotation.handle(s, env).catch((e: unknown) => {
          parts.log?.error({ node: s.node, err: errorMessage(e) }, 'certificate rotation failed');
        });
        return;
      }
      inner.message(s, env);
    },
    sessionClosed: (s, reason) => {
      inner.sessionClosed(s, reason);
    },
    dispose: () => {
      revocations.off('changed', onChanged);
    },
  };
}
