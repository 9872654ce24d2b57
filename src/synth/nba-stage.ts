/**
 * The generator's next-best-action SQL: the logging policy `logging-v1` deciding for shipments
 * flagged by a noisy risk signal, the decisions' outcomes, and the ground truth (every action's
 * true expected reward for every decision). Draws reuse the CSAT (801, 802) and WISMO (701)
 * streams of the shipment, so the decision log, `csat_responses` and `support_contacts` tell the
 * same story; the risk, the logging draw and the repeat purchase use streams 900-902.
 */
import { NBA_ACTION_NAMES } from '../domain/nba.js';
import { eligibilitySql } from '../ml/nba/eligibility.js';
import { BEHAVIOUR as B, NBA_ACTIONS } from './behaviour.js';
import { pick } from './lookups.js';

/** The shipping the customer paid (the orders stage charges the same). */
export function shippingFeeSql(serviceKind: string, subtotal: string): string {
  return `CASE ${serviceKind} WHEN 'ground' THEN CASE WHEN ${subtotal} >= 75 THEN 0 ELSE 6.99 END WHEN 'express' THEN 12.99 WHEN 'overnight' THEN 24.99 ELSE 19.99 END`;
}

const K = NBA_ACTION_NAMES.length;
const effect = (col: keyof (typeof NBA_ACTIONS)[number], idx: string) => pick(NBA_ACTIONS.map((a) => a[col] as number), idx, 'DOUBLE');

/**
 * Truth expressions for action index `idx` over a row with is_late, late_days, hold_days,
 * subtotal and shipping_paid: P(repeat), the CSAT latent mean, P(answer), P(contact), cost.
 */
function outcomeSql(idx: string) {
  const N = B.nba;
  const C = B.csat;
  const W = B.wismo;
  const late = 'is_late::INT';
  return {
    pRepeat: `1 / (1 + exp(-(${N.repeatIntercept.value} + ${N.repeatLate.value} * ${late} + ${N.repeatLateDays.value} * least(late_days, 5) + ${effect('repeatLogit', idx)} + ${effect('repeatLogitIfLate', idx)} * ${late})))`,
    // `none` is the only action that sends no delay email, so only it pays the held-and-not-notified shift.
    csatMu: `(${C.base.value} + ${C.late.value} * ${late} + ${C.lateDays.value} * least(late_days, 5)
      + CASE WHEN is_late THEN ${effect('csatShiftIfLate', idx)} ELSE ${effect('csatShift', idx)} END
      + ${C.holdNoNotice.value} * (hold_days > 0 AND (${idx}) = 0)::INT)`,
    pAnswer: `(${C.responseBase.value} + ${C.responseLate.value} * ${late})`,
    pContact: `greatest(0.005, ${W.base.value} + ${W.late.value} * ${late} + ${W.lateDays.value} * least(late_days, 4) + ${W.hold.value} * (hold_days > 0)::INT
      + ${effect('contactShiftIfLate', idx)} * ${late})`,
    cost: `(${effect('unitCost', idx)} + CASE WHEN (${idx}) = ${NBA_ACTION_NAMES.indexOf('shipping_refund')} THEN shipping_paid ELSE 0 END)`,
  };
}

const R = B.nbaReward;
const repeatValue = `(${R.repeatValueBase.value} + ${R.repeatValueShare.value} * subtotal)`;

/**
 * E[clamp(round(mu + sd·Z), 1, 5)] = 1 + Σ_{k=1..4} Φ((mu − k − 0.5) / sd), with Φ from the
 * Abramowitz–Stegun 7.1.26 erf (|error| < 1.5e-7).
 */
const macrosSql = `
CREATE OR REPLACE TEMP MACRO _erf_poly(t) AS t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
CREATE OR REPLACE TEMP MACRO ncdf(x) AS 0.5 * (1 + sign(x) * (1 - _erf_poly(1 / (1 + 0.3275911 * abs(x) / sqrt(2))) * exp(-x * x / 2)));
CREATE OR REPLACE TEMP MACRO expected_score(mu, sd) AS 1 + ncdf((mu - 1.5) / sd) + ncdf((mu - 2.5) / sd) + ncdf((mu - 3.5) / sd) + ncdf((mu - 4.5) / sd);`;

