/**
 * `trainModel(kind: RETURNS | NBA)` over a real socket on 127.0.0.1, as the app composes it
 * (`createGraphQLApi` with `modelTrainer` and the serving objects to reload): a generated
 * warehouse, real trainings with tiny sizes. A returns training activates and the predictor
 * serves it at once; on this fixed sample the NBA gate refuses (by a wide margin, and the same
 * every run), so the job ends FAILED with the registered version and the gate's reason, and
 * nothing is activated or reloaded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DomainEvents } from '../../src/domain/events.js';
import type { NextBestActionService } from '../../src/domain/nba.js';
import type { ReturnsPredictor } from '../../src/domain/returns.js';
import type { TrainFn } from '../../src/graphql/training-jobs.js';
import { createGraphQLApi, modelTrainer, type GraphQLApi } from '../../src/graphql/api.js';
import { returnsResolvers } from '../../src/graphql/resolvers/returns.js';
import { nbaResolvers } from '../../src/graphql/resolvers/nba.js';
import { createRouter, listen, type RunningServer } from '../../src/http/router.js';
import { silentLogger } from '../../src/log.js';
import { createNbaService } from '../../src/ml/nba/service.js';
import { createReturnsPredictor } from '../../src/ml/returns/predictor.js';
import { createFileModelStore } from '../../src/ml/registry/file-model-store.js';
import { createMetricsRegistry } from '../../src/observability/metrics.js';
import { generateSample } from '../../src/synth/generate.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { FixedPredictor } from './helpers.js';

// A fixed sample: the gate's verdict on a tiny one depends on the data, so it must not move with the clock.
const AS_OF = new Date('2026-06-01T00:00:00Z');
const log = silentLogger();
let dir: string;
let wh: Warehouse;
let api: GraphQLApi;
let srv: RunningServer;
let returnsPredictor: ReturnsPredictor;
let nba: NextBestActionService;
let key: string;
let order: string;

/** The app's GraphQL capability over `wh` with `train` and the real serving objects; served on 127.0.0.1. */
async function serveApi(train: TrainFn, reload: { returns: () => Promise<void>; nba: () => Promise<void> }) {
  const config = loadConfig({ SHIPCAST_ENV: 'test', SHIPCAST_MODELS_DIR: path.join(dir, 'models'), SHIPCAST_DATA_DIR: path.join(dir, 'data') });
  const graphql = await createGraphQLApi({
    config, log, warehouse: wh, events: new DomainEvents(), metrics: createMetricsRegistry({ defaultMetrics: false }),
    models: createFileModelStore(config.modelsDir), train, reload,
    resolvers: [returnsResolvers({ predictor: () => returnsPredictor }), nbaResolvers({ service: () => nba, modelsDir: config.modelsDir })],
  });
  return { graphql, server: await listen(createRouter([graphql.route]), { host: '127.0.0.1', port: 0 }) };
}

async function gql(url: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: { code: string } }> };
}

const JOB = 'query($id: ID!) { trainingJob(id: $id) { kind status modelVersion error } }';

