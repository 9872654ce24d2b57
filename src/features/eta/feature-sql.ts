/**
 * ETA features, computed in DuckDB from the canonical tables. Every feature of an example uses
 * only what was known at that example's moment: rolling lane/seller/carrier statistics only count
 * deliveries completed on days strictly before the shipment's purchase day, so adding later rows
 * never changes an earlier shipment's features.
 */
import type { SqlRunner } from '../../warehouse/warehouse.js';

/** Days of delivery history the rolling statistics look back over. */
export const ROLLING_WINDOW_DAYS = 60;

/** The most recent part of that window the regime features (recent mean transit, late share) look at. */
export const RECENT_WINDOW_DAYS = 14;

/** Hours before the moment of prediction in which other parcels' delay scans count (a disruption in progress). */
export const DELAY_SCAN_WINDOW_HOURS = 48;

/** Days ahead the holiday count and the distance to the next holiday look over (the distance is capped there). */
export const HOLIDAY_HORIZON_DAYS = 14;
export const HOLIDAY_DISTANCE_CAP_DAYS = 30;

/**
 * Days after the last moment of prediction the delivery calendar is built for: the baseline's
 * arrival lies up to a lane's transit ahead, and each calendar day looks
 * ${HOLIDAY_DISTANCE_CAP_DAYS} days further, so arrivals up to 90 days ahead get the same roll
 * whatever the range.
 */
const CALENDAR_AHEAD_DAYS = 120;

/**
 * Restricts a bulk selection to some orders (e.g. one Olist extract's): only their shipments become
 * examples, and only their deliveries feed the rolling statistics, so the features do not depend on
 * whatever else the warehouse holds.
 */
export interface EtaOrderScope {
  orderIds?: readonly string[];
}

/**
 * In-flight examples per delivered shipment when a training selection does not say: `large` from
 * `largeFrom` delivered shipments in the selection on, else `small`. A second example taught the
 * hand-off and later predictions more on 100k synthetic shipments (MAE over the irreducible error
 * 1.114 → 1.097, mean of 3 seeds) without hurting the at-purchase one, while on the ~11k training
 * orders of the Olist extract it cost at-purchase accuracy (docs/ETA.md, "In-flight examples by
 * training-set size").
 */
export const IN_FLIGHT_DEFAULT = { largeFrom: 25_000, large: 2, small: 1 } as const;

/** Which examples to build. Each example is one shipment at one moment of prediction. */
export type EtaExampleSelection =
  /** Delivered shipments purchased in [from, until), at purchase; plus in-flight examples from their tracking events. */
  | ({
      kind: 'training'; from?: Date; until?: Date;
      /** In-flight examples per delivered shipment; default by the selection's size (`IN_FLIGHT_DEFAULT`). */
      inFlightPerShipment?: number;
      seed?: number;
    } & EtaOrderScope)
  /** Shipments purchased in [from, until), at purchase (for backtests and batch scoring). */
  | ({ kind: 'purchase'; from?: Date; until?: Date; deliveredOnly?: boolean; openOrDelivered?: boolean } & EtaOrderScope)
  /** Delivered shipments purchased in [from, until), at their carrier hand-off (`shipped_at`), conditioned on the events up to then. */
  | ({ kind: 'handoff'; from?: Date; until?: Date } & EtaOrderScope)
  /** Given shipments, conditioned on their latest tracking event with `occurred_at <= now` when there is one. */
  | { kind: 'current'; shipmentIds: readonly string[]; now: Date };

/** One example as it comes out of SQL: raw, unnormalized values. */
export interface RawEtaRow {
  shipment_id: string;
  order_id: string;
  purchased_at: Date;
  promised_at: Date | null;
  delivered_at: Date | null;
  /** The moment of prediction (purchase, or the tracking event's time). */
  as_of: Date;
  /** `none` at purchase, else the normalized status of the latest tracking event. */
  stage: string;
  event_id: string | null;
  event_source: string | null;
  /** Target: days from purchase to delivery (null while undelivered). */
  total_days: number | null;
  [feature: string]: unknown;
}

/** Numeric features produced by the SQL, in model input order. */
export const NUMERIC_FEATURES = [
  'elapsed_days', 'handoff_age_days', 'at_dest_region', 'promise_days', 'approval_hours', 'limit_days', 'distance_km', 'origin_lat', 'origin_lng',
  'dest_lat', 'dest_lng', 'log_weight', 'log_volume',
  'log_freight', 'log_price', 'n_items', 'purchase_hour', 'as_of_hour', 'lane_mean', 'lane_log_n', 'dest_mean', 'origin_mean',
  'seller_mean', 'seller_handoff_mean', 'seller_log_n', 'carrier_mean', 'global_mean', 'lane_over_promise', 'global_over_promise',
  // Delivery calendar at the moment of prediction (delivery_calendar plus the ordinary week).
  'pickup_day', 'next_pickup_days', 'delivery_day', 'delivery_day_1', 'delivery_day_3', 'holidays_ahead', 'holiday_in_days',
  // Regime: the last RECENT_WINDOW_DAYS of deliveries, which follow drift faster than the 60-day means.
  'global_recent_mean', 'global_recent_late', 'dest_recent_mean', 'dest_recent_late', 'lane_recent_mean',
  // Disruption in progress: other parcels to the destination region reported delayed in the last hours.
  'dest_delay_scans',
  // Disruption announced: the carriers' service alerts covering the parcel's hand-off (see alertCtes).
  'dest_alert_delay_days', 'dest_alert_ends_in_days',
  // Days the baseline's arrival is rolled forward to the destination's next delivery day (see etaFeatureQuery).
  'baseline_roll_days',
] as const;