/**
 * Builds `_nba` (one row per logged decision, with its realized outcome), `_nbv` (one row per
 * decision and action: the truth) and `_notice` (the decisions that sent a delay email, with
 * their CSAT and WISMO shifts for the later stages).
 */
export function nbaPrepareSql(o: { asOf: number; riskThreshold: number }): string {
  const N = B.nba;
  const L = B.nbaLogging;
  const elig = eligibilitySql();
  const logits = [
    '0',
    `${L.apologyIntercept.value} + ${L.apologyRisk.value} * risk`,
    `${L.rescheduleIntercept.value} + ${L.rescheduleRisk.value} * risk`,
    `${L.discountIntercept.value} + ${L.discountRisk.value} * risk + ${L.discountHighValue.value} * (subtotal > 150)::INT`,
    `${L.refundIntercept.value} + ${L.refundRisk.value} * risk`,
  ];
  const weights = logits.map((l, k) => `CASE WHEN el${k} THEN exp(${l}) ELSE 0 END AS w${k}`).join(',\n    ');
  const cum = (k: number) => Array.from({ length: k + 1 }, (_, j) => `w${j}`).join(' + ');
  const chosen = outcomeSql('ak');
  const each = outcomeSql('k');
  return `${macrosSql}
CREATE OR REPLACE TEMP TABLE _nba AS
WITH a AS (
  SELECT s.i, s.c, s.order_id, s.shipment_id, s.subtotal, s.main_ci, s.zone, s.hold_days, s.is_late, s.late_days, s.shipped_s, s.promised_s,
    s.carrier, s.service_level, s.email_tx AS email_consent, ${shippingFeeSql('s.service_kind', 's.subtotal')} AS shipping_paid,
    1 / (1 + exp(-(${N.riskIntercept.value} + ${N.riskHold.value} * (s.hold_days > 0)::INT + ${N.riskLate.value} * s.is_late::INT + ${N.riskNoise.value} * sn(s.i, 900)))) AS risk,
    s.shipped_s + 0.4 * (least(s.arrive_s, s.promised_s) - s.shipped_s) AS decided_s,
    CASE WHEN s.fa THEN s.ofd1_s ELSE s.ofd_s END AS first_ofd_s
  FROM _s s WHERE s.will_deliver),
b AS (
  SELECT a.*, a.decided_s >= a.first_ofd_s AS out_for_delivery,
    -- promotional consent as it stood at the decision (a later unsubscribe does not count yet)
    cu.promo AND NOT (cu.unsub AND cu.created_s + (${o.asOf} - cu.created_s) * su(cu.c, 108) <= a.decided_s) AS promo_consent
  FROM a JOIN _cust cu ON cu.c = a.c
  WHERE a.risk > ${o.riskThreshold} AND a.decided_s <= ${o.asOf}),
e AS (SELECT b.*, ${elig.map((x, k) => `${x} AS el${k}`).join(', ')} FROM b),
w AS (SELECT e.*, ${weights} FROM e),
d AS (
  SELECT w.*, ${cum(K - 1)} AS z, su(w.i, 901) AS u FROM w),
c AS (
  SELECT d.*, CASE ${Array.from({ length: K - 1 }, (_, k) => `WHEN u * z < ${cum(k)} THEN ${k}`).join(' ')} ELSE ${K - 1} END AS ak FROM d),
x AS (
  SELECT c.*, ${pick([...NBA_ACTION_NAMES], 'ak', 'VARCHAR')} AS action,
    CASE ak ${Array.from({ length: K }, (_, k) => `WHEN ${k} THEN w${k}`).join(' ')} END / z AS propensity,
    ${chosen.pRepeat} AS p_repeat, ${chosen.csatMu} AS csat_mu, ${chosen.pAnswer} AS p_answer, ${chosen.pContact} AS p_contact, ${chosen.cost} AS cost
  FROM c),
y AS (
  SELECT x.*, su(x.i, 902) < x.p_repeat AS repeat_purchase, su(x.i, 801) < x.p_answer AS answered,
    greatest(1, least(5, round(x.csat_mu + ${B.csat.noise.value} * sn(x.i, 802))))::INT AS csat_score,
    su(x.i, 701) < x.p_contact AS support_contact
  FROM x)
SELECT y.*, ct.name AS category,
  ${repeatValue} * y.repeat_purchase::INT - ${R.contactCost.value} * y.support_contact::INT - y.cost
    + ${R.csatValue.value} * (y.csat_score - 3) * y.answered::INT AS reward
FROM y JOIN _cat ct ON ct.ci = y.main_ci ORDER BY y.i;

CREATE OR REPLACE TEMP TABLE _nbv AS
WITH v AS (SELECT n.i, n.is_late, n.late_days, n.hold_days, n.subtotal, n.shipping_paid, n.el0, n.el1, n.el2, n.el3, n.el4,
             unnest(range(${K})) AS k FROM _nba n),
t AS (
  SELECT v.i, v.k, v.is_late, CASE v.k ${Array.from({ length: K }, (_, k) => `WHEN ${k} THEN v.el${k}`).join(' ')} END AS eligible,
    ${each.pRepeat} AS p_repeat, expected_score(${each.csatMu}, ${B.csat.noise.value}) AS expected_csat, ${each.pAnswer} AS p_csat_response,
    ${each.pContact} AS p_contact, ${each.cost} AS cost, ${repeatValue} AS repeat_value
  FROM v)
SELECT t.i, t.k, t.eligible, t.is_late, t.p_repeat, t.expected_csat, t.p_csat_response, t.p_contact, t.cost,
  t.repeat_value * t.p_repeat - ${R.contactCost.value} * t.p_contact - t.cost + ${R.csatValue.value} * t.p_csat_response * (t.expected_csat - 3) AS expected_reward
FROM t;

-- Every action but none sends a delay email; the CSAT and WISMO stages read its shifts here.
CREATE OR REPLACE TEMP TABLE _notice AS
SELECT i, decided_s, action,
  CASE WHEN is_late THEN ${effect('csatShiftIfLate', 'ak')} ELSE ${effect('csatShift', 'ak')} END AS csat_shift,
  ${effect('contactShiftIfLate', 'ak')} * is_late::INT AS contact_shift
FROM _nba WHERE action <> 'none' ORDER BY i;`;
}

