/**
 * Calendars of the synthetic world, as integer day numbers (days since 1970-01-01, UTC dates):
 * public holidays, business days for hand-off, and the delivery days of each service class.
 */

export const DAY_SECONDS = 86_400;

/** Day number of a Date's UTC calendar date. */
export function dayNumber(d: Date): number {
  return Math.floor(d.getTime() / 1000 / DAY_SECONDS);
}

/** ISO date (YYYY-MM-DD) of a day number. */
export function isoDate(day: number): string {
  return new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

/** Day of week, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function dayOfWeek(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = dayNumber(new Date(Date.UTC(year, month, 1)));
  return first + ((weekday - dayOfWeek(first) + 7) % 7) + (n - 1) * 7;
}

function lastWeekday(year: number, month: number, weekday: number): number {
  const last = dayNumber(new Date(Date.UTC(year, month + 1, 0)));
  return last - ((dayOfWeek(last) - weekday + 7) % 7);
}

/** The fixed carrier holiday list of one year: no hand-off, and no delivery for ground services. */
export function holidays(year: number): { day: number; name: string }[] {
  return [
    { day: dayNumber(new Date(Date.UTC(year, 0, 1))), name: "New Year's Day" },
    { day: lastWeekday(year, 4, 1), name: 'Memorial Day' },
    { day: dayNumber(new Date(Date.UTC(year, 6, 4))), name: 'Independence Day' },
    { day: nthWeekday(year, 8, 1, 1), name: 'Labor Day' },
    { day: nthWeekday(year, 10, 4, 4), name: 'Thanksgiving Day' },
    { day: dayNumber(new Date(Date.UTC(year, 11, 25))), name: 'Christmas Day' },
  ];
}

/** Which days a service class delivers on. */
export type DeliveryClass = 'ground' | 'express';

export interface CalendarDay {
  day: number;
  dow: number;
  holiday: string | null;
  /** Carriers pick up from the warehouse (Mon–Fri, not a holiday). */
  businessDay: boolean;
  /** Ground delivers Mon–Sat except holidays; express classes deliver Mon–Sat including holidays. */
  delivers: Record<DeliveryClass, boolean>;
  /** Peak-season slowdown (log multiplier on transit) for parcels handed off this day. */
  peakLog: number;
}

/**
 * Log transit multiplier for parcels handed off on `day`: carriers slow down from Black Friday
 * (the day after Thanksgiving) to Christmas Eve.
 */
export function peakLog(day: number): number {
  const year = new Date(day * DAY_SECONDS * 1000).getUTCFullYear();
  const blackFriday = nthWeekday(year, 10, 4, 4) + 1;
  const christmasEve = dayNumber(new Date(Date.UTC(year, 11, 24)));
  return day >= blackFriday && day <= christmasEve ? Math.log(1.18) : 0;
}

/** Every day in [from, to] with its holiday, business-day, delivery-day and peak flags. */
export function buildCalendar(from: number, to: number): CalendarDay[] {
  if (!(to >= from)) throw new RangeError(`calendar range is empty: ${from}..${to}`);
  const hol = new Map<number, string>();
  const y0 = new Date(from * DAY_SECONDS * 1000).getUTCFullYear();
  const y1 = new Date(to * DAY_SECONDS * 1000).getUTCFullYear();
  for (let y = y0; y <= y1; y++) for (const h of holidays(y)) hol.set(h.day, h.name);
  const out: CalendarDay[] = [];
  for (let day = from; day <= to; day++) {
    const dow = dayOfWeek(day);
    const holiday = hol.get(day) ?? null;
    out.push({
      day,
      dow,
      holiday,
      businessDay: dow >= 1 && dow <= 5 && holiday === null,
      delivers: { ground: dow !== 0 && holiday === null, express: dow !== 0 },
      peakLog: peakLog(day),
    });
  }
  return out;
}

/**
 * For every calendar day, the delivery day a parcel arriving that day is delivered on (`target`,
 * the first delivery day on or after it) and the first day of the block of days that all roll
 * onto that target (`blockStart`). Mapping the block [blockStart, target + 1) linearly onto the
 * target's delivery window keeps arrival → delivery continuous and strictly increasing, so the
 * quantiles of the delivered time are the transformed quantiles of the raw transit draw.
 * Days after the last delivery day in range are omitted.
 */
export function deliveryRollForward(cal: readonly CalendarDay[], cls: DeliveryClass): { day: number; target: number; blockStart: number }[] {
  const out: { day: number; target: number; blockStart: number }[] = [];
  let blockStart = cal.length > 0 ? cal[0].day : 0;
  let pending: number[] = [];
  for (const d of cal) {
    pending.push(d.day);
    if (d.delivers[cls]) {
      for (const p of pending) out.push({ day: p, target: d.day, blockStart });
      pending = [];
      blockStart = d.day + 1;
    }
  }
  return out;
}