/** Categorical features produced by the SQL; each gets an embedding. */
export const CATEGORICAL_FEATURES = ['carrier_service', 'origin_region', 'dest_region', 'lane', 'route', 'weekday', 'as_of_weekday', 'month', 'stage'] as const;

/**
 * Categories seen fewer times than this in training map to "unknown": the postal-prefix route
 * is fine-grained (thousands of values on Olist) and only frequent routes earn an embedding.
 */
export const CATEGORICAL_MIN_COUNT: Partial<Record<(typeof CATEGORICAL_FEATURES)[number], number>> = { route: 30 };

const DAY = 86400;
const DAY_MS = 86_400_000;

function examplesCte(sel: EtaExampleSelection): { sql: string; params: (string | number)[]; scoped: boolean } {
  const params: (string | number)[] = [];
  const p = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  const base = `SELECT s.shipment_id, o.purchased_at AS as_of, 'none' AS stage, NULL::VARCHAR AS event_id, NULL::VARCHAR AS event_source,
      NULL::VARCHAR AS event_region FROM shipments s JOIN orders o USING (order_id)`;
  const scoped = sel.kind !== 'current' && sel.orderIds !== undefined;
  // The scope's ids are the first parameter; the extract_orders CTE (see etaFeatureQuery) reads it.
  if (scoped) p(JSON.stringify(sel.orderIds));
  const range = (from?: Date, until?: Date) =>
    [
      from ? `o.purchased_at >= ${p(from.toISOString())}::TIMESTAMPTZ` : '',
      until ? `o.purchased_at < ${p(until.toISOString())}::TIMESTAMPTZ` : '',
      scoped ? 'o.order_id IN (SELECT order_id FROM extract_orders)' : '',
    ].filter(Boolean);
  if (sel.kind === 'purchase') {
    const where = [
      ...range(sel.from, sel.until),
      sel.deliveredOnly ? 's.delivered_at IS NOT NULL' : '',
      sel.openOrDelivered ? "(s.delivered_at IS NOT NULL OR o.status NOT IN ('canceled', 'unavailable'))" : '',
    ].filter(Boolean);
    return { sql: `${base}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`, params, scoped };
  }
  if (sel.kind === 'training') {
    const where = ['s.delivered_at IS NOT NULL', ...range(sel.from, sel.until)];
    const k = sel.inFlightPerShipment;
    const seed = sel.seed ?? 0;
    const perShipment = k !== undefined ? p(k)
      : `(SELECT CASE WHEN count(*) >= ${p(IN_FLIGHT_DEFAULT.largeFrom)} THEN ${p(IN_FLIGHT_DEFAULT.large)} ELSE ${p(IN_FLIGHT_DEFAULT.small)} END
          FROM shipments s JOIN orders o USING (order_id) WHERE ${where.join(' AND ')})`;
    // In-flight examples: up to k events per delivered shipment, picked by a seeded hash so the
    // sample is deterministic, taken before delivery and never a terminal status.
    const inflight = k !== undefined && k <= 0 ? '' : `
      UNION ALL
      SELECT shipment_id, as_of, stage, event_id, event_source, event_region FROM (
        SELECT s.shipment_id, e.occurred_at AS as_of, e.status AS stage, e.event_id, e.source AS event_source, e.region AS event_region,
          row_number() OVER (PARTITION BY s.shipment_id ORDER BY hash(e.source || e.event_id || ${p(String(seed))})) AS pick
        FROM shipments s JOIN orders o USING (order_id)
        JOIN tracking_events e ON e.shipment_id = s.shipment_id
        WHERE ${where.join(' AND ')} AND e.status NOT IN ('delivered', 'expired') AND e.occurred_at < s.delivered_at
          AND e.occurred_at >= o.purchased_at
      ) WHERE pick <= ${perShipment}`;
    return { sql: `${base} WHERE ${where.join(' AND ')}${inflight}`, params, scoped };
  }
  if (sel.kind === 'handoff') {
    const where = ['s.delivered_at IS NOT NULL', 's.shipped_at IS NOT NULL', ...range(sel.from, sel.until)];
    return {
      sql: `SELECT s.shipment_id, s.shipped_at AS as_of, coalesce(e.status, 'none') AS stage, e.event_id, e.source AS event_source, e.region AS event_region
        FROM shipments s JOIN orders o USING (order_id)
        LEFT JOIN (
          SELECT e.* FROM tracking_events e JOIN shipments s2 USING (shipment_id) WHERE e.occurred_at <= s2.shipped_at
          QUALIFY row_number() OVER (PARTITION BY e.shipment_id ORDER BY e.occurred_at DESC, e.received_at DESC, e.event_id DESC) = 1
        ) e ON e.shipment_id = s.shipment_id
        WHERE ${where.join(' AND ')}`,
      params,
      scoped,
    };
  }
  const ids = p(JSON.stringify(sel.shipmentIds));
  const now = p(sel.now.toISOString());
  return {
    sql: `SELECT s.shipment_id, coalesce(e.occurred_at, o.purchased_at) AS as_of, coalesce(e.status, 'none') AS stage,
        e.event_id, e.source AS event_source, e.region AS event_region
      FROM (SELECT DISTINCT unnest(from_json(${ids}, '["VARCHAR"]')) AS shipment_id) q
      JOIN shipments s USING (shipment_id) JOIN orders o USING (order_id)
      LEFT JOIN (
        SELECT shipment_id, occurred_at, received_at, event_id, status, source, region FROM tracking_events
        WHERE shipment_id IN (SELECT unnest(from_json(${ids}, '["VARCHAR"]'))) AND occurred_at <= ${now}::TIMESTAMPTZ
        QUALIFY row_number() OVER (PARTITION BY shipment_id ORDER BY occurred_at DESC, received_at DESC, event_id DESC) = 1
      ) e ON e.shipment_id = s.shipment_id
      WHERE s.delivered_at IS NULL OR s.delivered_at > ${now}::TIMESTAMPTZ`,
    params,
    scoped,
  };
}

