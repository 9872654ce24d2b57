/**
 * Cost-to-serve per shipping cohort (carrier × service level × great-circle distance band), with
 * the billing errors worth recovering. Distance is used rather than the carrier's zone because
 * every shipment has coordinates, while a zone only exists once an invoice arrives.
 */
import type { SqlRunner } from '../warehouse/warehouse.js';
import { ValidationError } from '../errors.js';
import { SCOPED_CTE, periodParams, type ReportPeriod } from './scope.js';
import { cents, ratio, round } from './stats.js';

/** Cost of one support contact per channel; `*` applies to channels not listed. */
export type ContactCosts = Record<string, number>;

/**
 * Assumed fully-loaded handling cost per contact (USD). These defaults are assumptions in the range
 * commonly quoted for e-commerce support; replace them with your own (`--contact-cost`).
 */
export const DEFAULT_CONTACT_COSTS: ContactCosts = { email: 4, chat: 5, phone: 8, '*': 5 };

/** Upper bounds (km) of the distance bands; beyond the last is the open band. */
export const DISTANCE_BANDS_KM = [500, 1500, 3000] as const;

export interface CostCohortRow {
  /** null in the row that covers every cohort. */
  carrier: string | null;
  serviceLevel: string | null;
  distanceBand: string | null;
  shipments: number;
  invoicedShipments: number;
  freight: { base: number; fuel: number; accessorials: number; duties: number; credits: number; billed: number; contracted: number; overbilled: number };
  recoverable: { duplicateInvoices: number; accessorialMismatch: number; guaranteedLateRefundDue: number; total: number };
  returns: { count: number; refunds: number; returnShipping: number };
  support: { contacts: number; cost: number };
  totalCost: number;
  costPerShipment: number | null;
  /** Per shipment, once recoverable billing errors are credited back. */
  costPerShipmentNetOfRecoverable: number | null;
  csatMean: number | null;
  csatResponses: number;
  onTimeRate: number | null;
}

export type BillingErrorType = 'duplicate_invoice' | 'accessorial_mismatch' | 'guaranteed_late_refund_due';

export interface BillingFlag {
  type: BillingErrorType;
  invoiceId: string;
  invoiceNumber: string;
  carrier: string;
  shipmentId: string | null;
  amount: number;
  detail: string;
}

export interface CostToServeReport {
  cohortDefinition: string;
  contactCosts: ContactCosts;
  overall: CostCohortRow;
  cohorts: CostCohortRow[];
  billingErrors: { summary: { type: BillingErrorType; count: number; amount: number }[]; flags: BillingFlag[]; flagsShown: number; flagsTotal: number };
}

/** SQL label of the distance band of the haversine distance expression `km`. */
export function distanceBandSql(km: string): string {
  const labels = distanceBandLabels();
  const whens = DISTANCE_BANDS_KM.map((b, i) => `WHEN ${km} < ${b} THEN '${labels[i]}'`);
  return `CASE WHEN ${km} IS NULL THEN 'unknown' ${whens.join(' ')} ELSE '${labels[labels.length - 1]}' END`;
}

/** Band labels in order, e.g. "< 500 km", "500–1,500 km", "3,000+ km". */
export function distanceBandLabels(): string[] {
  const f = (n: number) => n.toLocaleString('en-US');
  return [
    `< ${f(DISTANCE_BANDS_KM[0])} km`,
    ...DISTANCE_BANDS_KM.slice(1).map((b, i) => `${f(DISTANCE_BANDS_KM[i]!)}–${f(b)} km`),
    `${f(DISTANCE_BANDS_KM[DISTANCE_BANDS_KM.length - 1]!)}+ km`,
  ];
}

const KM = `2 * 6371 * asin(sqrt(pow(sin(radians(s.dest_lat - s.origin_lat) / 2), 2)
  + cos(radians(s.origin_lat)) * cos(radians(s.dest_lat)) * pow(sin(radians(s.dest_lng - s.origin_lng) / 2), 2)))`;

const ACCESSORIAL_EXCLUDED = `('base', 'fuel', 'customs_duty', 'guaranteed_refund')`;

