/**
 * A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:0`:
 * forced GC, `process.memoryUsage()` and heap snapshots of the cloud core without any code in
 * the product for it (bench only).
 */
import { createWriteStream } from 'node:fs';
import { WebSocket } from 'ws';

/** The inspector URL a child printed on stderr ("Debugger listening on ws://…"). */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
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
  async stopCpuProfile(top = 25): Promise<CpuProfileSummary> {
    const r = (await this.call('Profiler.stop')) as { profile: CpuProfile };
    await this.call('Profiler.disable');
    const p = r.profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    for (let i = 0; i < p.samples.length; i++) {
      const id = p.samples[i] ?? 0;
      selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
    }
    const fn = new Map<string, number>();
    const file = new Map<string, number>();
    let total = 0;
    for (const [id, us] of selfUs) {
      const cf = byId.get(id)?.callFrame;
      if (cf === undefined) continue;
      total += us;
      const where = fileKey(cf.url);
      const name = `${cf.functionName === '' ? '(anonymous)' : cf.functionName} ${where}:${String(cf.lineNumber + 1)}`;
      fn.set(name, (fn.get(name) ?? 0) + us);
      file.set(where, (file.get(where) ?? 0) + us);
    }
    const rank = (m: Map<string, number>): { name: string; pct: number }[] =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, us]) => ({ name, pct: Math.round((us / Math.max(1, total)) * 1000) / 10 }));
    return { sampledMs: Math.round(total / 1000), byFunction: rank(fn), byFile: rank(file) };
  }

  close(): void {
    this.ws.terminate();
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuProfileSummary {
  sampledMs: number;
  byFunction: { name: string; pct: number }[];
  byFile: { name: string; pct: number }[];
}

/** A package name for node_modules, the path under the repository for ours, the rest as is. */
function fileKey(url: string): string {
  if (url === '') return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1] ?? url;
  const src = /\/((?:src|bench)\/.*)$/.exec(url);
  return src?.[1] ?? url.replace(/^node:/, 'node:');
}