/** The grouping keys of a shipment row `s`; `seller` is the first item's seller, else the origin postal prefix. */
function keys(s: string, sellerId: string): string {
  return `${s}.carrier || '/' || ${s}.service_level AS carrier_service,
      coalesce(${s}.origin_region, '?') AS origin_region, coalesce(${s}.dest_region, '?') AS dest_region,
      coalesce(${s}.origin_region, '?') || '>' || coalesce(${s}.dest_region, '?') AS lane,
      coalesce(${s}.origin_postal_prefix, '?') || '>' || coalesce(${s}.dest_postal_prefix, '?') AS route,
      coalesce(${sellerId}, ${s}.origin_postal_prefix, '?') AS seller`;
}

/** The grouping keys of the rolling statistics, in the order of their `kind` index. */
const ROLLING_KEYS = [
  ['lane', 'lane'],
  ['dest', 'dest_region'],
  ['origin', 'origin_region'],
  ['seller', 'seller'],
  ['carrier', 'carrier_service'],
  ['overall', "'all'"],
] as const;

/**
 * The rolling statistics of every grouping key, per key and purchase day of the queried
 * shipments: the count and mean transit of shipments with that key delivered in the
 * ${ROLLING_WINDOW_DAYS} days before that day (and over its last ${RECENT_WINDOW_DAYS} days: count, mean transit and the
 * share delivered after the promise). Each row is unpivoted into one row per key kind;
 * history is summed per key and delivery day (shifted one day forward, so day d holds the
 * deliveries of day d − 1), only for the keys being queried; each (key, purchase day) pair then
 * adds up the daily sums of its window. Durations are summed as integer milliseconds, so the sums
 * are exact and a feature does not depend on the order DuckDB adds rows in.
 */
function rollingCtes(): string {
  const kinds = `[${ROLLING_KEYS.map((_, i) => i).join(', ')}]`;
  const keys = `[${ROLLING_KEYS.map(([, e]) => e).join(', ')}]`;
  return `qkeys AS (SELECT DISTINCT unnest(${kinds}) AS kind, unnest(${keys}) AS k, pday AS d FROM qbase),
  hday AS (
    SELECT kind, k, dday + 1 AS d, count(*) AS n, sum(total_ms) AS sum_ms, sum(handoff_ms) AS sum_handoff,
      count(handoff_ms) AS n_handoff, sum(over_ms) AS sum_over, count(over_ms) AS n_over, count(*) FILTER (WHERE over_ms > 0) AS n_late
    FROM (SELECT unnest(${kinds}) AS kind, unnest(${keys}) AS k, dday, total_ms, handoff_ms, over_ms FROM hist) h
    SEMI JOIN (SELECT DISTINCT kind, k FROM qkeys) USING (kind, k)
    GROUP BY ALL
  ),
  roll AS (
    SELECT q.kind, q.k, q.d, sum(h.n) AS n, CAST(sum(h.sum_ms) AS DOUBLE) / sum(h.n) / ${DAY_MS} AS mean,
      CAST(sum(h.sum_handoff) AS DOUBLE) / nullif(sum(h.n_handoff), 0) / ${DAY_MS} AS handoff,
      CAST(sum(h.sum_over) AS DOUBLE) / nullif(sum(h.n_over), 0) / ${DAY_MS} AS over,
      sum(h.n) FILTER (WHERE h.d > q.d - ${RECENT_WINDOW_DAYS}) AS n_recent,
      CAST(sum(h.sum_ms) FILTER (WHERE h.d > q.d - ${RECENT_WINDOW_DAYS}) AS DOUBLE) / sum(h.n) FILTER (WHERE h.d > q.d - ${RECENT_WINDOW_DAYS}) / ${DAY_MS} AS mean_recent,
      CAST(sum(h.n_late) FILTER (WHERE h.d > q.d - ${RECENT_WINDOW_DAYS}) AS DOUBLE)
        / nullif(sum(h.n_over) FILTER (WHERE h.d > q.d - ${RECENT_WINDOW_DAYS}), 0) AS late_recent
    FROM qkeys q JOIN hday h ON h.kind = q.kind AND h.k = q.k AND h.d BETWEEN q.d - ${ROLLING_WINDOW_DAYS - 1} AND q.d
    GROUP BY ALL
  ),
  ${ROLLING_KEYS.map(
    ([name], i) => `${name} AS (SELECT k AS ${name}_k, d AS ${name}_d, n AS ${name}_n, mean AS ${name}_mean, handoff AS ${name}_handoff, over AS ${name}_over,
      n_recent AS ${name}_n_recent, mean_recent AS ${name}_mean_recent, late_recent AS ${name}_late_recent FROM roll WHERE kind = ${i})`,
  ).join(',\n  ')}`;
}

