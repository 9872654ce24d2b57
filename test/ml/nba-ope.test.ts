import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { activationDecision, offPolicyEvaluate, type OpeInput, type OpeReport } from '../../src/ml/nba/ope.js';
import { mulberry32 } from '../../src/random.js';

const rows = (xs: number[][]) => xs.map((r) => Float64Array.from(r));

/** Three decisions, two actions; every expected figure below is worked out by hand. */
const small = (): OpeInput => ({
  rewards: Float64Array.from([1, 0, 2]),
  loggedActions: Int32Array.from([0, 1, 0]),
  propensities: Float64Array.from([0.5, 0.25, 0.8]),
  targetProbs: rows([[1, 0], [0.5, 0.5], [0.2, 0.8]]),
  rewardModel: rows([[0.8, 0.2], [0.1, 0.4], [1.5, 1.0]]),
});

/**
 * A contextual bandit with known truth: 8 equally likely contexts, 3 actions, Bernoulli rewards
 * with means `truth[c][a]`. The logging policy is a fixed soft policy; the target puts 0.8 on the
 * best action. The true target value is exact: mean over contexts of Σₐ π(a|c)·truth[c][a].
 */
function bandit() {
  const g = mulberry32(2024);
  const C = 8;
  const K = 3;
  const truth = Array.from({ length: C }, () => Array.from({ length: K }, () => 0.1 + 0.8 * g()));
  const logging = Array.from({ length: C }, () => {
    const raw = Array.from({ length: K }, () => 0.5 + g());
    const s = raw.reduce((a, b) => a + b, 0);
    return raw.map((x) => x / s);
  });
  const target = truth.map((t) => {
    const best = t.indexOf(Math.max(...t));
    return t.map((_, a) => (a === best ? 0.8 : 0.1));
  });
  const value = (policy: number[][]) => policy.reduce((acc, p, c) => acc + p.reduce((s, pa, a) => s + pa * truth[c][a], 0), 0) / C;

  /** n logged decisions; the reward model is the truth plus `modelNoise` Gaussian-ish error and `modelBias`. */
  function sample(seed: number, n: number, opts: { modelNoise?: number; modelBias?: number; target?: number[][] } = {}): OpeInput {
    const r = mulberry32(seed);
    const pol = opts.target ?? target;
    const noise = () => (opts.modelNoise ?? 0) * (r() + r() + r() - 1.5) * 2;
    const model = truth.map((t) => t.map((x) => x + (opts.modelBias ?? 0) + noise()));
    const input: OpeInput = {
      rewards: new Float64Array(n),
      loggedActions: new Int32Array(n),
      propensities: new Float64Array(n),
      targetProbs: [],
      rewardModel: [],
    };
    for (let i = 0; i < n; i++) {
      const c = Math.floor(r() * C);
      const u = r();
      let a = 0;
      for (let acc = logging[c][0]; u >= acc && a < K - 1; ) acc += logging[c][++a];
      input.loggedActions[i] = a;
      input.propensities[i] = logging[c][a];
      input.rewards[i] = r() < truth[c][a] ? 1 : 0;
      input.targetProbs.push(Float64Array.from(pol[c]));
      input.rewardModel.push(Float64Array.from(model[c]));
    }
    return input;
  }
  return { truth, logging, target, trueTarget: value(target), trueLogging: value(logging), sample };
}

const covers = (e: { lower: number; upper: number }, v: number) => e.lower <= v && v <= e.upper;

