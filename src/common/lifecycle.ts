/**
 * The one component contract (STYLE §3): a typed config validated at construction,
 * `start()` acquires every resource, `stop()` releases every one of them.
 * Composition roots wire components by hand and stop them in reverse order.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Owns disposables and releases them in reverse order of acquisition (STYLE §13). */
export class DisposableStore {
  private readonly items: (() => void | Promise<void>)[] = [];
  private disposed = false;

  add(dispose: () => void | Promise<void>): void {
    if (this.disposed) {
      void Promise.resolve(dispose()).catch(() => undefined);
      return;
    }
    this.items.push(dispose);
  }

  /** A timer owned by the store. */
  interval(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setInterval(fn, ms);
    t.unref();
    this.add(() => {
      clearInterval(t);
    });
    return t;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const d of this.items.splice(0).reverse()) {
      try {
        await d();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'errors while disposing');
  }
}

/** Starts components in order; on failure stops the ones already started, in reverse. */
export async function startAll(components: readonly Component[]): Promise<() => Promise<void>> {
  const started: Component[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of started.splice(0).reverse()) await c.stop();
  };
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  return stopAll;
}