/** The lane's point-in-time mean purchase → delivery days, shrunk towards the destination's with 5 pseudo-observations. */
const SHRUNK_LANE_MEAN = '((coalesce(lane_mean * lane_n, 0) + 5 * coalesce(dest_mean, overall_mean)) / (coalesce(lane_n, 0) + 5))';
/** The lane's mean hand-off → delivery days: the shrunk lane mean less its mean purchase → hand-off days. */
const LANE_TRANSIT = `greatest(0, ${SHRUNK_LANE_MEAN} - coalesce(lane_handoff, overall_handoff, 0))`;

const QUARTER_HOUR_US = 900_000_000;

/** Spread (log scale) of the arrival around the baseline's, for the expected roll to the next delivery day. */
const ARRIVAL_SPREAD_LOG = 0.4;
/** Standard normal quantiles at (k + 0.5) / 9: equally likely arrivals. */
const ARRIVAL_QUANTILES = [-1.593, -0.967, -0.589, -0.282, 0, 0.282, 0.589, 0.967, 1.593];

/** Local wall-clock seconds since 1970 of the final query's instants (`tzoff` joined as po / ao / ad). */
const LOCAL_SECONDS: Record<string, string> = {
  purchase_ls: '(epoch_us(b.purchased_at) // 1000000 + po.off)',
  as_of_ols: '(epoch_us(ex.as_of) // 1000000 + ao.off)',
  as_of_dls: '(epoch_us(ex.as_of) // 1000000 + ad.off)',
};
/** Hour of day with minutes as a fraction, as `hour(t) + minute(t) / 60.0` of the local timestamp. */
const localHour = (k: string): string => `(${LOCAL_SECONDS[k]} // 3600 % 24 + ${LOCAL_SECONDS[k]} // 60 % 60 / 60.0)`;
/** Day of week as text, Sunday = 0 like `dayofweek` (1970-01-01 was a Thursday). */
const localWeekday = (k: string): string => `CAST((${LOCAL_SECONDS[k]} // 86400 + 4) % 7 AS VARCHAR)`;
/** The local calendar date. */
const localDate = (k: string): string => `(DATE '1970-01-01' + CAST(${LOCAL_SECONDS[k]} // 86400 AS INTEGER))`;

/**
 * The delivery calendar of every country the queried shipments touch, one row per (country, day)
 * over the days their moments of prediction fall on plus ${CALENDAR_AHEAD_DAYS} days (the baseline's arrival and the horizons):
 * whether carriers pick up (Mon–Fri, not a holiday) and deliver (Mon–Sat, not a holiday) that
 * day, the days to the next pick-up day and to the 1st and 3rd delivery day after it, the holidays
 * in the next ${HOLIDAY_HORIZON_DAYS} days and the days to the next one (capped at ${HOLIDAY_DISTANCE_CAP_DAYS}). Holidays come from
 * `delivery_calendar`; a holiday is known in advance, so these are point in time. Each value only
 * looks ahead of its own day, well inside the range, so it does not depend on the range.
 */
