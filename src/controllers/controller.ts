/**
 * The base every controller shares: informer event handlers only enqueue keys (level-triggered:
 * the reconcile reads the current cache state, never the event), workers drain a rate-limited
 * queue, failures are retried with per-key back-off, and a periodic resync re-enqueues every key
 * so a missed event or a restart never leaves an object unreconciled.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import { errorMessage, LifecycleError, type Component, type Logger } from '../common/index.js';
import { keyOf, type InformerFactory, type Kube } from './kube.js';
import { WorkQueue } from './workqueue.js';

export interface ControllerDeps {
  kube: Kube;
  informers: InformerFactory;
  logger: Logger;
  registry: Registry;
}

/** What a reconcile asks of the queue: nothing, or to look again after a while. */
export type ReconcileResult = undefined | { requeueAfterMs: number };

interface ControllerMetrics {
  reconciles: Counter<'controller' | 'result'>;
  duration: Histogram<'controller'>;
  depth: Gauge<'controller'>;
}

/** One set of metrics per registry, labelled by controller (several controllers share a registry). */
function metricsFor(registry: Registry): ControllerMetrics {
  const get = <M>(name: string, make: () => M): M =>
    (registry.getSingleMetric(name) as M | undefined) ?? make();
  return {
    reconciles: get(
      'tether_controller_reconciles_total',
      () =>
        new Counter({
          name: 'tether_controller_reconciles_total',
          help: 'Reconciles by controller and result (ok, error, requeue).',
          labelNames: ['controller', 'result'] as const,
          registers: [registry],
        }),
    ),
    duration: get(
      'tether_controller_reconcile_seconds',
      () =>
        new Histogram({
          name: 'tether_controller_reconcile_seconds',
          help: 'Duration of one reconcile.',
          labelNames: ['controller'] as const,
          buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
          registers: [registry],
        }),
    ),
    depth: get(
      'tether_controller_queue_depth',
      () =>
        new Gauge({
          name: 'tether_controller_queue_depth',
          help: 'Keys waiting in the work queue.',
          labelNames: ['controller'] as const,
          registers: [registry],
        }),
    ),
  };
}

export interface ControllerOptions {
  workers: number;
  /** Every key is re-enqueued this often (0 = never). */
  resyncMs: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export abstract class Controller implements Component {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;
  protected readonly log: Logger;
  private readonly metrics: ControllerMetrics;
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    protected readonly deps: ControllerDeps,
    private readonly opts: ControllerOptions,
  ) {
    this.queue = new WorkQueue({
      baseDelayMs: opts.retryBaseMs ?? 50,
      maxDelayMs: opts.retryMaxMs ?? 30_000,
    });
    this.log = deps.logger;
    this.metrics = metricsFor(deps.registry);
  }

  protected get kube(): Kube {
    return this.deps.kube;
  }

  /** Registers informer handlers (before the informers start). */
  protected abstract setup(): void;
  /** Brings the object behind `key` to its desired state; throws to retry with back-off. */
  protected abstract reconcile(key: string): Promise<ReconcileResult>;
  /** Every key a resync (and the first sync) should look at. */
  protected abstract allKeys(): Iterable<string>;

  protected informer<T extends KubernetesObject>(what: Parameters<InformerFactory['get']>[0]): ListWatch<T> {
    return this.deps.informers.get<T>(what);
  }

  /** Enqueues on add/update/delete through `map` (which returns the keys to reconcile). */
  protected onChange<T extends KubernetesObject>(
    inf: ListWatch<T>,
    map: (obj: T, verb: 'add' | 'update' | 'delete') => Iterable<string> | string | undefined,
  ): void {
    const handle = (verb: 'add' | 'update' | 'delete') => (obj: T) => {
      if (!this.running) return;
      const keys = map(obj, verb);
      if (keys === undefined) return;
      if (typeof keys === 'string') this.queue.add(keys);
      else for (const k of keys) this.queue.add(k);
    };
    inf.on('add', handle('add'));
    inf.on('update', handle('update'));
    inf.on('delete', handle('delete'));
  }

  /** Enqueues the object's own key on every change. */
  protected onSelf<T extends KubernetesObject>(inf: ListWatch<T>): void {
    this.onChange(inf, (o) => keyOf(o));
  }

  async start(): Promise<void> {
    if (this.running) throw new LifecycleError(`${this.name} already started`);
    this.setup();
    this.running = true;
    await this.deps.informers.start();
    // Informers shared with controllers started earlier replayed their first list before our
    // handlers existed: let the controller index what is already cached.
    this.cacheSynced();
    this.resync();
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
    if (this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        this.resync();
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    this.log.info({ controller: this.name }, 'controller started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.resyncTimer !== undefined) clearInterval(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Called once the informers are synced, before the first resync. */
  protected cacheSynced(): void {
    // Most controllers read the caches directly and need nothing here.
  }

  protected resync(): void {
    for (const k of this.allKeys()) this.queue.add(k);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.depth.set({ controller: this.name }, this.queue.length);
      const end = this.metrics.duration.startTimer({ controller: this.name });
      try {
        const res = await this.reconcile(key);
        this.queue.forget(key);
        if (res !== undefined) {
          this.queue.addAfter(key, res.requeueAfterMs);
          this.metrics.reconciles.inc({ controller: this.name, result: 'requeue' });
        } else this.metrics.reconciles.inc({ controller: this.name, result: 'ok' });
      } catch (e) {
        this.metrics.reconciles.inc({ controller: this.name, result: 'error' });
        if (this.running) {
          const delay = this.queue.addRateLimited(key);
          this.log.debug(
            { controller: this.name, item: key, err: errorMessage(e), retryInMs: delay },
            'reconcile failed',
          );
        }
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
