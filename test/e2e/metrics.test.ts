/**
 * Monitoring end to end: Prometheus' and metrics-server's paths to an edge behind NAT. The real
 * kubectl against the control plane (embedded or upstream, by TETHER_CONTROL_PLANE) asks
 * `nodes/<edge>/proxy/metrics[/resource]`; the API server dials the edge's InternalIP on the
 * advertised kubelet port, the cloud's iptables redirect brings that to the cloud endpoint,
 * which relays a metrics stream over the edge's channel to a real `tether edge run` in its own
 * network namespace with pods on the real containerd.
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../src/common/index.js';
import type { NodeName } from '../../src/protocol/index.js';
import { eventually } from '../support/channel.js';
import { parsePromText, samplesOf } from '../support/promtext.js';
import { STREAMS_NS as NS, StreamsEdgeEnv, shellPod } from '../support/streams-edge.js';

const NODE = 'edge-metrics';

describe('monitoring end to end (kubectl get --raw nodes/<edge>/proxy/metrics → API server → cloud endpoint → channel → edge)', () => {
  const env = new StreamsEdgeEnv();
  const h = env.h;
  const kubectl = env.kubectl.bind(env);
  /** A client certificate from a CA the endpoint trusts, as metrics-server would be given. */
  let scraper: { certPem: string; keyPem: string };

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
    await env.start({
      node: NODE,
      chainPrefix: 'TMET',
      // the harness CA too: the scraper's certificate, and edges' (refused by identity)
      trustHarnessCa: true,
      pods: [
        // some CPU first, so the cumulative usage is visibly above zero
        shellPod(NODE, 'busy', [
          'sh',
          '-c',
          'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 100000',
        ]),
      ],
      running: ['busy'],
    });
    const { csrPem, keyPem } = await createCsr('metrics-scraper');
    scraper = { certPem: await h.ca.signClientCsr(csrPem, 'metrics-scraper', ['monitoring']), keyPem };
  }, 300_000);

  afterAll(async () => {
    await env.stop();
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
      const r = await direct(env.host.edgeIp, env.streams.advertisedPort, '/metrics/resource', scraper);
      expect(r.status).toBe(200);
      expect(
        samplesOf(parsePromText(r.body), 'container_start_time_seconds').some(
          (s) => s.labels['pod'] === 'busy',
        ),
      ).toBe(true);
      const asEdge = await direct(
        env.host.edgeIp,
        env.streams.advertisedPort,
        '/metrics',
        await h.edgeCert(NODE),
      );
      expect(asEdge.status).toBe(403);
    },
  );

  it(
    'metrics e2e — the node offline: a clear 503, then metrics again once it is back',
    { timeout: 180_000 },
    async () => {
      env.host.cut();
      try {
        await eventually(
          () => env.cloud.hub.session(NODE as NodeName) === undefined,
          'the hub drops the session',
          60_000,
        );
        const r = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/ServiceUnavailable|not connected/);
        const d = await direct(env.host.edgeIp, env.streams.advertisedPort, '/metrics', scraper);
        expect(d).toEqual({ status: 503, body: `the edge node "${NODE}" is not connected to the cloud\n` });
      } finally {
        env.host.restore();
      }
      await eventually(
        () => env.cloud.hub.session(NODE as NodeName) !== undefined,
        'the edge reconnects',
        90_000,
      );
      const back = await kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
      expect(back.code).toBe(0);
      expect(back.stdout).toContain('tether_edge_');
    },
  );
});
