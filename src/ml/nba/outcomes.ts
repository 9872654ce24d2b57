/**
 * Filling in decisions' outcomes once their window has passed: a repeat purchase by the same
 * customer within `horizonDays` of the decision, the shipment's first CSAT answer, a
 * where-is-my-order contact after the decision within the window, and the action's cost, combined
 * into the reward with the policy's weights.
 */
import type { Warehouse } from '../../warehouse/warehouse.js';
import { NBA_ACTION_NAMES } from '../../domain/nba.js';
import { DEFAULT_NBA_REWARD, type NbaRewardConfig } from './reward.js';

/** Outcomes become known this many days after the decision (the repeat-purchase window). */
export const OUTCOME_HORIZON_DAYS = 90;

/** Sets outcome, reward and outcome_at of every decision whose window ended by `now`; returns how many. */
export async function fillOutcomes(wh: Warehouse, opts: { now?: Date; reward?: NbaRewardConfig; horizonDays?: number } = {}): Promise<number> {
  const now = (opts.now ?? new Date()).toISOString();
  const cfg = opts.reward ?? DEFAULT_NBA_REWARD;
  const h = opts.horizonDays ?? OUTCOME_HORIZON_DAYS;
  const unit = NBA_ACTION_NAMES.map((a, k) => `WHEN '${a}' THEN $${k + 3}::DOUBLE`).join(' ');
  const params = [now, h, ...NBA_ACTION_NAMES.map((a) => cfg.unitCost[a]), cfg.repeatValueBase, cfg.repeatValueShare, cfg.contactCost, cfg.csatValue];
  const p = (i: number) => `$${NBA_ACTION_NAMES.length + 3 + i}::DOUBLE`;
  const before = (await wh.one<{ n: number }>('SELECT count(*) AS n FROM nba_decisions WHERE outcome IS NULL'))?.n ?? 0;
  await wh.run(
    `UPDATE nba_decisions SET outcome = x.outcome, reward = x.reward, outcome_at = x.outcome_at FROM (
      WITH due AS (
        SELECT decision_id, customer_id, shipment_id, decided_at, action, context, decided_at + to_days($2::INTEGER) AS ends_at
        FROM nba_decisions WHERE outcome IS NULL AND decided_at + to_days($2::INTEGER) <= $1::TIMESTAMPTZ),
      rep AS (SELECT d.decision_id FROM due d JOIN orders o ON o.customer_id = d.customer_id AND o.purchased_at > d.decided_at AND o.purchased_at <= d.ends_at GROUP BY 1),
      cs AS (SELECT d.decision_id, arg_min(c.score, c.responded_at) AS csat FROM due d JOIN csat_responses c ON c.shipment_id = d.shipment_id
             WHERE c.responded_at <= $1::TIMESTAMPTZ GROUP BY 1),
      con AS (SELECT d.decision_id FROM due d JOIN support_contacts sc ON sc.shipment_id = d.shipment_id AND sc.reason = 'wismo'
              AND sc.created_at > d.decided_at AND sc.created_at <= d.ends_at GROUP BY 1),
      y AS (
        SELECT d.decision_id, d.ends_at, rep.decision_id IS NOT NULL AS repeat_purchase, cs.csat, con.decision_id IS NOT NULL AS support_contact,
          CASE d.action ${unit} ELSE 0 END + CASE WHEN d.action = 'shipping_refund' THEN coalesce((d.context->>'shipping_paid')::DOUBLE, 0) ELSE 0 END AS cost,
          coalesce((d.context->>'order_value')::DOUBLE, 0) AS order_value
        FROM due d LEFT JOIN rep USING (decision_id) LEFT JOIN cs USING (decision_id) LEFT JOIN con USING (decision_id))
      SELECT decision_id, ends_at AS outcome_at,
        json_object('repeat_purchase', repeat_purchase, 'csat', csat, 'support_contact', support_contact, 'cost', round(cost, 2))::VARCHAR AS outcome,
        (${p(0)} + ${p(1)} * order_value) * repeat_purchase::INT - ${p(2)} * support_contact::INT - round(cost, 2) + ${p(3)} * coalesce(csat - 3, 0) AS reward
      FROM y) x
    WHERE nba_decisions.decision_id = x.decision_id`,
    params,
  );
  const after = (await wh.one<{ n: number }>('SELECT count(*) AS n FROM nba_decisions WHERE outcome IS NULL'))?.n ?? 0;
  return before - after;
}
