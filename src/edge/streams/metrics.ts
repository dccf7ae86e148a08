/**
 * What an edge answers for the kubelet's metrics paths (monitoring, docs/streams.md):
 * `/metrics` is the agent's own Prometheus registry; `/metrics/resource` is the kubelet's
 * resource metrics (pkg/kubelet/metrics/collectors/resource_metrics.go), the text metrics-server
 * v0.7 parses for `kubectl top` and the HPA: families sorted by name, labels sorted by name,
 * each sample with its own timestamp in milliseconds, as client_golang prints them.
 */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../common/index.js';
import {
  LABEL_CONTAINER_NAME,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  type ContainerStats,
  type ContainerSummary,
} from '../cri/index.js';

/** Node totals as the kubelet reports them for the root cgroup. */
export interface NodeUsage {
  /** Cumulative CPU time of the node in core-seconds. */
  readonly cpuSeconds: number;
  /** usage − inactive file pages (cadvisor's working set). */
  readonly memoryWorkingSetBytes: number;
  readonly timestampMs: number;
}

export interface ContainerUsage {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly cpu?: { readonly seconds: number; readonly timestampMs: number };
  readonly memory?: { readonly workingSetBytes: number; readonly timestampMs: number };
  /** Unix seconds (fractional); the kubelet stamps the sample with the start time itself. */
  readonly startTimeSeconds?: number;
}

export interface ResourceSnapshot {
  readonly node?: NodeUsage;
  readonly containers: readonly ContainerUsage[];
  /** 1 when container stats could not be read (the kubelet's resource_scrape_error). */
  readonly scrapeError: boolean;
}

// USER_HZ is 100 on every Linux architecture the kernel exports to user space (proc(5)).
const USER_HZ = 100;