function calendarCtes(): string {
  return `cal AS (
    SELECT c.country, CAST(g.day AS DATE) AS day, dayofweek(g.day) AS dow, h.day IS NOT NULL AS hol
    FROM (SELECT o_country AS country FROM qbase UNION SELECT d_country FROM qbase) c
    CROSS JOIN (
      SELECT unnest(generate_series(CAST(min(as_of) AS DATE) - 2, CAST(max(as_of) AS DATE) + ${CALENDAR_AHEAD_DAYS}, INTERVAL 1 DAY)) AS day FROM ex
    ) g
    LEFT JOIN delivery_calendar h ON h.country = c.country AND h.day = CAST(g.day AS DATE)
  ),
  calf AS (
    SELECT country, day, CAST(pick AS INTEGER) AS pickup_day, CAST(deliv AS INTEGER) AS delivery_day,
      min(CASE WHEN pick THEN day END) OVER ahead - day AS next_pickup_days,
      min(CASE WHEN deliv THEN day END) OVER ahead - day AS delivery_day_1,
      list_filter(list(CASE WHEN deliv THEN day END) OVER (w ROWS BETWEEN 1 FOLLOWING AND ${HOLIDAY_DISTANCE_CAP_DAYS} FOLLOWING), x -> x IS NOT NULL)[3] - day AS delivery_day_3,
      CAST(sum(CASE WHEN hol THEN 1 ELSE 0 END) OVER (w ROWS BETWEEN 1 FOLLOWING AND ${HOLIDAY_HORIZON_DAYS} FOLLOWING) AS INTEGER) AS holidays_ahead,
      least(${HOLIDAY_DISTANCE_CAP_DAYS}, coalesce(min(CASE WHEN hol THEN day END) OVER (w ROWS BETWEEN CURRENT ROW AND ${HOLIDAY_DISTANCE_CAP_DAYS} FOLLOWING) - day, ${HOLIDAY_DISTANCE_CAP_DAYS})) AS holiday_in_days
    FROM (SELECT *, dow BETWEEN 1 AND 5 AND NOT hol AS pick, dow <> 0 AND NOT hol AS deliv FROM cal)
    WINDOW w AS (PARTITION BY country ORDER BY day), ahead AS (w ROWS BETWEEN 1 FOLLOWING AND ${HOLIDAY_DISTANCE_CAP_DAYS} FOLLOWING)
  )`;
}

/** The moment an alert must cover: the hand-off once it has happened, else the moment of prediction (the hand-off is still ahead). */
const ALERT_REF = 'CASE WHEN b.shipped_at <= ex.as_of THEN b.shipped_at ELSE ex.as_of END';

/**
 * Service alerts known at the moment of prediction (`announced_at <= as_of`) for the shipment's
 * destination (its country; its region, or the whole country; its carrier, or every carrier) whose
 * affected window [starts_at, ends_at] covers the parcel's hand-off: a carrier holds the parcels it
 * takes in during the window. Once the parcel is handed off that is a known instant; before, it is
 * still ahead, and an alert covering the moment of prediction tells, with the days left until its
 * end, whether the hand-off will likely fall inside. Per example: the largest expected delay (0
 * when none is given) and the most days from the moment of prediction to a covering alert's end.
 * An alert for a window that opens only after the moment of prediction is not counted yet. Only
 * countries with an alert are looked at, so a warehouse without alerts pays almost nothing.
 */
function alertCtes(): string {
  return `alert_q AS (
    SELECT DISTINCT b.d_country, b.dest_region, b.carrier_code, ex.as_of, ${ALERT_REF} AS ref
    FROM ex JOIN qbase b USING (shipment_id) WHERE b.d_country IN (SELECT country FROM service_alerts)
  ),
  alert_now AS (
    SELECT q.d_country, q.dest_region, q.carrier_code, q.as_of, q.ref, max(coalesce(a.expected_delay_days, 0)) AS delay_days,
      max(greatest(0, epoch(a.ends_at) - epoch(q.as_of))) / ${DAY} AS ends_in_days
    FROM alert_q q JOIN service_alerts a ON a.country = q.d_country AND (a.region IS NULL OR a.region = q.dest_region)
      AND (a.carrier IS NULL OR a.carrier = q.carrier_code) AND a.announced_at <= q.as_of AND q.ref BETWEEN a.starts_at AND a.ends_at
    GROUP BY ALL
  )`;
}

/**
 * Builds the feature query for a selection. Exposed for inspection; `queryEtaFeatures` runs it.
 *
 * The query is scoped from the start: only the selected shipments (`qbase`) and the deliveries
 * that fall inside their rolling windows (`hist`) are read, so scoring a handful of shipments
 * does not scan the warehouse's whole history.
 */
