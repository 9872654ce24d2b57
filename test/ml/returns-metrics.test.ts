/** Pure pieces of the returns model: metrics, Platt calibration, the baselines. Hand-checkable inputs. */
import { describe, expect, it } from 'vitest';
import { auc, brier, ece, eceEqualWidth, logLoss, prAuc, probabilityMetrics, reliability } from '../../src/ml/returns/metrics.js';
import { calibrate, calibrateAll, fitPlatt, logit, sigmoid } from '../../src/ml/returns/calibration.js';
import { fitLogistic, predictLogistic } from '../../src/ml/returns/logistic.js';
import { fitCategoryRates, predictCategoryRates } from '../../src/ml/returns/baselines.js';
import { mulberry32 } from '../../src/random.js';

describe('metrics', () => {
  it('AUC: perfect, reversed, ties count one half, the Mann–Whitney pair count', () => {
    expect(auc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])).toBe(1);
    expect(auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0])).toBe(0.5);
    // Positives 0.8, 0.4; negatives 0.6, 0.2: pairs won 0.8>0.6, 0.8>0.2, 0.4>0.2 → 3 of 4.
    expect(auc([0.8, 0.6, 0.4, 0.2], [1, 0, 1, 0])).toBe(0.75);
    // Positive 0.7 ties the negative (1/2), positive 0.1 is below it (0): 0.5 / 2.
    expect(auc([0.7, 0.7, 0.1], [1, 0, 1])).toBe(0.25);
    expect(auc([0.3, 0.4], [1, 1])).toBeNaN();
  });

  it('PR-AUC as average precision', () => {
    expect(prAuc([0.9, 0.8, 0.2], [1, 1, 0])).toBe(1);
    // Ranked 1,0,1: precision 1 at the first positive, 2/3 at the second → (1 + 2/3) / 2.
    expect(prAuc([0.9, 0.5, 0.1], [1, 0, 1])).toBeCloseTo((1 + 2 / 3) / 2, 12);
    // All tied: precision of the whole set (1/2) for both positives.
    expect(prAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBe(0.5);
    expect(prAuc([0.3], [0])).toBeNaN();
  });

  it('Brier and log loss', () => {
    expect(brier([1, 0, 0.5, 0.2], [1, 0, 1, 0])).toBeCloseTo((0 + 0 + 0.25 + 0.04) / 4, 12);
    expect(logLoss([0.5, 0.8], [1, 0])).toBeCloseTo((Math.log(2) - Math.log(0.2)) / 2, 12);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true);
  });

  it('ECE over equal-count bins', () => {
    // Two bins of two: predictions 0.1, 0.1 vs outcomes 0, 1 (|0.1 − 0.5|), 0.8, 0.8 vs 1, 1 (|0.8 − 1|).
    const p = [0.1, 0.8, 0.1, 0.8];
    const y = [0, 1, 1, 1];
    expect(ece(p, y, 2)).toBeCloseTo((2 * 0.4 + 2 * 0.2) / 4, 12);
    expect(reliability(p, y, 2)).toEqual([
      { n: 2, meanPredicted: 0.1, observed: 0.5 },
      { n: 2, meanPredicted: 0.8, observed: 1 },
    ]);
    // Perfectly calibrated bins: 0 whatever the ranking.
    expect(ece([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 1], 2)).toBe(0);
    // Equal-width bins: [0.1, 0.2) holds 0.1, 0.1 against 0, 1; [0.8, 0.9) holds 0.8, 0.8 against 1, 1.
    expect(eceEqualWidth(p, y, 10)).toBeCloseTo((2 * 0.4 + 2 * 0.2) / 4, 12);
    // Three bins of equal width: 0.05 (over by 0.05) and 0.3 (under by 0.7) share the first, and partly cancel.
    expect(eceEqualWidth([0.05, 0.3, 0.9], [0, 1, 1], 3)).toBeCloseTo((Math.abs(0.35 - 1) + 0.1) / 3, 12);
    const m = probabilityMetrics(p, y);
    expect(m).toMatchObject({ n: 4, positives: 3 });
  });
});

describe('Platt calibration', () => {
  it('recovers a planted slope and intercept', () => {
    const rand = mulberry32(3);
    const z: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 40_000; i++) {
      const zi = 4 * rand() - 2;
      z.push(zi);
      y.push(rand() < sigmoid(0.5 * zi - 1) ? 1 : 0);
    }
    const c = fitPlatt(z, y);
    expect(c.a).toBeCloseTo(0.5, 1);
    expect(c.b).toBeCloseTo(-1, 1);
    expect(c.n).toBe(40_000);
    // Monotone: the ranking (AUC) is unchanged.
    expect(auc(calibrateAll(c, z), y)).toBe(auc(z, y));
    expect(calibrate(c, 0)).toBeCloseTo(sigmoid(c.b), 12);
  });

  it('stays finite on one class and is the identity-like start on a perfect fit', () => {
    const c = fitPlatt([1, 2, 3], [1, 1, 1]);
    expect(Number.isFinite(c.a) && Number.isFinite(c.b)).toBe(true);
    expect(calibrate(c, 2)).toBeGreaterThan(0.9);
    expect(logit(sigmoid(1.234))).toBeCloseTo(1.234, 9);
  });
});

describe('baselines', () => {
  it('category rates are shrunk towards the overall rate; unseen categories get it', () => {
    const cat = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
    const y = [1, 1, 1, 0, 0, 0, 0, 0];
    const m = fitCategoryRates(cat, y, 4);
    expect(m.overall).toBe(3 / 8);
    expect(m.rates.a).toBeCloseTo((3 + 4 * 0.375) / 8, 12);
    expect(Array.from(predictCategoryRates(m, ['b', 'zzz', null]))).toEqual([(0 + 1.5) / 8, 0.375, 0.375]);
  });

  it('logistic regression (IRLS) recovers planted coefficients', () => {
    const rand = mulberry32(9);
    const n = 20_000;
    const x = new Float32Array(n * 2);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i * 2] = 2 * rand() - 1;
      x[i * 2 + 1] = rand() < 0.3 ? 1 : 0;
      y[i] = rand() < sigmoid(-1 + 2 * x[i * 2] + 1.5 * x[i * 2 + 1]) ? 1 : 0;
    }
    const enc = { n, width: 2, x };
    const m = fitLogistic(enc, y, { l2: 0 });
    expect(m.intercept).toBeCloseTo(-1, 1);
    expect(m.weights[0]).toBeCloseTo(2, 1);
    expect(m.weights[1]).toBeCloseTo(1.5, 1);
    expect(m.iterations).toBeLessThan(15);
    const p = predictLogistic(m, enc);
    expect(p[0]).toBeCloseTo(sigmoid(m.intercept + m.weights[0] * x[0] + m.weights[1] * x[1]), 12);
  });
});
