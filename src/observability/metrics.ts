import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per app instance (never prom-client's global one), so tests can build
 * several apps in one process. Capabilities register their own metrics on it.
 */
export function createMetricsRegistry(opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'shipcast_' });
  return registry;
}
