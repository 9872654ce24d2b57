import { describe, expect, it } from 'vitest';
import { applyCalibration, fitTailAdjustment } from '../../src/ml/eta/calibration.js';
import { groupQuantileBaseline, pinball, windowMetrics } from '../../src/ml/eta/metrics.js';
import { seededRandom } from '../../src/ml/eta/train.js';

describe('ETA metrics and calibration (pure)', () => {
  it('computes window metrics by hand', () => {
    const m = windowMetrics({ p10: [1, 1, 1, 1], p50: [2, 2, 2, 2], p90: [3, 3, 3, 3] }, [2, 0, 4, 3]);
    expect(m).toMatchObject({ n: 4, mae: 1.25, medianAe: 1.5, coverage: 0.5, meanWidth: 2, lateRate: 0.25 });
    expect(pinball(4, 3, 0.9)).toBeCloseTo(0.9);
    expect(pinball(2, 3, 0.9)).toBeCloseTo(0.1);
  });

  it('lane quantile baseline falls back to the overall quantiles for unseen lanes', () => {
    const f = groupQuantileBaseline(['a', 'a', 'a', 'b'], [1, 2, 3, 10]);
    expect(f('a')[1]).toBe(2);
    expect(f('zzz')).toEqual(groupQuantileBaseline(['x', 'x', 'x', 'x'], [1, 2, 3, 10])('x'));
  });

  it('conformal tails turn a too-narrow window into one that covers about 80 % of new data', () => {
    const rand = seededRandom(9);
    const draw = () => 5 + 3 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    // A model whose window is far too narrow: [4.5, 5.5] around the true median 5.
    const window = (n: number) => Float32Array.from({ length: n * 3 }, (_, i) => [4.5, 5, 5.5][i % 3]);
    const calY = Array.from({ length: 2000 }, draw);
    const adj = fitTailAdjustment(window(2000), calY, 0.8);
    expect(adj.lower).toBeGreaterThan(0);
    expect(adj.upper).toBeGreaterThan(0);
    const testY = Array.from({ length: 5000 }, draw);
    const pred = window(5000);
    applyCalibration(pred, new Float32Array(5000), new Array<string>(5000).fill('none'), { coverage: 0.8, atPurchase: adj, inFlight: adj });
    const covered = testY.filter((y, i) => y >= pred[i * 3] && y <= pred[i * 3 + 2]).length / testY.length;
    expect(covered).toBeGreaterThan(0.77);
    expect(covered).toBeLessThan(0.83);
    for (let i = 0; i < 5000; i++) expect(pred[i * 3]).toBeLessThanOrEqual(pred[i * 3 + 1]);
  });

  it('never starts a window before the time already elapsed', () => {
    const pred = Float32Array.from([1, 3, 6]);
    applyCalibration(pred, [2], ['in_transit'], { coverage: 0.8, atPurchase: { lower: 0, upper: 0, n: 1 }, inFlight: { lower: 1, upper: 0, n: 1 } });
    expect(Array.from(pred)).toEqual([2, 3, 6]);
  });
});
