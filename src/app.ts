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
import { createNbaService } from './ml/nba/service.js';
import { nbaResolvers } from './graphql/resolvers/nba.js';
import type { NextBestActionService } from './domain/nba.js';
import { emailResolvers } from './graphql/email/email-resolvers.js';
import { createGraphQLApi, modelTrainer, type GraphQLApi } from './graphql/api.js';
import { createFileModelStore } from './ml/registry/file-model-store.js';
import { createEtaPredictor } from './ml/eta/predictor.js';
import { createReturnsPredictor } from './ml/returns/predictor.js';
import type { ReturnsPredictor } from './domain/returns.js';
import { returnsResolvers } from './graphql/resolvers/returns.js';
import type { EtaPredictor } from './domain/eta.js';
import { createEmailCapability, type EmailCapability } from './email/email-capability.js';
import { createIngestion, type Ingestion } from './ingest/ingestion.js';
import { serveKafkaIngest } from './ingest/kafka-ingest.js';
import { reportRoutes } from './reports/report-routes.js';
import { createApiKeyStore } from './auth/api-keys.js';
import { ShipcastError } from './errors.js';
import { startSnapshotPublisher } from './warehouse/snapshot.js';
import { createSwappableWarehouse } from './warehouse/swappable-warehouse.js';
import { refusingMailer, writerOnlyRoutes } from './replica/writer-only-routes.js';
import { createReplicaRefresher, replicaMetrics, type RefreshOutcome, type ReplicaRefresher } from './replica/replica-refresh.js';
import { replicaModelResolvers } from './replica/replica-model-resolvers.js';
import { linkSecretReadable } from './email/link-tokens.js';

