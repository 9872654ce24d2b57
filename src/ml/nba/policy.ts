/**
 * The NBA decision rule, pure: the best eligible action by expected value, with epsilon
 * exploration spread evenly over the eligible actions, and a held-out do-nothing control group
 * chosen by a stable hash of the shipment id.
 *
 * Propensities are exact marginal probabilities in the decision's context: the control hash is
 * uniform and independent of the context, so P(a) = c·[a = none] + (1 − c)·((1 − ε)·[a = best] +
 * ε / |eligible|). Off-policy evaluation of this policy uses the same probabilities.
 */
import crypto from 'node:crypto';
import { NBA_ACTION_NAMES, type NbaAction } from '../../domain/nba.js';
import { ValidationError } from '../../errors.js';

export interface PolicySettings {
  /** Share of non-control decisions spread evenly over the eligible actions. */
  epsilon: number;
  /** Share of shipments held out as a do-nothing control group. */
  controlShare: number;
}

export const DEFAULT_POLICY: PolicySettings = { epsilon: 0.05, controlShare: 0.05 };

export function checkPolicySettings(s: PolicySettings): PolicySettings {
  if (!(s.epsilon >= 0 && s.epsilon <= 1)) throw new ValidationError('epsilon', `must be in [0, 1], got ${s.epsilon}`);
  if (!(s.controlShare >= 0 && s.controlShare < 1)) throw new ValidationError('controlShare', `must be in [0, 1), got ${s.controlShare}`);
  return s;
}

/** A stable uniform in [0, 1) from a key (sha-256; the same key always gives the same draw). */
export function stableUnit(key: string): number {
  return crypto.createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** True when the shipment belongs to the held-out control group. */
export function inControlGroup(shipmentId: string, controlShare: number): boolean {
  return stableUnit(`nba-control:${shipmentId}`) < controlShare;
}

/** Index of the best eligible action (`values[k]` undefined = ineligible); ties go to the earlier action. */
export function bestAction(values: readonly (number | undefined)[]): number {
  let best = 0;
  let bestValue = -Infinity;
  values.forEach((v, k) => {
    if (v !== undefined && v > bestValue) {
      best = k;
      bestValue = v;
    }
  });
  return best;
}

/** The policy's probability of every action (NBA_ACTION_NAMES order), control group included. */
export function actionProbabilities(values: readonly (number | undefined)[], s: PolicySettings): Float64Array {
  if (values.length !== NBA_ACTION_NAMES.length) throw new ValidationError('values', `expected ${NBA_ACTION_NAMES.length} action values, got ${values.length}`);
  if (values[0] === undefined) throw new ValidationError('values.none', 'none is always eligible and needs a value');
  const p = new Float64Array(values.length);
  const eligible = values.filter((v) => v !== undefined).length;
  const best = bestAction(values);
  values.forEach((v, k) => {
    if (v === undefined) return;
    p[k] = (1 - s.controlShare) * ((1 - s.epsilon) * Number(k === best) + s.epsilon / eligible);
  });
  p[0] += s.controlShare;
  return p;
}

export interface PolicyChoice {
  action: NbaAction;
  /** P(action) in this context, exploration and control included. */
  propensity: number;
  control: boolean;
  probabilities: Float64Array;
}

/**
 * Chooses for one decision. `shipmentId` fixes the control group; `u` (uniform in [0, 1)) draws
 * the exploration: below ε an eligible action is taken at random, otherwise the best one.
 */
export function choose(values: readonly (number | undefined)[], s: PolicySettings, draw: { shipmentId: string; u: number }): PolicyChoice {
  const probabilities = actionProbabilities(values, s);
  const pick = (k: number, control: boolean): PolicyChoice => ({ action: NBA_ACTION_NAMES[k], propensity: probabilities[k], control, probabilities });
  if (inControlGroup(draw.shipmentId, s.controlShare)) return pick(0, true);
  if (draw.u < s.epsilon) {
    const eligible = values.map((v, k) => (v === undefined ? -1 : k)).filter((k) => k >= 0);
    return pick(eligible[Math.min(eligible.length - 1, Math.floor((draw.u / s.epsilon) * eligible.length))], false);
  }
  return pick(bestAction(values), false);
}
