import DataLoader from 'dataloader';
import type { Logger } from '../log.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { DomainEvents } from '../domain/events.js';
import type { EtaPrediction, EtaPredictor } from '../domain/eta.js';
import type { ModelKind, ModelStore } from '../domain/models.js';
import type { ApiKeyStore, Principal } from '../auth/api-keys.js';
import { ShipcastError } from '../errors.js';
import type { TrainingJobs } from './training-jobs.js';
import type { TrackingIndex } from './tracking-index.js';
import type { CustomerRecord, OrderRecord, ShipmentRecord, TrackingEventRecord } from './records.js';
import { customersByIds, eventsByTrackingNumbers, ordersByIds, shipmentsByTrackingNumbers } from './shipment-queries.js';

/** The long-lived services resolvers use; built once per app. */
export interface GraphQLServices {
  warehouse: Warehouse;
  log: Logger;
  events: DomainEvents;
  /** The ETA predictor, read on each use; undefined until the app has one (ETA fields then fail with MODEL_NOT_READY). */
  predictor: () => EtaPredictor | undefined;
  models: ModelStore;
  /** Activates a version and reloads what serves its kind; an NBA policy must pass its gate unless `override`. */
  activate: (kind: ModelKind, version: string, opts: { override: boolean; by?: string }) => Promise<void>;
  jobs: TrainingJobs;
  trackingIndex: TrackingIndex;
  apiKeys: ApiKeyStore;
}

/** Per-request batching: each loader turns the field resolutions of one request into one query or model call. */
export interface Loaders {
  shipmentByTracking: DataLoader<string, ShipmentRecord | null>;
  /** Tracking number → shipment id, through the shared cache. */
  shipmentIdByTracking: DataLoader<string, string | null>;
  order: DataLoader<string, OrderRecord | null>;
  customer: DataLoader<string, CustomerRecord | null>;
  eventsByTracking: DataLoader<string, TrackingEventRecord[]>;
  /** By shipment id; null when the predictor has nothing (delivered, unknown). */
  eta: DataLoader<string, EtaPrediction | null>;
}

/** What every resolver receives. */
export interface GraphQLContext {
  /** Set by the HTTP layer once the API key is verified; absent only for GraphiQL's page. */
  principal?: Principal;
  services: GraphQLServices;
  loaders: Loaders;
  /** One clock reading per request, so every field of a response agrees. */
  now: Date;
  limits: { maxPageSize: number; maxBatchSize: number };
}

export function createLoaders(s: GraphQLServices, now: Date): Loaders {
  const db = s.warehouse;
  const fromMap = <K, V>(keys: readonly K[], m: Map<K, V>) => keys.map((k) => m.get(k) ?? null);
  return {
    shipmentByTracking: new DataLoader(async (keys) => fromMap(keys, await shipmentsByTrackingNumbers(db, keys))),
    shipmentIdByTracking: new DataLoader(async (keys) => fromMap(keys, await s.trackingIndex.resolve(keys))),
    order: new DataLoader(async (keys) => fromMap(keys, await ordersByIds(db, keys))),
    customer: new DataLoader(async (keys) => fromMap(keys, await customersByIds(db, keys))),
    eventsByTracking: new DataLoader(async (keys) => {
      const m = await eventsByTrackingNumbers(db, keys);
      return keys.map((k) => m.get(k) ?? []);
    }),
    eta: new DataLoader(async (ids) => {
      const predictor = s.predictor();
      if (!predictor) throw new ShipcastError('MODEL_NOT_READY', 'no ETA model is available yet; train one with trainModel(kind: ETA)');
      return fromMap(ids, await predictor.predict(ids, now));
    }),
  };
}
