/**
 * Off-policy evaluation of a target policy from decisions logged by another (the logging) policy:
 * IPS, self-normalized IPS and doubly robust estimates with percentile bootstrap intervals, the
 * logging policy's own value, and the Kish effective sample size of the importance weights.
 *
 * Pure and allocation-light: the per-decision terms are computed once; each bootstrap resample only
 * draws indices and sums those terms, so 100k decisions × 1000 resamples is ~10⁸ additions.
 */
import { ValidationError } from '../../errors.js';
import { mulberry32 } from '../../random.js';

/** Logged decisions plus what the target policy and the outcome model say about each of them. */
export interface OpeInput {
  /** Observed reward of each logged decision. */
  rewards: Float64Array;
  /** Index into the action list of the logged action. */
  loggedActions: Int32Array;
  /** Logging policy's probability of the logged action, in (0, 1]. */
  propensities: Float64Array;
  /** Per decision, the target policy's probability of each action (length K, sums to 1). */
  targetProbs: Float64Array[];
  /** Per decision, the outcome model's predicted reward of each action (length K). */
  rewardModel: Float64Array[];
}

/** A point estimate with its percentile bootstrap interval at level 1 − alpha. */
export interface Estimate {
  value: number;
  lower: number;
  upper: number;
}

export interface OpeReport {
  /** Inverse propensity scoring: mean of w·r, w = π(a|x) / μ(a|x). */
  ips: Estimate;
  /** Self-normalized IPS: Σ w·r / Σ w. */
  snips: Estimate;
  /** Doubly robust: mean of Σₐ π(a|x)·q̂(x,a) + w·(r − q̂(x,a_logged)). */
  dr: Estimate;
  /** The logging policy's value: mean observed reward. */
  logging: Estimate;
  /** Kish effective sample size of the importance weights, (Σw)² / Σw². */
  ess: number;
  n: number;
}

export interface OpeOptions {
  /** Bootstrap resamples (default 1000). */
  bootstrap?: number;
  /** Two-sided interval level is 1 − alpha (default 0.05). */
  alpha?: number;
  /** Seed of the resampling RNG (default 1); the same seed gives the same intervals. */
  seed?: number;
}

/** Tolerance on Σₐ π(a|x) = 1: probabilities often arrive as float32 softmax outputs. */
const PROB_SUM_TOLERANCE = 1e-6;

/**
 * Estimates the target policy's value from logged decisions (IPS, SNIPS, DR) next to the logging
 * policy's value, each with a percentile bootstrap interval over decisions.
 * @throws ValidationError naming the field when lengths disagree, a propensity is outside (0, 1],
 *   a probability row does not sum to 1, or a value is not finite.
 */
export function offPolicyEvaluate(input: OpeInput, opts: OpeOptions = {}): OpeReport {
  const { bootstrap = 1000, alpha = 0.05, seed = 1 } = opts;
  if (!Number.isInteger(bootstrap) || bootstrap < 1) throw new ValidationError('bootstrap', `must be a positive integer, got ${bootstrap}`);
  if (!(alpha > 0 && alpha < 1)) throw new ValidationError('alpha', `must be in (0, 1), got ${alpha}`);
  const n = validate(input);

  // Per-decision terms, computed once.
  const ipsTerm = new Float64Array(n);
  const weight = new Float64Array(n);
  const drTerm = new Float64Array(n);
  const { rewards, loggedActions, propensities, targetProbs, rewardModel } = input;
  for (let i = 0; i < n; i++) {
    const a = loggedActions[i];
    const pi = targetProbs[i];
    const q = rewardModel[i];
    const w = pi[a] / propensities[i];
    let direct = 0;
    for (let k = 0; k < pi.length; k++) direct += pi[k] * q[k];
    weight[i] = w;
    ipsTerm[i] = w * rewards[i];
    drTerm[i] = direct + w * (rewards[i] - q[a]);
  }

  const point = sums(ipsTerm, weight, drTerm, rewards);
  let sumW2 = 0;
  for (let i = 0; i < n; i++) sumW2 += weight[i] * weight[i];

  const boot = { ips: new Float64Array(bootstrap), snips: new Float64Array(bootstrap), dr: new Float64Array(bootstrap), logging: new Float64Array(bootstrap) };
  const rand = mulberry32(seed);
  for (let b = 0; b < bootstrap; b++) {
    let sIps = 0;
    let sW = 0;
    let sDr = 0;
    let sR = 0;
    for (let j = 0; j < n; j++) {
      const i = Math.floor(rand() * n);
      sIps += ipsTerm[i];
      sW += weight[i];
      sDr += drTerm[i];
      sR += rewards[i];
    }
    boot.ips[b] = sIps / n;
    boot.snips[b] = snipsValue(sIps, sW);
    boot.dr[b] = sDr / n;
    boot.logging[b] = sR / n;
  }

  const estimate = (value: number, draws: Float64Array): Estimate => {
    draws.sort();
    return { value, lower: quantileSorted(draws, alpha / 2), upper: quantileSorted(draws, 1 - alpha / 2) };
  };
  return {
    ips: estimate(point.ips, boot.ips),
    snips: estimate(point.snips, boot.snips),
    dr: estimate(point.dr, boot.dr),
    logging: estimate(point.logging, boot.logging),
    ess: sumW2 > 0 ? (point.sumW * point.sumW) / sumW2 : 0,
    n,
  };
}