/** Everything a request handler or worker may need, built once per process. */
export interface AppContext {
  config: Config;
  log: Logger;
  warehouse: Warehouse;
  events: DomainEvents;
  metrics: Registry;
  // app-context-fields: one line per capability.
  /** The active next-best-action policy (decides and logs); MODEL_NOT_READY until one is activated. */
  nextBestAction: NextBestActionService;
  /** The active ETA model (shared by GraphQL, ingestion and email); MODEL_NOT_READY until one is trained. */
  etaPredictor: EtaPredictor;
  /** The active returns model (GraphQL `returnRisk`); MODEL_NOT_READY until one is trained. */
  returnsPredictor: ReturnsPredictor;
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
function operationalRoutes(ctx: Pick<AppContext, 'warehouse' | 'log' | 'metrics'>, ready: () => Promise<string | undefined>): Route[] {
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
  if (config.replication.role === 'replica') throw new ShipcastError('BAD_CONFIG', 'SHIPCAST_ROLE: a replica is built by createReplicaApp (`shipcast serve --replica`)', { field: 'SHIPCAST_ROLE' });
  const ownsWarehouse = deps.warehouse === undefined;
  const warehouse = deps.warehouse ?? (await openWarehouse(config.dbPath));
  const log = deps.log;
  const events = new DomainEvents((err, event) => log.error({ err, event: (event as { type?: string }).type }, 'domain event handler failed'));
  const metrics = deps.metrics ?? createMetricsRegistry({ defaultMetrics: config.env !== 'test' });
  const closers: Array<() => Promise<void>> = [];
  // app-build: each capability builds its services here and adds them to ctx / closers.
  const etaPredictor = await createEtaPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
  // The risk reads the API's cached ETA windows (exact until the shipment's next event), built below.
  const nextBestAction = await createNbaService({ warehouse, modelsDir: config.modelsDir, log, predictor: () => graphql.predictor() ?? etaPredictor, tfBackend: config.tfBackend });
  const returnsPredictor = await createReturnsPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
  const email = createEmailCapability({ config, log, warehouse, events, metrics, predictor: etaPredictor, nextBestAction });
  await email.start();
  closers.push(() => email.close());
  const graphql = await createGraphQLApi({ config, log, warehouse, events, metrics, predictor: () => etaPredictor, resolvers: [emailResolvers({ service: email.service, warehouse }), returnsResolvers({ predictor: () => returnsPredictor }), nbaResolvers({ service: () => nextBestAction, modelsDir: config.modelsDir })], models: createFileModelStore(config.modelsDir), train: modelTrainer({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend }, { eta: { epochs: config.etaEpochs }, nba: { reward: config.nba.reward } }), reload: { returns: () => returnsPredictor.reload(), nba: () => nextBestAction.reload() } });
  closers.push(() => graphql.close());
  const ingestion = createIngestion({ config, log, warehouse, events, metrics, predictor: () => etaPredictor });
  closers.push(() => ingestion.close());
  closers.push(serveKafkaIngest({ kafka: config.kafka, log, warehouse, store: ingestion.store })); // stops before ingestion drains
  const reports = reportRoutes({ warehouse, apiKeys: createApiKeyStore(warehouse), log });
  // Last, so it stops first: a round in progress finishes before the warehouse closes.
  const snapshots = config.replication.snapshotFile ? startSnapshotPublisher(warehouse, config.replication.snapshotFile, config.replication.snapshotEverySeconds, log) : undefined;
  if (snapshots) closers.push(() => snapshots.stop());
  const ctx: AppContext = {
    config,
    log,
    warehouse,
    events,
    metrics,
    // app-context-values: one line per capability.
    nextBestAction,
    etaPredictor,
    returnsPredictor,
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

/** What an API replica is built from and serves with; see `createReplicaApp`. */
export interface ReplicaContext {
  config: Config;
  log: Logger;
  /** The snapshot, read-only; reopened in place when the writer publishes a new one. */
  warehouse: Warehouse;
  events: DomainEvents;
  metrics: Registry;
  etaPredictor: EtaPredictor;
  /** The active returns model over the snapshot (`returnRisk`). */
  returnsPredictor: ReturnsPredictor;
  graphql: GraphQLApi;
  refresher: ReplicaRefresher;
}

export interface ReplicaApp {
  ctx: ReplicaContext;
  handler: FetchHandler;
  /** Reopens the snapshot and reloads the active models now (SIGHUP). */
  refresh(): Promise<RefreshOutcome>;
  close(): Promise<void>;
}

/**
 * Builds a stateless API replica (docs/SCALE.md, section 4) over `config.dbPath`, a snapshot the
 * writer publishes, opened read-only so any number of replicas share it: GraphQL queries (ETAs,
 * shipments, models, email previews, return risks, NBA policy evaluations), reports and the
 * operational routes. Mutations, subscriptions and `nextBestAction` (it logs each decision)
 * answer READ_ONLY_REPLICA, webhooks and email links 503; no worker starts. Every
 * cache (API keys, tracking numbers, predictions, the online calibration) is per process.
 */
export async function createReplicaApp(config: Config, deps: { log: Logger; metrics?: Registry }): Promise<ReplicaApp> {
  const log = deps.log.child({ role: 'replica' });
  const readOnly = { writerUrl: config.replication.writerUrl };
  // Previews sign links; with a key of its own a replica would show links the writer refuses.
  if (!linkSecretReadable(config.linkSecret, config.dataDir)) {
    throw new ShipcastError('BAD_CONFIG', `SHIPCAST_LINK_SECRET: a replica signs links with the writer's key; set it, or give the replica the writer's ${config.dataDir}/link-secret`, { field: 'SHIPCAST_LINK_SECRET' });
  }
  const open = (file: string) => openWarehouse(file, { readOnly: true });
  const warehouse = createSwappableWarehouse(await open(config.dbPath));
  try {
    const events = new DomainEvents((err, event) => log.error({ err, event: (event as { type?: string }).type }, 'domain event handler failed'));
    const metrics = deps.metrics ?? createMetricsRegistry({ defaultMetrics: config.env !== 'test' });
    const models = createFileModelStore(config.modelsDir);
    const etaPredictor = await createEtaPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
    const returnsPredictor = await createReturnsPredictor({ warehouse, modelsDir: config.modelsDir, log, tfBackend: config.tfBackend });
    // For its GraphQL reads (previews, messages) only: the worker never starts, and the mailer refuses.
    const email = createEmailCapability({ config, log, warehouse, events, metrics, predictor: etaPredictor, mailer: refusingMailer() });
    const graphql = await createGraphQLApi({
      config, log, warehouse, events, metrics, predictor: () => etaPredictor, models, readOnly,
      resolvers: [emailResolvers({ service: email.service, warehouse }), replicaModelResolvers({ returnsPredictor: () => returnsPredictor, modelsDir: config.modelsDir, readOnly })],
      train: async () => {
        throw new ShipcastError('READ_ONLY_REPLICA', 'kind: training runs on the writer; this server is a read-only API replica', { field: 'kind' });
      },
    });
    const refresher = await createReplicaRefresher({
      warehouse, file: config.dbPath, open, models, predictor: graphql.predictor, returnsPredictor, log, pollSeconds: config.replication.pollSeconds, onRefreshed: replicaMetrics(metrics),
    });
    const ctx: ReplicaContext = { config, log, warehouse, events, metrics, etaPredictor, returnsPredictor, graphql, refresher };
    const routes: Route[] = [
      ...operationalRoutes(ctx, async () => undefined),
      graphql.route,
      ...reportRoutes({ warehouse, apiKeys: graphql.apiKeys, log }),
      ...writerOnlyRoutes(readOnly),
    ];
    return {
      ctx,
      handler: createRouter(routes),
      refresh: () => refresher.refresh(),
      async close() {
        await refresher.stop();
        await graphql.close();
        await email.close();
        await warehouse.close();
      },
    };
  } catch (e) {
    await warehouse.close();
    throw e;
  }
}
