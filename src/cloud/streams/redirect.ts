/**
 * Optional iptables redirect for an upstream API server on this host (KubeEdge's iptables
 * manager does the same): the API server dials <edge address>:<kubelet port>, which is not
 * reachable (the edge has no inbound path), so a nat DNAT in our own chain sends those
 * connections to the cloud's kubelet endpoint. The chain is jumped to from OUTPUT (the API server
 * and other processes on this host) and from PREROUTING (metrics-server or Prometheus in a pod on
 * this host: its packets enter through the pod's veth and never pass OUTPUT here). Both jumps and
 * the chain are removed on stop.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { errorMessage, type Logger } from '../../common/index.js';

const run = promisify(execFile);

/** The built-in nat chains that jump to ours; PREROUTING for traffic from pods on this host. */
const HOOKS = ['OUTPUT', 'PREROUTING'] as const;

const isLoopback = (host: string): boolean => host.startsWith('127.') || host === '::1';

export interface RedirectConfig {
  /** Own nat chain (at most 28 characters). */
  chain: string;
  /** The port the API server dials (the Node's daemonEndpoints.kubeletEndpoint.Port). */
  port: number;
  /** Where the kubelet endpoint listens. */
  toHost: string;
  toPort: number;
}

export class IptablesRedirect {
  readonly name = 'stream-redirect';
  private readonly addresses = new Set<string>();
  private started = false;
  private chainReady: Promise<void> = Promise.resolve();

  constructor(
    private readonly cfg: RedirectConfig,
    private readonly log: Logger,
  ) {}

  private ipt(args: string[]): Promise<{ stdout: string }> {
    return run('iptables', ['-w', '5', '-t', 'nat', ...args]);
  }

  async start(): Promise<void> {
    const { chain } = this.cfg;
    await this.ipt(['-N', chain]).catch(() => this.ipt(['-F', chain]));
    // -C before -A: idempotent when a previous run died without removing its jumps
    for (const hook of HOOKS)
      await this.ipt(['-C', hook, '-p', 'tcp', '-j', chain]).catch(() =>
        this.ipt(['-A', hook, '-p', 'tcp', '-j', chain]),
      );
    this.started = true;
    for (const a of [...this.addresses]) await this.rule(a);
    this.log.info(
      { chain, port: this.cfg.port, to: `${this.cfg.toHost}:${String(this.cfg.toPort)}` },
      'iptables redirect installed',
    );
  }

  /** A node reported this address: connections to it on the kubelet port go to the endpoint. */
  add(address: string): void {
    if (isIP(address) !== 4 || this.addresses.has(address)) return;
    this.addresses.add(address);
    if (!this.started) return;
    // One rule at a time, in order (iptables takes the xtables lock anyway).
    this.chainReady = this.chainReady.then(() => this.rule(address));
  }

  /** Waits for rules added so far (tests). */
  settled(): Promise<void> {
    return this.chainReady;
  }

  private async rule(address: string): Promise<void> {
    try {
      await this.ipt([
        '-A',
        this.cfg.chain,
        '-d',
        `${address}/32`,
        '-p',
        'tcp',
        '--dport',
        String(this.cfg.port),
        ...this.target(),
      ]);
    } catch (e) {
      this.log.warn({ err: errorMessage(e), address }, 'could not add the iptables redirect for a node');
    }
  }

  /**
   * DNAT to a loopback address works only for this host's own packets: the kernel drops a packet
   * that arrived on another interface and was rewritten to 127/8 (a martian, unless route_localnet).
   * REDIRECT means the same for OUTPUT (locally generated packets go to 127.0.0.1) and, in
   * PREROUTING, the address of the interface the pod's packet came in on — which reaches the
   * endpoint when it listens on all addresses (streams.host 0.0.0.0, the case where toHost is
   * 127.0.0.1). An endpoint bound to 127.0.0.1 only is unreachable from pods either way.
   */
  private target(): string[] {
    const { toHost, toPort } = this.cfg;
    return isLoopback(toHost)
      ? ['-j', 'REDIRECT', '--to-ports', String(toPort)]
      : ['-j', 'DNAT', '--to-destination', `${toHost}:${String(toPort)}`];
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.chainReady;
    const { chain } = this.cfg;
    for (const hook of HOOKS) await this.ipt(['-D', hook, '-p', 'tcp', '-j', chain]).catch(() => undefined);
    await this.ipt(['-F', chain]).catch(() => undefined);
    await this.ipt(['-X', chain]).catch(() => undefined);
  }
}
