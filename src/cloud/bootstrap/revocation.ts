import { EventEmitter } from 'node:events';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { errorMessage, type CertInfo, type Logger } from '../../common/index.js';
import type { KubeClient } from '../kube/index.js';
import { apiStatus, BootstrapError } from './errors.js';
import { ensureNamespace } from './kube.js';

/**
 * src/common/pki.ts backdates every certificate's notBefore by 5 minutes (clock skew) and X.509
 * times have whole seconds, so a certificate was issued at about notBefore + 5 min (±1 s).
 */
const ISSUE_BACKDATE_MS = 300_000;

export interface Revoked {
  readonly at: Date;
  readonly node: string;
  readonly reason?: string;
}

export interface RevocationEvents {
  changed: [];
}

/**
 * The revocation list (issue 5): ConfigMap `tether-system/tether-revoked` with keys
 * `serial.<hex>` (one certificate) and `node.<name>` (every certificate of that node issued up
 * to that instant). ConfigMap, not Secret: serials are not secret and operators read it with
 * kubectl. `check()` runs on every edge connection, synchronously, so it reads a cache that is
 * refreshed every `refreshMs` (and at once after a write by this replica).
 */
export class Revocations extends EventEmitter<RevocationEvents> {
  readonly name = 'revocations';
  private serials = new Map<string, Revoked>();
  private nodes = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private loaded = false;

  constructor(
    private readonly kube: KubeClient,
    private readonly log: Logger,
    private readonly opts: { namespace?: string; configMap?: string; refreshMs?: number } = {},
  ) {
    super();
  }

  private get ns(): string {
    return this.opts.namespace ?? 'tether-system';
  }
  private get cmName(): string {
    return this.opts.configMap ?? 'tether-revoked';
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => {
        this.log.warn(
          { err: errorMessage(e) },
          'could not refresh the revocation list; keeping the last one',
        );
      });
    }, this.opts.refreshMs ?? 5000);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }

  async refresh(): Promise<void> {
    const cm = await this.read();
    this.load(cm);
  }

  /**
   * Why this certificate may not connect, or undefined. Fails closed on the boundary second: a
   * certificate issued within the same second as `revoke node` is also refused (rejoin a second later).
   */
  check(node: string, cert: CertInfo): string | undefined {
    const bySerial = this.serials.get(cert.serial.toLowerCase());
    const nodeAt = this.nodes.get(node);
    let at: Date | undefined = bySerial?.at;
    if (nodeAt !== undefined && cert.notBefore.getTime() + ISSUE_BACKDATE_MS <= nodeAt.getTime())
      at = at === undefined || nodeAt < at ? nodeAt : at;
    if (at === undefined) return undefined;
    return `certificate of node ${node} was revoked at ${at.toISOString()}: rejoin with a new token (tether edge join)`;
  }

  /** Revokes one certificate by serial. */
  async revokeSerial(serial: string, node: string, reason?: string): Promise<Revoked> {
    const r: Revoked = { at: new Date(), node, ...(reason === undefined ? {} : { reason }) };
    await this.write((data) => {
      data[`serial.${serial.toLowerCase()}`] = JSON.stringify({
        node,
        at: r.at.toISOString(),
        ...(reason === undefined ? {} : { reason }),
      });
    });
    this.log.info({ node, serial }, 'revoked an edge certificate');
    return r;
  }

  /** Revokes every certificate of `node` issued until now; certificates issued later are valid. */
  async revokeNode(node: string): Promise<Date> {
    const at = new Date();
    await this.write((data) => {
      data[`node.${node}`] = at.toISOString();
    });
    this.log.info({ node, at }, 'revoked every certificate of a node');
    return at;
  }

  /** Current entries (for `tether node revocations`). */
  list(): { serials: ReadonlyMap<string, Revoked>; nodes: ReadonlyMap<string, Date> } {
    return { serials: this.serials, nodes: this.nodes };
  }

  private async read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.kube.core.readNamespacedConfigMap({ name: this.cmName, namespace: this.ns });
    } catch (e) {
      if (apiStatus(e) === 404) return undefined;
      throw new BootstrapError('REVOCATION_STORE', `could not read the revocation list: ${errorMessage(e)}`, {
        cause: e,
      });
    }
  }

  private load(cm: V1ConfigMap | undefined): void {
    const serials = new Map<string, Revoked>();
    const nodes = new Map<string, Date>();
    for (const [k, v] of Object.entries(cm?.data ?? {})) {
      if (k.startsWith('serial.')) {
        try {
          const o = JSON.parse(v) as { node?: unknown; at?: unknown; reason?: unknown };
          if (typeof o.at !== 'string' || typeof o.node !== 'string') continue;
          serials.set(k.slice(7), {
            at: new Date(o.at),
            node: o.node,
            ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
          });
        } catch {
          this.log.warn({ key: k }, 'ignoring a malformed revocation entry');
        }
      } else if (k.startsWith('node.') && !Number.isNaN(Date.parse(v))) {
        nodes.set(k.slice(5), new Date(v));
      }
    }
    const sameSerials =
      serials.size === this.serials.size && [...serials.keys()].every((k) => this.serials.has(k));
    const sameNodes =
      nodes.size === this.nodes.size &&
      [...nodes].every(([n, d]) => this.nodes.get(n)?.getTime() === d.getTime());
    const changed = !this.loaded || !sameSerials || !sameNodes;
    this.serials = serials;
    this.nodes = nodes;
    this.loaded = true;
    if (changed) this.emit('changed');
  }

  /** Read-modify-write with the resourceVersion as precondition; another replica's write (409) → again. */
  private async write(edit: (data: Record<string, string>) => void): Promise<void> {
    const core = this.kube.core;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        const cm = await this.read();
        if (cm === undefined) {
          await ensureNamespace(core, this.ns);
          const data: Record<string, string> = {};
          edit(data);
          await core.createNamespacedConfigMap({
            namespace: this.ns,
            body: {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: {
                name: this.cmName,
                namespace: this.ns,
                labels: { 'app.kubernetes.io/part-of': 'tether' },
              },
              data,
            },
          });
        } else {
          const data = { ...cm.data };
          edit(data);
          await core.replaceNamespacedConfigMap({
            name: this.cmName,
            namespace: this.ns,
            body: { ...cm, data },
          });
        }
        await this.refresh();
        return;
      } catch (e) {
        if (apiStatus(e) === 409) continue;
        if (e instanceof BootstrapError) throw e;
        throw new BootstrapError(
          'REVOCATION_STORE',
          `could not write the revocation list: ${errorMessage(e)}`,
          {
            cause: e,
          },
        );
      }
    }
    throw new BootstrapError('REVOCATION_STORE', 'the revocation list kept changing under us; try again');
  }
}