export function etaFeatureQuery(sel: EtaExampleSelection): { sql: string; params: (string | number)[] } {
  const ex = examplesCte(sel);
  const sql = `
  WITH ${ex.scoped ? `extract_orders AS (SELECT DISTINCT unnest(from_json($1, '["VARCHAR"]')) AS order_id),` : ''}
  ex AS (${ex.sql}),
  q AS (SELECT DISTINCT shipment_id FROM ex),
  items AS (
    -- Whole cents and grams: integer sums are exact in any order, whatever the number of threads.
    SELECT order_id, count(*) AS n_items, max(shipping_limit_at) AS shipping_limit_at,
      sum(round(coalesce(unit_price, 0) * quantity * 100)::BIGINT) / 100 AS price,
      sum(round(freight_value * 100)::BIGINT) / 100 AS freight, CAST(sum(round(weight_g)::BIGINT) AS DOUBLE) AS items_weight, min(seller_id) AS seller_id
    FROM order_items WHERE order_id IN (SELECT s.order_id FROM q JOIN shipments s USING (shipment_id))
    GROUP BY order_id
  ),
  -- Local time at the origin: no origin time zone is stored, so take the most common zone of the
  -- customers in the origin's (country, region); a static attribute of the place, not history.
  origin_tz AS (
    SELECT country, region, time_zone FROM (
      SELECT c.country, c.region, c.time_zone, count(*) AS n FROM customers c
      SEMI JOIN (SELECT DISTINCT s.origin_country, s.origin_region FROM q JOIN shipments s USING (shipment_id)) r
        ON r.origin_country = c.country AND r.origin_region = c.region
      GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY country, region ORDER BY n DESC, time_zone) = 1
  ),
  qbase AS (
    SELECT s.shipment_id, s.order_id, o.purchased_at, s.promised_at, s.delivered_at, s.shipped_at,
      ${keys('s', 'i.seller_id')},
      (epoch(s.delivered_at) - epoch(o.purchased_at)) / ${DAY} AS total_days,
      (epoch(s.promised_at) - epoch(o.purchased_at)) / ${DAY} AS promise_days,
      (epoch(o.approved_at) - epoch(o.purchased_at)) / 3600 AS approval_hours,
      (epoch(i.shipping_limit_at) - epoch(o.purchased_at)) / ${DAY} AS limit_days,
      CASE WHEN s.origin_lat IS NOT NULL AND s.dest_lat IS NOT NULL THEN
        2 * 6371 * asin(sqrt(pow(sin(radians(s.dest_lat - s.origin_lat) / 2), 2)
          + cos(radians(s.origin_lat)) * cos(radians(s.dest_lat)) * pow(sin(radians(s.dest_lng - s.origin_lng) / 2), 2))) END AS distance_km,
      s.origin_lat, s.origin_lng, s.dest_lat, s.dest_lng,
      ln(1 + coalesce(s.weight_g, i.items_weight)) AS log_weight,
      ln(1 + s.length_cm * s.width_cm * s.height_cm) AS log_volume,
      ln(1 + coalesce(i.freight, s.freight_cost)) AS log_freight,
      ln(1 + coalesce(i.price, o.subtotal)) AS log_price,
      coalesce(i.n_items, 1) AS n_items,
      s.carrier AS carrier_code,
      coalesce(s.origin_country, s.dest_country, '?') AS o_country, coalesce(s.dest_country, s.origin_country, '?') AS d_country,
      coalesce(otz.time_zone, cu.time_zone, 'UTC') AS o_tz, coalesce(cu.time_zone, otz.time_zone, 'UTC') AS d_tz,
      CAST(floor(epoch(o.purchased_at) / ${DAY}) AS BIGINT) AS pday
    FROM q JOIN shipments s USING (shipment_id) JOIN orders o USING (order_id) LEFT JOIN items i USING (order_id)
    LEFT JOIN customers cu ON cu.customer_id = o.customer_id
    LEFT JOIN origin_tz otz ON otz.country = s.origin_country AND otz.region = s.origin_region
  ),
  ${calendarCtes()},
  -- Local time without an ICU conversion per row (about 2 s per million): the UTC offset of each
  -- (zone, quarter hour) the rows fall in, converted once. Offsets only change on quarter hours.
  tzq AS (
    SELECT DISTINCT tz, q FROM (
      SELECT b.o_tz AS tz, epoch_us(b.purchased_at) // ${QUARTER_HOUR_US} AS q FROM qbase b
      UNION ALL SELECT b.o_tz, epoch_us(ex.as_of) // ${QUARTER_HOUR_US} FROM ex JOIN qbase b USING (shipment_id)
      UNION ALL SELECT b.d_tz, epoch_us(ex.as_of) // ${QUARTER_HOUR_US} FROM ex JOIN qbase b USING (shipment_id))
  ),
  tzoff AS (SELECT tz, q, CAST(epoch(timezone(tz, make_timestamptz(q * ${QUARTER_HOUR_US}))) AS BIGINT) - q * ${QUARTER_HOUR_US / 1_000_000} AS off FROM tzq),
  -- Parcels to each destination region whose carrier reported a delay (weather, customs) in the
  -- ${DELAY_SCAN_WINDOW_HOURS} whole hours before the hour of the moment of prediction, by when the scan was received.
  delay_q AS (SELECT DISTINCT b.dest_region, CAST(floor(epoch(ex.as_of) / 3600) AS BIGINT) AS ah FROM ex JOIN qbase b USING (shipment_id)),
  delay_scans AS (
    SELECT coalesce(s.dest_region, '?') AS dest_region, CAST(floor(epoch(e.received_at) / 3600) AS BIGINT) AS rh, e.shipment_id
    FROM tracking_events e JOIN shipments s USING (shipment_id)
    WHERE e.status = 'delivery_delayed' AND e.received_at >= (SELECT min(as_of) FROM ex) - INTERVAL ${DELAY_SCAN_WINDOW_HOURS + 1} HOUR
      AND e.received_at < (SELECT max(as_of) FROM ex)
      ${ex.scoped ? 'AND s.order_id IN (SELECT order_id FROM extract_orders)' : ''}
  ),
  delay_recent AS (
    SELECT q.dest_region, q.ah, count(DISTINCT d.shipment_id) AS n_delayed
    FROM delay_q q JOIN delay_scans d ON d.dest_region = q.dest_region AND d.rh BETWEEN q.ah - ${DELAY_SCAN_WINDOW_HOURS} AND q.ah - 1
    GROUP BY ALL
  ),
  ${alertCtes()},
  -- Deliveries on days [first purchase day - window, last purchase day - 1] are all any window sees.
  span AS (SELECT to_timestamp((min(pday) - ${ROLLING_WINDOW_DAYS}) * ${DAY}) AS lo, to_timestamp(max(pday) * ${DAY}) AS hi FROM qbase),
  hist_ship AS (
    SELECT s.*, o.purchased_at FROM shipments s JOIN orders o USING (order_id)
    WHERE s.delivered_at >= (SELECT lo FROM span) AND s.delivered_at < (SELECT hi FROM span)
      ${ex.scoped ? 'AND s.order_id IN (SELECT order_id FROM extract_orders)' : ''}
  ),
  hist AS (
    SELECT ${keys('s', 'i.seller_id')},
      epoch_ms(s.delivered_at) - epoch_ms(s.purchased_at) AS total_ms,
      epoch_ms(s.shipped_at) - epoch_ms(s.purchased_at) AS handoff_ms,
      epoch_ms(s.delivered_at) - epoch_ms(s.promised_at) AS over_ms,
      CAST(floor(epoch(s.delivered_at) / ${DAY}) AS BIGINT) AS dday
    FROM hist_ship s LEFT JOIN (
      SELECT order_id, min(seller_id) AS seller_id FROM order_items WHERE order_id IN (SELECT order_id FROM hist_ship) GROUP BY order_id
    ) i USING (order_id)
  ),
  ${rollingCtes()},
  feat AS (
  SELECT row_number() OVER () AS rid, b.d_country AS roll_country, ad.off AS roll_off, b.shipment_id, b.order_id, b.purchased_at, b.promised_at, b.delivered_at, ex.as_of, ex.stage, ex.event_id, ex.event_source,
    b.total_days,
    greatest(0, (epoch(ex.as_of) - epoch(b.purchased_at)) / ${DAY}) AS elapsed_days,
    -- Days since the carrier took the parcel; missing (an input of its own) until it has.
    CASE WHEN b.shipped_at <= ex.as_of THEN (epoch(ex.as_of) - epoch(b.shipped_at)) / ${DAY} END AS handoff_age_days,
    CASE WHEN ex.event_region IS NOT NULL AND ex.event_region = b.dest_region THEN 1 ELSE 0 END AS at_dest_region,
    b.promise_days, b.approval_hours, b.limit_days, b.distance_km, b.origin_lat, b.origin_lng, b.dest_lat, b.dest_lng, b.log_weight, b.log_volume, b.log_freight, b.log_price, b.n_items,
    -- Purchase calendar in the origin's local time (hand-off cut-offs are local).
    ${localHour('purchase_ls')} AS purchase_hour,
    -- Calendar at the moment of prediction, in the destination's local time (deliveries follow it).
    ${localHour('as_of_dls')} AS as_of_hour,
    ${localWeekday('as_of_dls')} AS as_of_weekday,
    -- Per the destination's usual volume over the same span (its 60-day deliveries).
    coalesce(dr.n_delayed, 0) / greatest(1, coalesce(dest_n, 0) * ${DELAY_SCAN_WINDOW_HOURS / 24} / ${ROLLING_WINDOW_DAYS}) AS dest_delay_scans,
    coalesce(al.delay_days, 0) AS dest_alert_delay_days, coalesce(al.ends_in_days, 0) AS dest_alert_ends_in_days,
    co.pickup_day, co.next_pickup_days, cd.delivery_day, cd.delivery_day_1, cd.delivery_day_3, cd.holidays_ahead, cd.holiday_in_days,
    -- Sparse keys borrow strength from their parent (shrinkage with 5 pseudo-observations).
    ${SHRUNK_LANE_MEAN} AS lane_mean,
    -- The baseline the model predicts a residual over: the lane mean at purchase; later, the time
    -- already elapsed plus what the lane's transit usually still needs (after the hand-off, its
    -- mean hand-off → delivery time less the days since hand-off, at least a quarter of it).
    CASE WHEN ex.as_of > b.purchased_at THEN greatest(${SHRUNK_LANE_MEAN}, (epoch(ex.as_of) - epoch(b.purchased_at)) / ${DAY} + CASE
      WHEN b.shipped_at <= ex.as_of THEN greatest(${LANE_TRANSIT} - (epoch(ex.as_of) - epoch(b.shipped_at)) / ${DAY}, 0.25 * ${LANE_TRANSIT})
      ELSE ${LANE_TRANSIT} END)
    ELSE ${SHRUNK_LANE_MEAN} END AS baseline_days,
    ln(1 + coalesce(lane_n, 0)) AS lane_log_n,
    dest_mean, origin_mean,
    (coalesce(seller_mean * seller_n, 0) + 3 * coalesce(origin_mean, overall_mean)) / (coalesce(seller_n, 0) + 3) AS seller_mean,
    seller_handoff AS seller_handoff_mean, ln(1 + coalesce(seller_n, 0)) AS seller_log_n,
    carrier_mean, overall_mean AS global_mean,
    (coalesce(lane_over * lane_n, 0) + 5 * overall_over) / (coalesce(lane_n, 0) + 5) AS lane_over_promise,
    overall_over AS global_over_promise,
    overall_mean_recent AS global_recent_mean, overall_late_recent AS global_recent_late,
    (coalesce(dest_mean_recent * dest_n_recent, 0) + 5 * coalesce(overall_mean_recent, dest_mean)) / (coalesce(dest_n_recent, 0) + 5) AS dest_recent_mean,
    (coalesce(dest_late_recent * dest_n_recent, 0) + 5 * overall_late_recent) / (coalesce(dest_n_recent, 0) + 5) AS dest_recent_late,
    (coalesce(lane_mean_recent * lane_n_recent, 0) + 5 * coalesce(dest_mean_recent, overall_mean_recent, lane_mean))
      / (coalesce(lane_n_recent, 0) + 5) AS lane_recent_mean,
    b.carrier_service, b.origin_region, b.dest_region, b.lane, b.route,
    ${localWeekday('purchase_ls')} AS weekday, CAST(month(${localDate('purchase_ls')}) AS VARCHAR) AS month
  FROM ex JOIN qbase b USING (shipment_id)
  LEFT JOIN tzoff po ON po.tz = b.o_tz AND po.q = epoch_us(b.purchased_at) // ${QUARTER_HOUR_US}
  LEFT JOIN tzoff ao ON ao.tz = b.o_tz AND ao.q = epoch_us(ex.as_of) // ${QUARTER_HOUR_US}
  LEFT JOIN tzoff ad ON ad.tz = b.d_tz AND ad.q = epoch_us(ex.as_of) // ${QUARTER_HOUR_US}
  LEFT JOIN lane ON lane_k = b.lane AND lane_d = b.pday LEFT JOIN dest ON dest_k = b.dest_region AND dest_d = b.pday
  LEFT JOIN origin ON origin_k = b.origin_region AND origin_d = b.pday LEFT JOIN seller ON seller_k = b.seller AND seller_d = b.pday
  LEFT JOIN carrier ON carrier_k = b.carrier_service AND carrier_d = b.pday LEFT JOIN overall ON overall_d = b.pday
  LEFT JOIN delay_recent dr ON dr.dest_region = b.dest_region AND dr.ah = CAST(floor(epoch(ex.as_of) / 3600) AS BIGINT)
  LEFT JOIN alert_now al ON al.d_country = b.d_country AND al.dest_region = b.dest_region AND al.carrier_code = b.carrier_code
    AND al.as_of = ex.as_of AND al.ref = ${ALERT_REF}
  LEFT JOIN calf co ON co.country = b.o_country AND co.day = ${localDate('as_of_ols')}
  LEFT JOIN calf cd ON cd.country = b.d_country AND cd.day = ${localDate('as_of_dls')}
  ),
  -- The baseline's arrival, purchase + baseline_days, in the destination's local time (at the
  -- moment of prediction's UTC offset: a DST change before the arrival shifts it by an hour at
  -- most). Carriers only deliver on delivery days, so an arrival on a Sunday or a holiday waits
  -- for the start (local midnight) of the next delivery day. The arrival is uncertain, so the roll
  -- is averaged over ${ARRIVAL_QUANTILES.length} arrivals spread around it (the remaining days times exp(${ARRIVAL_SPREAD_LOG} z) at
  -- normal quantiles z): a point estimate's roll jumps from 0 to a full day across midnight. Summed
  -- as integer nanodays, so the value does not depend on the order rows are added in.
  rolls AS (
    SELECT a.rid, sum(CAST(round(coalesce(CASE WHEN r.delivery_day = 1 THEN 0
      ELSE ((a.day + r.delivery_day_1) * ${DAY} - a.ls) / ${DAY} END, 0) * 1e9) AS BIGINT)) / ${ARRIVAL_QUANTILES.length}e9 AS roll
    FROM (
      SELECT rid, roll_country, ls, CAST(floor(ls / ${DAY}) AS INTEGER) AS day FROM (
        SELECT f.rid, f.roll_country, epoch(f.as_of) + f.roll_off
          + greatest(0, f.baseline_days - (epoch(f.as_of) - epoch(f.purchased_at)) / ${DAY}) * exp(${ARRIVAL_SPREAD_LOG} * z.z) * ${DAY} AS ls
        FROM feat f CROSS JOIN (SELECT unnest([${ARRIVAL_QUANTILES.join(', ')}]) AS z) z WHERE f.baseline_days IS NOT NULL
      )
    ) a
    LEFT JOIN calf r ON r.country = a.roll_country AND r.day = DATE '1970-01-01' + a.day
    GROUP BY a.rid
  )
  SELECT f.* EXCLUDE (rid, roll_country, roll_off), coalesce(rl.roll, 0) AS baseline_roll_days
  FROM feat f LEFT JOIN rolls rl USING (rid)
  ORDER BY f.purchased_at, f.shipment_id, f.as_of, f.event_source, f.event_id`;
  return { sql, params: ex.params };
}

/** Runs the feature query; rows are ordered by purchase time (then shipment, then moment). */
export async function queryEtaFeatures(db: SqlRunner, sel: EtaExampleSelection): Promise<RawEtaRow[]> {
  const { sql, params } = etaFeatureQuery(sel);
  return db.all<RawEtaRow>(sql, params);
}