// Per invoice: its lines, whether it repeats an earlier invoice number of the carrier, and what is recoverable.
const INVOICES_CTE = `
inv AS (
  SELECT i.*, coalesce(i.shipment_id, st.shipment_id) AS sid,
    row_number() OVER (PARTITION BY i.carrier, i.invoice_number ORDER BY i.invoice_date, i.invoice_id) > 1 AS is_dup
  FROM freight_invoices i LEFT JOIN shipments st ON st.tracking_number = i.tracking_number),
lines AS (
  SELECT invoice_id, sum(amount) AS billed,
    coalesce(sum(amount) FILTER (WHERE charge_type = 'base'), 0) AS base,
    coalesce(sum(amount) FILTER (WHERE charge_type = 'fuel'), 0) AS fuel,
    coalesce(sum(amount) FILTER (WHERE charge_type NOT IN ${ACCESSORIAL_EXCLUDED}), 0) AS accessorials,
    coalesce(sum(amount) FILTER (WHERE charge_type = 'customs_duty'), 0) AS duties,
    coalesce(sum(amount) FILTER (WHERE charge_type = 'guaranteed_refund'), 0) AS credits,
    bool_or(charge_type = 'guaranteed_refund') AS has_refund,
    string_agg(charge_type, ', ' ORDER BY line_no) FILTER (WHERE charge_type NOT IN ${ACCESSORIAL_EXCLUDED}) AS accessorial_types
  FROM freight_invoice_charges GROUP BY invoice_id),
inv2 AS (
  SELECT inv.invoice_id, inv.invoice_number, inv.carrier, inv.sid, inv.is_dup, l.base, l.fuel, l.accessorials, l.duties, l.credits, l.accessorial_types,
    coalesce(l.billed, 0) AS billed,
    CASE WHEN inv.is_dup THEN 0 ELSE coalesce(inv.contracted_amount, l.billed, 0) END AS contracted,
    CASE WHEN inv.is_dup THEN coalesce(l.billed, 0) ELSE 0 END AS dup_amount,
    CASE WHEN NOT inv.is_dup AND s.is_guaranteed AND s.delivered_at > s.promised_at AND NOT coalesce(l.has_refund, false)
      THEN coalesce(l.base, 0) + coalesce(l.fuel, 0) ELSE 0 END AS glt_due
  FROM inv LEFT JOIN lines l ON l.invoice_id = inv.invoice_id LEFT JOIN shipments s ON s.shipment_id = inv.sid),
inv3 AS (
  SELECT inv2.*, CASE WHEN is_dup OR contracted IS NULL THEN 0 ELSE greatest(0, round(billed - contracted - glt_due, 2)) END AS acc_excess FROM inv2)`;

