import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { initTf } from '../../src/ml/backend.js';
import { encodeContexts, featureWidth, fitNbaFeatureSpec, parseContext, parseOutcome, readLoggedDecisions, type NbaExample } from '../../src/ml/nba/data.js';
import { buildNbaModel, buildTargets, nbaLoss, OUTPUT_WIDTH, outcomeAt, predictRaw } from '../../src/ml/nba/model.js';
import { fitNbaModel } from '../../src/ml/nba/fit.js';
import { loadNbaBundle, writeNbaBundle } from '../../src/ml/nba/bundle.js';
import { createFileModelStore } from '../../src/ml/registry/file-model-store.js';
import { actionCost, DEFAULT_NBA_REWARD, realizedReward } from '../../src/ml/nba/reward.js';
import { loadConfig } from '../../src/config.js';
import { NBA_ACTION_NAMES } from '../../src/domain/nba.js';
import { DEFAULT_POLICY } from '../../src/ml/nba/policy.js';
import { BEHAVIOUR, NBA_ACTIONS } from '../../src/synth/behaviour.js';
import { nbaWarehouse } from './nba-fixture.js';

describe('NBA outcome model', () => {
  let wh: Warehouse;
  let examples: NbaExample[];
  let tmp: string;
  beforeAll(async () => {
    await initTf('auto', silentLogger());
    wh = await nbaWarehouse(30_000);
    examples = await readLoggedDecisions(wh);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-nba-'));
  });
  afterAll(async () => {
    await wh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reads the logged decisions with outcomes, oldest first, and their rewards recompute from the outcome', () => {
    expect(examples.length).toBeGreaterThan(200);
    for (let i = 1; i < examples.length; i++) expect(examples[i].decidedAt.getTime()).toBeGreaterThanOrEqual(examples[i - 1].decidedAt.getTime());
    for (const e of examples) expect(realizedReward(e.outcome, e.context)).toBeCloseTo(e.reward, 6);
  });

  it('configured weights and unit costs re-value the logged rewards; the default ones leave them as logged', async () => {
    const same = await readLoggedDecisions(wh, { reward: DEFAULT_NBA_REWARD });
    for (let i = 0; i < same.length; i++) expect(same[i].reward).toBeCloseTo(examples[i].reward, 2);
    const cfg = loadConfig({ SHIPCAST_NBA_COSTS: 'discount_code=12, apology_notice=0', SHIPCAST_NBA_VALUES: 'contact=20' }).nba.reward;
    expect(cfg).toEqual({ ...DEFAULT_NBA_REWARD, contactCost: 20, unitCost: { ...DEFAULT_NBA_REWARD.unitCost, discount_code: 12, apology_notice: 0 } });
    const priced = await readLoggedDecisions(wh, { reward: cfg });
    let changed = 0;
    for (let i = 0; i < priced.length; i++) {
      const e = examples[i];
      const action = NBA_ACTION_NAMES[e.action];
      const expected = e.reward - 14 * Number(e.outcome.support_contact) - (actionCost(action, e.context, cfg) - actionCost(action, e.context));
      expect(priced[i].reward).toBeCloseTo(expected, 2);
      changed += Number(Math.abs(priced[i].reward - e.reward) > 1e-9);
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('bad NBA costs or values are BAD_CONFIG naming the variable', () => {
    for (const [name, value] of [['SHIPCAST_NBA_COSTS', 'discount_code=-1'], ['SHIPCAST_NBA_COSTS', 'none=1'], ['SHIPCAST_NBA_COSTS', 'discount_code'],
      ['SHIPCAST_NBA_COSTS', 'discount_code=1,discount_code=2'], ['SHIPCAST_NBA_VALUES', 'repeat=3'], ['SHIPCAST_NBA_VALUES', 'csat=abc']] as const) {
      expect(() => loadConfig({ [name]: value })).toThrow(expect.objectContaining({ code: 'BAD_CONFIG', field: name }));
    }
  });

  it('the reward weights and unit costs are the ones the generator plants', () => {
    const R = BEHAVIOUR.nbaReward;
    expect([DEFAULT_NBA_REWARD.repeatValueBase, DEFAULT_NBA_REWARD.repeatValueShare, DEFAULT_NBA_REWARD.contactCost, DEFAULT_NBA_REWARD.csatValue])
      .toEqual([R.repeatValueBase.value, R.repeatValueShare.value, R.contactCost.value, R.csatValue.value]);
    for (const a of NBA_ACTIONS) expect(DEFAULT_NBA_REWARD.unitCost[a.action]).toBe(a.unitCost);
  });

  it('rejects a malformed context or outcome naming the field', () => {
    expect(() => parseContext({ ...examples[0].context, risk_score: 'high' }, 'ctx')).toThrow(/ctx\.risk_score: must be a finite number/);
    expect(() => parseOutcome({ repeat_purchase: true, csat: 9, support_contact: false, cost: 0 })).toThrow(/outcome\.csat/);
  });

  it('has the expected shapes', () => {
    const spec = fitNbaFeatureSpec(examples.map((e) => e.context));
    const w = featureWidth(spec);
    const model = buildNbaModel(w, { seed: 1 });
    expect(model.inputs[0].shape).toEqual([null, w]);
    expect(model.outputs[0].shape).toEqual([null, OUTPUT_WIDTH]);
    const x = encodeContexts(spec, examples.slice(0, 7).map((e) => e.context));
    expect(x).toHaveLength(7 * w);
    const raw = predictRaw(model, x, 7, w);
    expect(raw).toHaveLength(7 * OUTPUT_WIDTH);
    const o = outcomeAt(raw, 3, 4);
    for (const p of [o.pRepeat, o.pAnswer, o.pContact]) expect(p).toBeGreaterThan(0);
    expect(o.csat).toBeGreaterThanOrEqual(1);
    model.dispose();
  });

  it('the masked loss only reads the logged action\'s head', () => {
    const { y, mask } = buildTargets([{ action: 2, repeat: true, csat: null, contact: false }]);
    expect(Array.from(mask).reduce((a, b) => a + b, 0)).toBe(3);
    const a = tf.zeros([1, OUTPUT_WIDTH]) as tf.Tensor2D;
    const other = tf.tensor2d(Array.from({ length: OUTPUT_WIDTH }, (_, j) => (j >= 8 && j < 12 ? 0 : 50)), [1, OUTPUT_WIDTH]);
    const [la, lb] = [nbaLoss(a, tf.tensor2d(y, [1, OUTPUT_WIDTH]), tf.tensor2d(mask, [1, OUTPUT_WIDTH])), nbaLoss(other, tf.tensor2d(y, [1, OUTPUT_WIDTH]), tf.tensor2d(mask, [1, OUTPUT_WIDTH]))];
    expect(la.dataSync()[0]).toBeCloseTo(3 * Math.log(2), 5);
    expect(lb.dataSync()[0]).toBeCloseTo(la.dataSync()[0], 5);
    tf.dispose([a, other, la, lb]);
  });

  it('a tiny fit learns, is deterministic per seed, and round-trips exactly through the registry', async () => {
    const untrained = await fitNbaModel(examples, { seed: 3, epochs: 1, learningRate: 1e-9 });
    const a = await fitNbaModel(examples, { seed: 3, epochs: 40 });
    const b = await fitNbaModel(examples, { seed: 3, epochs: 40 });
    expect(a.valLoss).toBeLessThan(untrained.valLoss * 0.9);
    const x = encodeContexts(a.spec, examples.slice(-50).map((e) => e.context));
    const w = featureWidth(a.spec);
    const pa = predictRaw(a.model, x, 50, w);
    expect(Array.from(predictRaw(b.model, x, 50, w))).toEqual(Array.from(pa));
    // Late-looking shipments (high risk) score lower and repeat less under `none` than calm ones, as planted.
    const calm = { ...examples[0].context, risk_score: 0.36, disruption: false, days_to_promise: 3 };
    const risky = { ...calm, risk_score: 0.99, disruption: true, days_to_promise: 0.5 };
    const r = predictRaw(a.model, encodeContexts(a.spec, [calm, risky]), 2, w);
    expect(outcomeAt(r, 1, 0).csat).toBeLessThan(outcomeAt(r, 0, 0).csat - 0.3);
    expect(outcomeAt(r, 1, 0).pRepeat).toBeLessThan(outcomeAt(r, 0, 0).pRepeat);

    const store = createFileModelStore(tmp);
    await store.register({ kind: 'nba', version: 'nba-test', createdAt: new Date().toISOString(), dataFingerprint: 'x' }, {}, (dir) =>
      writeNbaBundle(dir, { model: a.model, spec: a.spec, reward: DEFAULT_NBA_REWARD, policy: DEFAULT_POLICY }));
    const loaded = await loadNbaBundle(store, 'nba-test');
    expect(loaded.spec).toEqual(a.spec);
    expect(loaded.policy).toEqual(DEFAULT_POLICY);
    expect(Array.from(predictRaw(loaded.model, x, 50, w))).toEqual(Array.from(pa));
    await expect(loadNbaBundle(store)).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    for (const m of [untrained.model, a.model, b.model, loaded.model]) m.dispose();
  });
});
