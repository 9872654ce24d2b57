import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { initTf } from '../../src/ml/backend.js';
import { readLoggedDecisions, type NbaExample } from '../../src/ml/nba/data.js';
import { fitNbaModel } from '../../src/ml/nba/fit.js';
import { actionValues, type Scorer } from '../../src/ml/nba/score.js';
import { actionProbabilities, DEFAULT_POLICY } from '../../src/ml/nba/policy.js';
import { evaluatePolicy, type NbaEvaluation } from '../../src/ml/nba/train.js';
import { DEFAULT_NBA_REWARD } from '../../src/ml/nba/reward.js';
import { oracleValue, readTrueRewards, trueValue } from '../../src/ml/nba/synthetic-truth.js';
import { nbaWarehouse } from './nba-fixture.js';

/**
 * The targets on generator data, at a size npm test can afford (docs/NBA.md has the 100k
 * figures): the DR interval covers the true value of the learned policy computed from the ground
 * truth. It can fail: the interval is a 95% bootstrap interval, and a biased estimator would miss.
 */
describe('NBA off-policy evaluation against the generator truth', () => {
  let wh: Warehouse;
  let held: NbaExample[];
  let scorer: Scorer;
  let ev: NbaEvaluation;
  let truth: (number | undefined)[][];
  beforeAll(async () => {
    await initTf('auto', silentLogger());
    wh = await nbaWarehouse(40_000, 3);
    const ex = await readLoggedDecisions(wh);
    const nEval = Math.floor(ex.length * 0.3);
    held = ex.slice(ex.length - nEval);
    const fit = await fitNbaModel(ex.slice(0, ex.length - nEval), { seed: 42 });
    scorer = { model: fit.model, spec: fit.spec, reward: DEFAULT_NBA_REWARD };
    ev = evaluatePolicy(scorer, DEFAULT_POLICY, held);
    truth = await readTrueRewards(wh, held.map((d) => d.decisionId));
  });
  afterAll(async () => {
    scorer.model.dispose();
    await wh.close();
  });

  it('the DR interval covers the learned policy\'s true value, and the oracle bounds it', () => {
    const probs = actionValues(scorer, held.map((d) => d.context)).map((v) => actionProbabilities(v, DEFAULT_POLICY));
    const value = trueValue(truth, probs);
    const { dr } = ev.report;
    expect(held.length).toBeGreaterThan(300);
    expect(ev.report.ess).toBeGreaterThan(30);
    expect(dr.lower).toBeLessThanOrEqual(value);
    expect(dr.upper).toBeGreaterThanOrEqual(value);
    expect(value).toBeLessThanOrEqual(oracleValue(truth) + 1e-9);
  });

  it('the truth of the logged actions agrees with the logged rewards (the truth is the data\'s)', () => {
    const t = held.reduce((a, d, i) => a + truth[i][d.action]!, 0) / held.length;
    const { logging } = ev.report;
    expect(t).toBeGreaterThan(logging.lower);
    expect(t).toBeLessThan(logging.upper);
  });
});
