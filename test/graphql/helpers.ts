/**
 * Test fixtures for the GraphQL API: a real in-memory DuckDB with a few shipments, small in-test
 * implementations of the EtaPredictor and ModelStore interfaces, one key per role, and the server.
 */
import os from 'node:os';
import path from 'node:path';
import { DomainEvents } from '../../src/domain/events.js';
import type { EtaPrediction, EtaPredictor } from '../../src/domain/eta.js';
import type { ModelInfo, ModelKind, ModelStore } from '../../src/domain/models.js';
import { ShipcastError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createApiKeyStore, type ApiKeyStore } from '../../src/auth/api-keys.js';
import { ROLES, type Role } from '../../src/auth/roles.js';
import { createGraphQLServer, type GraphQLServer, type GraphQLServerOptions } from '../../src/graphql/server.js';
import { createTrainingJobs, type TrainFn, type TrainingJobs } from '../../src/graphql/training-jobs.js';
import { createTrackingIndex } from '../../src/graphql/tracking-index.js';
import { modelActivator } from '../../src/graphql/api.js';

export const DAY = 86_400_000;

/** A predictor over fixed windows that records each call, so tests can count model invocations. */
export class FixedPredictor implements EtaPredictor {
  calls: string[][] = [];
  reloads = 0;
  failWith?: Error;
  constructor(readonly windows: Map<string, Omit<EtaPrediction, 'predictedAt' | 'shipmentId'>>, private version = 'eta-test-1') {}
  async predict(ids: readonly string[], now = new Date()): Promise<Map<string, EtaPrediction>> {
    this.calls.push([...ids]);
    if (this.failWith) throw this.failWith;
    const out = new Map<string, EtaPrediction>();
    for (const id of ids) {
      const w = this.windows.get(id);
      if (w) out.set(id, { ...w, shipmentId: id, predictedAt: now });
    }
    return out;
  }
  activeVersion() {
    return this.version;
  }
  async reload() {
    this.reloads++;
  }
}

export class MemoryModelStore implements ModelStore {
  constructor(public models: ModelInfo[] = []) {}
  async list(kind?: ModelKind) {
    return this.models.filter((m) => kind === undefined || m.kind === kind);
  }
  async get(kind: ModelKind, version: string) {
    return this.models.find((m) => m.kind === kind && m.version === version);
  }
  async activeVersion(kind: ModelKind) {
    return this.models.find((m) => m.kind === kind && m.active)?.version;
  }
  async activate(kind: ModelKind, version: string) {
    if (!(await this.get(kind, version))) throw new ShipcastError('NOT_FOUND', `version: no ${kind} model ${version}`, { field: 'version' });
    for (const m of this.models) if (m.kind === kind) m.active = m.version === version;
  }
}

