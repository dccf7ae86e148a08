/**
 * What the node liveness e2e tests (test/e2e/liveness.test.ts: the edge renews its Lease through
 * the channel; test/e2e/lease-by-cloud.test.ts: the cloud renews it from link liveness) share: a
 * harness, an edge host in its own network namespace, the node lifecycle controller (ours on the
 * embedded control plane; kube-controller-manager upstream, with its default 50 s grace period),
 * and readers of what that controller judges — the Ready condition, the taints, the Lease.
 */
import { CoordinationV1Api, type V1Node, type V1NodeCondition } from '@kubernetes/client-node';
import type { ControlPlaneControllers } from '../../src/controllers/index.js';
import { startControllers, type NetnsEdge } from '../e2e/autonomy-support.js';
import { ChannelHarness, eventually } from './channel.js';
import { createEdgeHost, type EdgeHost } from './netns.js';

export class LivenessEnv {
  readonly h = new ChannelHarness();
  readonly upstream = process.env['TETHER_CONTROL_PLANE'] === 'upstream';
  /** How long the lifecycle controller may take to judge a lapsed Lease. */
  readonly lapse = this.upstream ? 120_000 : 30_000;
  private hostValue: EdgeHost | undefined;
  private controllers: ControlPlaneControllers | undefined;

  get host(): EdgeHost {
    if (this.hostValue === undefined) throw new Error('LivenessEnv: not started');
    return this.hostValue;
  }

  async start(): Promise<void> {
    await this.h.start();
    this.hostValue = createEdgeHost();
    // grace period 4 s (the harness's edges assume a 1 s lease)
    if (!this.upstream) this.controllers = await startControllers(this.h, ['nodelifecycle'], 4);
  }

  /** Kills the edge — resumed first, in case a failed test left it SIGSTOPped — and stops the rest. */
  async stop(edge: NetnsEdge | undefined): Promise<void> {
    const pid = edge?.proc.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await edge?.proc.kill('SIGKILL');
    this.hostValue?.remove();
    await this.controllers?.stop();
    await this.h.stop();
  }

  /** Readers of one node's liveness as the lifecycle controller sees it. */
  node(name: string): NodeLiveness {
    const h = this.h;
    const leases = h.kc.makeApiClient(CoordinationV1Api);
    const node = (): Promise<V1Node> => h.core.readNode({ name });
    const ready = async (): Promise<V1NodeCondition | undefined> =>
      (await node().catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready');
    const renewTime = async (): Promise<number> => {
      const l = await leases.readNamespacedLease({ name, namespace: 'kube-node-lease' });
      return new Date(l.spec?.renewTime ?? 0).getTime();
    };
    return {
      node,
      ready,
      renewTime,
      taints: async () => ((await node()).spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`),
      readyAndRenewed: async (edge: NetnsEdge) => {
        await eventually(async () => (await ready())?.status === 'True', 'node Ready', 90_000).catch(
          (err: unknown) => {
            throw new Error(`${String(err)}\nedge output:\n${edge.proc.output()}`);
          },
        );
        // renewed, not just written once: renewTime advances while connected
        const first = await eventually(() => renewTime(), 'a lease', 30_000);
        await eventually(async () => (await renewTime()) > first, 'the lease renewed', 30_000);
      },
      readyUnknown: () =>
        eventually(
          async () => {
            const r = await ready();
            return r?.status === 'Unknown' ? r : false;
          },
          'Ready Unknown after the lease lapsed',
          this.lapse,
        ),
      readyTrue: (what: string) =>
        eventually(async () => (await ready())?.status === 'True', what, 90_000).then(() => undefined),
    };
  }
}

export interface NodeLiveness {
  node: () => Promise<V1Node>;
  ready: () => Promise<V1NodeCondition | undefined>;
  /** The Lease's renewTime in ms (0 when unset); rejects while there is no Lease. */
  renewTime: () => Promise<number>;
  /** `key:effect` of each taint. */
  taints: () => Promise<string[]>;
  /** Waits for Ready True (the edge's output in the error), then for one Lease renewal. */
  readyAndRenewed: (edge: NetnsEdge) => Promise<void>;
  /** Waits (up to the lapse) for Ready Unknown; the condition. */
  readyUnknown: () => Promise<V1NodeCondition>;
  /** Waits (90 s: a reconnect with back-off) for Ready True. */
  readyTrue: (what: string) => Promise<void>;
}
