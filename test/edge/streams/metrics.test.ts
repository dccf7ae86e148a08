import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, silentLogger } from '../../../src/common/index.js';
import {
  EdgeStreams,
  collectResourceMetrics,
  containerUsage,
  parseMeminfo,
  parseProcStat,
  resourceMetricsText,
  type ResourceRuntime,
} from '../../../src/edge/streams/index.js';
import type { ContainerId, ContainerStats, SandboxId } from '../../../src/edge/cri/index.js';
import { parsePromText, samplesOf } from '../../support/promtext.js';
import { FakeCloud } from './fake-link.js';
import {
  SHELL_IMAGE,
  disposeStreamEnv,
  makePod,
  newStreamEnv,
  runPod,
  waitFor,
  type RunningPod,
  type StreamEnv,
} from './helpers.js';

const NODE_TARGET = { namespace: '', pod: '' };

describe('edge/streams metrics — the resource metrics text', () => {
  const snap = {
    node: { cpuSeconds: 1234.5, memoryWorkingSetBytes: 2_000_000_000, timestampMs: 1_700_000_000_123 },
    containers: [
      {
        namespace: 'ns',
        pod: 'web',
        container: 'b',
        cpu: { seconds: 1.5, timestampMs: 1_700_000_000_100 },
        memory: { workingSetBytes: 300, timestampMs: 1_700_000_000_101 },
        startTimeSeconds: 1_699_999_000.5,
      },
      {
        namespace: 'ns',
        pod: 'web',
        container: 'a"q',
        cpu: { seconds: 0.25, timestampMs: 1_700_000_000_200 },
        memory: { workingSetBytes: 700, timestampMs: 1_700_000_000_050 },
      },
    ],
    scrapeError: false,
  };

  it('edge/streams metrics — kubelet families, sorted, with ms timestamps; pods sum their containers', () => {
    const text = resourceMetricsText(snap);
    const fams = parsePromText(text);
    expect([...fams.keys()]).toEqual([
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'container_start_time_seconds',
      'node_cpu_usage_seconds_total',
      'node_memory_working_set_bytes',
      'pod_cpu_usage_seconds_total',
      'pod_memory_working_set_bytes',
      'resource_scrape_error',
      'scrape_error',
    ]);
    expect(fams.get('container_cpu_usage_seconds_total')?.type).toBe('counter');
    expect(fams.get('node_memory_working_set_bytes')?.type).toBe('gauge');
    expect(fams.get('node_cpu_usage_seconds_total')?.help).toBe(
      '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
    );
    // labels in name order, as client_golang prints them; quotes escaped
    expect(text).toContain(
      'container_cpu_usage_seconds_total{container="b",namespace="ns",pod="web"} 1.5 1700000000100\n',
    );
    expect(samplesOf(fams, 'container_cpu_usage_seconds_total').map((s) => s.labels['container'])).toEqual([
      'b',
      'a"q',
    ]);
    expect(samplesOf(fams, 'node_cpu_usage_seconds_total')).toEqual([
      { name: 'node_cpu_usage_seconds_total', labels: {}, value: 1234.5, timestampMs: 1_700_000_000_123 },
    ]);
    expect(samplesOf(fams, 'pod_cpu_usage_seconds_total')).toEqual([
      {
        name: 'pod_cpu_usage_seconds_total',
        labels: { namespace: 'ns', pod: 'web' },
        value: 1.75,
        timestampMs: 1_700_000_000_200,
      },
    ]);
    expect(samplesOf(fams, 'pod_memory_working_set_bytes')[0]?.value).toBe(1000);
    // the start time is stamped with itself (resource_metrics.go collectContainerStartTime)
    expect(samplesOf(fams, 'container_start_time_seconds')).toEqual([
      {
        name: 'container_start_time_seconds',
        labels: { container: 'b', namespace: 'ns', pod: 'web' },
        value: 1_699_999_000.5,
        timestampMs: 1_699_999_000_500,
      },
    ]);
    expect(samplesOf(fams, 'resource_scrape_error')[0]?.value).toBe(0);
  });

  it('edge/streams metrics — the checker refuses broken text (so the checks above can fail)', () => {
    expect(() => parsePromText('a_metric{x="1"} one\n')).toThrow(/bad value/);
    expect(() => parsePromText('a_metric 1 12.5\n')).toThrow(/bad timestamp/);
    expect(() => parsePromText('a 1\nb 1\na 2\n')).toThrow(/split/);
    expect(() => parsePromText('a{x=1} 1\n')).toThrow(/not quoted/);
  });

  it("edge/streams metrics — containers: running ones of this node's pods with stats only", () => {
    const summary = (id: string, pod: string, state: 'running' | 'exited' = 'running') => ({
      id: id as ContainerId,
      sandboxId: 'sb' as SandboxId,
      metadata: { name: 'c', attempt: 0 },
      image: 'i',
      imageRef: 'i',
      state,
      createdAtNs: 1_700_000_000_000_000_000n,
      labels: {
        'io.kubernetes.pod.namespace': 'ns',
        'io.kubernetes.pod.name': pod,
        'io.kubernetes.container.name': 'c',
      },
      annotations: {},
    });
    const stats = (id: string): ContainerStats => ({
      id: id as ContainerId,
      name: 'c',
      labels: {},
      cpu: { timestampNs: 1_700_000_001_000_000_000n, usageCoreNanoSeconds: 2_500_000_000 },
      memory: { timestampNs: 1_700_000_001_000_000_000n, workingSetBytes: 4096 },
    });
    const out = containerUsage(
      [summary('a', 'mine'), summary('b', 'mine-too'), summary('c', 'other'), summary('d', 'mine', 'exited')],
      [stats('a'), stats('c'), stats('d')],
      (_ns, pod) => pod !== 'other',
    );
    // b has no stats yet (metrics-server would drop its whole pod), c is another node's, d exited
    expect(out).toEqual([
      {
        namespace: 'ns',
        pod: 'mine',
        container: 'c',
        cpu: { seconds: 2.5, timestampMs: 1_700_000_001_000 },
        memory: { workingSetBytes: 4096, timestampMs: 1_700_000_001_000 },
        startTimeSeconds: 1_700_000_000,
      },
    ]);
  });

  it('edge/streams metrics — /proc/stat and /proc/meminfo figures', () => {
    const stat = 'cpu  1000 50 300 90000 40 10 20 5 0 0\ncpu0 500 25 150 45000 20 5 10 2 0 0\n';
    expect(parseProcStat(stat)).toBeCloseTo((1000 + 50 + 300 + 10 + 20 + 5) / 100, 6);
    expect(parseProcStat('intr 1 2\n')).toBeUndefined();
    const mem = 'MemTotal:       16000000 kB\nMemFree:         4000000 kB\nInactive(file):  2000000 kB\n';
    expect(parseMeminfo(mem)).toBe((16_000_000 - 4_000_000 - 2_000_000) * 1024);
    expect(parseMeminfo('MemTotal: 1 kB\n')).toBeUndefined();
  });

  it('edge/streams metrics — a CRI failure is resource_scrape_error 1, node figures still there', async () => {
    const broken: ResourceRuntime = {
      listContainers: () => Promise.reject(new Error('runtime down')),
      listContainerStats: () => Promise.resolve([]),
    };
    const errors: string[] = [];
    const fams = parsePromText(await collectResourceMetrics(broken, { onError: (m) => errors.push(m) }));
    expect(samplesOf(fams, 'resource_scrape_error')[0]?.value).toBe(1);
    expect(samplesOf(fams, 'node_cpu_usage_seconds_total')[0]?.value).toBeGreaterThan(0);
    expect(fams.has('container_cpu_usage_seconds_total')).toBe(false);
    expect(errors).toEqual(['runtime down']);
  });
});

