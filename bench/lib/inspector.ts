/**
 * A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:0`:
 * forced GC, `process.memoryUsage()` and heap snapshots of the cloud core without any code in
 * the product for it (bench only).
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';

/** The inspector URL a child printed on stderr ("Debugger listening on ws://…"). */
export function inspectorUrl(output: string): string | undefined {
  // the last one: a restarted child appends its own line to the same output
  return [...output.matchAll(/Debugger listening on (ws:\/\/\S+)/g)].at(-1)?.[1];
}

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { res: (v: unknown) => void; rej: (e: Error) => void }>();
  private onEvent: ((method: string, params: Record<string, unknown>) => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
      };
      if (m.id !== undefined) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.rej(new Error(m.error.message));
        else p?.res(m.result);
      } else if (m.method !== undefined) this.onEvent?.(m.method, m.params ?? {});
    });
    ws.on('close', () => {
      for (const p of this.pending.values()) p.rej(new Error('inspector closed'));
      this.pending.clear();
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
      ws.once('open', () => {
        res(new Inspector(ws));
      });
      ws.once('error', rej);
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Full GC (twice: the first may only queue finalizers), then the child's memoryUsage(). */
  async gcAndMemory(): Promise<MemoryUsage> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const r = (await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    })) as { result: { value: string } };
    return JSON.parse(r.result.value) as MemoryUsage;
  }

  /** Writes a heap snapshot (forces a GC) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.onEvent = (method, params) => {
      if (method === 'HeapProfiler.addHeapSnapshotChunk') out.write(params['chunk']);
    };
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    this.onEvent = undefined;
    await new Promise<void>((r) => out.end(r));
  }

  /** Starts V8's sampling CPU profiler in the child (1 ms interval). */
  async startCpuProfile(): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: 1000 });
    await this.call('Profiler.start');
  }

  /**
   * Stops the profiler and sums self time by function and by file (node_modules package or our
   * source path): where an idle cloud's CPU goes, without a profiler UI.
   */
  async stopCpuProfile(top = 25, saveAs?: string): Promise<CpuProfileSummary> {
    const r = (await this.call('Profiler.stop')) as { profile: CpuProfile };
    await this.call('Profiler.disable');
    if (saveAs !== undefined) writeFileSync(saveAs, JSON.stringify(r.profile));
    return summarizeCpuProfile(r.profile, top);
  }

  close(): void {
    this.ws.terminate();
  }
}

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuProfileSummary {
  sampledMs: number;
  /** share of the samples in which the thread ran something (not "(idle)") */
  busyPct: number;
  byFunction: { name: string; pct: number }[];
  byFile: { name: string; pct: number }[];
  /** inclusive: share of busy samples with this function of ours (src/) anywhere on the stack */
  oursInclusive: { name: string; pct: number }[];
}

/**
 * Self time by function and by file (node_modules package or our source path), and inclusive
 * time of our own functions: where a process's CPU goes, without a profiler UI.
 */
export function summarizeCpuProfile(p: CpuProfile, top = 25): CpuProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  const label = (cf: { functionName: string; url: string; lineNumber: number }): string =>
    `${cf.functionName === '' ? '(anonymous)' : cf.functionName} ${fileKey(cf.url)}:${String(cf.lineNumber + 1)}`;
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const ours = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame;
    if (cf === undefined) continue;
    total += us;
    if (cf.functionName === '(idle)') idle += us;
    fn.set(label(cf), (fn.get(label(cf)) ?? 0) + us);
    const where = fileKey(cf.url);
    file.set(where, (file.get(where) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f === undefined || !fileKey(f.url).startsWith('src/')) continue;
      const name = label(f);
      if (seen.has(name)) continue;
      seen.add(name);
      ours.set(name, (ours.get(name) ?? 0) + us);
    }
  }
  const busy = Math.max(1, total - idle);
  const rank = (m: Map<string, number>, of: number): { name: string; pct: number }[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, pct: Math.round((us / Math.max(1, of)) * 1000) / 10 }));
  return {
    sampledMs: Math.round(total / 1000),
    busyPct: Math.round((busy / Math.max(1, total)) * 1000) / 10,
    byFunction: rank(fn, total),
    byFile: rank(file, total),
    oursInclusive: rank(ours, busy),
  };
}

/** A package name for node_modules, the path under the repository for ours, the rest as is. */
function fileKey(url: string): string {
  if (url === '') return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1] ?? url;
  const src = /\/((?:src|bench)\/.*)$/.exec(url);
  return src?.[1] ?? url.replace(/^node:/, 'node:');
}
