import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * prom-client default metrics that walk every libuv handle, request or resource on each scrape
 * (process._getActiveHandles(), getActiveResourcesInfo()): O(connections) arrays and objects per
 * scrape — ~3 % of a 10,000-edge cloud's CPU in a storm scraped each second (issue 12 profile).
 * Sessions and file descriptors have their own, cheaper series (tether_hub_connected_nodes,
 * process_open_fds against process_max_fds).
 */
const PER_HANDLE_METRICS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
];

/**
 * Each binary owns one registry and hands it to its components; no global default
 * registry, so several components (or test instances) in one process never collide.
 */
export function createRegistry(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics === true) {
    const prefix = opts.prefix ?? 'tether_';
    collectDefaultMetrics({ register: registry, prefix });
    for (const name of PER_HANDLE_METRICS) registry.removeSingleMetric(prefix + name);
  }
  return registry;
}
export type { Registry } from 'prom-client';
