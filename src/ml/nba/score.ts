/**
 * Scoring contexts with an NBA bundle: the expected value of every eligible action (outcome
 * model + reward weights), and the factors behind a chosen action's value. Pure of I/O.
 */
import { NBA_ACTION_NAMES, type NbaFactor } from '../../domain/nba.js';
import { encodeContexts, featureGroups, featureWidth, type NbaContext, type NbaFeatureSpec } from './data.js';
import { isEligible } from './eligibility.js';
import { outcomeAt, predictRaw } from './model.js';
import { expectedReward, type NbaRewardConfig } from './reward.js';
import type * as tf from '@tensorflow/tfjs';

export interface Scorer {
  model: tf.LayersModel;
  spec: NbaFeatureSpec;
  reward: NbaRewardConfig;
}

/** Expected value of each action per context, undefined where the action is not eligible. */
export function actionValues(s: Scorer, contexts: readonly NbaContext[]): (number | undefined)[][] {
  const w = featureWidth(s.spec);
  const raw = predictRaw(s.model, encodeContexts(s.spec, contexts), contexts.length, w);
  return contexts.map((c, i) => NBA_ACTION_NAMES.map((a, k) => (isEligible(a, c) ? expectedReward(a, outcomeAt(raw, i, k), c, s.reward) : undefined)));
}

/** Model-predicted reward of every action (eligible or not), as off-policy evaluation wants it. */
export function rewardModel(s: Scorer, contexts: readonly NbaContext[]): Float64Array[] {
  const w = featureWidth(s.spec);
  const raw = predictRaw(s.model, encodeContexts(s.spec, contexts), contexts.length, w);
  return contexts.map((c, i) => Float64Array.from(NBA_ACTION_NAMES.map((a, k) => expectedReward(a, outcomeAt(raw, i, k), c, s.reward))));
}

/**
 * The `top` inputs that moved the value of action `k` most: each input group (a number, a flag,
 * a one-hot category) is replaced by its training mean, and its contribution is how much the
 * value falls (or rises) without it. The order value also enters the reward directly; that part
 * is not a model input and is not attributed.
 */
export function topFactors(s: Scorer, context: NbaContext, k: number, top = 5): NbaFactor[] {
  const w = featureWidth(s.spec);
  const x = encodeContexts(s.spec, [context]);
  const groups = featureGroups(s.spec);
  const batch = new Float32Array((groups.length + 1) * w);
  batch.set(x, 0);
  groups.forEach((g, j) => {
    const row = batch.subarray((j + 1) * w, (j + 2) * w);
    row.set(x);
    for (let c = g.start; c < g.start + g.width; c++) row[c] = s.spec.baseline[c];
  });
  const raw = predictRaw(s.model, batch, groups.length + 1, w);
  const action = NBA_ACTION_NAMES[k];
  const full = expectedReward(action, outcomeAt(raw, 0, k), context, s.reward);
  return groups
    .map((g, j) => ({ name: g.name, contribution: full - expectedReward(action, outcomeAt(raw, j + 1, k), context, s.reward) }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.name.localeCompare(b.name))
    .slice(0, top);
}