describe('edge/streams metrics — an edge without pods (no runtime)', () => {
  it('edge/streams metrics — without a runtime: node figures and the registry are served, pod streams refused', async () => {
    const s = new EdgeStreams(
      { nodeName: 'edge-nopods' },
      {
        store: { get: () => undefined },
        logger: silentLogger(),
        registry: createRegistry(),
      },
    );
    await s.start();
    try {
      const cloud = new FakeCloud(s);
      const id = cloud.open(NODE_TARGET, { type: 'metrics', path: '/metrics/resource' });
      expect(await cloud.ended(id)).toEqual({ type: 'closed' });
      const fams = parsePromText(cloud.output(id, 1).toString('utf8'));
      expect(samplesOf(fams, 'node_cpu_usage_seconds_total')[0]?.value).toBeGreaterThan(0);
      expect(samplesOf(fams, 'resource_scrape_error')[0]?.value).toBe(0);
      expect(fams.has('container_cpu_usage_seconds_total')).toBe(false);
      const reg = cloud.open(NODE_TARGET, { type: 'metrics', path: '/metrics' });
      expect(await cloud.ended(reg)).toEqual({ type: 'closed' });
      expect(cloud.output(reg, 1).toString('utf8')).toContain('tether_edge_streams_open');
      const ex = cloud.open(
        { namespace: 'default', pod: 'p', container: 'c' },
        { type: 'logs', follow: false, timestamps: false, previous: false },
      );
      expect(await cloud.ended(ex)).toMatchObject({ type: 'error' });
    } finally {
      await s.stop();
    }
  });
});