/**
 * The activation gate: a new policy goes live only when its DR lower bound beats the logging
 * policy's value. `override` activates it anyway; `overridden` is true only when the gate refused
 * and the override is what activated it, so callers can log that case.
 */
export function activationDecision(report: OpeReport, opts: { override?: boolean }): { activate: boolean; reason: string; overridden: boolean } {
  const { dr, logging } = report;
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  const interval = `DR ${fmt(dr.value)} [${fmt(dr.lower)}, ${fmt(dr.upper)}] vs logging ${fmt(logging.value)} (n=${report.n}, ESS=${report.ess.toFixed(1)})`;
  if (dr.lower > logging.value) {
    return { activate: true, reason: `DR lower bound ${fmt(dr.lower)} > logging value ${fmt(logging.value)}: ${interval}`, overridden: false };
  }
  const refusal = `DR lower bound ${fmt(dr.lower)} <= logging value ${fmt(logging.value)}: ${interval}`;
  if (opts.override) return { activate: true, reason: `overridden: activated although ${refusal}`, overridden: true };
  return { activate: false, reason: `refused: ${refusal}`, overridden: false };
}

function sums(ipsTerm: Float64Array, weight: Float64Array, drTerm: Float64Array, rewards: Float64Array) {
  const n = rewards.length;
  let sIps = 0;
  let sW = 0;
  let sDr = 0;
  let sR = 0;
  for (let i = 0; i < n; i++) {
    sIps += ipsTerm[i];
    sW += weight[i];
    sDr += drTerm[i];
    sR += rewards[i];
  }
  return { ips: sIps / n, snips: snipsValue(sIps, sW), dr: sDr / n, logging: sR / n, sumW: sW };
}

/** With no weight at all (the target never picks a logged action) SNIPS has no information: 0 by convention. */
function snipsValue(sumWR: number, sumW: number): number {
  return sumW > 0 ? sumWR / sumW : 0;
}

/** Linear-interpolation quantile of ascending values (type 7, as R and numpy default). */
function quantileSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Checks shapes and ranges; returns n. */
function validate(input: OpeInput): number {
  const { rewards, loggedActions, propensities, targetProbs, rewardModel } = input;
  const n = rewards.length;
  if (n === 0) throw new ValidationError('rewards', 'at least one logged decision is needed');
  const sameLength = (field: string, len: number) => {
    if (len !== n) throw new ValidationError(field, `length ${len} differs from rewards' length ${n}`);
  };
  sameLength('loggedActions', loggedActions.length);
  sameLength('propensities', propensities.length);
  sameLength('targetProbs', targetProbs.length);
  sameLength('rewardModel', rewardModel.length);
  const k = targetProbs[0].length;
  if (k === 0) throw new ValidationError('targetProbs[0]', 'needs at least one action');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(rewards[i])) throw new ValidationError(`rewards[${i}]`, `must be finite, got ${rewards[i]}`);
    const p = propensities[i];
    if (!(p > 0 && p <= 1)) throw new ValidationError(`propensities[${i}]`, `must be in (0, 1], got ${p}`);
    const pi = targetProbs[i];
    const q = rewardModel[i];
    if (pi.length !== k) throw new ValidationError(`targetProbs[${i}]`, `has ${pi.length} actions, expected ${k}`);
    if (q.length !== k) throw new ValidationError(`rewardModel[${i}]`, `has ${q.length} actions, expected ${k}`);
    const a = loggedActions[i];
    if (!(a >= 0 && a < k)) throw new ValidationError(`loggedActions[${i}]`, `must be an action index in [0, ${k}), got ${a}`);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const pj = pi[j];
      if (!(pj >= 0 && pj <= 1)) throw new ValidationError(`targetProbs[${i}][${j}]`, `must be a probability in [0, 1], got ${pj}`);
      if (!Number.isFinite(q[j])) throw new ValidationError(`rewardModel[${i}][${j}]`, `must be finite, got ${q[j]}`);
      sum += pj;
    }
    if (Math.abs(sum - 1) > PROB_SUM_TOLERANCE) throw new ValidationError(`targetProbs[${i}]`, `must sum to 1, sums to ${sum}`);
  }
  return n;
}
