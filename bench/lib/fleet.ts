/**
 * Hollow edges split over worker processes (issue 12): the container's open-file hard limit is
 * 20,000 per process and a hollow edge holds ~4 fds (TLS socket + SQLite db/-wal/-shm), so one
 * process holds at most ~4,900 edges. `Fleet` forks K workers (bench/lib/hollow-worker.ts), each
 * running its share of hollow edges, and talks to them over IPC: progress, pod deliveries with
 * wall-clock timestamps (`epochMs`, comparable across processes on one machine), and counters.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CpuProfileSummary } from './inspector.js';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface WorkerInit {
  readonly t: 'init';
  /** index of this worker's first edge (edge i is `hollow-<i>`) */
  readonly from: number;
  readonly dir: string;
  readonly cloudUrl: string;
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly storeSync: 'FULL' | 'NORMAL';
  readonly store: 'file' | 'memory';
  readonly outboxPollMs: number;
  /** the links' reconnect.refusedWindowMs; -1 for the default */
  readonly refusedWindowMs: number;
  /** false: link only, no NodeReporter (bench/hub-memory.ts: the hub's own cost per connection) */
  readonly reportNode: boolean;
  /** keys and certificates kept between runs (HollowEdgeOptions.pkiCache); '' for none */
  readonly pkiCache: string;
}

/** main → worker */
export type ToWorker =
  | WorkerInit
  /** start edges up to `upTo` (exclusive, a global index) */
  | { readonly t: 'grow'; readonly id: number; readonly upTo: number }
  | { readonly t: 'status'; readonly id: number; readonly fanKey: string; readonly fanRv: string }
  /** remember each edge's connect count and which edges hold `fanKey` (before a storm) */
  | { readonly t: 'mark'; readonly id: number; readonly fanKey: string }
  /** CPU profile of the worker's own thread (in-process inspector): start, or stop and save to `file` */
  | { readonly t: 'profile'; readonly id: number; readonly action: 'start' | 'stop'; readonly file: string }
  | { readonly t: 'stop'; readonly id: number };

export interface WorkerStatus {
  readonly edges: number;
  readonly online: number;
  readonly duplicates: number;
  readonly connects: number;
  /** edges that reconnected since the mark (connect count above the marked one) and are online */
  readonly reconnectedOnline: number;
  /** edges that held fanKey at the mark */
  readonly marked: number;
  /** … of which do not hold fanRv yet */
  readonly markedWithoutRv: number;
  readonly rssMB: number;
  /** links connecting (TCP/TLS/upgrade/hello in progress) and waiting in back-off now */
  readonly connecting: number;
  readonly backoff: number;
  /** connection attempts of every link so far, and the failed ones by what the edge saw */
  readonly attempts: number;
  readonly refused: number;
  readonly resets: number;
  readonly timeouts: number;
}

/** Per-hop timing of a pod's delivery as the hollow edge saw it (epoch ms; bench/scale.ts). */
export interface PodHops {
  readonly edge?: string;
  /** the envelope's `ts`: when the cloud's hub encoded the sync message */
  readonly hubSentAt?: number;
  /** when the edge's link handed the message to the store */
  readonly receivedAt?: number;
  readonly seq?: number;
}

/** worker → main */
export type FromWorker =
  | { readonly t: 'started'; readonly edges: number }
  | ({ readonly t: 'pod'; readonly name: string; readonly storedAt: number } & PodHops)
  | {
      readonly t: 'reply';
      readonly id: number;
      readonly status?: WorkerStatus;
      readonly profile?: CpuProfileSummary;
      readonly error?: string;
    }
  | { readonly t: 'fatal'; readonly error: string };

const WORKER = resolve(fileURLToPath(import.meta.url), '../hollow-worker.ts');

interface Worker {
  readonly proc: ChildProcess;
  readonly from: number;
  readonly to: number;
  edges: number;
}

export interface FleetOptions extends Omit<WorkerInit, 't' | 'from'> {
  readonly edgesPerProcess: number;
  readonly onPod: (name: string, storedAt: number, hops: PodHops) => void;
  readonly log: (s: string) => void;
}

export class Fleet {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { res: (s: WorkerStatus | undefined, p?: CpuProfileSummary) => void; rej: (e: Error) => void }
  >();
  private fatal: string | undefined;

  constructor(private readonly opts: FleetOptions) {}

  get size(): number {
    return this.workers.reduce((s, w) => s + w.edges, 0);
  }
  get processes(): number {
    return this.workers.length;
  }
  get pids(): number[] {
    return this.workers.map((w) => w.proc.pid ?? 0);
  }

