import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Each binary owns one registry and hands it to its components; no global default
 * registry, so several components (or test instances) in one process never collide.
 */
export function createRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics === true)
    collectDefaultMetrics({ register: registry, prefix: opts.prefix ?? 'tether_' });
  return registry;
}
export type { Registry } from 'prom-client';
