/**
 * Return-propensity features, computed in DuckDB from the canonical tables, one example per order.
 *
 * The **prediction instant** is the order's delivery (the last of its shipments' `delivered_at`)
 * for a delivered order; an order not yet delivered is scored at `now`, as if it were delivered
 * then. Every feature uses only what was known at that instant: the customer's *other* orders
 * purchased strictly before it, those of them delivered strictly before it, and the returns
 * requested strictly before it. The order's own returns are the label and never a feature.
 *
 * The **label** is "a return was requested within `RETURN_WINDOW_DAYS` days of the delivery". An
 * order is labelled only once that window has closed by the date the labels are known at
 * (`labelsKnownBy`), so every label is observable then; younger deliveries are not labelled.
 */
import type { SqlRunner, SqlValue } from '../../warehouse/warehouse.js';

/** Days after delivery within which a return request makes the label 1. */
export const RETURN_WINDOW_DAYS = 30;

const DAY = 86400;

/** Numeric features produced by the SQL, in model input order. */
export const RETURNS_NUMERIC_FEATURES = [
  // The order.
  'log_subtotal', 'discount_share', 'n_items', 'n_lines',
  // The delivery against the promise, at the instant.
  'lateness_days', 'late_days', 'is_late', 'promise_days', 'transit_days',
  // The customer's history before the instant.
  'prior_orders', 'prior_delivered', 'prior_returns', 'prior_return_rate', 'days_since_prior_order',
] as const;

/** Categorical features produced by the SQL (one-hot encoded). */
export const RETURNS_CATEGORICAL_FEATURES = ['category', 'carrier_service', 'channel'] as const;

export type ReturnsNumericFeature = (typeof RETURNS_NUMERIC_FEATURES)[number];
export type ReturnsCategoricalFeature = (typeof RETURNS_CATEGORICAL_FEATURES)[number];

/** Which examples to build. */
export type ReturnsExampleSelection =
  /**
   * Delivered orders (every shipment delivered) whose delivery is in [from, until) and whose
   * return window closed by `labelsKnownBy`, with their label.
   */
  | { kind: 'labelled'; from?: Date; until?: Date; labelsKnownBy: Date }
  /** Given orders, at their delivery if it happened by `now`, else at `now`; the label is null. */
  | { kind: 'orders'; orderIds: readonly string[]; now: Date };

/** One example as it comes out of SQL: raw, unnormalized values. */
export interface RawReturnsRow {
  order_id: string;
  customer_id: string;
  /** The prediction instant. */
  instant: Date;
  delivered: boolean;
  /** 1 when a return was requested within the window, 0 when not, null when not labelled. */
  label: number | null;
  [feature: string]: unknown;
}

/**
 * The latest instant the warehouse knows of: the latest purchase, delivery or return request.
 * Labels are known up to there (a window must close by it to be labelled).
 */
export async function dataEnd(db: SqlRunner): Promise<Date | undefined> {
  const r = await db.one<{ t: Date | null }>(
    `SELECT greatest((SELECT max(purchased_at) FROM orders), (SELECT max(delivered_at) FROM shipments), (SELECT max(requested_at) FROM returns)) AS t`,
  );
  return r?.t ? new Date(r.t) : undefined;
}

