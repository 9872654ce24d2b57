import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import { createTrainingJobs } from '../../src/graphql/training-jobs.js';
import { silentLogger } from '../../src/log.js';
import { codes, createFixture, type Fixture } from './helpers.js';

let fx: Fixture;
let release: () => void = () => undefined;
const trained: string[] = [];
beforeAll(async () => {
  fx = await createFixture({
    train: async (kind) => {
      if (kind === 'nba') throw new Error('not enough logged decisions');
      // Held until the test releases it, so the RUNNING state is observable.
      await new Promise<void>((r) => (release = r));
      trained.push(kind);
      return { version: `${kind}-v9` };
    },
  });
});
afterAll(() => {
  release();
  return fx.close();
});

const JOB = `query($id: ID!) { trainingJob(id: $id) { id kind status modelVersion error startedAt finishedAt } }`;

describe('models and training jobs', () => {
  it('lists models with metrics and fetches one', async () => {
    const { body } = await fx.gql(`{ models(kind: ETA) { kind version active metrics createdAt dataFingerprint } model(kind: ETA, version: "eta-test-2") { version active } missing: model(kind: ETA, version: "nope") { version } }`);
    expect(body.data!.models).toHaveLength(2);
    expect(body.data!.models[0]).toMatchObject({ kind: 'ETA', version: 'eta-test-1', active: true, metrics: { mae_days: 1.2, coverage80: 0.81 } });
    expect(body.data!.model).toEqual({ version: 'eta-test-2', active: false });
    expect(body.data!.missing).toBeNull();
  });

  it('trainModel returns a queued job at once, which runs and succeeds; a second request joins it', async () => {
    const reloads = fx.predictor.reloads;
    const { body } = await fx.gql(`mutation { trainModel(kind: ETA) { id kind status } }`, undefined, { key: fx.keys['data-scientist'] });
    expect(body.data!.trainModel).toMatchObject({ kind: 'ETA', status: 'QUEUED' });
    const id = body.data!.trainModel.id;
    await expect.poll(async () => (await fx.gql(JOB, { id })).body.data!.trainingJob.status).toBe('RUNNING');
    const again = await fx.gql(`mutation { trainModel(kind: ETA) { id } }`);
    expect(again.body.data!.trainModel.id).toBe(id);
    release();
    await fx.jobs.idle();
    const done = (await fx.gql(JOB, { id })).body.data!.trainingJob;
    expect(done).toMatchObject({ status: 'SUCCEEDED', modelVersion: 'eta-v9', error: null });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
    expect(fx.predictor.reloads).toBe(reloads + 1);
    expect(trained).toEqual(['eta']);
  });

  it('records a failed training with its reason', async () => {
    const { body } = await fx.gql(`mutation { trainModel(kind: NBA) { id } }`);
    await fx.jobs.idle();
    const job = (await fx.gql(JOB, { id: body.data!.trainModel.id })).body.data!.trainingJob;
    expect(job).toMatchObject({ status: 'FAILED', error: 'not enough logged decisions', modelVersion: null });
  });

  it('activateModel switches the active version and reloads the predictor', async () => {
    const reloads = fx.predictor.reloads;
    const { body } = await fx.gql(`mutation { activateModel(kind: ETA, version: "eta-test-2") { version active } }`);
    expect(body.data!.activateModel).toEqual({ version: 'eta-test-2', active: true });
    expect(await fx.models.activeVersion('eta')).toBe('eta-test-2');
    expect(fx.predictor.reloads).toBe(reloads + 1);
    const missing = await fx.gql(`mutation { activateModel(kind: ETA, version: "nope") { version } }`);
    expect(codes(missing.body)).toEqual(['NOT_FOUND']);
  });

  it('marks jobs a previous process left unfinished as failed', async () => {
    const wh = await openWarehouse(':memory:');
    try {
      await wh.run(`INSERT INTO model_training_jobs (job_id, kind, status, created_at) VALUES ('j1', 'eta', 'running', now())`);
      const jobs = await createTrainingJobs({ warehouse: wh, train: async () => ({ version: 'x' }), log: silentLogger() });
      expect(await jobs.get('j1')).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
      await jobs.close();
    } finally {
      await wh.close();
    }
  });
});