const COHORT_SQL = `
WITH ${SCOPED_CTE}, ${INVOICES_CTE},
first_ship AS (SELECT order_id, min(shipment_id) AS shipment_id FROM shipments GROUP BY order_id),
cost AS (SELECT key AS channel, value::DOUBLE AS cost FROM json_each($4::JSON)),
inv_s AS (
  SELECT sid, count(*) AS n, sum(base) AS base, sum(fuel) AS fuel, sum(accessorials) AS accessorials, sum(duties) AS duties, sum(credits) AS credits,
    sum(billed) AS billed, sum(contracted) AS contracted, sum(dup_amount) AS dup_amount, sum(acc_excess) AS acc_excess, sum(glt_due) AS glt_due
  FROM inv3 GROUP BY sid),
ret AS (
  SELECT coalesce(r.shipment_id, f.shipment_id) AS sid, count(*) AS n,
    coalesce(sum(r.refund_amount) FILTER (WHERE r.refunded_at IS NOT NULL AND r.refunded_at <= $3::TIMESTAMPTZ), 0) AS refunds,
    coalesce(sum(rs.billed), 0) AS return_shipping
  FROM returns r LEFT JOIN first_ship f ON f.order_id = r.order_id
  LEFT JOIN (SELECT i.tracking_number, sum(l.amount) AS billed FROM freight_invoices i JOIN freight_invoice_charges l ON l.invoice_id = i.invoice_id
             WHERE i.tracking_number IS NOT NULL GROUP BY i.tracking_number) rs ON rs.tracking_number = r.return_tracking_number
  WHERE r.requested_at <= $3::TIMESTAMPTZ GROUP BY 1),
sup AS (
  SELECT c.shipment_id AS sid, count(*) AS n, sum(coalesce(k.cost, d.cost, 0)) AS cost
  FROM support_contacts c LEFT JOIN cost k ON k.channel = c.channel LEFT JOIN cost d ON d.channel = '*'
  WHERE c.shipment_id IS NOT NULL AND c.created_at <= $3::TIMESTAMPTZ GROUP BY 1),
csat AS (
  SELECT coalesce(c.shipment_id, f.shipment_id) AS sid, avg(c.score) AS score, count(*) AS n
  FROM csat_responses c LEFT JOIN first_ship f ON f.order_id = c.order_id
  WHERE c.responded_at IS NULL OR c.responded_at <= $3::TIMESTAMPTZ GROUP BY 1),
x AS (
  SELECT s.carrier, s.service_level, ${distanceBandSql(KM)} AS band, s.delivered_at, s.promised_at,
    i.n AS inv_n, i.base, i.fuel, i.accessorials, i.duties, i.credits, i.billed, i.contracted, i.dup_amount, i.acc_excess, i.glt_due,
    r.n AS ret_n, r.refunds, r.return_shipping, u.n AS sup_n, u.cost AS sup_cost, c.score, c.n AS csat_n
  FROM scoped s LEFT JOIN inv_s i ON i.sid = s.shipment_id LEFT JOIN ret r ON r.sid = s.shipment_id
  LEFT JOIN sup u ON u.sid = s.shipment_id LEFT JOIN csat c ON c.sid = s.shipment_id)
SELECT carrier, service_level, band, grouping(carrier)::INT AS g, count(*) AS shipments,
  count(*) FILTER (WHERE inv_n > 0) AS invoiced,
  coalesce(sum(base), 0) AS base, coalesce(sum(fuel), 0) AS fuel, coalesce(sum(accessorials), 0) AS accessorials,
  coalesce(sum(duties), 0) AS duties, coalesce(sum(credits), 0) AS credits, coalesce(sum(billed), 0) AS billed,
  coalesce(sum(contracted), 0) AS contracted, coalesce(sum(dup_amount), 0) AS dup_amount, coalesce(sum(acc_excess), 0) AS acc_excess,
  coalesce(sum(glt_due), 0) AS glt_due,
  coalesce(sum(ret_n), 0)::BIGINT AS ret_n, coalesce(sum(refunds), 0) AS refunds, coalesce(sum(return_shipping), 0) AS return_shipping,
  coalesce(sum(sup_n), 0)::BIGINT AS sup_n, coalesce(sum(sup_cost), 0) AS sup_cost,
  sum(score * csat_n) / nullif(sum(csat_n), 0) AS csat_mean, coalesce(sum(csat_n), 0)::BIGINT AS csat_n,
  count(*) FILTER (WHERE delivered_at IS NOT NULL AND promised_at IS NOT NULL) AS delivered_with_promise,
  count(*) FILTER (WHERE delivered_at <= promised_at) AS on_time
FROM x
GROUP BY GROUPING SETS ((), (carrier, service_level, band))
ORDER BY carrier NULLS FIRST, service_level, band`;

const FLAGS_SQL = `
WITH ${SCOPED_CTE}, ${INVOICES_CTE},
f AS (
  SELECT 'duplicate_invoice' AS type, invoice_id, invoice_number, carrier, sid, dup_amount AS amount,
    'invoice number already billed by this carrier' AS detail FROM inv3 WHERE dup_amount > 0
  UNION ALL
  SELECT 'accessorial_mismatch', invoice_id, invoice_number, carrier, sid, acc_excess,
    'billed above contract; accessorials on the invoice: ' || coalesce(accessorial_types, 'none') FROM inv3 WHERE acc_excess > 0
  UNION ALL
  SELECT 'guaranteed_late_refund_due', invoice_id, invoice_number, carrier, sid, glt_due,
    'guaranteed service delivered after the commitment, no refund line' FROM inv3 WHERE glt_due > 0)
SELECT f.* FROM f JOIN scoped s ON s.shipment_id = f.sid ORDER BY amount DESC, invoice_id, type`;

interface Raw {
  carrier: string | null;
  service_level: string | null;
  band: string | null;
  g: number;
  shipments: number;
  invoiced: number;
  base: number;
  fuel: number;
  accessorials: number;
  duties: number;
  credits: number;
  billed: number;
  contracted: number;
  dup_amount: number;
  acc_excess: number;
  glt_due: number;
  ret_n: number;
  refunds: number;
  return_shipping: number;
  sup_n: number;
  sup_cost: number;
  csat_mean: number | null;
  csat_n: number;
  delivered_with_promise: number;
  on_time: number;
}