describe('off-policy evaluation (pure)', () => {
  it('computes IPS, SNIPS, DR, the logging value and ESS of a small case by hand', () => {
    const rep = offPolicyEvaluate(small(), { bootstrap: 200, seed: 3 });
    // w = [1/0.5, 0.5/0.25, 0.2/0.8] = [2, 2, 0.25]; w·r = [2, 0, 0.5]
    expect(rep.ips.value).toBeCloseTo(2.5 / 3, 12);
    expect(rep.snips.value).toBeCloseTo(2.5 / 4.25, 12);
    // direct = [0.8, 0.25, 1.1]; w·(r − q̂) = [0.4, −0.8, 0.125]
    expect(rep.dr.value).toBeCloseTo((1.2 - 0.55 + 1.225) / 3, 12);
    expect(rep.logging.value).toBeCloseTo(1, 12);
    expect(rep.ess).toBeCloseTo(4.25 ** 2 / 8.0625, 12);
    expect(rep.n).toBe(3);
    for (const e of [rep.ips, rep.snips, rep.dr, rep.logging]) {
      expect(e.lower).toBeLessThanOrEqual(e.value);
      expect(e.upper).toBeGreaterThanOrEqual(e.value);
    }
    // Resamples of 3 rewards from {1, 0, 2}: the mean lies in [0, 2].
    expect(rep.logging.lower).toBeGreaterThanOrEqual(0);
    expect(rep.logging.upper).toBeLessThanOrEqual(2);
  });

  it('is reproducible per seed and the seed matters', () => {
    const b = bandit();
    const input = b.sample(5, 500);
    const a1 = offPolicyEvaluate(input, { bootstrap: 300, seed: 11 });
    const a2 = offPolicyEvaluate(input, { bootstrap: 300, seed: 11 });
    const a3 = offPolicyEvaluate(input, { bootstrap: 300, seed: 12 });
    expect(a2).toEqual(a1);
    expect(a3.dr.lower).not.toBe(a1.dr.lower);
    expect(a3.dr.value).toBe(a1.dr.value);
  });

  it('the bootstrap interval of the logging value matches the normal-theory width', () => {
    const b = bandit();
    const input = b.sample(8, 4000);
    const rep = offPolicyEvaluate(input, { bootstrap: 1000, seed: 2 });
    const m = rep.logging.value;
    const sd = Math.sqrt(input.rewards.reduce((s, r) => s + (r - m) ** 2, 0) / (input.rewards.length - 1));
    const normalWidth = 2 * 1.96 * sd / Math.sqrt(input.rewards.length);
    expect((rep.logging.upper - rep.logging.lower) / normalWidth).toBeGreaterThan(0.9);
    expect((rep.logging.upper - rep.logging.lower) / normalWidth).toBeLessThan(1.1);
    // A wider level (alpha 0.5) gives a narrower interval.
    const half = offPolicyEvaluate(input, { bootstrap: 1000, seed: 2, alpha: 0.5 });
    expect(half.logging.upper - half.logging.lower).toBeLessThan(0.5 * (rep.logging.upper - rep.logging.lower));
  });

  it('on a simulated bandit, DR and SNIPS intervals cover the true target value at about the nominal rate, and DR is narrower than IPS', () => {
    const b = bandit();
    // The comparison is informative only if the target differs from logging by more than an interval.
    expect(b.trueTarget - b.trueLogging).toBeGreaterThan(0.1);
    const seeds = 100;
    let drCover = 0;
    let snipsCover = 0;
    let ipsCover = 0;
    let loggingCoversTarget = 0;
    let drWidth = 0;
    let ipsWidth = 0;
    for (let s = 0; s < seeds; s++) {
      const rep = offPolicyEvaluate(b.sample(100 + s, 1000, { modelNoise: 0.02 }), { bootstrap: 400, seed: s + 1 });
      drCover += covers(rep.dr, b.trueTarget) ? 1 : 0;
      snipsCover += covers(rep.snips, b.trueTarget) ? 1 : 0;
      ipsCover += covers(rep.ips, b.trueTarget) ? 1 : 0;
      loggingCoversTarget += covers(rep.logging, b.trueTarget) ? 1 : 0;
      drWidth += (rep.dr.upper - rep.dr.lower) / seeds;
      ipsWidth += (rep.ips.upper - rep.ips.lower) / seeds;
    }
    // Nominal 95 %: 100 intervals land in about 90–99 (binomial sd ≈ 2.2).
    expect(drCover / seeds).toBeGreaterThanOrEqual(0.88);
    expect(drCover / seeds).toBeLessThanOrEqual(0.99);
    expect(snipsCover / seeds).toBeGreaterThanOrEqual(0.88);
    expect(snipsCover / seeds).toBeLessThanOrEqual(0.99);
    expect(ipsCover / seeds).toBeGreaterThanOrEqual(0.85);
    // The logging policy's interval is about a different quantity and must not pass for the target's.
    expect(loggingCoversTarget).toBe(0);
    expect(drWidth).toBeLessThan(0.8 * ipsWidth);
  });

  it('DR stays unbiased with a biased reward model (the known propensities correct it)', () => {
    const b = bandit();
    let cover = 0;
    let mean = 0;
    const seeds = 40;
    for (let s = 0; s < seeds; s++) {
      const rep = offPolicyEvaluate(b.sample(500 + s, 1000, { modelBias: 0.2 }), { bootstrap: 300, seed: s + 1 });
      cover += covers(rep.dr, b.trueTarget) ? 1 : 0;
      mean += rep.dr.value / seeds;
    }
    expect(cover / seeds).toBeGreaterThanOrEqual(0.85);
    expect(Math.abs(mean - b.trueTarget)).toBeLessThan(0.01);
  });

  it('with the target equal to the logging policy, IPS equals the logging value and ESS equals n', () => {
    const b = bandit();
    const input = b.sample(9, 2000, { target: b.logging });
    const rep = offPolicyEvaluate(input, { bootstrap: 200 });
    expect(rep.ips.value).toBeCloseTo(rep.logging.value, 12);
    expect(rep.snips.value).toBeCloseTo(rep.logging.value, 12);
    expect(rep.ess).toBeCloseTo(2000, 9);
    expect(Math.abs(rep.logging.value - b.trueLogging)).toBeLessThan(0.03);
  });

  it('ESS equals n for uniform weights and drops for uneven ones', () => {
    const n = 10;
    const uniform: OpeInput = {
      rewards: new Float64Array(n).fill(1),
      loggedActions: new Int32Array(n),
      propensities: new Float64Array(n).fill(0.5),
      targetProbs: Array.from({ length: n }, () => Float64Array.from([0.5, 0.5])),
      rewardModel: Array.from({ length: n }, () => Float64Array.from([0, 0])),
    };
    expect(offPolicyEvaluate(uniform, { bootstrap: 10 }).ess).toBeCloseTo(n, 12);
    // Half the weights 2, half 0: (Σw)² / Σw² = 100 / 20 = 5.
    const uneven = { ...uniform, targetProbs: uniform.targetProbs.map((_, i) => Float64Array.from(i % 2 ? [1, 0] : [0, 1])) };
    expect(offPolicyEvaluate(uneven, { bootstrap: 10 }).ess).toBeCloseTo(5, 12);
  });

  it('names the offending field', () => {
    const bad = (patch: (x: OpeInput) => void, field: string) => {
      const x = small();
      patch(x);
      try {
        offPolicyEvaluate(x, { bootstrap: 10 });
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        expect((e as ValidationError).field).toBe(field);
        expect((e as ValidationError).code).toBe('BAD_INPUT');
        return;
      }
      throw new Error(`no error for ${field}`);
    };
    bad((x) => (x.propensities = Float64Array.from([0.5, 0.25])), 'propensities');
    bad((x) => (x.loggedActions = Int32Array.from([0, 1])), 'loggedActions');
    bad((x) => x.targetProbs.pop(), 'targetProbs');
    bad((x) => x.rewardModel.pop(), 'rewardModel');
    bad((x) => (x.propensities[1] = 0), 'propensities[1]');
    bad((x) => (x.propensities[2] = 1.2), 'propensities[2]');
    bad((x) => (x.targetProbs[2] = Float64Array.from([0.3, 0.8])), 'targetProbs[2]');
    bad((x) => (x.targetProbs[1] = Float64Array.from([0.2, 0.3, 0.5])), 'targetProbs[1]');
    bad((x) => (x.targetProbs[1] = Float64Array.from([-0.5, 1.5])), 'targetProbs[1][0]');
    bad((x) => (x.rewardModel[0] = Float64Array.from([1])), 'rewardModel[0]');
    bad((x) => (x.rewardModel[0][1] = Number.NaN), 'rewardModel[0][1]');
    bad((x) => (x.loggedActions[2] = 2), 'loggedActions[2]');
    bad((x) => (x.rewards[0] = Number.POSITIVE_INFINITY), 'rewards[0]');
    bad((x) => (x.rewards = new Float64Array(0)), 'rewards');
    expect(() => offPolicyEvaluate(small(), { bootstrap: 0 })).toThrow(/bootstrap/);
    expect(() => offPolicyEvaluate(small(), { alpha: 1 })).toThrow(/alpha/);
  });
});

