/**
 * CSAT against lateness: mean score per lateness bucket, the effect of a proactive delay notice
 * among late deliveries, correlations of days late vs score, and support contacts per bucket.
 */
import type { SqlRunner } from '../warehouse/warehouse.js';
import { SCOPED_CTE, periodParams, type ReportPeriod } from './scope.js';
import { LATENESS_BUCKETS, daysLateSql, latenessBucket, latenessBucketSql, type LatenessBucket } from './lateness.js';
import { correlate, ratio, round, type Correlation } from './stats.js';

export interface CsatBucketRow {
  bucket: LatenessBucket['key'];
  label: string;
  responses: number;
  meanScore: number | null;
  /** Delivered shipments in the bucket, and their support contacts. */
  shipments: number;
  contacts: number;
  contactsPer100: number | null;
  wismoContactsPer100: number | null;
}

export interface NoticeComparison {
  responses: number;
  meanScore: number | null;
}

export interface CsatReport {
  responses: number;
  meanScore: number | null;
  byLateness: CsatBucketRow[];
  /** Late deliveries only: with vs without a proactive delay notice before delivery. */
  lateWithNotice: NoticeComparison;
  lateWithoutNotice: NoticeComparison;
  /** Days late (delivered − promised) vs score, over responses on delivered shipments. */
  daysLateVsScore: Correlation;
}

/** A response joined to its delivered shipment. */
export interface CsatPoint {
  daysLate: number;
  score: number;
  notified: boolean;
}

/** Pure aggregation of response points into bucket means, the notice comparison and correlations. */
export function summarizeCsat(points: readonly CsatPoint[]): Pick<CsatReport, 'responses' | 'meanScore' | 'lateWithNotice' | 'lateWithoutNotice' | 'daysLateVsScore'> & {
  byBucket: Map<LatenessBucket['key'], NoticeComparison>;
} {
  const mean = (xs: readonly CsatPoint[]): NoticeComparison => ({
    responses: xs.length,
    meanScore: xs.length ? round(xs.reduce((a, p) => a + p.score, 0) / xs.length, 3) : null,
  });
  const byBucket = new Map<LatenessBucket['key'], NoticeComparison>();
  for (const b of LATENESS_BUCKETS) byBucket.set(b.key, mean(points.filter((p) => latenessBucket(p.daysLate) === b.key)));
  const late = points.filter((p) => p.daysLate > 0);
  const all = mean(points);
  return {
    responses: all.responses,
    meanScore: all.meanScore,
    byBucket,
    lateWithNotice: mean(late.filter((p) => p.notified)),
    lateWithoutNotice: mean(late.filter((p) => !p.notified)),
    daysLateVsScore: correlate(points.map((p) => p.daysLate), points.map((p) => p.score)),
  };
}

// A notice counts when it reached the customer before delivery: a `delay` email or an NBA action
// that sends one (every action but none; proactive_delay_notice is what older decision logs call it).
const NOTICE_CTE = `notice AS (
  SELECT DISTINCT s.shipment_id FROM scoped s JOIN email_messages em ON em.shipment_id = s.shipment_id
  WHERE em.kind = 'delay' AND em.status = 'sent' AND em.created_at <= s.delivered_at
  UNION
  SELECT DISTINCT s.shipment_id FROM scoped s JOIN nba_decisions d ON d.shipment_id = s.shipment_id
  WHERE d.action IN ('apology_notice', 'reschedule_offer', 'discount_code', 'shipping_refund', 'proactive_delay_notice') AND d.decided_at <= s.delivered_at)`;

// Responses without a shipment id are attributed to the order's first shipment.
const POINTS_SQL = `
WITH ${SCOPED_CTE}, ${NOTICE_CTE},
first_ship AS (SELECT order_id, min(shipment_id) AS shipment_id FROM shipments GROUP BY order_id)
SELECT ${daysLateSql('s')} AS days_late, c.score, n.shipment_id IS NOT NULL AS notified
FROM csat_responses c
LEFT JOIN first_ship f ON f.order_id = c.order_id
JOIN scoped s ON s.shipment_id = coalesce(c.shipment_id, f.shipment_id)
LEFT JOIN notice n ON n.shipment_id = s.shipment_id
WHERE s.delivered_at IS NOT NULL AND s.promised_at IS NOT NULL AND (c.responded_at IS NULL OR c.responded_at <= $3::TIMESTAMPTZ)`;

const CONTACTS_SQL = `
WITH ${SCOPED_CTE},
sc AS (
  SELECT shipment_id, count(*) AS contacts, count(*) FILTER (WHERE reason = 'wismo') AS wismo
  FROM support_contacts WHERE shipment_id IS NOT NULL AND created_at <= $3::TIMESTAMPTZ GROUP BY shipment_id)
SELECT ${latenessBucketSql(daysLateSql('s'))} AS bucket, count(*) AS shipments,
  coalesce(sum(sc.contacts), 0)::BIGINT AS contacts, coalesce(sum(sc.wismo), 0)::BIGINT AS wismo
FROM scoped s LEFT JOIN sc ON sc.shipment_id = s.shipment_id
WHERE s.delivered_at IS NOT NULL AND s.promised_at IS NOT NULL
GROUP BY bucket`;

/** CSAT figures for shipments of the period. */
export async function csatReport(db: SqlRunner, period: ReportPeriod): Promise<CsatReport> {
  const params = periodParams(period);
  const points = (await db.all<{ days_late: number; score: number; notified: boolean }>(POINTS_SQL, params)).map((r) => ({
    daysLate: r.days_late,
    score: r.score,
    notified: r.notified,
  }));
  const contacts = await db.all<{ bucket: string; shipments: number; contacts: number; wismo: number }>(CONTACTS_SQL, params);
  const s = summarizeCsat(points);
  return {
    responses: s.responses,
    meanScore: s.meanScore,
    byLateness: LATENESS_BUCKETS.map((b) => {
      const c = contacts.find((r) => r.bucket === b.key);
      const m = s.byBucket.get(b.key)!;
      return {
        bucket: b.key,
        label: b.label,
        responses: m.responses,
        meanScore: m.meanScore,
        shipments: c?.shipments ?? 0,
        contacts: c?.contacts ?? 0,
        contactsPer100: round(ratio(100 * (c?.contacts ?? 0), c?.shipments ?? 0), 2),
        wismoContactsPer100: round(ratio(100 * (c?.wismo ?? 0), c?.shipments ?? 0), 2),
      };
    }),
    lateWithNotice: s.lateWithNotice,
    lateWithoutNotice: s.lateWithoutNotice,
    daysLateVsScore: s.daysLateVsScore,
  };
}