/** Writes the decision log (`nba_decisions`) and the truth (`truth_nba_action_values`); plain copies of the work tables. */
export function nbaWriteSql(o: { asOf: number; idWidth: number; custId: (col: string) => string; ts: (s: string) => string }): string {
  const id = (col: string) => `'nba_' || lpad(${col}::VARCHAR, ${o.idWidth}, '0')`;
  const known = `d.decided_s + 90 * 86400 <= ${o.asOf}`;
  return `
INSERT INTO nba_decisions
SELECT ${id('d.i')}, ${o.custId('d.c')}, d.order_id, d.shipment_id, ${o.ts('d.decided_s')},
  json_object('carrier', d.carrier, 'service_level', d.service_level, 'zone', d.zone, 'risk_score', round(d.risk, 4),
    'disruption', d.hold_days > 0, 'days_to_promise', round((d.promised_s - d.decided_s) / 86400, 2),
    'order_value', d.subtotal, 'category', d.category, 'shipping_paid', d.shipping_paid,
    'email_consent', d.email_consent, 'promo_consent', d.promo_consent, 'out_for_delivery', d.out_for_delivery),
  d.action, d.propensity, 'logging-v1',
  CASE WHEN ${known} THEN json_object('repeat_purchase', d.repeat_purchase, 'csat', CASE WHEN d.answered THEN d.csat_score END,
    'support_contact', d.support_contact, 'cost', round(d.cost, 2))::VARCHAR END,
  CASE WHEN ${known} THEN d.reward END,
  CASE WHEN ${known} THEN ${o.ts('d.decided_s + 90 * 86400')} END,
  false
FROM _nba d;

INSERT INTO truth_nba_action_values
SELECT ${id('v.i')}, ${pick([...NBA_ACTION_NAMES], 'v.k', 'VARCHAR')}, v.eligible,
  CASE WHEN v.eligible THEN v.p_repeat END, CASE WHEN v.eligible THEN v.expected_csat END, CASE WHEN v.eligible THEN v.p_csat_response END,
  CASE WHEN v.eligible THEN v.p_contact END, CASE WHEN v.eligible THEN v.cost END, CASE WHEN v.eligible THEN v.expected_reward END, v.is_late
FROM _nbv v;`;
}
