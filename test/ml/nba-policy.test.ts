import { describe, expect, it } from 'vitest';
import { actionProbabilities, bestAction, checkPolicySettings, choose, inControlGroup, stableUnit } from '../../src/ml/nba/policy.js';
import { isEligible } from '../../src/ml/nba/eligibility.js';
import { NBA_ACTION_NAMES } from '../../src/domain/nba.js';

const S = { epsilon: 0.1, controlShare: 0.2 };

describe('NBA policy (pure)', () => {
  it('picks the best eligible action, ties to the earlier one', () => {
    expect(bestAction([1, 3, undefined, 3, 2])).toBe(1);
    expect(bestAction([1, undefined, undefined, undefined, undefined])).toBe(0);
    expect(bestAction([-5, -1, -2, -3, -4])).toBe(1);
  });

  it('spreads epsilon over the eligible actions, adds the control share to none, and sums to one', () => {
    const p = actionProbabilities([1, 3, undefined, 2, undefined], S);
    expect(p[2]).toBe(0);
    expect(p[4]).toBe(0);
    expect(p[1]).toBeCloseTo(0.8 * (0.9 + 0.1 / 3), 12);
    expect(p[3]).toBeCloseTo(0.8 * (0.1 / 3), 12);
    expect(p[0]).toBeCloseTo(0.2 + 0.8 * (0.1 / 3), 12);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(() => actionProbabilities([undefined, 1, 1, 1, 1], S)).toThrow(/values\.none/);
    expect(() => checkPolicySettings({ epsilon: 1.5, controlShare: 0 })).toThrow(/epsilon/);
  });

  it('the control group is a stable hash of the shipment id with the configured share', () => {
    expect(stableUnit('abc')).toBe(stableUnit('abc'));
    const ids = Array.from({ length: 20_000 }, (_, i) => `shp_${i}`);
    const share = ids.filter((id) => inControlGroup(id, 0.05)).length / ids.length;
    expect(share).toBeGreaterThan(0.04);
    expect(share).toBeLessThan(0.06);
    const control = ids.find((id) => inControlGroup(id, S.controlShare))!;
    const c = choose([0, 5, 1, 1, 1], S, { shipmentId: control, u: 0.99 });
    expect(c).toMatchObject({ action: 'none', control: true });
    expect(c.propensity).toBeCloseTo(c.probabilities[0], 15);
  });

  it('the empirical choice frequencies match the returned propensities', () => {
    const values = [0.5, 2, 1, undefined, 1.5];
    const counts = new Array(5).fill(0);
    const n = 40_000;
    let p: Float64Array | undefined;
    for (let i = 0; i < n; i++) {
      const c = choose(values, S, { shipmentId: `s${i}`, u: stableUnit(`u${i}`) });
      counts[NBA_ACTION_NAMES.indexOf(c.action)]++;
      p = c.probabilities;
      expect(c.propensity).toBe(c.probabilities[NBA_ACTION_NAMES.indexOf(c.action)]);
    }
    for (let k = 0; k < 5; k++) expect(Math.abs(counts[k] / n - p![k])).toBeLessThan(4 * Math.sqrt((p![k] * (1 - p![k])) / n) + 1e-9);
    expect(counts[3]).toBe(0);
  });

  it('eligibility follows the documented rules', () => {
    const base = { email_consent: true, promo_consent: true, shipping_paid: 6.99, service_level: 'ground', out_for_delivery: false };
    const mask = (f: typeof base) => NBA_ACTION_NAMES.map((a) => isEligible(a, f));
    expect(mask(base)).toEqual([true, true, true, true, true]);
    expect(mask({ ...base, email_consent: false })).toEqual([true, false, false, false, false]);
    expect(isEligible('reschedule_offer', { ...base, service_level: 'overnight' })).toBe(false);
    expect(isEligible('reschedule_offer', { ...base, out_for_delivery: true })).toBe(false);
    expect(isEligible('discount_code', { ...base, promo_consent: false })).toBe(false);
    expect(isEligible('shipping_refund', { ...base, shipping_paid: 0 })).toBe(false);
  });
});
