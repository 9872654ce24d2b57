/**
 * The GraphQL capability as the app composes it: key store, training-job runner and server,
 * mounted at `/graphql`.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import type { EtaPredictor } from '../domain/eta.js';
import type { ModelKind, ModelStore } from '../domain/models.js';
import type { Route } from '../http/router.js';
import { createApiKeyStore, type ApiKeyStore } from '../auth/api-keys.js';
import { createTrainingJobs, type TrainFn, type TrainingJobs } from './training-jobs.js';
import { loadPersistedOperations } from './persisted-operations.js';
import { createTrackingIndex } from './tracking-index.js';
import { cachePredictions } from './prediction-cache.js';
import { createGraphQLServer, type GraphQLServer } from './server.js';
import type { Resolvers } from './generated/resolvers-types.js';
import { trainEta, type TrainEtaDeps, type TrainEtaOptions } from '../ml/eta/train.js';
import { trainReturns, type TrainReturnsOptions } from '../ml/returns/train.js';
import { activateNba, trainNba, type TrainNbaOptions } from '../ml/nba/train.js';
import { ShipcastError } from '../errors.js';
import type { CoreDeps } from '../core-deps.js';
import type { ReadOnlyOptions } from './read-only.js';

/** Options of each kind's training run behind `trainModel` (tests pass tiny ones; defaults are the trainers'). */
export interface ModelTrainerOptions {
  eta?: TrainEtaOptions;
  returns?: Omit<TrainReturnsOptions, 'activate'>;
  nba?: Omit<TrainNbaOptions, 'override' | 'noActivate'>;
}

/**
 * The `train` function for `trainModel`: every kind trains in-process into `deps.modelsDir`. ETA
 * and returns models are registered and activated; an NBA policy is registered and activated only
 * if the off-policy gate passes (never by override over the API), else the outcome says why not.
 */
export function modelTrainer(deps: Omit<TrainEtaDeps, 'onEpoch'>, opts: ModelTrainerOptions = {}): TrainFn {
  return async (kind) => {
    switch (kind) {
      case 'eta': {
        const trained = await trainEta(deps, opts.eta);
        trained.model.dispose();
        return { version: trained.version };
      }
      case 'returns': {
        const trained = await trainReturns(deps, opts.returns);
        trained.fitted.model.dispose();
        return { version: trained.version };
      }
      case 'nba': {
        const trained = await trainNba(deps, opts.nba);
        trained.scorer.model.dispose();
        return trained.activated ? { version: trained.version } : { version: trained.version, notActivated: trained.gate.reason };
      }
    }
  };
}

/**
 * `activateModel`: makes a version active, then reloads what serves its kind (they cache the
 * active model) before answering. An NBA policy must pass its off-policy gate (`activateNba`)
 * unless `override`, which is logged and recorded; other kinds have no gate to override.
 */
export function modelActivator(deps: { models: ModelStore; modelsDir: string; log: CoreDeps['log']; reload?: Partial<Record<ModelKind, () => Promise<void>>> }) {
  return async (kind: ModelKind, version: string, opts: { override: boolean; by?: string }): Promise<void> => {
    if (kind === 'nba') await activateNba({ modelsDir: deps.modelsDir, log: deps.log }, version, opts);
    else if (opts.override) throw new ShipcastError('BAD_INPUT', `override: only an NBA policy has an activation gate to override, not a ${kind} model`, { field: 'override' });
    else await deps.models.activate(kind, version);
    await deps.reload?.[kind]?.();
  };
}

export interface GraphQLApiDeps extends CoreDeps {
  /** The app's ETA predictor, read on each use (it may appear after startup); without one, ETA fields answer MODEL_NOT_READY. */
  predictor?: () => EtaPredictor | undefined;
  models: ModelStore;
  /** Runs one training of a model kind (`modelTrainer`). */
  train: TrainFn;
  /** The serving objects of the other kinds, reloaded when a training of theirs succeeds (ETA reloads `predictor`). */
  reload?: Partial<Record<Exclude<ModelKind, 'eta'>, () => Promise<void>>>;
  /** Resolver maps of other capabilities. */
  resolvers?: readonly Resolvers[];
  /** Serve as a read-only API replica (docs/SCALE.md, section 4): reads only, writes refused naming the writer. */
  readOnly?: ReadOnlyOptions;
}

export interface GraphQLApi {
  route: Route;
  server: GraphQLServer;
  apiKeys: ApiKeyStore;
  jobs: TrainingJobs;
  /** The predictor resolvers use (the app's, behind the prediction cache); its `reload` also empties the cache. */
  predictor: () => EtaPredictor | undefined;
  close(): Promise<void>;
}

/** Where the persisted-operations manifest is read from. */
export function persistedOperationsFile(config: Config): string {
  return path.join(config.dataDir, 'persisted-operations.json');
}

export async function createGraphQLApi(deps: GraphQLApiDeps): Promise<GraphQLApi> {
  const { config, log, warehouse, events, models } = deps;
  const rawPredictor = deps.predictor ?? (() => undefined);
  let cached: { inner: EtaPredictor; outer: EtaPredictor } | undefined;
  // The cache wraps whichever predictor the app currently has (it may be replaced).
  const predictor = (): EtaPredictor | undefined => {
    const inner = rawPredictor();
    if (!inner) return undefined;
    if (cached?.inner !== inner) cached = { inner, outer: cachePredictions(inner, events) };
    return cached.outer;
  };
  const apiKeys = createApiKeyStore(warehouse);
  const jobs = await createTrainingJobs({
    warehouse,
    train: deps.train,
    log,
    readOnly: deps.readOnly !== undefined,
    onSucceeded: async (kind) => {
      if (kind === 'eta') await predictor()?.reload();
      else await deps.reload?.[kind]?.();
    },
  });
  const activate = modelActivator({ models, modelsDir: config.modelsDir, log, reload: { ...deps.reload, eta: async () => predictor()?.reload() } });
  const persistedOperations = loadPersistedOperations(persistedOperationsFile(config));
  if (config.http.persistedOnly && persistedOperations.size === 0) {
    log.warn({ file: persistedOperationsFile(config) }, 'persisted-only mode with no persisted operations: every operation will be refused');
  }
  const server = createGraphQLServer(
    { services: { warehouse, log, events, predictor, models, activate, jobs, trackingIndex: createTrackingIndex(warehouse), apiKeys }, apiKeys, log },
    {
      graphiql: config.env === 'development',
      persistedOnly: config.http.persistedOnly,
      persistedOperations,
      resolvers: deps.resolvers,
      metrics: deps.metrics,
      readOnly: deps.readOnly,
    },
  );
  return {
    route: { method: '*', path: '/graphql', handler: server.handler },
    server,
    apiKeys,
    jobs,
    predictor,
    close: () => jobs.close(),
  };
}