export interface Fixture {
  warehouse: Warehouse;
  events: DomainEvents;
  predictor: FixedPredictor;
  models: MemoryModelStore;
  jobs: TrainingJobs;
  apiKeys: ApiKeyStore;
  keys: Record<Role, string>;
  server: GraphQLServer;
  now: number;
  /** POSTs a GraphQL operation in-process with the given key (admin by default). */
  gql(query: string, variables?: Record<string, unknown>, opts?: { key?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: GqlBody; res: Response }>;
  close(): Promise<void>;
}

export interface GqlBody {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

/** Number of bulk shipments (B000…) in addition to the four named ones; every third is AT_RISK (P90 after its promise). */
export const BULK = 150;

async function seed(wh: Warehouse, now: number): Promise<Map<string, Omit<EtaPrediction, 'predictedAt' | 'shipmentId'>>> {
  const iso = (ms: number) => new Date(ms).toISOString();
  await wh.run(`INSERT INTO customers (customer_id, email, first_name, locale, time_zone, postal_prefix, city, region, country)
    VALUES ('C1', 'ana@example.com', 'Ana', 'pt-BR', 'America/Sao_Paulo', '01310', 'São Paulo', 'SP', 'BR')`);
  await wh.run(`INSERT INTO orders (order_id, customer_id, status, channel, currency, subtotal, shipping_charged, total, purchased_at)
    VALUES ('O1', 'C1', 'shipped', 'web', 'BRL', 100, 10, 110, $1)`, [iso(now - 3 * DAY)]);
  const named: Array<[string, string, string, string, number, boolean]> = [
    // id, tracking, status, carrier, promise offset (days), delivered
    ['S1', 'TN1', 'in_transit', 'ups', 5, false],
    ['S2', 'TN2', 'out_for_delivery', 'fedex', 2, false],
    ['S3', 'TN3', 'delivered', 'ups', 1, true],
    ['S4', 'TN4', 'exception', 'dhl', 1, false],
  ];
  for (const [id, tn, status, carrier, promise, delivered] of named) {
    await wh.run(
      `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, origin_city, origin_region, origin_country,
         dest_postal_prefix, dest_city, dest_region, dest_country, shipped_at, promised_at, delivered_at, status, status_at)
       VALUES ($1, 'O1', $2, $3, 'ground', 'Curitiba', 'PR', 'BR', '01310', 'São Paulo', 'SP', 'BR', $4, $5, $6, $7, $8)`,
      [id, tn, carrier, iso(now - 2 * DAY), iso(now + promise * DAY), delivered ? iso(now - DAY) : null, status, iso(now - DAY)],
    );
  }
  await wh.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, shipped_at, promised_at, status)
     SELECT printf('B%03d', i), 'O1', printf('BTN%03d', i), CASE WHEN i % 2 = 0 THEN 'ups' ELSE 'fedex' END, 'ground',
            CAST($1 AS TIMESTAMPTZ) + to_days(CAST(i % 10 AS INTEGER)), CAST($2 AS TIMESTAMPTZ), 'in_transit'
     FROM range(${BULK}) t(i)`,
    [iso(now - 20 * DAY), iso(now + 10 * DAY)],
  );
  const events: Array<[string, string, string, number, string]> = [
    ['e1', 'TN1', 'info_received', 3, 'Label created'],
    ['e2', 'TN1', 'in_transit', 2, 'Departed facility'],
    ['e3', 'TN1', 'in_transit', 1, 'Arrived at hub'],
  ];
  for (const [eid, tn, status, daysAgo, desc] of events) {
    await wh.run(
      `INSERT INTO tracking_events (source, event_id, tracking_number, shipment_id, carrier, status, description, city, region, country, postal_code, occurred_at, received_at)
       VALUES ('webhook', $1, $2, 'S1', 'ups', $3, $4, 'Curitiba', 'PR', 'BR', '80010-000', $5, $5)`,
      [eid, tn, status, desc, iso(now - daysAgo * DAY)],
    );
  }
  const w = (p50Days: number, p90Days: number, basis: 'AT_PURCHASE' | 'IN_FLIGHT' = 'IN_FLIGHT') => ({
    p10: new Date(now + (p50Days - 1) * DAY),
    p50: new Date(now + p50Days * DAY),
    p90: new Date(now + p90Days * DAY),
    confidence: 0.8,
    modelVersion: 'eta-test-1',
    basis,
    latestEvent: basis === 'IN_FLIGHT' ? { eventId: 'e3', source: 'webhook', status: 'in_transit', occurredAt: new Date(now - DAY) } : undefined,
  });
  const windows = new Map<string, Omit<EtaPrediction, 'predictedAt' | 'shipmentId'>>([
    ['S1', w(3, 4)], // ON_TRACK (promise +5)
    ['S2', w(1.5, 3)], // AT_RISK (promise +2)
    ['S4', w(2, 3)], // LIKELY_LATE (promise +1)
  ]);
  for (let i = 0; i < BULK; i++) windows.set(`B${String(i).padStart(3, '0')}`, w(i % 3 === 0 ? 9 : 5, i % 3 === 0 ? 12 : 6, 'AT_PURCHASE'));
  return windows;
}

/** The fixture's registry is in memory; NBA activation (which reads policy files) finds no versions here. */
const NO_MODELS_DIR = path.join(os.tmpdir(), 'shipcast-fixture-has-no-model-files');

export async function createFixture(opts: Partial<GraphQLServerOptions> & { train?: TrainFn; warehouse?: Warehouse } = {}): Promise<Fixture> {
  const now = Date.now();
  const warehouse = opts.warehouse ?? (await openWarehouse(':memory:'));
  const windows = await seed(warehouse, now);
  const log = silentLogger();
  const events = new DomainEvents();
  const predictor = new FixedPredictor(windows);
  const models = new MemoryModelStore([
    { kind: 'eta', version: 'eta-test-1', createdAt: new Date(now - DAY), metrics: { mae_days: 1.2, coverage80: 0.81 }, dataFingerprint: 'abc', active: true },
    { kind: 'eta', version: 'eta-test-2', createdAt: new Date(now), metrics: { mae_days: 1.1 }, dataFingerprint: 'def', active: false },
  ]);
  const train: TrainFn = opts.train ?? (async (kind) => ({ version: `${kind}-trained` }));
  const jobs = await createTrainingJobs({ warehouse, train, log, onSucceeded: () => predictor.reload() });
  const apiKeys = createApiKeyStore(warehouse);
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) keys[role] = (await apiKeys.create({ role, label: `test ${role}`, ratePerSecond: 10_000 })).key;
  const server = createGraphQLServer(
    { services: { warehouse, log, events, predictor: () => predictor, models, activate: modelActivator({ models, modelsDir: NO_MODELS_DIR, log, reload: { eta: () => predictor.reload() } }), jobs, trackingIndex: createTrackingIndex(warehouse), apiKeys }, apiKeys, log },
    { graphiql: false, persistedOnly: false, ...opts },
  );
  const gql: Fixture['gql'] = async (query, variables, o = {}) => {
    const key = o.key === undefined ? keys.admin : o.key;
    const res = await server.handler(
      new Request('http://localhost/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...o.headers,
        },
        body: JSON.stringify({ query, variables }),
      }),
    );
    return { status: res.status, body: (await res.json()) as GqlBody, res };
  };
  return {
    warehouse, events, predictor, models, jobs, apiKeys, keys, server, now, gql,
    async close() {
      await jobs.close();
      if (!opts.warehouse) await warehouse.close();
    },
  };
}

export function codes(body: GqlBody): unknown[] {
  return (body.errors ?? []).map((e) => e.extensions?.code);
}
