/**
 * NBA training data: logged decisions (`nba_decisions`) whose outcome is known, their context
 * parsed and encoded into a fixed-width numeric matrix (standardized numerics, one-hot
 * categoricals with an "other" slot), plus each decision's outcome components.
 */
import { NBA_ACTION_NAMES, type NbaAction } from '../../domain/nba.js';
import type { SqlValue, Warehouse } from '../../warehouse/warehouse.js';
import { ShipcastError, ValidationError } from '../../errors.js';
import type { EligibilityFacts } from './eligibility.js';
import { actionCost, realizedReward, type NbaRewardConfig } from './reward.js';

/** What the policy sees at decision time (the `context` JSON of `nba_decisions`). */
export interface NbaContext extends EligibilityFacts {
  carrier: string;
  zone: number;
  /** Probability the shipment ends up late, per the risk signal that flagged it. */
  risk_score: number;
  /** A carrier service alert (weather, customs) affects the shipment. */
  disruption: boolean;
  /** Days from the decision to the promised delivery (negative once past it). */
  days_to_promise: number;
  order_value: number;
  category: string;
}

/** The later outcome of a decision (the `outcome` JSON). */
export interface NbaOutcome {
  repeat_purchase: boolean;
  /** Survey score 1..5, or null when the customer did not answer. */
  csat: number | null;
  support_contact: boolean;
  cost: number;
}

/** One logged decision with a known outcome. */
export interface NbaExample {
  decisionId: string;
  shipmentId: string;
  decidedAt: Date;
  context: NbaContext;
  action: number;
  propensity: number;
  policyVersion: string;
  outcome: NbaOutcome;
  reward: number;
}

const NUMERIC_KEYS = ['risk_score', 'days_to_promise', 'order_value', 'zone', 'shipping_paid'] as const;
const BOOL_KEYS = ['disruption', 'email_consent', 'promo_consent', 'out_for_delivery'] as const;
const CATEGORICAL_KEYS = ['carrier', 'service_level', 'category'] as const;

/** Checks and normalizes a parsed context; throws BAD_INPUT naming the first bad field. */
export function parseContext(raw: unknown, where = 'context'): NbaContext {
  if (!raw || typeof raw !== 'object') throw new ValidationError(where, 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of NUMERIC_KEYS) if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new ValidationError(`${where}.${k}`, 'must be a finite number');
  for (const k of BOOL_KEYS) if (typeof o[k] !== 'boolean') throw new ValidationError(`${where}.${k}`, 'must be a boolean');
  for (const k of CATEGORICAL_KEYS) if (typeof o[k] !== 'string') throw new ValidationError(`${where}.${k}`, 'must be a string');
  return o as unknown as NbaContext;
}

/** Checks a parsed outcome. */
export function parseOutcome(raw: unknown, where = 'outcome'): NbaOutcome {
  if (!raw || typeof raw !== 'object') throw new ValidationError(where, 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.repeat_purchase !== 'boolean') throw new ValidationError(`${where}.repeat_purchase`, 'must be a boolean');
  if (typeof o.support_contact !== 'boolean') throw new ValidationError(`${where}.support_contact`, 'must be a boolean');
  if (o.csat !== null && (typeof o.csat !== 'number' || o.csat < 1 || o.csat > 5)) throw new ValidationError(`${where}.csat`, 'must be null or a score in 1..5');
  if (typeof o.cost !== 'number' || !Number.isFinite(o.cost)) throw new ValidationError(`${where}.cost`, 'must be a finite number');
  return o as unknown as NbaOutcome;
}

export function actionIndex(action: string, where = 'action'): number {
  const k = NBA_ACTION_NAMES.indexOf(action as NbaAction);
  if (k < 0) throw new ValidationError(where, `unknown action "${action}"; expected one of ${NBA_ACTION_NAMES.join(', ')}`);
  return k;
}

/**
 * Logged decisions with a known outcome, oldest first (decided before `until` when given). A row
 * that cannot be used is an error naming the decision and field, not silently skipped.
 */
export async function readLoggedDecisions(wh: Warehouse, opts: { until?: Date; policyVersion?: string; reward?: NbaRewardConfig } = {}): Promise<NbaExample[]> {
  const where: string[] = ['outcome IS NOT NULL', 'reward IS NOT NULL'];
  const params: SqlValue[] = [];
  if (opts.until) {
    params.push(opts.until.toISOString());
    where.push(`decided_at < $${params.length}::TIMESTAMPTZ`);
  }
  if (opts.policyVersion) {
    params.push(opts.policyVersion);
    where.push(`policy_version = $${params.length}`);
  }
  const rows = await wh.all<{ decision_id: string; shipment_id: string | null; decided_at: Date; context: string; action: string; propensity: number; policy_version: string; outcome: string; reward: number }>(
    `SELECT decision_id, shipment_id, decided_at, context::VARCHAR AS context, action, propensity, policy_version, outcome, reward
     FROM nba_decisions WHERE ${where.join(' AND ')} ORDER BY decided_at, decision_id`,
    params,
  );
  return rows.map((r) => {
    const at = `nba_decisions[${r.decision_id}]`;
    let ctx: unknown;
    let out: unknown;
    try {
      ctx = JSON.parse(r.context);
      out = JSON.parse(r.outcome);
    } catch (e) {
      throw new ShipcastError('BAD_INPUT', `${at}: context or outcome is not JSON`, { field: 'outcome', cause: e });
    }
    const context = parseContext(ctx, `${at}.context`);
    const action = actionIndex(r.action, `${at}.action`);
    const outcome = parseOutcome(out, `${at}.outcome`);
    return {
      decisionId: r.decision_id,
      shipmentId: r.shipment_id ?? '',
      decidedAt: new Date(r.decided_at),
      context,
      action,
      propensity: r.propensity,
      policyVersion: r.policy_version,
      outcome,
      reward: opts.reward ? revalued(outcome, context, NBA_ACTION_NAMES[action]!, opts.reward) : r.reward,
    };
  });
}

