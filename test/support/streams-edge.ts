/**
 * The set-up the streams and metrics end-to-end tests share: a control plane (embedded or upstream,
 * by TETHER_CONTROL_PLANE) with a cloud core, its kubelet endpoint with the iptables redirect
 * (streams.redirect: iptables — the API server dials the edge's InternalIP on the advertised port
 * exactly as for any node), and a real `tether edge run` in its own network namespace running pods
 * on the real containerd; optionally containerd's streaming server bridged into that namespace
 * (src/cli/up-streams.ts, what `tether up --edges` does, says why).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { silentLogger } from '../../src/common/index.js';
import { CloudStreams } from '../../src/cloud/streams/index.js';
import { containerdLoopbackPorts, startStreamsBridge, type StreamsBridge } from '../../src/cli/up-streams.js';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import { removeEdgeProcess } from '../edge/node/edge-process.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import { startNetnsEdge, type NetnsEdge } from '../e2e/autonomy-support.js';
import { ChannelHarness, eventually, type Cloud } from './channel.js';
import { createEdgeHost, type EdgeHost } from './netns.js';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface StreamsEdgeOptions {
  node: string;
  /** Prefix of the redirect's nat chain (a random suffix is added: parallel test files). */
  chainPrefix: string;
  /** Pods bound to the edge, created once its Node exists. */
  pods: readonly object[];
  /** Pods to wait for Running. */
  running: readonly string[];
  /** Bridge containerd's streaming server into the edge's namespace (logs/exec/attach/port-forward). */
  bridgeContainerd?: boolean;
  /** The endpoint trusts the harness CA too (client certificates a test issues, and edges'). */
  trustHarnessCa?: boolean;
}

export const STREAMS_NS = 'default';

/** A pod on `node` in STREAMS_NS running the shell image. */
export function shellPod(
  node: string,
  name: string,
  command: string[],
  extra: Record<string, unknown> = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: STREAMS_NS },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      // upstream would inject the projected service account token volume
      automountServiceAccountToken: false,
      containers: [{ name: 'c', image: SHELL_IMAGE, command }],
      ...extra,
    },
  };
}

/** Everything of one streams e2e file; `stop()` releases whatever `start()` got to. */
export class StreamsEdgeEnv {
  readonly h = new ChannelHarness();
  private hostValue: EdgeHost | undefined;
  private rtValue: CriRuntime | undefined;
  private cloudValue: Cloud | undefined;
  private streamsValue: CloudStreams | undefined;
  private edgeValue: NetnsEdge | undefined;
  private bridge: StreamsBridge | undefined;

  get host(): EdgeHost {
    return defined(this.hostValue, 'host');
  }
  get cloud(): Cloud {
    return defined(this.cloudValue, 'cloud');
  }
  get streams(): CloudStreams {
    return defined(this.streamsValue, 'streams');
  }
  get edge(): NetnsEdge {
    return defined(this.edgeValue, 'edge');
  }

  async start(o: StreamsEdgeOptions): Promise<void> {
    const h = this.h;
    await h.start();
    const host = createEdgeHost();
    this.hostValue = host;
    if (o.bridgeContainerd === true) {
      this.bridge = await startStreamsBridge(h.dir, containerdLoopbackPorts());
      this.bridge.addNamespace(host.ns);
    }
    const rt = newRuntime(CRI_SOCKET);
    this.rtValue = rt;
    await rt.start();
    const cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
    this.cloudValue = cloud;
    // The embedded API server keeps its CA (which signs its kubelet client certificate) beside its kubeconfig.
    const clientCa = h.cp.kubeletClientCAPath ?? join(dirname(h.cp.kubeconfigPath), 'pki', 'ca.crt');
    const serving = await h.ca.issueServer('tether-streams', { ips: ['127.0.0.1'] });
    const streams = new CloudStreams(
      {
        host: '127.0.0.1',
        port: 0,
        tls: {
          ...serving,
          clientCaPem: readFileSync(clientCa, 'utf8') + (o.trustHarnessCa === true ? h.ca.certPem : ''),
        },
        redirect: 'iptables',
        redirectChain: `${o.chainPrefix}-${randomBytes(3).toString('hex')}`,
      },
      cloud.hub,
      h.core,
      silentLogger(),
      cloud.registry,
    );
    this.streamsValue = streams;
    await streams.start();
    cloud.hub.setHandler(streams.wrap(cloud.sync));
    const edge = await startNetnsEdge(h, cloud, host, o.node, { criSocket: CRI_SOCKET });
    this.edgeValue = edge;
    // Pods after the Node exists: upstream's pod GC deletes pods bound to a node that does not.
    await eventually(() => h.core.readNode({ name: o.node }).then(() => true), 'the edge Node', 120_000);
    for (const p of o.pods) await h.core.createNamespacedPod({ namespace: STREAMS_NS, body: p });
    for (const name of o.running)
      await eventually(
        async () =>
          (await h.core.readNamespacedPod({ name, namespace: STREAMS_NS })).status?.phase === 'Running',
        `${name} Running`,
        180_000,
      ).catch(async (err: unknown) => {
        const p = await h.core.readNamespacedPod({ name, namespace: STREAMS_NS }).catch(() => undefined);
        throw new Error(
          `${String(err)}\npod status: ${JSON.stringify(p?.status)}\nedge output:\n${edge.proc.output()}`,
        );
      });
    // The Node advertises the cloud endpoint's port; the redirect covers the edge's address.
    await eventually(async () => {
      const n = await h.core.readNode({ name: o.node });
      return n.status?.daemonEndpoints?.kubeletEndpoint?.Port === streams.advertisedPort;
    }, 'Node advertises the cloud kubelet endpoint');
    await streams.redirectSettled();
  }

  async stop(): Promise<void> {
    // the redirect chain first: whatever fails below, no nat rule may outlive the test
    await this.streamsValue?.stop().catch(() => undefined);
    await this.bridge?.stop();
    if (this.edgeValue !== undefined) await removeEdgeProcess(this.edgeValue, this.rtValue);
    await this.rtValue?.stop();
    this.hostValue?.remove();
    await this.h.stop();
  }

  /** The real kubectl against the control plane; never rejects (the exit code is in the result). */
  kubectl(args: readonly string[], input?: string, env: Record<string, string> = {}): Promise<KubectlRun> {
    return new Promise((resolve) => {
      const child = execFile(
        '/usr/bin/kubectl',
        ['--kubeconfig', this.h.cp.kubeconfigPath, ...args],
        { env: { ...process.env, ...env }, timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          });
        },
      );
      child.stdin?.end(input ?? '');
    });
  }
}

function defined<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`StreamsEdgeEnv: ${what} not started`);
  return v;
}
