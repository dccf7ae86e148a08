import { Counter } from 'prom-client';
import { certInfo, errorMessage, PkiError, type Logger, type Registry } from '../../common/index.js';
import type { BootstrapHandler } from '../hub/index.js';
import type { KubeClient } from '../kube/index.js';
import { apiStatus } from './errors.js';
import type { CloudPki } from './pki.js';
import { NODE_NAME, type TokenStore } from './tokens.js';

export interface JoinServiceOptions {
  /** Failed attempts allowed per source address within `windowMs` before 429 (default 10 per minute). */
  readonly maxFailures?: number;
  readonly windowMs?: number;
  /** True when the node has a live session on this cloud core (hub.session(node) !== undefined). */
  readonly isConnected?: (node: string) => boolean;
}

type JoinResult = Awaited<ReturnType<BootstrapHandler['join']>>;

/**
 * The edge join (issue 5): token + CSR → a client certificate with CN = node, O = tether:edges.
 *
 * A stolen token must not take over an existing node silently, so:
 * - any token is refused for a node that is connected right now (409);
 * - a token not bound to a node may only create new nodes: if a Node of that name exists,
 *   rejoining it needs a token bound to it (`tether token create --node X`).
 */
export class JoinService implements BootstrapHandler {
  private readonly failures = new Map<string, number[]>();
  private readonly metrics;

  constructor(
    private readonly pki: CloudPki,
    private readonly tokens: TokenStore,
    private readonly kube: KubeClient,
    private readonly log: Logger,
    registry: Registry,
    private readonly opts: JoinServiceOptions = {},
  ) {
    this.metrics = {
      joins: new Counter({
        name: 'tether_bootstrap_joins_total',
        help: 'Edge join attempts, by result',
        labelNames: ['result'],
        registers: [registry],
      }),
    };
  }

  /**
   * `source` is the client's address for the rate limit; the hub passes only the body today, so
   * without it every failure counts against one shared bucket (see docs/security.md).
   */
  async join(
    req: { token: string; csr: string; node: string },
    source: { remoteAddress?: string } = {},
  ): Promise<JoinResult> {
    const addr = source.remoteAddress ?? 'unknown';
    const refuse = (status: number, result: string, message: string, failure = false): JoinResult => {
      if (failure) this.fail(addr);
      this.metrics.joins.inc({ result });
      this.log.warn({ node: req.node, addr, result, message }, 'refused a join');
      return { ok: false, status, message };
    };
    const retryIn = this.blockedFor(addr);
    if (retryIn > 0)
      return refuse(
        429,
        'rate-limited',
        `too many failed join attempts from ${addr}: retry in ${Math.ceil(retryIn / 1000)} s`,
      );
    // The hub validates this too; the service does not rely on its caller for it.
    if (!NODE_NAME.test(req.node))
      return refuse(400, 'bad-node', `node name ${req.node} is not a DNS-1123 subdomain`);
    let check;
    try {
      check = await this.tokens.check(req.token);
    } catch (e) {
      return refuse(
        503,
        'unavailable',
        `the cloud cannot check tokens right now (${errorMessage(e)}); retry`,
      );
    }
    if (!check.ok) return refuse(401, `token-${check.reason}`, check.message, true);
    const { info } = check;
    if (info.node !== undefined && info.node !== req.node)
      return refuse(
        403,
        'wrong-node',
        `token ${info.id} is bound to node ${info.node}; it cannot join node ${req.node}`,
      );
    if (this.opts.isConnected?.(req.node) === true)
      return refuse(
        409,
        'node-connected',
        `node ${req.node} is connected right now; a join must not take over a live node. Stop its agent, or revoke it (tether node revoke ${req.node}), then join again`,
      );
    if (info.node === undefined) {
      try {
        await this.kube.core.readNode({ name: req.node });
        return refuse(
          409,
          'node-exists',
          `node ${req.node} already exists: to rejoin it, create a token bound to it (tether token create --node ${req.node})`,
        );
      } catch (e) {
        if (apiStatus(e) !== 404)
          return refuse(
            503,
            'unavailable',
            `the cloud cannot check node ${req.node} right now (${errorMessage(e)}); retry`,
          );
      }
    }
    let certificate: string;
    try {
      certificate = await this.pki.signEdge(req.csr, req.node);
    } catch (e) {
      if (e instanceof PkiError) return refuse(400, 'bad-csr', e.message);
      throw e;
    }
    // Counted after signing (a bad CSR does not burn a use) and before answering: a limited
    // token raced by two joins hands out exactly its uses.
    if (!(await this.tokens.recordUse(info.id)))
      return refuse(
        401,
        'token-used-up',
        `token ${info.id} was revoked or used up during the join: create a new one with \`tether token create\``,
      );
    this.metrics.joins.inc({ result: 'ok' });
    this.log.info(
      { node: req.node, token: info.id, serial: certInfo(certificate).serial, addr },
      'edge joined',
    );
    return { ok: true, certificate, caBundle: this.pki.caPem };
  }

  private window(): number {
    return this.opts.windowMs ?? 60_000;
  }

  private blockedFor(addr: string): number {
    const now = Date.now();
    const list = (this.failures.get(addr) ?? []).filter((t) => now - t < this.window());
    if (list.length === 0) this.failures.delete(addr);
    else this.failures.set(addr, list);
    const first = list[0];
    if (first === undefined || list.length < (this.opts.maxFailures ?? 10)) return 0;
    return first + this.window() - now;
  }

  private fail(addr: string): void {
    const list = this.failures.get(addr) ?? [];
    list.push(Date.now());
    this.failures.set(addr, list);
    // Bounded memory under a spray from many addresses: forget the oldest source.
    if (this.failures.size > 10_000) {
      const oldest = this.failures.keys().next();
      if (oldest.done !== true) this.failures.delete(oldest.value);
    }
  }
}