/** The feature query and its parameters for a selection. */
export function returnsFeatureQuery(sel: ReturnsExampleSelection): { sql: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const p = (v: SqlValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  let scope: string;
  let instant: string;
  let where: string;
  // A constant filter on the examples' own order ids, repeated where their rows are read (items, returns).
  let own = (_col: string) => 'true';
  if (sel.kind === 'labelled') {
    const known = p(sel.labelsKnownBy.getTime() / 1000);
    // Delivered when every shipment is; the window must have closed when the labels are read.
    instant = 'sh.delivered_s';
    where = [
      'sh.n_delivered = sh.n_shipments',
      `sh.delivered_s + ${RETURN_WINDOW_DAYS * DAY} <= ${known}`,
      sel.from ? `sh.delivered_s >= ${p(sel.from.getTime() / 1000)}` : '',
      sel.until ? `sh.delivered_s < ${p(sel.until.getTime() / 1000)}` : '',
    ].filter(Boolean).join(' AND ');
    scope = 'SELECT order_id FROM shipments';
  } else {
    const now = p(sel.now.getTime() / 1000);
    instant = `CASE WHEN sh.n_delivered = sh.n_shipments AND sh.delivered_s <= ${now} THEN sh.delivered_s ELSE ${now} END`;
    where = 'true';
    // One parameter per id: a constant IN list lets DuckDB look the shipments up by their order
    // index instead of scanning them (serving asks for one order, or a few).
    const ids = sel.orderIds.length ? sel.orderIds.map((id) => p(id)).join(', ') : 'NULL';
    scope = `SELECT order_id FROM shipments WHERE order_id IN (${ids})`;
    own = (col) => `${col} IN (${ids})`;
  }
  const labelled = sel.kind === 'labelled';
  const sql = `
WITH scope AS (SELECT DISTINCT order_id FROM (${scope})),
sh AS (
  SELECT s.order_id, count(*) AS n_shipments, count(s.delivered_at) AS n_delivered,
    max(epoch(s.delivered_at)) AS delivered_s, max(epoch(s.promised_at)) AS promised_s,
    arg_min(s.carrier || '/' || s.service_level, s.shipment_id) AS carrier_service
  FROM shipments s JOIN scope USING (order_id) GROUP BY s.order_id),
ex AS (
  SELECT o.order_id, o.customer_id, epoch(o.purchased_at) AS purchased_s, o.subtotal, o.discount, o.channel,
    sh.promised_s, sh.carrier_service, sh.n_delivered = sh.n_shipments AS delivered_all, sh.delivered_s,
    ${instant} AS instant_s
  FROM orders o JOIN sh USING (order_id)
  WHERE ${where}),
items AS (
  SELECT i.order_id, sum(i.quantity) AS n_items, count(*) AS n_lines, arg_min(i.category, i.line_no) AS category
  FROM order_items i JOIN ex USING (order_id) WHERE ${own('i.order_id')} GROUP BY i.order_id),
-- The customers' orders (other than the example's own) and their deliveries, for the history.
cord AS (SELECT o.order_id, o.customer_id, epoch(o.purchased_at) AS purchased_s FROM orders o WHERE o.customer_id IN (SELECT DISTINCT customer_id FROM ex)),
corders AS (
  SELECT c.order_id, c.customer_id, c.purchased_s,
    CASE WHEN count(s.shipment_id) > 0 AND count(s.shipment_id) = count(s.delivered_at) THEN max(epoch(s.delivered_at)) END AS delivered_s
  FROM cord c LEFT JOIN shipments s USING (order_id) GROUP BY c.order_id, c.customer_id, c.purchased_s),
creturns AS (
  SELECT c.customer_id, r.order_id, min(epoch(r.requested_at)) AS requested_s
  FROM returns r JOIN cord c USING (order_id) GROUP BY 1, 2),
hist AS (
  SELECT ex.order_id, count(c.order_id) AS prior_orders, count(c.order_id) FILTER (WHERE c.delivered_s < ex.instant_s) AS prior_delivered,
    max(c.purchased_s) AS last_prior_s
  FROM ex LEFT JOIN corders c ON c.customer_id = ex.customer_id AND c.order_id <> ex.order_id AND c.purchased_s < ex.instant_s
  GROUP BY ex.order_id),
hret AS (
  SELECT ex.order_id, count(r.order_id) AS prior_returns
  FROM ex LEFT JOIN creturns r ON r.customer_id = ex.customer_id AND r.order_id <> ex.order_id AND r.requested_s < ex.instant_s
  GROUP BY ex.order_id),
own AS (SELECT order_id, min(epoch(requested_at)) AS first_request_s FROM returns WHERE ${own('order_id')} AND order_id IN (SELECT order_id FROM ex) GROUP BY 1)
SELECT ex.order_id, ex.customer_id, to_timestamp(ex.instant_s) AS instant, ex.delivered_all AND ex.delivered_s <= ex.instant_s AS delivered,
  ${labelled ? `CASE WHEN own.first_request_s <= ex.delivered_s + ${RETURN_WINDOW_DAYS * DAY} THEN 1 ELSE 0 END` : 'NULL::INTEGER'} AS label,
  ln(greatest(ex.subtotal, 1)) AS log_subtotal,
  coalesce(ex.discount, 0) / greatest(ex.subtotal, 1) AS discount_share,
  it.n_items::DOUBLE AS n_items, it.n_lines::DOUBLE AS n_lines,
  (ex.instant_s - ex.promised_s) / ${DAY} AS lateness_days,
  greatest(0, (ex.instant_s - ex.promised_s) / ${DAY}) AS late_days,
  CASE WHEN ex.promised_s IS NOT NULL THEN (ex.instant_s > ex.promised_s)::DOUBLE END AS is_late,
  (ex.promised_s - ex.purchased_s) / ${DAY} AS promise_days,
  (ex.instant_s - ex.purchased_s) / ${DAY} AS transit_days,
  h.prior_orders::DOUBLE AS prior_orders, h.prior_delivered::DOUBLE AS prior_delivered, hr.prior_returns::DOUBLE AS prior_returns,
  -- Smoothed towards 0 by one pseudo-order, so a single earlier order is not a 0 % or 100 % rate.
  hr.prior_returns / (h.prior_delivered + 1.0) AS prior_return_rate,
  (ex.instant_s - h.last_prior_s) / ${DAY} AS days_since_prior_order,
  it.category, ex.carrier_service, ex.channel
FROM ex LEFT JOIN items it USING (order_id) JOIN hist h USING (order_id) JOIN hret hr USING (order_id) LEFT JOIN own USING (order_id)
ORDER BY ex.instant_s, ex.order_id`;
  return { sql, params };
}

/** Runs the feature query and returns row objects (serving, tests). */
export async function queryReturnsFeatures(db: SqlRunner, sel: ReturnsExampleSelection): Promise<RawReturnsRow[]> {
  const { sql, params } = returnsFeatureQuery(sel);
  return db.all<RawReturnsRow>(sql, params);
}