describe('edge/streams metrics — against the real containerd', () => {
  let env: StreamEnv;
  let busy: RunningPod;

  beforeAll(async () => {
    env = await newStreamEnv('metrics');
    // burns a little CPU first so its cumulative usage is visibly above zero
    busy = await runPod(
      env,
      makePod(env, 'busy', [
        {
          name: 'app',
          image: SHELL_IMAGE,
          command: ['sh', '-c', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 100000'],
        },
      ]),
    );
  }, 120_000);

  afterAll(async () => {
    await disposeStreamEnv(env);
  }, 60_000);

  const withStreams = async <T>(fn: (cloud: FakeCloud) => Promise<T>): Promise<T> => {
    const s = new EdgeStreams(
      { nodeName: env.nodeName, podLogsRoot: env.logsRoot },
      { store: env.store, runtime: env.rt, logger: silentLogger(), registry: createRegistry() },
    );
    await s.start();
    try {
      return await fn(new FakeCloud(s));
    } finally {
      await s.stop();
    }
  };

  it("edge/streams metrics — /metrics/resource has the running pod's container CPU and memory, only this node's pods", async () => {
    const podName = busy.pod.metadata.name ?? '';
    const namespace = busy.pod.metadata.namespace ?? '';
    await withStreams(async (cloud) => {
      const scrape = async (): Promise<ReturnType<typeof parsePromText>> => {
        // a small window: the text must come in credit-sized pieces
        const id = cloud.open(NODE_TARGET, { type: 'metrics', path: '/metrics/resource' }, 1024);
        expect(await cloud.ended(id)).toEqual({ type: 'closed' });
        for (const e of cloud.sent)
          if (e.kind === 'streamData' && e.stream === id) expect(e.data.length).toBeLessThanOrEqual(1024);
        return parsePromText(cloud.output(id, 1).toString('utf8'));
      };
      const fams = await waitFor('CPU usage of the busy container', async () => {
        const f = await scrape();
        const cpu = samplesOf(f, 'container_cpu_usage_seconds_total').find(
          (x) => x.labels['pod'] === podName,
        );
        return cpu !== undefined && cpu.value > 0 ? f : undefined;
      });
      const mine = (name: string) => samplesOf(fams, name).filter((x) => x.labels['pod'] === podName);
      expect(mine('container_cpu_usage_seconds_total')[0]?.labels).toEqual({
        container: 'app',
        namespace,
        pod: podName,
      });
      expect(mine('container_memory_working_set_bytes')[0]?.value).toBeGreaterThan(0);
      expect(mine('pod_cpu_usage_seconds_total')[0]?.value).toBeGreaterThan(0);
      const start = mine('container_start_time_seconds')[0]?.value ?? 0;
      expect(Math.abs(start - Date.now() / 1000)).toBeLessThan(600);
      // timestamps in ms, near now
      const ts = mine('container_cpu_usage_seconds_total')[0]?.timestampMs ?? 0;
      expect(Math.abs(ts - Date.now())).toBeLessThan(600_000);
      // the shared test containerd runs other tests' pods: none of them is reported
      for (const x of samplesOf(fams, 'container_cpu_usage_seconds_total'))
        expect(x.labels['pod']).toBe(podName);
      expect(samplesOf(fams, 'node_memory_working_set_bytes')[0]?.value).toBeGreaterThan(0);
      expect(samplesOf(fams, 'resource_scrape_error')[0]?.value).toBe(0);
    });
  });

  it("edge/streams metrics — /metrics is the agent's own registry (tether_edge_*)", async () => {
    await withStreams(async (cloud) => {
      const id = cloud.open(NODE_TARGET, { type: 'metrics', path: '/metrics' });
      expect(await cloud.ended(id)).toEqual({ type: 'closed' });
      const fams = parsePromText(cloud.output(id, 1).toString('utf8'));
      // this very stream is open while the registry is read
      expect(
        samplesOf(fams, 'tether_edge_streams_open').find((s) => s.labels['type'] === 'metrics')?.value,
      ).toBe(1);
      expect(fams.get('tether_edge_stream_bytes_total')?.type).toBe('counter');
    });
  });
});