/** /proc/stat's aggregate line: every non-idle state (guest time is already inside user/nice). */
export function parseProcStat(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

/** /proc/meminfo → MemTotal − MemFree − Inactive(file), in bytes (cadvisor's root working set). */
export function parseMeminfo(text: string): number | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key.replace(/[()]/g, '\\$&')}:\\s+(\\d+)`, 'm').exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  const free = kb('MemFree');
  if (total === undefined || free === undefined) return undefined;
  return Math.max(0, total - free - (kb('Inactive(file)') ?? 0));
}

/** The node's figures from /proc (the agent shares the host's /proc even in its own netns). */
export async function readNodeUsage(procRoot = '/proc', now = Date.now()): Promise<NodeUsage | undefined> {
  try {
    const [stat, mem] = await Promise.all([
      readFile(`${procRoot}/stat`, 'utf8'),
      readFile(`${procRoot}/meminfo`, 'utf8'),
    ]);
    const cpuSeconds = parseProcStat(stat);
    const memoryWorkingSetBytes = parseMeminfo(mem);
    if (cpuSeconds === undefined || memoryWorkingSetBytes === undefined) return undefined;
    return { cpuSeconds, memoryWorkingSetBytes, timestampMs: now };
  } catch {
    return undefined;
  }
}

const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

/**
 * Running containers joined with their CRI stats. Only containers of pods (the pod labels the
 * pod manager sets) count, as the kubelet's summary covers only pods it manages.
 */
export function containerUsage(
  running: readonly ContainerSummary[],
  stats: readonly ContainerStats[],
  isPodOfNode: (namespace: string, pod: string) => boolean = () => true,
): ContainerUsage[] {
  const byId = new Map(stats.map((s) => [s.id, s]));
  const out: ContainerUsage[] = [];
  for (const c of running) {
    if (c.state !== 'running') continue;
    const namespace = c.labels[LABEL_POD_NAMESPACE];
    const pod = c.labels[LABEL_POD_NAME];
    const container = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata.name;
    if (namespace === undefined || pod === undefined || !isPodOfNode(namespace, pod)) continue;
    const s = byId.get(c.id);
    // No stats yet (just started): leave the container out altogether. metrics-server drops a
    // whole pod when one of its containers has a start time but no CPU or memory figure.
    if (s === undefined) continue;
    const cpuNs = s.cpu?.usageCoreNanoSeconds;
    const ws = s.memory?.workingSetBytes;
    out.push({
      namespace,
      pod,
      container,
      ...(s.cpu !== undefined && cpuNs !== undefined
        ? { cpu: { seconds: cpuNs / 1e9, timestampMs: nsToMs(s.cpu.timestampNs) } }
        : {}),
      ...(s.memory !== undefined && ws !== undefined
        ? { memory: { workingSetBytes: ws, timestampMs: nsToMs(s.memory.timestampNs) } }
        : {}),
      ...(c.createdAtNs > 0n ? { startTimeSeconds: Number(c.createdAtNs) / 1e9 } : {}),
    });
  }
  return out;
}

type Labels = Readonly<Record<string, string>>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly timestampMs?: number;
}
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: Sample[];
}

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** Prometheus text value: Go's strconv 'g' spells non-finite values as +Inf/-Inf/NaN. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function render(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    // client_golang leaves out families without samples
    if (f.samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const keys = Object.keys(s.labels).sort();
      const labels =
        keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(s.labels[k] ?? '')}"`).join(',')}}`;
      lines.push(
        `${f.name}${labels} ${formatValue(s.value)}${s.timestampMs === undefined ? '' : ` ${String(Math.trunc(s.timestampMs))}`}`,
      );
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The /metrics/resource text of a snapshot. */
export function resourceMetricsText(snap: ResourceSnapshot): string {
  const fam = (name: string, type: 'counter' | 'gauge', help: string): Family => ({
    name,
    type,
    help,
    samples: [],
  });
  const nodeCpu = fam(
    'node_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
  );
  const nodeMem = fam(
    'node_memory_working_set_bytes',
    'gauge',
    '[STABLE] Current working set of the node in bytes',
  );
  const cCpu = fam(
    'container_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
  );
  const cMem = fam(
    'container_memory_working_set_bytes',
    'gauge',
    '[STABLE] Current working set of the container in bytes',
  );
  const cStart = fam(
    'container_start_time_seconds',
    'gauge',
    '[STABLE] Start time of the container since unix epoch in seconds',
  );
  const pCpu = fam(
    'pod_cpu_usage_seconds_total',
    'counter',
    '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
  );
  const pMem = fam(
    'pod_memory_working_set_bytes',
    'gauge',
    '[STABLE] Current working set of the pod in bytes',
  );
  const err = fam(
    'resource_scrape_error',
    'gauge',
    '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
  );
  // The pre-1.29 name of resource_scrape_error, still read by older dashboards.
  const oldErr = fam(
    'scrape_error',
    'gauge',
    '[ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise',
  );
  if (snap.node !== undefined) {
    nodeCpu.samples.push({ labels: {}, value: snap.node.cpuSeconds, timestampMs: snap.node.timestampMs });
    nodeMem.samples.push({
      labels: {},
      value: snap.node.memoryWorkingSetBytes,
      timestampMs: snap.node.timestampMs,
    });
  }
  const pods = new Map<
    string,
    {
      labels: Labels;
      cpu: number;
      cpuTs: number;
      hasCpu: boolean;
      mem: number;
      memTs: number;
      hasMem: boolean;
    }
  >();
  for (const c of snap.containers) {
    const labels = { container: c.container, namespace: c.namespace, pod: c.pod };
    const podKey = `${c.namespace}/${c.pod}`;
    let p = pods.get(podKey);
    if (p === undefined) {
      p = {
        labels: { namespace: c.namespace, pod: c.pod },
        cpu: 0,
        cpuTs: 0,
        hasCpu: false,
        mem: 0,
        memTs: 0,
        hasMem: false,
      };
      pods.set(podKey, p);
    }
    if (c.cpu !== undefined) {
      cCpu.samples.push({ labels, value: c.cpu.seconds, timestampMs: c.cpu.timestampMs });
      p.cpu += c.cpu.seconds;
      p.cpuTs = Math.max(p.cpuTs, c.cpu.timestampMs);
      p.hasCpu = true;
    }
    if (c.memory !== undefined) {
      cMem.samples.push({ labels, value: c.memory.workingSetBytes, timestampMs: c.memory.timestampMs });
      p.mem += c.memory.workingSetBytes;
      p.memTs = Math.max(p.memTs, c.memory.timestampMs);
      p.hasMem = true;
    }
    if (c.startTimeSeconds !== undefined)
      cStart.samples.push({ labels, value: c.startTimeSeconds, timestampMs: c.startTimeSeconds * 1000 });
  }
  // The kubelet reads the pod cgroup; the sum of its containers is the same figure minus the
  // sandbox's pause process, which is negligible.
  for (const p of pods.values()) {
    if (p.hasCpu) pCpu.samples.push({ labels: p.labels, value: p.cpu, timestampMs: p.cpuTs });
    if (p.hasMem) pMem.samples.push({ labels: p.labels, value: p.mem, timestampMs: p.memTs });
  }
  const e = snap.scrapeError ? 1 : 0;
  err.samples.push({ labels: {}, value: e });
  oldErr.samples.push({ labels: {}, value: e });
  return render([nodeCpu, nodeMem, cCpu, cMem, cStart, pCpu, pMem, err, oldErr]);
}

/** What the resource collector needs of the CRI runtime. */
export interface ResourceRuntime {
  listContainers(filter?: { state?: 'running' }): Promise<ContainerSummary[]>;
  listContainerStats(): Promise<ContainerStats[]>;
}

/** One /metrics/resource scrape; a CRI failure becomes resource_scrape_error 1, not a failed scrape. */
export async function collectResourceMetrics(
  runtime: ResourceRuntime,
  opts: {
    procRoot?: string;
    onError?: (message: string) => void;
    /** A runtime may be shared (other agents, other tools): only this node's pods count. */
    isPodOfNode?: (namespace: string, pod: string) => boolean;
  } = {},
): Promise<string> {
  const node = await readNodeUsage(opts.procRoot);
  try {
    const [running, stats] = await Promise.all([
      runtime.listContainers({ state: 'running' }),
      runtime.listContainerStats(),
    ]);
    return resourceMetricsText({
      ...(node === undefined ? {} : { node }),
      containers: containerUsage(running, stats, opts.isPodOfNode),
      scrapeError: false,
    });
  } catch (e) {
    opts.onError?.(errorMessage(e));
    return resourceMetricsText({
      ...(node === undefined ? {} : { node }),
      containers: [],
      scrapeError: true,
    });
  }
}