describe('activation gate', () => {
  const report = (drLower: number, logging: number): OpeReport => ({
    ips: { value: 0.6, lower: 0.5, upper: 0.7 },
    snips: { value: 0.6, lower: 0.5, upper: 0.7 },
    dr: { value: drLower + 0.05, lower: drLower, upper: drLower + 0.1 },
    logging: { value: logging, lower: logging - 0.02, upper: logging + 0.02 },
    ess: 812.4,
    n: 1000,
  });

  it('activates only when the DR lower bound beats the logging value, and says so with the numbers', () => {
    const yes = activationDecision(report(0.55, 0.5), {});
    expect(yes).toMatchObject({ activate: true, overridden: false });
    expect(yes.reason).toContain('0.5500');
    expect(yes.reason).toContain('0.5000');
    const no = activationDecision(report(0.49, 0.5), {});
    expect(no).toMatchObject({ activate: false, overridden: false });
    expect(no.reason).toMatch(/^refused/);
    expect(no.reason).toContain('0.4900');
    expect(activationDecision(report(0.5, 0.5), {}).activate).toBe(false);
  });

  it('override forces activation and says it was overridden', () => {
    const o = activationDecision(report(0.3, 0.5), { override: true });
    expect(o).toMatchObject({ activate: true, overridden: true });
    expect(o.reason).toMatch(/^overridden/);
    expect(o.reason).toContain('0.3000');
    // An override that was not needed is not recorded as one.
    expect(activationDecision(report(0.6, 0.5), { override: true }).overridden).toBe(false);
  });

  it('gates a real report: the good target passes, the logging policy itself does not', () => {
    const b = bandit();
    const good = offPolicyEvaluate(b.sample(77, 3000, { modelNoise: 0.02 }), { bootstrap: 500 });
    expect(activationDecision(good, {}).activate).toBe(true);
    const same = offPolicyEvaluate(b.sample(78, 3000, { target: b.logging }), { bootstrap: 500 });
    expect(activationDecision(same, {}).activate).toBe(false);
  });
});
