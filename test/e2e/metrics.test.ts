/**
 * Monitoring end to end: Prometheus' and metrics-server's paths to an edge behind NAT. The real
 * kubectl against the control plane (embedded or upstream, by TETHER_CONTROL_PLANE) asks
 * `nodes/<edge>/proxy/metrics[/resource]`; the API server dials the edge's InternalIP on the
 * advertised kubelet port, the cloud's iptables redirect brings that to the cloud endpoint,
 * which relays a metrics stream over the edge's channel to a real `tether edge run` in its own
 * network namespace with pods on the real containerd.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, silentLogger } from '../../src/common/index.js';
import { CloudStreams } from '../../src/cloud/streams/index.js';
import type { CriRuntime } from '../../src/edge/cri/index.js';
import type { NodeName } from '../../src/protocol/index.js';
import { removeEdgeProcess } from '../edge/node/edge-process.js';
import { CRI_SOCKET, SHELL_IMAGE, newRuntime } from '../edge/pods/helpers.js';
import { ChannelHarness, eventually, type Cloud } from '../support/channel.js';
import { createEdgeHost, type EdgeHost } from '../support/netns.js';
import { parsePromText, samplesOf } from '../support/promtext.js';
import { startNetnsEdge, type NetnsEdge } from './autonomy-support.js';

const NODE = 'edge-metrics';
const NS = 'default';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('monitoring end to end (kubectl get --raw nodes/<edge>/proxy/metrics → API server → cloud endpoint → channel → edge)', () => {
  const h = new ChannelHarness();
  let host: EdgeHost;
  let edge: NetnsEdge | undefined;
  let rt: CriRuntime;
  let cloud: Cloud;
  let streams: CloudStreams;
  /** A client certificate from a CA the endpoint trusts, as metrics-server would be given. */
  let scraper: { certPem: string; keyPem: string };

  const kubectl = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        '/usr/bin/kubectl',
        ['--kubeconfig', h.cp.kubeconfigPath, ...args],
        { timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({
            code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1,
            stdout,
            stderr,
          });
        },
      );
    });

  /** A direct HTTPS request, as a scraper that dials the node's address itself. */
  const direct = (
    address: string,
    port: number,
    path: string,
    cert: { certPem: string; keyPem: string },
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: address, port, path, cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    await h.start();
    host = createEdgeHost();
    rt = newRuntime(CRI_SOCKET);
    await rt.start();
    cloud = await h.startCloud({ host: host.hostIp, keepaliveMs: 500 });
    // The embedded API server keeps its CA (which signs its kubelet client certificate) beside its kubeconfig.
    const clientCa = h.cp.kubeletClientCAPath ?? join(dirname(h.cp.kubeconfigPath), 'pki', 'ca.crt');
    const serving = await h.ca.issueServer('tether-streams', { ips: ['127.0.0.1'] });
    const { csrPem, keyPem } = await createCsr('metrics-scraper');
    scraper = { certPem: await h.ca.signClientCsr(csrPem, 'metrics-scraper', ['monitoring']), keyPem };
    streams = new CloudStreams(
      {
        host: '127.0.0.1',
        port: 0,
        // the harness CA too: the scraper's certificate, and edges' (refused by identity)
        tls: { ...serving, clientCaPem: readFileSync(clientCa, 'utf8') + h.ca.certPem },
        redirect: 'iptables',
        redirectChain: `TMET-${randomBytes(3).toString('hex')}`,
      },
      cloud.hub,
      h.core,
      silentLogger(),
      cloud.registry,
    );
    await streams.start();
    cloud.hub.setHandler(streams.wrap(cloud.sync));
    edge = await startNetnsEdge(h, cloud, host, NODE, { criSocket: CRI_SOCKET });
    const e = edge;
    // Pods after the Node exists: upstream's pod GC deletes pods bound to a node that does not.
    await eventually(() => h.core.readNode({ name: NODE }).then(() => true), 'the edge Node', 120_000);
    await h.core.createNamespacedPod({
      namespace: NS,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'busy', namespace: NS },
        spec: {
          nodeName: NODE,
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'c',
              image: SHELL_IMAGE,
              // some CPU first, so the cumulative usage is visibly above zero
              command: ['sh', '-c', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 100000'],
            },
          ],
        },
      },
    });
    await eventually(
      async () =>
        (await h.core.readNamespacedPod({ name: 'busy', namespace: NS })).status?.phase === 'Running',
      'busy Running',
      180_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nedge output:\n${e.proc.output()}`);
    });
    await eventually(async () => {
      const n = await h.core.readNode({ name: NODE });
      return n.status?.daemonEndpoints?.kubeletEndpoint?.Port === streams.advertisedPort;
    }, 'Node advertises the cloud kubelet endpoint');
    await streams.redirectSettled();
  }, 300_000);

  afterAll(async () => {
    // the redirect chain first: whatever fails below, no nat rule may outlive the test
    await streams.stop().catch(() => undefined);
    if (edge !== undefined) await removeEdgeProcess(edge, rt);
    await rt.stop();
    host.remove();
    await h.stop();
  }, 120_000);

  it(
    "metrics e2e — kubectl get --raw /api/v1/nodes/<edge>/proxy/metrics is the edge agent's registry",
    { timeout: 120_000 },
    async () => {
      const r = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const fams = parsePromText(r.stdout);
      const names = [...fams.keys()];
      expect(names.filter((n) => n.startsWith('tether_edge_')).length).toBeGreaterThan(5);
      // the stream that carries this very scrape is open on the edge while it reads its registry
      expect(
        samplesOf(fams, 'tether_edge_streams_open').find((s) => s.labels['type'] === 'metrics')?.value,
      ).toBe(1);
    },
  );

  it(
    'metrics e2e — /metrics/resource has container_cpu_usage_seconds_total of the running pod',
    { timeout: 120_000 },
    async () => {
      const fams = await eventually(
        async () => {
          const r = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]);
          if (r.code !== 0) throw new Error(r.stderr);
          const f = parsePromText(r.stdout);
          const cpu = samplesOf(f, 'container_cpu_usage_seconds_total').find(
            (s) => s.labels['pod'] === 'busy',
          );
          return cpu !== undefined && cpu.value > 0 ? f : undefined;
        },
        'CPU usage of the busy container',
        60_000,
      );
      expect(
        samplesOf(fams, 'container_cpu_usage_seconds_total').find((s) => s.labels['pod'] === 'busy')?.labels,
      ).toEqual({
        container: 'c',
        namespace: NS,
        pod: 'busy',
      });
      expect(
        samplesOf(fams, 'container_memory_working_set_bytes').find((s) => s.labels['pod'] === 'busy')?.value,
      ).toBeGreaterThan(0);
      expect(
        samplesOf(fams, 'pod_memory_working_set_bytes').find((s) => s.labels['pod'] === 'busy')?.value,
      ).toBeGreaterThan(0);
      expect(samplesOf(fams, 'node_cpu_usage_seconds_total')[0]?.value).toBeGreaterThan(0);
      expect(samplesOf(fams, 'node_memory_working_set_bytes')[0]?.timestampMs).toBeGreaterThan(
        Date.now() - 600_000,
      );
      expect(samplesOf(fams, 'resource_scrape_error')[0]?.value).toBe(0);
    },
  );

  it(
    'metrics e2e — a scraper dialling the edge address directly (as metrics-server does) gets the edge by Host; an edge certificate gets 403',
    { timeout: 120_000 },
    async () => {
      const r = await direct(host.edgeIp, streams.advertisedPort, '/metrics/resource', scraper);
      expect(r.status).toBe(200);
      expect(
        samplesOf(parsePromText(r.body), 'container_start_time_seconds').some(
          (s) => s.labels['pod'] === 'busy',
        ),
      ).toBe(true);
      const asEdge = await direct(host.edgeIp, streams.advertisedPort, '/metrics', await h.edgeCert(NODE));
      expect(asEdge.status).toBe(403);
    },
  );

  it(
    'metrics e2e — the node offline: a clear 503, then metrics again once it is back',
    { timeout: 180_000 },
    async () => {
      host.cut();
      try {
        await eventually(
          () => cloud.hub.session(NODE as NodeName) === undefined,
          'the hub drops the session',
          60_000,
        );
        const r = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/ServiceUnavailable|not connected/);
        const d = await direct(host.edgeIp, streams.advertisedPort, '/metrics', scraper);
        expect(d).toEqual({ status: 503, body: `the edge node "${NODE}" is not connected to the cloud\n` });
      } finally {
        host.restore();
      }
      await eventually(
        () => cloud.hub.session(NODE as NodeName) !== undefined,
        'the edge reconnects',
        90_000,
      );
      const back = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
      expect(back.code).toBe(0);
      expect(back.stdout).toContain('tether_edge_');
    },
  );
});