function toRow(r: Raw): CostCohortRow {
  const recoverable = r.dup_amount + r.acc_excess + r.glt_due;
  const total = r.billed + r.refunds + r.return_shipping + r.sup_cost;
  return {
    carrier: r.carrier,
    serviceLevel: r.service_level,
    distanceBand: r.band,
    shipments: r.shipments,
    invoicedShipments: r.invoiced,
    freight: {
      base: cents(r.base), fuel: cents(r.fuel), accessorials: cents(r.accessorials), duties: cents(r.duties), credits: cents(r.credits),
      billed: cents(r.billed), contracted: cents(r.contracted), overbilled: cents(r.billed - r.contracted),
    },
    recoverable: { duplicateInvoices: cents(r.dup_amount), accessorialMismatch: cents(r.acc_excess), guaranteedLateRefundDue: cents(r.glt_due), total: cents(recoverable) },
    returns: { count: r.ret_n, refunds: cents(r.refunds), returnShipping: cents(r.return_shipping) },
    support: { contacts: r.sup_n, cost: cents(r.sup_cost) },
    totalCost: cents(total),
    costPerShipment: round(ratio(total, r.shipments), 2),
    costPerShipmentNetOfRecoverable: round(ratio(total - recoverable, r.shipments), 2),
    csatMean: round(r.csat_mean, 3),
    csatResponses: r.csat_n,
    onTimeRate: round(ratio(r.on_time, r.delivered_with_promise)),
  };
}

/** Checks contact costs: finite, non-negative numbers. */
export function validateContactCosts(costs: ContactCosts): ContactCosts {
  for (const [k, v] of Object.entries(costs)) {
    if (!k) throw new ValidationError('contactCosts', 'channel names must be non-empty');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValidationError(`contactCosts.${k}`, `must be a non-negative number (got ${String(v)})`);
  }
  return costs;
}

/** Cost-to-serve per cohort and billing errors for shipments of the period; at most `maxFlags` flags are listed. */
export async function costToServe(
  db: SqlRunner,
  period: ReportPeriod,
  opts: { contactCosts?: ContactCosts; maxFlags?: number } = {},
): Promise<CostToServeReport> {
  const contactCosts = validateContactCosts(opts.contactCosts ?? DEFAULT_CONTACT_COSTS);
  const rows = await db.all<Raw>(COHORT_SQL, [...periodParams(period), JSON.stringify(contactCosts)]);
  const flagsRaw = await db.all<{ type: BillingErrorType; invoice_id: string; invoice_number: string; carrier: string; sid: string | null; amount: number; detail: string }>(
    FLAGS_SQL,
    periodParams(period),
  );
  const maxFlags = opts.maxFlags ?? 500;
  const types: BillingErrorType[] = ['duplicate_invoice', 'accessorial_mismatch', 'guaranteed_late_refund_due'];
  const overall = rows.find((r) => r.g === 1);
  return {
    cohortDefinition: `carrier × service level × great-circle distance band from origin to destination (${distanceBandLabels().join(', ')}; "unknown" without coordinates)`,
    contactCosts,
    overall: toRow(overall ?? emptyRaw()),
    cohorts: rows.filter((r) => r.g === 0).map(toRow),
    billingErrors: {
      summary: types.map((type) => {
        const fs = flagsRaw.filter((f) => f.type === type);
        return { type, count: fs.length, amount: cents(fs.reduce((a, f) => a + f.amount, 0)) };
      }),
      flags: flagsRaw.slice(0, maxFlags).map((f) => ({
        type: f.type, invoiceId: f.invoice_id, invoiceNumber: f.invoice_number, carrier: f.carrier, shipmentId: f.sid, amount: cents(f.amount), detail: f.detail,
      })),
      flagsShown: Math.min(maxFlags, flagsRaw.length),
      flagsTotal: flagsRaw.length,
    },
  };
}

function emptyRaw(): Raw {
  return {
    carrier: null, service_level: null, band: null, g: 1, shipments: 0, invoiced: 0, base: 0, fuel: 0, accessorials: 0, duties: 0, credits: 0, billed: 0,
    contracted: 0, dup_amount: 0, acc_excess: 0, glt_due: 0, ret_n: 0, refunds: 0, return_shipping: 0, sup_n: 0, sup_cost: 0, csat_mean: null, csat_n: 0,
    delivered_with_promise: 0, on_time: 0,
  };
}
