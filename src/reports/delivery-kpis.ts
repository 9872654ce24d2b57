/** Delivery KPIs per carrier × service level and overall, in total and per ISO week of hand-off. */
import type { SqlRunner } from '../warehouse/warehouse.js';
import { SCOPED_CTE, periodParams, type ReportPeriod } from './scope.js';
import { ratio, round } from './stats.js';

export interface DeliveryKpiRow {
  /** Monday of the hand-off week (YYYY-MM-DD), or null for the whole period. */
  week: string | null;
  /** null in the rows that cover every carrier and service. */
  carrier: string | null;
  serviceLevel: string | null;
  shipments: number;
  delivered: number;
  /** Delivered by the promise / delivered with a promise. */
  onTimeRate: number | null;
  medianTransitDays: number | null;
  p90TransitDays: number | null;
  /** Late (delivered after the promise, or undelivered with the promise past) / shipments whose promise is due or that are delivered. */
  lateShare: number | null;
  /** Shipments with an exception, failed attempt or return-to-sender scan / shipments. */
  exceptionShare: number | null;
  /** In flight and late or at risk now (see docs/REPORTS.md). */
  inFlightLateRisk: number;
}

export interface DeliveryKpiReport {
  overall: DeliveryKpiRow;
  byCarrierService: DeliveryKpiRow[];
  weekly: DeliveryKpiRow[];
}

/** Statuses that take a shipment off the happy path. */
export const EXCEPTION_STATUSES = ['exception', 'failed_attempt', 'return_to_sender'] as const;

interface Raw {
  week: Date | null;
  carrier: string | null;
  service_level: string | null;
  g_week: number;
  g_cs: number;
  shipments: number;
  delivered: number;
  delivered_with_promise: number;
  on_time: number;
  due: number;
  late: number;
  exceptions: number;
  at_risk: number;
  median_transit: number | null;
  p90_transit: number | null;
}

const SQL = `
WITH ${SCOPED_CTE},
exc AS (
  SELECT DISTINCT coalesce(e.shipment_id, s2.shipment_id) AS shipment_id
  FROM tracking_events e LEFT JOIN shipments s2 ON s2.tracking_number = e.tracking_number
  WHERE e.status IN (${EXCEPTION_STATUSES.map((s) => `'${s}'`).join(', ')})),
x AS (
  SELECT s.*, date_trunc('week', s.ship_date AT TIME ZONE 'UTC')::DATE AS week,
    s.delivered_at IS NOT NULL AS is_delivered,
    s.delivered_at IS NOT NULL AND s.promised_at IS NOT NULL AND s.delivered_at <= s.promised_at AS on_time,
    CASE WHEN s.delivered_at IS NOT NULL AND s.shipped_at IS NOT NULL THEN (epoch(s.delivered_at) - epoch(s.shipped_at)) / 86400.0 END AS transit_days,
    s.delivered_at IS NULL AND s.status NOT IN (SELECT status FROM tracking_statuses WHERE is_terminal) AND s.status <> 'return_to_sender' AS in_flight,
    exc.shipment_id IS NOT NULL AS had_exception
  FROM scoped s LEFT JOIN exc ON exc.shipment_id = s.shipment_id)
SELECT week, carrier, service_level, grouping(week)::INT AS g_week, grouping(carrier)::INT AS g_cs,
  count(*) AS shipments,
  count(*) FILTER (WHERE is_delivered) AS delivered,
  count(*) FILTER (WHERE is_delivered AND promised_at IS NOT NULL) AS delivered_with_promise,
  count(*) FILTER (WHERE on_time) AS on_time,
  count(*) FILTER (WHERE promised_at IS NOT NULL AND (is_delivered OR promised_at <= $3::TIMESTAMPTZ)) AS due,
  count(*) FILTER (WHERE promised_at IS NOT NULL AND ((is_delivered AND delivered_at > promised_at) OR (NOT is_delivered AND promised_at <= $3::TIMESTAMPTZ))) AS late,
  count(*) FILTER (WHERE had_exception) AS exceptions,
  count(*) FILTER (WHERE in_flight AND (promised_at <= $3::TIMESTAMPTZ
    OR status IN ('delivery_delayed', 'exception', 'failed_attempt')
    OR (promised_at <= $3::TIMESTAMPTZ + INTERVAL 1 DAY AND status NOT IN ('out_for_delivery', 'available_for_pickup')))) AS at_risk,
  quantile_cont(transit_days, 0.5) AS median_transit,
  quantile_cont(transit_days, 0.9) AS p90_transit
FROM x
GROUP BY GROUPING SETS ((), (carrier, service_level), (week), (week, carrier, service_level))
ORDER BY week NULLS FIRST, carrier NULLS FIRST, service_level NULLS FIRST`;

function toRow(r: Raw): DeliveryKpiRow {
  return {
    week: r.week ? r.week.toISOString().slice(0, 10) : null,
    carrier: r.carrier,
    serviceLevel: r.service_level,
    shipments: r.shipments,
    delivered: r.delivered,
    onTimeRate: round(ratio(r.on_time, r.delivered_with_promise)),
    medianTransitDays: round(r.median_transit, 2),
    p90TransitDays: round(r.p90_transit, 2),
    lateShare: round(ratio(r.late, r.due)),
    exceptionShare: round(ratio(r.exceptions, r.shipments)),
    inFlightLateRisk: r.at_risk,
  };
}

const EMPTY: DeliveryKpiRow = {
  week: null, carrier: null, serviceLevel: null, shipments: 0, delivered: 0, onTimeRate: null, medianTransitDays: null,
  p90TransitDays: null, lateShare: null, exceptionShare: null, inFlightLateRisk: 0,
};

/** Delivery KPIs for the period. */
export async function deliveryKpis(db: SqlRunner, period: ReportPeriod): Promise<DeliveryKpiReport> {
  const rows = await db.all<Raw>(SQL, periodParams(period));
  const overall = rows.find((r) => r.g_week === 1 && r.g_cs === 1);
  return {
    overall: overall ? toRow(overall) : EMPTY,
    byCarrierService: rows.filter((r) => r.g_week === 1 && r.g_cs === 0).map(toRow),
    weekly: rows.filter((r) => r.g_week === 0).map(toRow),
  };
}
