import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { initTf } from '../../src/ml/backend.js';
import { queryEtaFeatures, type RawEtaRow } from '../../src/features/eta/feature-sql.js';
import { encodeRows, fitFeatureSpec } from '../../src/features/eta/feature-spec.js';
import { buildEtaModel, inputTensors, predictDays, quantileHead } from '../../src/ml/eta/model.js';
import { defaultMembers, ENSEMBLE_DEFAULT, fitEtaModel, memberSeed, SUBSAMPLED_MAX_EPOCHS } from '../../src/ml/eta/train.js';
import { frameFromRows, splitFrameByTime } from '../../src/features/eta/eta-frame.js';
import { encodeFrame } from '../../src/features/eta/encode-columns.js';
import { createFileModelStore } from '../../src/ml/registry/file-model-store.js';
import { loadEtaBundle, writeEtaBundle } from '../../src/ml/eta/bundle.js';
import { loadEtaFixture } from './eta-fixture.js';

describe('ETA model', () => {
  let wh: Warehouse;
  let rows: RawEtaRow[];
  let tmp: string;
  beforeAll(async () => {
    expect(await initTf('auto', silentLogger())).toBe('wasm');
    wh = await openWarehouse(':memory:');
    await loadEtaFixture(wh, { shipments: 600, days: 90, seed: 11 });
    rows = await queryEtaFeatures(wh, { kind: 'training', inFlightPerShipment: 1, seed: 1 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-'));
  });
  afterAll(async () => {
    await wh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('has the expected shapes', () => {
    const spec = fitFeatureSpec(rows);
    const model = buildEtaModel(spec, { seed: 1, towers: 2 });
    expect(model.outputs[0].shape).toEqual([null, 6]);
    const enc = encodeRows(rows.slice(0, 10), spec);
    const days = predictDays(model, enc, spec);
    expect(days).toHaveLength(30);
    model.dispose();
  });

  it('quantile heads never cross, whatever the raw outputs', () => {
    const raw = tf.randomNormal([5000, 9], 0, 20, 'float32', 3) as tf.Tensor2D;
    const q = quantileHead(raw);
    const v = q.dataSync();
    for (let i = 0; i < 5000; i++) {
      expect(v[i * 3]).toBeLessThanOrEqual(v[i * 3 + 1]);
      expect(v[i * 3 + 1]).toBeLessThanOrEqual(v[i * 3 + 2]);
    }
    tf.dispose([raw, q]);
  });

  it('a tiny fit learns, is deterministic per seed, and round-trips exactly through the registry', async () => {
    const { train, val } = splitFrameByTime(frameFromRows(rows), 0.2);
    const a = await fitEtaModel(train, val, { seed: 5, epochs: 4, refit: false, members: 1 });
    const b = await fitEtaModel(train, val, { seed: 5, epochs: 4, refit: false, members: 1 });
    const c = await fitEtaModel(train, val, { seed: 6, epochs: 4, refit: false, members: 1 });
    const w = (m: tf.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));
    expect(w(a.model)).toEqual(w(b.model));
    expect(w(a.model)).not.toEqual(w(c.model));
    expect(a.bestEpoch).toBeGreaterThan(0);

    // Learns: median error on validation well under the spread of the target.
    const y = Array.from(val.number('total_days'));
    const ae = y.map((t, i) => Math.abs(t - a.valPred[i * 3 + 1])).sort((p, q) => p - q);
    const meanY = y.reduce((s, t) => s + t, 0) / y.length;
    const dev = y.map((t) => Math.abs(t - meanY)).sort((p, q) => p - q);
    expect(ae[Math.floor(ae.length / 2)]).toBeLessThan(dev[Math.floor(dev.length / 2)]);

    const store = createFileModelStore(tmp);
    await store.register({ kind: 'eta', version: 'v1', createdAt: new Date().toISOString(), dataFingerprint: 'abc' }, { mae: 1 }, (dir) =>
      writeEtaBundle(dir, { model: a.model, spec: a.spec, calibration: a.calibration }),
    );
    await store.activate('eta', 'v1');
    for (const f of ['model.json', 'weights.bin', 'feature-spec.json', 'metrics.json', 'meta.json']) expect(fs.existsSync(path.join(tmp, 'eta', 'v1', f))).toBe(true);
    const loaded = await loadEtaBundle(store);
    expect(loaded.version).toBe('v1');
    expect(w(loaded.model)).toEqual(w(a.model));
    const enc = encodeFrame(val, a.spec);
    expect(Array.from(predictDays(loaded.model, enc, loaded.spec))).toEqual(Array.from(predictDays(a.model, enc, a.spec)));
    expect(loaded.calibration).toEqual(a.calibration);
    for (const m of [a.model, b.model, c.model, loaded.model]) m.dispose();
  });

  it('ensemble members train apart (own seed, own early stopping) and are saved as the towers of one model', async () => {
    const { train, val } = splitFrameByTime(frameFromRows(rows), 0.2);
    const pair = await fitEtaModel(train, val, { seed: 5, epochs: 6, members: 2 });
    const a = await fitEtaModel(train, val, { seed: 5, epochs: 6, members: 1 });
    const b = await fitEtaModel(train, val, { seed: memberSeed(5, 1), epochs: 6, members: 1 });
    expect(pair.model.outputs[0].shape).toEqual([null, 6]);
    expect(pair.memberEpochs).toEqual([a, b].map((f) => ({ bestEpoch: f.bestEpoch, epochs: f.epochs })));
    const enc = encodeFrame(val, pair.spec);
    const raw = (m: tf.LayersModel) => tf.tidy(() => Array.from((m.predict(inputTensors(enc, pair.spec)) as tf.Tensor).dataSync()));
    const [rp, ra, rb] = [raw(pair.model), raw(a.model), raw(b.model)];
    // Tower k of the stacked model is member k, refit included.
    for (let i = 0; i < enc.n; i++) {
      for (let q = 0; q < 3; q++) {
        expect(rp[i * 6 + q]).toBeCloseTo(ra[i * 3 + q], 5);
        expect(rp[i * 6 + 3 + q]).toBeCloseTo(rb[i * 3 + q], 5);
      }
    }
    // Calibration sees the members' (early-stopped) validation predictions averaged: between theirs.
    for (let i = 0; i < pair.valPred.length; i++) {
      expect(pair.valPred[i]).toBeGreaterThanOrEqual(Math.min(a.valPred[i], b.valPred[i]) - 1e-4);
      expect(pair.valPred[i]).toBeLessThanOrEqual(Math.max(a.valPred[i], b.valPred[i]) + 1e-4);
    }
    expect(Array.from(pair.valPred)).not.toEqual(Array.from(a.valPred));

    const store = createFileModelStore(tmp);
    await store.register({ kind: 'eta', version: 'pair', createdAt: new Date().toISOString(), dataFingerprint: 'p' }, { mae: 1 }, (dir) =>
      writeEtaBundle(dir, { model: pair.model, spec: pair.spec, calibration: pair.calibration }),
    );
    await store.activate('eta', 'pair');
    const loaded = await loadEtaBundle(store);
    expect(Array.from(predictDays(loaded.model, enc, loaded.spec))).toEqual(Array.from(predictDays(pair.model, enc, pair.spec)));
    for (const m of [pair.model, a.model, b.model, loaded.model]) m.dispose();
  });

  it('trains more members the smaller the training set', () => {
    const [small, mid] = ENSEMBLE_DEFAULT;
    expect(defaultMembers(small.below - 1)).toBe(5);
    expect(defaultMembers(small.below)).toBe(2);
    expect(defaultMembers(mid.below - 1)).toBe(2);
    expect(defaultMembers(mid.below)).toBe(1);
    expect(defaultMembers(2_900_000)).toBe(1);
  });

  it('caps the examples of an epoch at maxExamplesPerEpoch (a fresh subset each epoch)', async () => {
    const { train, val } = splitFrameByTime(frameFromRows(rows), 0.2);
    const full = await fitEtaModel(train, val, { seed: 5, epochs: 2, refit: false, members: 1 });
    const capped = await fitEtaModel(train, val, { seed: 5, epochs: 2, refit: false, maxExamplesPerEpoch: 100, members: 1 });
    expect(full.timing.exampleEpochs).toBe(train.n * full.epochs);
    expect(capped.timing.exampleEpochs).toBe(100 * capped.epochs);
    for (const m of [full.model, capped.model]) m.dispose();
  });

  it('subsampled epochs are capped at SUBSAMPLED_MAX_EPOCHS by default', async () => {
    const { train, val } = splitFrameByTime(frameFromRows(rows), 0.2);
    // 40 examples per epoch: the validation loss keeps falling well past the cap.
    const sub = await fitEtaModel(train, val, { seed: 5, refit: false, maxExamplesPerEpoch: 40, members: 1 });
    expect(sub.epochs).toBe(SUBSAMPLED_MAX_EPOCHS);
    const longer = await fitEtaModel(train, val, { seed: 5, refit: false, maxExamplesPerEpoch: 40, epochs: SUBSAMPLED_MAX_EPOCHS + 4, members: 1 });
    expect(longer.epochs).toBeGreaterThan(SUBSAMPLED_MAX_EPOCHS);
    for (const m of [sub.model, longer.model]) m.dispose();
  });
});

describe('file model store', () => {
  it('lists, gets and activates versions; unknown versions are NOT_FOUND', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-store-'));
    try {
      const store = createFileModelStore(dir);
      expect(await store.list()).toEqual([]);
      expect(await store.activeVersion('eta')).toBeUndefined();
      for (const v of ['a1', 'a2']) {
        await store.register({ kind: 'eta', version: v, createdAt: `2024-01-0${v === 'a1' ? 1 : 2}T00:00:00Z`, dataFingerprint: v }, { n: 1 }, async (d) =>
          fs.writeFileSync(path.join(d, 'model.json'), '{}'),
        );
      }
      await store.activate('eta', 'a1');
      const list = await store.list('eta');
      expect(list.map((m) => [m.version, m.active])).toEqual([['a2', false], ['a1', true]]);
      expect((await store.get('eta', 'a2'))?.dataFingerprint).toBe('a2');
      await expect(store.activate('eta', 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(
        store.register({ kind: 'eta', version: 'a1', createdAt: '2024-01-03T00:00:00Z', dataFingerprint: 'x' }, {}, async () => undefined),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await store.activeVersion('eta')).toBe('a1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
