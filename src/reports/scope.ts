/**
 * The reporting period and the shipments in it. A shipment belongs to the period of its carrier
 * hand-off (`shipped_at`), or of its label when it has not been handed off yet, so in-flight work
 * is counted where it started.
 */
import type { SqlValue } from '../warehouse/warehouse.js';
import { ValidationError } from '../errors.js';

export interface ReportPeriod {
  /** Inclusive start; undefined means from the first shipment. */
  from?: Date;
  /** Exclusive end (the day after the last day asked for); undefined means up to `now`. */
  until?: Date;
  /** The instant "in flight" and "past promise" are judged at. */
  now: Date;
}

/** The shipment's period date as SQL. */
export const SHIP_DATE_SQL = 'coalesce(s.shipped_at, s.label_created_at, s.promised_at)';

/** Parameters $1 (from), $2 (until), $3 (now) used by every report query. */
export function periodParams(p: ReportPeriod): SqlValue[] {
  return [p.from ?? null, p.until ?? null, p.now];
}

/** A CTE `scoped` with the period's shipments (columns of `shipments` plus `ship_date`). */
export const SCOPED_CTE = `scoped AS (
  SELECT s.*, ${SHIP_DATE_SQL} AS ship_date FROM shipments s
  WHERE ($1::TIMESTAMPTZ IS NULL OR ${SHIP_DATE_SQL} >= $1::TIMESTAMPTZ)
    AND ($2::TIMESTAMPTZ IS NULL OR ${SHIP_DATE_SQL} < $2::TIMESTAMPTZ)
    AND ${SHIP_DATE_SQL} <= $3::TIMESTAMPTZ)`;

/** Parses a YYYY-MM-DD day as UTC midnight; undefined when absent. `field` names it in the error. */
export function parseDay(field: string, value: string | null | undefined): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!d || d.toISOString().slice(0, 10) !== value) throw new ValidationError(field, `must be a date YYYY-MM-DD (got "${value}")`);
  return d;
}

/** `from` and `until` days as given by people (both inclusive) → the half-open period bounds. */
export function periodFromDays(from: string | null | undefined, until: string | null | undefined): { from?: Date; until?: Date } {
  const f = parseDay('from', from);
  const u = parseDay('until', until);
  return { from: f, until: u && new Date(u.getTime() + 86_400_000) };
}
