/**
 * Builds the ingestion capability for the app: the group-commit store, its effects, the webhook
 * routes and a periodic sweep that attaches events whose shipment appeared later.
 */
import type { EtaPredictor } from '../domain/eta.js';
import type { Route } from '../http/router.js';
import { createIngestEffects } from './effects.js';
import { TrackingEventStore } from './event-store.js';
import { createIngestMetrics } from './ingest-metrics.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { DEFAULT_TOLERANCE_SECONDS } from './signatures.js';
import { webhookRoutes } from './webhook-routes.js';
import type { CoreDeps } from '../core-deps.js';

export interface IngestionDeps extends CoreDeps {
  /** The app's ETA predictor if it has one; read on each use. */
  predictor?: () => EtaPredictor | undefined;
}

export interface IngestionOptions {
  /** Largest accepted webhook body (default 1 MiB). */
  bodyLimitBytes?: number;
  /** Per-source limit (default 2,000 requests/s sustained, bursts of 4,000). */
  rateLimit?: RateLimitOptions;
  /** Signature timestamp tolerance (default 300 s). */
  toleranceSeconds?: number;
  /**
   * Mailgun's timestamp tolerance (default 8 h 15 min). Mailgun retries for 8 hours and its docs do
   * not promise a fresh signature per retry; every token is kept in DuckDB, so a replay is refused
   * whatever its age.
   */
  mailgunToleranceSeconds?: number;
  /** How often unmatched events are attached to shipments that appeared (default 30 s; 0 disables). */
  attachIntervalMs?: number;
  now?: () => Date;
}

export interface Ingestion {
  routes: Route[];
  store: TrackingEventStore;
  /** Resolves once queued writes are committed and pending effects (re-predictions) are done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createIngestion(deps: IngestionDeps, opts: IngestionOptions = {}): Ingestion {
  const metrics = createIngestMetrics(deps.metrics);
  const effects = createIngestEffects({ events: deps.events, log: deps.log, metrics, predictor: deps.predictor ?? (() => undefined) });
  const store = new TrackingEventStore(deps.warehouse, {
    onCommitted: (b) => {
      metrics.batchSize.observe(b.accepted);
      effects.onCommitted(b);
    },
  });
  const routes = webhookRoutes({
    config: deps.config,
    log: deps.log,
    warehouse: deps.warehouse,
    store,
    metrics,
    limiter: new RateLimiter(opts.rateLimit ?? { ratePerSecond: 2000, burst: 4000 }),
    bodyLimitBytes: opts.bodyLimitBytes ?? 1024 * 1024,
    toleranceSeconds: opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    mailgunToleranceSeconds: opts.mailgunToleranceSeconds ?? 8.25 * 3600,
    now: opts.now ?? (() => new Date()),
  });
  const interval = opts.attachIntervalMs ?? 30_000;
  const timer =
    interval > 0
      ? setInterval(() => {
          store.attachUnmatched().catch((err: unknown) => deps.log.error({ err }, 'attaching unmatched tracking events failed'));
        }, interval)
      : undefined;
  timer?.unref();
  const idle = async () => {
    await store.drain();
    await effects.idle();
  };
  return {
    routes,
    store,
    idle,
    async close() {
      if (timer) clearInterval(timer);
      await idle();
    },
  };
}
