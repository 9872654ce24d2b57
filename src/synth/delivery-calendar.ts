/**
 * Exports the synthetic world's holidays into `delivery_calendar` (migration 008), the reference
 * table the ETA features read, so models see the generator's calendar as data, as they would a
 * user's. Weekends need no rows: the table's ordinary week (pick-ups Mon–Fri, deliveries Mon–Sat)
 * is the generator's ground calendar.
 */
import type { CalendarDay } from './calendar.js';
import { isoDate } from './calendar.js';
import { FULFILMENT_CENTRES, METROS } from './geo.js';
import { lit } from './sql-literals.js';

/**
 * `INSERT` of every holiday in `calendar` for every country of the synthetic world (its holiday
 * list applies to all of them; the generator's calendar spans more than a year, so there is always
 * one). Rows a user already entered for the same (country, day) are kept.
 */
export function deliveryCalendarSql(calendar: readonly CalendarDay[]): string {
  const countries = [...new Set([...METROS, ...FULFILMENT_CENTRES].map((p) => p.country))].sort();
  const rows = calendar
    .filter((d) => d.holiday !== null)
    .flatMap((d) => countries.map((c) => `(${lit(c)}, ${lit(isoDate(d.day))}::DATE, ${lit(d.holiday)}, 'generator')`));
  return `INSERT INTO delivery_calendar (country, day, name, source) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING;`;
}