/**
 * The reward of a logged outcome under `cfg`: the outcome itself (repeat purchase, CSAT, contact)
 * is what happened, but its cost and worth follow the configured weights, so a deployment that
 * changes them re-values its history instead of mixing old and new prices.
 */
function revalued(outcome: NbaOutcome, context: NbaContext, action: NbaAction, cfg: NbaRewardConfig): number {
  return realizedReward({ ...outcome, cost: Math.round(actionCost(action, context, cfg) * 100) / 100 }, context, cfg);
}

/** How contexts become model inputs; saved with the model. */
export interface NbaFeatureSpec {
  numeric: { name: string; mean: number; sd: number }[];
  booleans: string[];
  categorical: { name: string; vocabulary: string[] }[];
  /** Mean encoded training input: the reference a contributing factor is measured against. */
  baseline: number[];
}

const numericValue = (c: NbaContext, name: string): number => {
  const v = (c as unknown as Record<string, number>)[name];
  // Order values are skewed: their log is what scales with the outcomes.
  return name === 'order_value' ? Math.log1p(Math.max(0, v)) : v;
};

/** Means, sds and vocabularies from training contexts (categories seen fewer than 5 times fall into "other"). */
export function fitNbaFeatureSpec(contexts: readonly NbaContext[]): NbaFeatureSpec {
  if (contexts.length === 0) throw new ShipcastError('BAD_INPUT', 'no logged decisions with known outcomes to learn from', { field: 'nba_decisions' });
  const numeric = NUMERIC_KEYS.map((name) => {
    let s = 0;
    let s2 = 0;
    for (const c of contexts) {
      const v = numericValue(c, name);
      s += v;
      s2 += v * v;
    }
    const mean = s / contexts.length;
    const sd = Math.sqrt(Math.max(0, s2 / contexts.length - mean * mean));
    return { name, mean, sd: sd > 1e-9 ? sd : 1 };
  });
  const categorical = CATEGORICAL_KEYS.map((name) => {
    const counts = new Map<string, number>();
    for (const c of contexts) counts.set(String(c[name]), (counts.get(String(c[name])) ?? 0) + 1);
    return { name, vocabulary: [...counts].filter(([, n]) => n >= 5).map(([v]) => v).sort() };
  });
  const spec: NbaFeatureSpec = { numeric, booleans: [...BOOL_KEYS], categorical, baseline: [] };
  const w = featureWidth(spec);
  const x = encodeContexts(spec, contexts);
  const baseline = new Array<number>(w).fill(0);
  for (let i = 0; i < contexts.length; i++) for (let j = 0; j < w; j++) baseline[j] += x[i * w + j] / contexts.length;
  return { ...spec, baseline };
}

/** Input width: numerics, booleans, and each vocabulary plus its "other" slot. */
export function featureWidth(spec: NbaFeatureSpec): number {
  return spec.numeric.length + spec.booleans.length + spec.categorical.reduce((a, c) => a + c.vocabulary.length + 1, 0);
}

/** The input columns' names, in order (for contributing factors). */
export function featureGroups(spec: NbaFeatureSpec): { name: string; start: number; width: number }[] {
  const out: { name: string; start: number; width: number }[] = [];
  let at = 0;
  for (const n of spec.numeric) out.push({ name: n.name, start: at++, width: 1 });
  for (const b of spec.booleans) out.push({ name: b, start: at++, width: 1 });
  for (const c of spec.categorical) {
    out.push({ name: c.name, start: at, width: c.vocabulary.length + 1 });
    at += c.vocabulary.length + 1;
  }
  return out;
}

/** Encodes contexts row-major into [n × featureWidth]. */
export function encodeContexts(spec: NbaFeatureSpec, contexts: readonly NbaContext[]): Float32Array {
  const w = featureWidth(spec);
  const x = new Float32Array(contexts.length * w);
  contexts.forEach((c, i) => {
    let at = i * w;
    for (const n of spec.numeric) x[at++] = (numericValue(c, n.name) - n.mean) / n.sd;
    for (const b of spec.booleans) x[at++] = (c as unknown as Record<string, boolean>)[b] ? 1 : 0;
    for (const cat of spec.categorical) {
      const k = cat.vocabulary.indexOf(String(c[cat.name as keyof NbaContext]));
      x[at + (k < 0 ? cat.vocabulary.length : k)] = 1;
      at += cat.vocabulary.length + 1;
    }
  });
  return x;
}
