import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { generateSample, GENERATED_TABLES, TRUTH_TABLES, type GenerateSummary } from '../../src/synth/generate.js';
import { METROS } from '../../src/synth/geo.js';
import { DEFAULT_KNOBS } from '../../src/synth/knobs.js';

const AS_OF = new Date('2026-11-27T12:00:00Z');
const N = 3000;

/** Order-independent checksum of every table the generator fills (truth_runs has a wall-clock column). */
async function checksums(wh: Warehouse): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of [...GENERATED_TABLES, ...TRUTH_TABLES]) {
    if (t === 'truth_runs') continue;
    const r = await wh.one<{ n: number; h: string }>(`SELECT count(*) AS n, coalesce(bit_xor(hash(x)), 0)::VARCHAR AS h FROM ${t} x`);
    out[t] = `${r?.n}:${r?.h}`;
  }
  return out;
}

const num = async (wh: Warehouse, sql: string): Promise<number> => Number(Object.values((await wh.one<Record<string, unknown>>(sql)) ?? {})[0]);

describe('generateSample on a real DuckDB', () => {
  let wh: Warehouse;
  let summary: GenerateSummary;
  beforeAll(async () => {
    wh = await openWarehouse(':memory:');
    summary = await generateSample(wh, { seed: 11, shipments: N, asOf: AS_OF });
  });
  afterAll(async () => {
    await wh.close();
  });

  it('fills every canonical and truth table and reports the counts', async () => {
    for (const t of [...GENERATED_TABLES, ...TRUTH_TABLES]) expect(summary.counts[t], t).toBeGreaterThan(0);
    expect(summary.counts.shipments).toBe(N);
    expect(summary.counts.orders).toBe(N);
    expect(summary.counts.truth_shipment_transit).toBe(N);
    const perShipment = summary.counts.tracking_events / N;
    expect(perShipment).toBeGreaterThan(7);
    expect(perShipment).toBeLessThan(10);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const progress: number[] = [];
    const again = await openWarehouse(':memory:');
    await generateSample(again, { seed: 11, shipments: N, asOf: AS_OF, onProgress: (d) => progress.push(d) });
    const other = await openWarehouse(':memory:');
    await generateSample(other, { seed: 12, shipments: N, asOf: AS_OF });
    const [a, b, c] = await Promise.all([checksums(wh), checksums(again), checksums(other)]);
    expect(b).toEqual(a);
    expect(c.shipments).not.toEqual(a.shipments);
    expect(c.tracking_events).not.toEqual(a.tracking_events);
    expect(progress.at(-1)).toBe(N);
    expect([...progress].sort((x, y) => x - y)).toEqual(progress);
    await again.close();
    await other.close();
  });

  it('refuses to generate into a warehouse that already holds data, and rejects bad options by field', async () => {
    await expect(generateSample(wh, { seed: 1, shipments: 10, asOf: AS_OF })).rejects.toMatchObject({ code: 'CONFLICT' });
    const empty = await openWarehouse(':memory:');
    await expect(generateSample(empty, { seed: 1.5, shipments: 10 })).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'seed' });
    await expect(generateSample(empty, { seed: 1, shipments: 0 })).rejects.toMatchObject({ field: 'shipments' });
    await expect(generateSample(empty, { seed: 1, shipments: 10, asOf: new Date('nope') })).rejects.toMatchObject({ field: 'asOf' });
    await expect(generateSample(empty, { seed: 1, shipments: 10, knobs: { slowLane: 'XXX>YYY' } })).rejects.toMatchObject({ field: 'knobs.slowLane' });
    await empty.close();
  });

  it('keeps references and timelines consistent', async () => {
    expect(await num(wh, 'SELECT count(*) FROM shipments s LEFT JOIN orders o USING (order_id) WHERE o.order_id IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM orders o LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM order_items i LEFT JOIN orders o USING (order_id) WHERE o.order_id IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM tracking_events e LEFT JOIN shipments s USING (tracking_number) WHERE s.tracking_number IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM freight_invoices f LEFT JOIN shipments s USING (shipment_id) WHERE s.shipment_id IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM email_events e LEFT JOIN email_messages m USING (message_id) WHERE m.message_id IS NULL')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM shipments WHERE delivered_at < shipped_at OR shipped_at < label_created_at')).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM shipments s JOIN orders o USING (order_id) WHERE s.shipped_at < o.purchased_at')).toBe(0);
    // Nothing after the end of history.
    expect(await num(wh, `SELECT count(*) FROM tracking_events WHERE received_at > '${AS_OF.toISOString()}' OR occurred_at > received_at`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM shipments WHERE delivered_at > '${AS_OF.toISOString()}' OR status_at > '${AS_OF.toISOString()}'`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM csat_responses WHERE responded_at > '${AS_OF.toISOString()}'`)).toBe(0);
    // Status = latest event by event time; delivered status iff delivered_at.
    expect(await num(wh, "SELECT count(*) FROM shipments WHERE (status = 'delivered') <> (delivered_at IS NOT NULL)")).toBe(0);
    // The realized delivery is the truth's draw.
    expect(await num(wh, `SELECT count(*) FROM shipments s JOIN truth_shipment_transit t USING (shipment_id)
      WHERE s.delivered_at IS NOT NULL AND (s.delivered_at <> t.true_delivered_at OR abs(epoch(s.delivered_at) - epoch(s.shipped_at) - 86400 * t.true_transit_days) > 1)`)).toBe(0);
  });

  it('never delivers on a no-delivery day of the service (local date)', async () => {
    const offsets = METROS.map((m) => `('${m.postalPrefix}', ${m.utcOffset})`).join(', ');
    const sql = (cls: string, col: string) => `
      SELECT count(*) FROM shipments s JOIN truth_shipment_transit t USING (shipment_id)
      JOIN (VALUES ${offsets}) o(prefix, off) ON o.prefix = s.dest_postal_prefix
      JOIN truth_calendar c ON c.day = CAST(s.delivered_at + to_hours(o.off::BIGINT) AS DATE)
      WHERE t.delivery_class = '${cls}' AND NOT c.${col}`;
    const delivered = await num(wh, 'SELECT count(*) FROM shipments WHERE delivered_at IS NOT NULL');
    expect(delivered).toBeGreaterThan(N * 0.9);
    // Positive control: the local-date join reaches every delivered shipment.
    expect(await num(wh, sql('ground', 'ground_delivers').replace("WHERE t.delivery_class = 'ground' AND NOT c.ground_delivers", 'WHERE true'))).toBe(delivered);
    expect(await num(wh, sql('ground', 'ground_delivers'))).toBe(0);
    expect(await num(wh, sql('express', 'express_delivers'))).toBe(0);
    // Holidays and Sundays are in the planted calendar.
    expect(await num(wh, 'SELECT count(*) FROM truth_calendar WHERE holiday IS NOT NULL AND NOT ground_delivers')).toBeGreaterThan(0);
    // …and exported to the delivery calendar the ETA features read, for both countries.
    expect(await wh.all(`SELECT c.day, c.holiday AS name FROM truth_calendar c WHERE c.holiday IS NOT NULL
      EXCEPT SELECT day, name FROM delivery_calendar WHERE country = 'US' AND source = 'generator'`)).toEqual([]);
    expect(await num(wh, "SELECT count(*) FROM delivery_calendar WHERE country = 'CA'")).toBe(await num(wh, 'SELECT count(*) FROM truth_calendar WHERE holiday IS NOT NULL'));
    // Hand-offs only on business days (origin local time is within a day of UTC for every centre).
    const handoffs = await wh.one<{ n: number; bad: number }>(`SELECT count(*) AS n, count(*) FILTER (WHERE NOT c.business_day) AS bad
      FROM shipments s JOIN truth_calendar c ON c.day = CAST(s.shipped_at - INTERVAL 7 HOUR AS DATE)`);
    expect(handoffs!.n).toBe(await num(wh, 'SELECT count(*) FROM shipments WHERE shipped_at IS NOT NULL'));
    expect(handoffs!.bad).toBe(0);
  });

  it('publishes one service alert per planted disruption, from the opening of its affected hand-off window', async () => {
    const truth = await num(wh, `SELECT count(*) FROM truth_disruptions WHERE affects_shipped_from <= '${AS_OF.toISOString()}'`);
    expect(truth).toBeGreaterThan(0);
    // Disruptions whose window opens after the end of history have no alert yet.
    expect(await num(wh, `SELECT count(*) FROM truth_disruptions WHERE affects_shipped_from > '${AS_OF.toISOString()}'`)).toBeGreaterThan(0);
    expect(await num(wh, `SELECT count(*) FROM service_alerts WHERE announced_at > '${AS_OF.toISOString()}'`)).toBe(0);
    const matched = await wh.all<{ kind: string; delay: number; extra: number }>(`
      SELECT a.kind, a.expected_delay_days AS delay, d.extra_days AS extra FROM service_alerts a
      JOIN truth_disruptions d ON a.alert_id = 'generator-' || d.disruption_id
      WHERE a.kind = d.kind AND a.country = d.country AND a.region = d.region AND a.carrier IS NULL AND a.source = 'generator'
        AND a.announced_at = d.affects_shipped_from AND a.starts_at = d.affects_shipped_from AND a.ends_at = d.affects_shipped_to`);
    expect(matched.length).toBe(truth);
    expect(await num(wh, 'SELECT count(*) FROM service_alerts')).toBe(truth);
    expect(new Set(matched.map((m) => m.kind))).toEqual(new Set(['weather', 'customs']));
    // The announced delay is the planted one to the nearest half day.
    for (const m of matched) {
      expect(m.delay * 2).toBe(Math.round(m.delay * 2));
      expect(Math.abs(m.delay - m.extra)).toBeLessThanOrEqual(0.25);
    }
    // Every held parcel's hand-off falls inside an alert for its destination announced by then.
    expect(await num(wh, `SELECT count(*) FROM truth_shipment_transit t JOIN shipments s USING (shipment_id)
      WHERE t.hold_days > 0 AND s.shipped_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM service_alerts a
        WHERE a.country = s.dest_country AND a.region = s.dest_region AND a.announced_at <= s.shipped_at AND s.shipped_at BETWEEN a.starts_at AND a.ends_at)`)).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM truth_shipment_transit t JOIN shipments s USING (shipment_id) WHERE t.hold_days > 0 AND s.shipped_at IS NOT NULL')).toBeGreaterThan(0);
  });

  it('has duplicate and out-of-order tracking events', async () => {
    const dups = await num(wh, 'SELECT count(*) FROM (SELECT tracking_number, status, occurred_at FROM tracking_events GROUP BY ALL HAVING count(*) > 1)');
    expect(dups).toBeGreaterThan(N * 8 * 0.02);
    const outOfOrder = await num(wh, `SELECT count(*) FROM (
      SELECT tracking_number, occurred_at, lag(occurred_at) OVER (PARTITION BY tracking_number ORDER BY received_at, event_id) AS prev FROM tracking_events)
      WHERE occurred_at < prev`);
    expect(outOfOrder).toBeGreaterThan(N * 0.1);
    const statuses = (await wh.all<{ status: string }>('SELECT DISTINCT status FROM tracking_events')).map((r) => r.status);
    for (const s of ['info_received', 'in_transit', 'out_for_delivery', 'delivered', 'failed_attempt', 'delivery_delayed', 'exception', 'return_to_sender']) expect(statuses).toContain(s);
  });

  it('plants a transit truth the data agrees with', async () => {
    const r = await wh.one<{ n: number; cov: number; below: number; mad_emp: number; mad_truth: number; mean_emp: number; mean_truth: number }>(`
      SELECT count(*) AS n, avg((true_transit_days BETWEEN p10_days AND p90_days)::INT) AS cov, avg((true_transit_days <= p50_days)::INT) AS below,
        avg(abs(true_transit_days - p50_days)) AS mad_emp, avg(expected_abs_dev_from_median_days) AS mad_truth,
        avg(true_transit_days) AS mean_emp, avg(mean_days) AS mean_truth
      FROM truth_shipment_transit WHERE will_deliver`);
    expect(r!.cov).toBeGreaterThan(0.77);
    expect(r!.cov).toBeLessThan(0.83);
    expect(Math.abs(r!.below - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(r!.mad_emp / r!.mad_truth - 1)).toBeLessThan(0.06);
    expect(Math.abs(r!.mean_emp / r!.mean_truth - 1)).toBeLessThan(0.03);
    expect(await num(wh, 'SELECT count(*) FROM truth_shipment_transit WHERE NOT (p10_days < p50_days AND p50_days < p90_days AND median_days = p50_days AND expected_abs_dev_from_median_days > 0)')).toBe(0);
    // Per lane, half of the deliveries fall below the planted median.
    const lanes = await wh.all<{ lane_id: string; n: number; below: number }>(`
      SELECT lane_id, count(*) AS n, avg((true_transit_days <= p50_days)::INT) AS below FROM truth_shipment_transit WHERE will_deliver GROUP BY lane_id HAVING count(*) >= 100`);
    expect(lanes.length).toBeGreaterThan(3);
    for (const l of lanes) expect(Math.abs(l.below - 0.5), l.lane_id).toBeLessThan(0.15);
  });

  it('plants a strongly slow lane that is visible in the data', async () => {
    const planted = await wh.one<{ lane_id: string; transit_multiplier: number }>("SELECT lane_id, transit_multiplier FROM truth_lanes WHERE planted = 'slow'");
    expect(planted).toEqual({ lane_id: DEFAULT_KNOBS.slowLane, transit_multiplier: DEFAULT_KNOBS.slowLaneMult });
    // Ground median transit on the slow lane against same-origin lanes of the same zone.
    const r = await wh.one<{ slow: number; peers: number }>(`
      WITH g AS (SELECT t.lane_id, l.zone, l.origin_code, epoch(s.delivered_at) - epoch(s.shipped_at) AS secs
                 FROM shipments s JOIN truth_shipment_transit t USING (shipment_id) JOIN truth_lanes l USING (lane_id)
                 WHERE s.service_level = 'ground' AND s.delivered_at IS NOT NULL AND t.hold_days = 0)
      SELECT median(secs) FILTER (WHERE lane_id = '${DEFAULT_KNOBS.slowLane}') / 86400 AS slow,
             median(secs) FILTER (WHERE lane_id <> '${DEFAULT_KNOBS.slowLane}' AND (zone, origin_code) IN (SELECT (zone, origin_code) FROM truth_lanes WHERE planted = 'slow')) / 86400 AS peers
      FROM g`);
    expect(r!.slow / r!.peers).toBeGreaterThan(1.4);
  });

  it('leaves shipments in flight at asOf, some of them late', async () => {
    const inFlight = await num(wh, "SELECT count(*) FROM shipments WHERE delivered_at IS NULL AND status NOT IN ('return_to_sender')");
    expect(inFlight).toBeGreaterThan(N * 0.01);
    expect(await num(wh, "SELECT count(*) FROM shipments WHERE delivered_at IS NULL AND status IN ('in_transit', 'delivery_delayed', 'out_for_delivery', 'failed_attempt', 'exception')")).toBeGreaterThan(0);
    expect(await num(wh, `SELECT count(*) FROM shipments WHERE delivered_at IS NULL AND shipped_at IS NOT NULL AND promised_at < '${AS_OF.toISOString()}'`)).toBeGreaterThan(0);
    // The truth still knows when in-flight parcels will arrive.
    expect(await num(wh, 'SELECT count(*) FROM shipments s JOIN truth_shipment_transit t USING (shipment_id) WHERE s.delivered_at IS NULL AND t.will_deliver AND t.true_delivered_at IS NULL')).toBe(0);
  });

  it('makes late deliveries hurt CSAT and drive contacts and returns', async () => {
    const csat = await wh.all<{ late: boolean; score: number }>(`
      SELECT t.is_late AS late, avg(c.score) AS score FROM csat_responses c JOIN truth_shipment_transit t USING (shipment_id) GROUP BY 1`);
    const late = csat.find((r) => r.late)!.score;
    const onTime = csat.find((r) => !r.late)!.score;
    expect(onTime - late).toBeGreaterThan(0.7);
    const wismo = await wh.all<{ late: boolean; rate: number }>(`
      SELECT t.is_late AS late, avg((w.shipment_id IS NOT NULL)::INT) AS rate FROM truth_shipment_transit t
      LEFT JOIN (SELECT DISTINCT shipment_id FROM support_contacts WHERE reason = 'wismo') w USING (shipment_id) WHERE t.will_deliver GROUP BY 1`);
    expect(wismo.find((r) => r.late)!.rate).toBeGreaterThan(3 * wismo.find((r) => !r.late)!.rate);
    const ret = await wh.one<{ emp: number; truth: number }>(`
      SELECT avg(returned::INT) AS emp, avg(return_prob) AS truth FROM truth_order_returns r JOIN truth_shipment_transit t USING (order_id) WHERE t.will_deliver`);
    expect(Math.abs(ret!.emp - ret!.truth)).toBeLessThan(0.02);
    const byCat = await wh.all<{ category: string; p: number }>('SELECT category, avg(return_prob) AS p FROM truth_order_returns GROUP BY 1');
    expect(byCat.find((r) => r.category === 'apparel')!.p).toBeGreaterThan(2 * byCat.find((r) => r.category === 'books')!.p);
  });

  it('plants invoice errors that can be found from the invoices alone', async () => {
    const errors = await wh.all<{ error_type: string; n: number }>('SELECT error_type, count(*) AS n FROM truth_invoice_errors GROUP BY 1');
    expect(errors.map((e) => e.error_type).sort()).toEqual(['duplicate_invoice', 'guaranteed_late_billed_full', 'wrong_accessorial']);
    expect(await num(wh, `SELECT count(*) FROM truth_invoice_errors e WHERE e.error_type = 'duplicate_invoice' AND NOT EXISTS (
      SELECT 1 FROM freight_invoices a JOIN freight_invoices b ON a.invoice_number = b.invoice_number AND a.invoice_id <> b.invoice_id WHERE a.invoice_id = e.invoice_id)`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM truth_invoice_errors e JOIN freight_invoices f USING (invoice_id)
      WHERE e.error_type <> 'duplicate_invoice' AND f.total_amount - f.contracted_amount < e.overcharge - 0.01`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM truth_invoice_errors e JOIN shipments s USING (shipment_id)
      WHERE e.error_type = 'guaranteed_late_billed_full' AND NOT (s.is_guaranteed AND s.delivered_at > s.promised_at)`)).toBe(0);
    // Invoices without a planted error bill exactly the contract, and totals are the sum of their lines.
    expect(await num(wh, `SELECT count(*) FROM freight_invoices f WHERE f.invoice_id NOT IN (SELECT invoice_id FROM truth_invoice_errors)
      AND f.invoice_id NOT LIKE '%\\_2' ESCAPE '\\' AND abs(f.total_amount - f.contracted_amount) > 0.01`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM freight_invoices f JOIN (SELECT invoice_id, sum(amount) AS s FROM freight_invoice_charges GROUP BY 1) c USING (invoice_id)
      WHERE abs(f.total_amount - c.s) > 0.02`)).toBe(0);
  });

  it('logs next-best-action decisions with propensities, and notices reach the customer', async () => {
    const r = await wh.one<{ n: number; lo: number; hi: number; actions: number }>(
      'SELECT count(*) AS n, min(propensity) AS lo, max(propensity) AS hi, count(DISTINCT action) AS actions FROM nba_decisions');
    expect(r!.n).toBeGreaterThan(50);
    expect(r!.lo).toBeGreaterThan(0);
    expect(r!.hi).toBeLessThanOrEqual(1);
    expect(r!.actions).toBe(5);
    // Every action but none sends a delay email to a customer with transactional consent.
    expect(await num(wh, `SELECT count(*) FROM nba_decisions d WHERE action <> 'none' AND NOT EXISTS (
      SELECT 1 FROM email_messages m WHERE m.shipment_id = d.shipment_id AND m.kind = 'delay')`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM nba_decisions d WHERE action = 'none' AND EXISTS (
      SELECT 1 FROM email_messages m WHERE m.shipment_id = d.shipment_id AND m.kind = 'delay')`)).toBe(0);
    expect(await num(wh, `SELECT count(*) FROM email_messages m JOIN nba_decisions d ON d.decision_id = m.nba_decision_id
      WHERE m.kind = 'delay' AND m.nba_action = d.action AND m.shipment_id = d.shipment_id`)).toBe(await num(wh, "SELECT count(*) FROM email_messages WHERE kind = 'delay'"));
    expect(await num(wh, "SELECT count(*) FROM truth_nba_action_effects WHERE action = 'apology_notice' AND repeat_logit_if_late > 0")).toBe(1);
  });

  it('the NBA truth: five actions per decision, eligibility as the policy sees it, propensities of logging-v1', async () => {
    expect(await num(wh, `SELECT count(*) FROM nba_decisions d LEFT JOIN (SELECT decision_id, count(*) AS k FROM truth_nba_action_values GROUP BY 1) v
      USING (decision_id) WHERE v.k IS DISTINCT FROM 5`)).toBe(0);
    // The logged action was eligible; none always is; an ineligible action has no expectations.
    expect(await num(wh, `SELECT count(*) FROM nba_decisions d JOIN truth_nba_action_values v ON v.decision_id = d.decision_id AND v.action = d.action WHERE NOT v.eligible`)).toBe(0);
    expect(await num(wh, "SELECT count(*) FROM truth_nba_action_values WHERE action = 'none' AND NOT eligible")).toBe(0);
    expect(await num(wh, 'SELECT count(*) FROM truth_nba_action_values WHERE NOT eligible AND expected_reward IS NOT NULL')).toBe(0);
    expect(await num(wh, "SELECT count(*) FROM truth_nba_action_values WHERE action = 'discount_code' AND NOT eligible")).toBeGreaterThan(0);
    // The rules are the policy's (src/ml/nba/eligibility.ts), read from the logged context.
    const rows = await wh.all<{ context: string; action: string; eligible: boolean }>(
      'SELECT d.context::VARCHAR AS context, v.action, v.eligible FROM nba_decisions d JOIN truth_nba_action_values v USING (decision_id)');
    const { isEligible } = await import('../../src/ml/nba/eligibility.js');
    const mismatches = rows.filter((x) => isEligible(x.action as never, JSON.parse(x.context)) !== x.eligible);
    expect(mismatches).toEqual([]);
    // The logged propensity is logging-v1's softmax over the eligible actions (risk is logged to 4 decimals).
    const { BEHAVIOUR } = await import('../../src/synth/behaviour.js');
    const L = BEHAVIOUR.nbaLogging;
    const logged = await wh.all<{ context: string; action: string; propensity: number }>('SELECT context::VARCHAR AS context, action, propensity FROM nba_decisions');
    const names = ['none', 'apology_notice', 'reschedule_offer', 'discount_code', 'shipping_refund'] as const;
    for (const d of logged) {
      const c = JSON.parse(d.context) as { risk_score: number; order_value: number };
      const r = c.risk_score;
      const logit = [0, L.apologyIntercept.value + L.apologyRisk.value * r, L.rescheduleIntercept.value + L.rescheduleRisk.value * r,
        L.discountIntercept.value + L.discountRisk.value * r + L.discountHighValue.value * Number(c.order_value > 150), L.refundIntercept.value + L.refundRisk.value * r];
      const w = names.map((a, k) => (isEligible(a, JSON.parse(d.context)) ? Math.exp(logit[k]) : 0));
      const p = w[names.indexOf(d.action as (typeof names)[number])] / w.reduce((x, y) => x + y, 0);
      expect(Math.abs(p - d.propensity)).toBeLessThan(1e-3);
    }
  });

  it('realized NBA rewards agree with the true expected rewards of the logged actions', async () => {
    const r = await wh.one<{ n: number; obs: number; exp: number; sd: number }>(`
      SELECT count(*) AS n, avg(d.reward) AS obs, avg(v.expected_reward) AS exp, stddev_samp(d.reward) AS sd
      FROM nba_decisions d JOIN truth_nba_action_values v ON v.decision_id = d.decision_id AND v.action = d.action WHERE d.reward IS NOT NULL`);
    expect(r!.n).toBeGreaterThan(50);
    expect(Math.abs(r!.obs - r!.exp)).toBeLessThan((4 * r!.sd) / Math.sqrt(r!.n));
    // The reward is the documented combination of the outcome's parts.
    const bad = await num(wh, `SELECT count(*) FROM nba_decisions d WHERE d.reward IS NOT NULL AND abs(d.reward - (
      (8 + 0.12 * (context->>'order_value')::DOUBLE) * (outcome::JSON->>'repeat_purchase')::BOOLEAN::INT
      - 6 * (outcome::JSON->>'support_contact')::BOOLEAN::INT - (outcome::JSON->>'cost')::DOUBLE
      + 2 * coalesce((outcome::JSON->>'csat')::INT - 3, 0))) > 0.01`);
    expect(bad).toBe(0);
    // Logged CSAT answers are the shipment's survey answers.
    expect(await num(wh, `SELECT count(*) FROM nba_decisions d JOIN csat_responses c USING (shipment_id)
      WHERE d.outcome IS NOT NULL AND (d.outcome::JSON->>'csat')::INT IS DISTINCT FROM c.score`)).toBe(0);
  });
});
