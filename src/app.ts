/**
 * Composition root of the long-running service: config → warehouse → event bus → metrics →
 * capabilities (model store, ETA predictor, mailer, GraphQL, webhooks) → one fetch handler.
 * Everything is passed down explicitly; nothing here is a module-level singleton.
 */
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Warehouse } from './warehouse/warehouse.js';
import { openWarehouse } from './warehouse/duckdb-warehouse.js';
import { DomainEvents } from './domain/events.js';
import { createMetricsRegistry } from './observability/metrics.js';
import { createRouter, type FetchHandler, type Route } from './http/router.js';
// app-imports: one line per capability.
import { emailResolvers } from './graphql/email/email-resolvers.js';
import { createGraphQLApi, modelTrainer, type GraphQLApi } from './graphql/api.js';
import { createFileModelStore } from './ml/registry/file-model-store.js';
import { createEtaPredictor } from './ml/eta/predictor.js';
import type { EtaPredictor } from './domain/eta.js';
import { createEmailCapability, type EmailCapability } from './email/email-capability.js';
import { createIngestion, type Ingestion } from './ingest/ingestion.js';
import { reportRoutes } from './reports/report-routes.js';
import { createApiKeyStore } from './auth/api-keys.js';

/** Everything a request handler or worker may need, built once per process. */
export interface AppContext {
  config: Config;
  log: Logger;
  warehouse: Warehouse;
  events: DomainEvents;
  metrics: Registry;
  // app-context-fields: one line per capability.
  /** The active ETA model (shared by GraphQL, ingestion and email); MODEL_NOT_READY until one is trained. */
  etaPredictor: EtaPredictor;
  graphql: GraphQLApi;
  email: EmailCapability;
  ingestion: Ingestion;
}

export interface App {
  ctx: AppContext;
  /** The whole HTTP surface as one fetch handler (tests call it in-process). */
  handler: FetchHandler;
  /** Stops workers, flushes and closes the warehouse (only if the app opened it). */
  close(): Promise<void>;
}

/** Liveness, readiness and Prometheus metrics. */
function operationalRoutes(ctx: AppContext, ready: () => Promise<string | undefined>): Route[] {
  return [
    { method: 'GET', path: '/healthz', handler: () => Response.json({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      handler: async () => {
        try {
          await ctx.warehouse.one('SELECT 1 AS ok');
          const notReady = await ready();
          return notReady ? Response.json({ status: 'not_ready', reason: notReady }, { status: 503 }) : Response.json({ status: 'ready' });
        } catch (e) {
          ctx.log.error({ err: e }, 'readiness check failed');
          return Response.json({ status: 'not_ready', reason: 'warehouse unavailable' }, { status: 503 });
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handler: async () => new Response(await ctx.metrics.metrics(), { headers: { 'content-type': ctx.metrics.contentType } }),
    },
  ];
}

/**
 * Builds the app. Pass `warehouse` to reuse an open one (tests, `npm start`); otherwise it opens
 * `config.dbPath` and owns it.
 */
export async function createApp(config: Config, deps: { log: Logger; warehouse?: Warehouse; metrics?: Registry }): Promise<App> {
  const ownsWarehouse = deps.warehouse === undefined;
  const warehouse = deps.warehouse ?? (await openWarehouse(config.dbPath));
  const log = deps.log;
  const events = new DomainEvents((err, event) => log.error({ err, event: (event as { type?: string }).type }, 'domain event handler failed'));
  const metrics = deps.metrics ?? createMetricsRegistry({ defaultMetrics: config.env !== 'test' });
  const closers: Array<() => Promise<void>> = [];
  // app-build: each capability builds its services here and adds them to ctx / closers.
  const etaPredictor = await createEtaPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
  const email = createEmailCapability({ config, log, warehouse, events, metrics, predictor: etaPredictor });
  await email.start();
  closers.push(() => email.close());
  const graphql = await createGraphQLApi({ config, log, warehouse, events, metrics, predictor: () => etaPredictor, resolvers: [emailResolvers({ service: email.service, warehouse })], models: createFileModelStore(config.modelsDir), train: modelTrainer({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend }) });
  closers.push(() => graphql.close());
  const ingestion = createIngestion({ config, log, warehouse, events, metrics, predictor: () => etaPredictor });
  closers.push(() => ingestion.close());
  const reports = reportRoutes({ warehouse, apiKeys: createApiKeyStore(warehouse), log });
  const ctx: AppContext = {
    config,
    log,
    warehouse,
    events,
    metrics,
    // app-context-values: one line per capability.
    etaPredictor,
    graphql,
    email,
    ingestion,
  };
  const routes: Route[] = [
    ...operationalRoutes(ctx, async () => undefined),
    // app-routes: one line per capability.
    graphql.route,
    ...email.routes,
    ...ingestion.routes,
    ...reports,
  ];
  return {
    ctx,
    handler: createRouter(routes),
    async close() {
      for (const c of closers.reverse()) await c();
      if (ownsWarehouse) {
        await warehouse.checkpoint().catch(() => undefined);
        await warehouse.close();
      }
    },
  };
}
