/**
 * Lateness buckets shared by the CSAT and support-contact reports. One definition serves both the
 * SQL (`latenessBucketSql`) and the in-process statistics (`latenessBucket`), so they cannot drift.
 */

/** A bucket holds deliveries whose days late (delivered − promised, in days) is ≤ `maxDaysLate`. */
export interface LatenessBucket {
  key: 'early' | 'on_time' | 'late_1_2' | 'late_3_6' | 'late_7_plus';
  label: string;
  maxDaysLate: number;
}

/** Ordered buckets; "3–6 d late" means the delivery missed the promise by 2 to 6 whole days (rounded up). */
export const LATENESS_BUCKETS: readonly LatenessBucket[] = [
  { key: 'early', label: 'early (≥ 1 d before promise)', maxDaysLate: -1 },
  { key: 'on_time', label: 'on time', maxDaysLate: 0 },
  { key: 'late_1_2', label: '1–2 d late', maxDaysLate: 2 },
  { key: 'late_3_6', label: '3–6 d late', maxDaysLate: 6 },
  { key: 'late_7_plus', label: '7+ d late', maxDaysLate: Number.POSITIVE_INFINITY },
];

/** The bucket of a delivery that was `daysLate` days late (negative: early). */
export function latenessBucket(daysLate: number): LatenessBucket['key'] {
  if (!Number.isFinite(daysLate)) throw new RangeError(`daysLate must be finite (got ${daysLate})`);
  for (const b of LATENESS_BUCKETS) if (daysLate <= b.maxDaysLate) return b.key;
  return 'late_7_plus';
}

/** A SQL CASE expression mapping the numeric expression `daysLateExpr` to a bucket key. */
export function latenessBucketSql(daysLateExpr: string): string {
  const whens = LATENESS_BUCKETS.filter((b) => Number.isFinite(b.maxDaysLate)).map((b) => `WHEN ${daysLateExpr} <= ${b.maxDaysLate} THEN '${b.key}'`);
  return `CASE ${whens.join(' ')} ELSE '${LATENESS_BUCKETS[LATENESS_BUCKETS.length - 1]!.key}' END`;
}

/** Days between promise and delivery as a SQL expression (epoch arithmetic is far faster on TIMESTAMPTZ). */
export function daysLateSql(alias: string): string {
  return `((epoch(${alias}.delivered_at) - epoch(${alias}.promised_at)) / 86400.0)`;
}
