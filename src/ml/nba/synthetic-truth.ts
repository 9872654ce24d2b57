/**
 * The synthetic generator's NBA ground truth (`truth_nba_action_values`, migration 010) read back
 * for evaluation: the true value of any policy on logged decisions, and the oracle's. Only
 * meaningful on generated data; tests and benchmarks use it to check the off-policy estimates.
 */
import { NBA_ACTION_NAMES, type NbaAction } from '../../domain/nba.js';
import type { Warehouse } from '../../warehouse/warehouse.js';
import { ShipcastError } from '../../errors.js';

/** True expected reward per decision and action (undefined where the action is not eligible). */
export async function readTrueRewards(wh: Warehouse, decisionIds: readonly string[]): Promise<(number | undefined)[][]> {
  const rows = await wh.all<{ decision_id: string; action: string; expected_reward: number | null }>(
    `SELECT decision_id, action, expected_reward FROM truth_nba_action_values
     WHERE decision_id IN (SELECT unnest(from_json($1, '["VARCHAR"]')))`,
    [JSON.stringify(decisionIds)],
  );
  const byId = new Map<string, (number | undefined)[]>();
  for (const r of rows) {
    const v = byId.get(r.decision_id) ?? new Array<number | undefined>(NBA_ACTION_NAMES.length).fill(undefined);
    v[NBA_ACTION_NAMES.indexOf(r.action as NbaAction)] = r.expected_reward ?? undefined;
    byId.set(r.decision_id, v);
  }
  return decisionIds.map((id) => {
    const v = byId.get(id);
    if (!v) throw new ShipcastError('NOT_FOUND', `truth_nba_action_values: no ground truth for decision ${id} (not generated data?)`, { field: 'decision_id' });
    return v;
  });
}

/** Mean true reward of a policy given by its action probabilities per decision. */
export function trueValue(truth: readonly (number | undefined)[][], probs: readonly ArrayLike<number>[]): number {
  let s = 0;
  truth.forEach((t, i) => {
    for (let k = 0; k < t.length; k++) {
      if (probs[i][k] === 0) continue;
      if (t[k] === undefined) throw new ShipcastError('INTERNAL', `decision ${i}: the policy gives an ineligible action (${NBA_ACTION_NAMES[k]}) probability ${probs[i][k]}`);
      s += probs[i][k] * t[k]!;
    }
  });
  return s / Math.max(1, truth.length);
}

/** Mean true reward of the oracle: the best eligible action of every decision. */
export function oracleValue(truth: readonly (number | undefined)[][]): number {
  let s = 0;
  for (const t of truth) s += Math.max(...t.filter((v): v is number => v !== undefined));
  return s / Math.max(1, truth.length);
}