  private spawnWorker(from: number): Worker {
    const proc = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const w: Worker = { proc, from, to: from + this.opts.edgesPerProcess, edges: 0 };
    proc.on('message', (m: FromWorker) => {
      switch (m.t) {
        case 'started':
          w.edges = m.edges;
          return;
        case 'pod':
          this.opts.onPod(m.name, m.storedAt, m);
          return;
        case 'reply': {
          const p = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          if (m.error !== undefined) p?.rej(new Error(m.error));
          else p?.res(m.status, m.profile);
          return;
        }
        case 'fatal':
          this.fatal = m.error;
          this.opts.log(`worker ${String(proc.pid)} failed: ${m.error}`);
          return;
      }
    });
    proc.on('exit', (code, sig) => {
      if (code !== 0 && sig === null) this.fatal ??= `worker ${String(proc.pid)} exited with ${String(code)}`;
      for (const [id, p] of this.waiting) {
        p.rej(new Error(`worker ${String(proc.pid)} exited (${String(code ?? sig)})`));
        this.waiting.delete(id);
      }
    });
    const { edgesPerProcess: _e, onPod: _o, log: _l, ...init } = this.opts;
    proc.send({ t: 'init', from, ...init } satisfies ToWorker);
    this.workers.push(w);
    return w;
  }

  private call(w: Worker, msg: ToWorker & { id: number }): Promise<WorkerStatus | undefined> {
    return new Promise((res, rej) => {
      this.waiting.set(msg.id, { res, rej });
      w.proc.send(msg);
    });
  }

  /** Grows the fleet to n edges (workers fill up to edgesPerProcess each, in parallel). */
  async grow(n: number): Promise<void> {
    if (this.fatal !== undefined) throw new Error(this.fatal);
    const calls: Promise<unknown>[] = [];
    let from = this.workers.at(-1)?.to ?? 0;
    for (const w of this.workers)
      if (w.edges < w.to - w.from && n > w.from + w.edges)
        calls.push(this.call(w, { t: 'grow', id: this.nextId++, upTo: Math.min(n, w.to) }));
    while (from < n) {
      const w = this.spawnWorker(from);
      calls.push(this.call(w, { t: 'grow', id: this.nextId++, upTo: Math.min(n, w.to) }));
      from = w.to;
    }
    await Promise.all(calls);
  }

  async status(fanKey = '', fanRv = ''): Promise<WorkerStatus> {
    if (this.fatal !== undefined) throw new Error(this.fatal);
    const all = await Promise.all(
      this.workers.map((w) => this.call(w, { t: 'status', id: this.nextId++, fanKey, fanRv })),
    );
    const sum = (f: (s: WorkerStatus) => number): number =>
      all.reduce((a, s) => a + (s === undefined ? 0 : f(s)), 0);
    return {
      edges: sum((s) => s.edges),
      online: sum((s) => s.online),
      duplicates: sum((s) => s.duplicates),
      connects: sum((s) => s.connects),
      reconnectedOnline: sum((s) => s.reconnectedOnline),
      marked: sum((s) => s.marked),
      markedWithoutRv: sum((s) => s.markedWithoutRv),
      rssMB: sum((s) => s.rssMB),
      connecting: sum((s) => s.connecting),
      backoff: sum((s) => s.backoff),
      attempts: sum((s) => s.attempts),
      refused: sum((s) => s.refused),
      resets: sum((s) => s.resets),
      timeouts: sum((s) => s.timeouts),
    };
  }

  /** Starts, or stops and summarizes (saving `<dir>/worker-<i>.cpuprofile`), every worker's CPU profile. */
  async profile(action: 'start' | 'stop', dir: string): Promise<(CpuProfileSummary | undefined)[]> {
    return Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<CpuProfileSummary | undefined>((res, rej) => {
            const id = this.nextId++;
            this.waiting.set(id, {
              res: (_s, p) => {
                res(p);
              },
              rej,
            });
            w.proc.send({
              t: 'profile',
              id,
              action,
              file: join(dir, `worker-${String(i)}.cpuprofile`),
            } satisfies ToWorker);
          }),
      ),
    );
  }

  async mark(fanKey: string): Promise<void> {
    await Promise.all(this.workers.map((w) => this.call(w, { t: 'mark', id: this.nextId++, fanKey })));
  }

  /** Stops every edge and waits for the workers to exit; kills a worker that does not. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
        const exited = new Promise<void>((r) =>
          w.proc.once('exit', () => {
            r();
          }),
        );
        const timer = setTimeout(() => w.proc.kill('SIGKILL'), 60_000);
        await this.call(w, { t: 'stop', id: this.nextId++ }).catch(() => undefined);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.workers.length = 0;
  }
}