/** Submits `kind` over HTTP and returns the finished job. */
async function trainOver(url: string, graphql: GraphQLApi, kind: string) {
  const queued = await gql(url, `mutation { trainModel(kind: ${kind}) { id status } }`);
  expect(queued.errors).toBeUndefined();
  expect(queued.data.trainModel.status).toBe('QUEUED');
  await graphql.jobs.idle();
  return (await gql(url, JOB, { id: queued.data.trainModel.id })).data.trainingJob;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-train-kinds-'));
  wh = await openWarehouse(':memory:');
  await generateSample(wh, { seed: 9, shipments: 3000, asOf: AS_OF });
  order = (await wh.one<{ order_id: string }>('SELECT order_id FROM shipments WHERE delivered_at IS NOT NULL ORDER BY delivered_at DESC LIMIT 1'))!.order_id;
  const modelsDir = path.join(dir, 'models');
  returnsPredictor = await createReturnsPredictor({ warehouse: wh, modelsDir, log, tfBackend: 'wasm' });
  nba = await createNbaService({ warehouse: wh, modelsDir, log, predictor: () => new FixedPredictor(new Map()), tfBackend: 'wasm' });
  const train = modelTrainer({ warehouse: wh, modelsDir, log, tfBackend: 'wasm' }, { returns: { epochs: 3 }, nba: { seed: 42, epochs: 3, bootstrap: 100 } });
  ({ graphql: api, server: srv } = await serveApi(train, { returns: () => returnsPredictor.reload(), nba: () => nba.reload() }));
  key = (await api.apiKeys.create({ role: 'admin', ratePerSecond: 10_000 })).key;
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await api?.close();
  await wh?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('trainModel for the returns and NBA kinds', () => {
  it('RETURNS trains, activates and reloads the predictor, which serves the version at once', async () => {
    const before = await gql(srv.url, `{ returnRisk(orderId: "${order}") { modelVersion } }`);
    expect(before.errors?.map((e) => e.extensions.code)).toEqual(['MODEL_NOT_READY']);
    const job = await trainOver(srv.url, api, 'RETURNS');
    expect(job).toMatchObject({ kind: 'RETURNS', status: 'SUCCEEDED', error: null });
    const store = createFileModelStore(path.join(dir, 'models'));
    expect(await store.activeVersion('returns')).toBe(job.modelVersion);
    // Reloaded by the job itself, before any request re-read the pointer.
    expect(returnsPredictor.activeVersion()).toBe(job.modelVersion);
    const risk = await gql(srv.url, `{ returnRisk(orderId: "${order}") { modelVersion probability } }`);
    expect(risk.errors).toBeUndefined();
    expect(risk.data.returnRisk.modelVersion).toBe(job.modelVersion);
    expect(risk.data.returnRisk.probability).toBeGreaterThan(0);
    expect(risk.data.returnRisk.probability).toBeLessThan(1);
  }, 60_000);

  it('NBA registers a policy; the gate refuses it here, so the job says so, keeps the version and activates nothing', async () => {
    const job = await trainOver(srv.url, api, 'NBA');
    expect(job).toMatchObject({ kind: 'NBA', status: 'FAILED' });
    expect(job.modelVersion).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}/);
    expect(job.error).toContain(`registered nba version ${job.modelVersion} but did not activate it: refused: DR lower bound`);
    expect(await createFileModelStore(path.join(dir, 'models')).activeVersion('nba')).toBeUndefined();
    expect(nba.activeVersion()).toBeUndefined();
    const info = await gql(srv.url, `{ model(kind: NBA, version: "${job.modelVersion}") { active metrics } }`);
    expect(info.data.model.active).toBe(false);
    expect(info.data.model.metrics.gate.passed).toBe(false);
    expect(job.error).toContain(info.data.model.metrics.gate.reason);
    const evaluation = await gql(srv.url, `{ nbaPolicyEvaluation(version: "${job.modelVersion}") { policyVersion active gatePassed } }`);
    expect(evaluation.data.nbaPolicyEvaluation).toEqual({ policyVersion: job.modelVersion, active: false, gatePassed: false });
    const decision = await gql(srv.url, '{ nextBestAction(trackingNumber: "any") { action } }');
    expect(decision.errors?.map((e) => e.extensions.code)).toEqual(['MODEL_NOT_READY']);
  }, 60_000);

  it('activateModel(kind: NBA) goes through the gate: CONFLICT with the reason, then override activates, reloads and is recorded', async () => {
    const versions = await createFileModelStore(path.join(dir, 'models')).list('nba');
    const version = versions[0]!.version;
    const refused = await gql(srv.url, `mutation { activateModel(kind: NBA, version: "${version}") { version active } }`);
    expect(refused.errors?.map((e) => e.extensions.code)).toEqual(['CONFLICT']);
    expect(refused.errors![0].message).toContain('refused: DR lower bound');
    expect(nba.activeVersion()).toBeUndefined();
    const notNba = await gql(srv.url, `mutation { activateModel(kind: RETURNS, version: "${returnsPredictor.activeVersion()}", override: true) { version } }`);
    expect(notNba.errors?.map((e) => e.extensions.code)).toEqual(['BAD_INPUT']);
    const forced = await gql(srv.url, `mutation { activateModel(kind: NBA, version: "${version}", override: true) { version active } }`);
    expect(forced.errors).toBeUndefined();
    expect(forced.data.activateModel).toEqual({ version, active: true });
    // Reloaded before the answer, and the override is kept with the version, naming the key that asked.
    expect(nba.activeVersion()).toBe(version);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'models', 'nba', version, 'meta.json'), 'utf8'));
    expect(meta.activation).toMatchObject({ overridden: true, by: expect.any(String) });
    expect(meta.activation.reason).toContain('overridden: activated although DR lower bound');
  }, 60_000);

  it('a job reloads the serving object of its own kind only, and only when it activated the version', async () => {
    const reloads: string[] = [];
    const outcomes: Record<string, Awaited<ReturnType<TrainFn>>> = {
      returns: { version: 'returns-v2' },
      nba: { version: 'nba-v2' },
    };
    const train: TrainFn = async (kind) => outcomes[kind];
    const other = await serveApi(train, { returns: async () => void reloads.push('returns'), nba: async () => void reloads.push('nba') });
    try {
      expect((await trainOver(other.server.url, other.graphql, 'NBA')).status).toBe('SUCCEEDED');
      expect(reloads).toEqual(['nba']);
      expect((await trainOver(other.server.url, other.graphql, 'RETURNS')).status).toBe('SUCCEEDED');
      expect(reloads).toEqual(['nba', 'returns']);
      outcomes.nba = { version: 'nba-v3', notActivated: 'refused: the gate said no' };
      const refused = await trainOver(other.server.url, other.graphql, 'NBA');
      expect(refused).toEqual({ kind: 'NBA', status: 'FAILED', modelVersion: 'nba-v3', error: 'registered nba version nba-v3 but did not activate it: refused: the gate said no' });
      expect(reloads).toEqual(['nba', 'returns']);
    } finally {
      await other.server.close();
      await other.graphql.close();
    }
  });
});
