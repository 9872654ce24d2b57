/**
 * A small, seeded canonical dataset for the ETA tests, with a planted lane effect: lane B>Z takes
 * `SLOW_LANE_EXTRA_DAYS` longer than the others. Independent of the synthetic generator so the
 * tests pin down exactly what was planted.
 */
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { seededRandom } from '../../src/ml/eta/train.js';

export const FIXTURE_START = Date.parse('2024-01-01T00:00:00Z');
export const SLOW_LANE = 'B>Z';
export const SLOW_LANE_EXTRA_DAYS = 4;
const DAY = 86_400_000;

export interface FixtureOptions {
  seed?: number;
  shipments: number;
  /** Purchases are spread uniformly over this many days from FIXTURE_START. */
  days: number;
  /** Shipments purchased within this many days of the end are left undelivered (in flight). */
  openDays?: number;
  /** Prefix of ids, so several batches can be added to one warehouse. */
  idPrefix?: string;
  /** Offset of the first purchase, in days from FIXTURE_START. */
  startDay?: number;
  /**
   * Planted holidays (days from FIXTURE_START, UTC dates), written to `delivery_calendar` for the
   * fixture's country: nothing is delivered on them, a parcel arriving on one is delivered the same
   * time of day on the next day that is not a holiday.
   */
  holidays?: readonly number[];
  /** Every n-th shipment gets a `delivery_delayed` scan a third of the way through its transit. */
  delayScanEvery?: number;
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Inserts customers, orders, order_items, shipments and tracking events. Returns the end instant. */
export async function loadEtaFixture(wh: Warehouse, opts: FixtureOptions): Promise<Date> {
  const rand = seededRandom(opts.seed ?? 1);
  const origins = ['A', 'B'];
  const dests = ['X', 'Y', 'Z'];
  const coords: Record<string, [number, number]> = { A: [40, -75], B: [34, -118], X: [41, -87], Y: [30, -97], Z: [47, -122] };
  const end = FIXTURE_START + ((opts.startDay ?? 0) + opts.days) * DAY;
  const p = opts.idPrefix ?? 's';
  const customers: (string | number | boolean | null)[][] = [];
  const orders: (string | number | null)[][] = [];
  const items: (string | number | null)[][] = [];
  const ships: (string | number | boolean | null)[][] = [];
  const events: (string | number | null)[][] = [];
  const iso = (t: number) => new Date(t).toISOString();
  const holidays = new Set(opts.holidays ?? []);
  for (let i = 0; i < opts.shipments; i++) {
    const id = `${p}${String(i).padStart(6, '0')}`;
    const o = origins[Math.floor(rand() * origins.length)];
    const d = dests[Math.floor(rand() * dests.length)];
    const lane = `${o}>${d}`;
    const purchased = FIXTURE_START + ((opts.startDay ?? 0) + (i / opts.shipments) * opts.days) * DAY + Math.floor(rand() * 3_600_000);
    const express = rand() < 0.3;
    const base = (express ? 2 : 4) + (o === 'B' ? 1 : 0) + (lane === SLOW_LANE ? SLOW_LANE_EXTRA_DAYS : 0);
    const transit = base * Math.exp(0.25 * gaussian(rand));
    // The promise follows the carrier's service chart and knows nothing of the lane effect.
    const promiseDays = express ? 5 : 8;
    const handoff = 0.5 + rand() * 0.8;
    const shipped = purchased + handoff * DAY;
    let delivered = shipped + transit * DAY;
    while (holidays.has(Math.floor((delivered - FIXTURE_START) / DAY))) delivered += DAY;
    const isOpen = delivered > end - (opts.openDays ?? 0) * DAY;
    customers.push([`c-${id}`, null, null, null, 'en', 'UTC', null, null, d, 'US', true, false, false, false, null, null]);
    orders.push([`o-${id}`, `c-${id}`, isOpen ? 'shipped' : 'delivered', 'web', 'USD', 50, 0, 5, 55, iso(purchased), iso(purchased + 600_000)]);
    items.push([`o-${id}`, 1, 'p1', `seller-${o}`, 'toys', 1, 50, 0, 5, 500 + rand() * 2000, iso(purchased + 2 * DAY)]);
    const [olat, olng] = coords[o];
    const [dlat, dlng] = coords[d];
    ships.push([
      id, `o-${id}`, `T${id}`, express ? 'acme' : 'roadco', express ? 'express' : 'ground', false,
      `${o}00`, null, o, 'US', olat, olng, `${d}00`, null, d, 'US', dlat, dlng,
      1000, 20, 20, 10, 7, 'USD', iso(purchased), iso(shipped), iso(purchased + promiseDays * DAY),
      isOpen ? null : iso(delivered), isOpen ? 'in_transit' : 'delivered', null, null,
    ]);
    const ev = (k: number, status: string, t: number, region: string) =>
      events.push(['test', `${id}-${k}`, `T${id}`, id, 'acme', status, null, null, null, region, 'US', null, null, null, iso(t), iso(t)]);
    // Events are only known up to the end of history.
    const timeline: [string, number, string][] = [
      ['info_received', purchased + 0.2 * DAY, o],
      ['in_transit', shipped, o],
      ['in_transit', shipped + transit * 0.5 * DAY, d],
      ['out_for_delivery', delivered - 0.3 * DAY, d],
      ['delivered', delivered, d],
    ];
    if (opts.delayScanEvery && i % opts.delayScanEvery === 0) timeline.splice(2, 0, ['delivery_delayed', shipped + transit * 0.3 * DAY, d]);
    timeline.forEach(([status, t, region], k) => {
      if (t <= end) ev(k, status, t, region);
    });
  }
  await wh.append('customers', customers);
  await wh.append('orders', orders);
  await wh.append('order_items', items);
  await wh.append('shipments', ships);
  await wh.append('tracking_events', events);
  for (const h of holidays) {
    await wh.run(`INSERT INTO delivery_calendar VALUES ('US', $1::DATE, 'fixture holiday', 'test') ON CONFLICT DO NOTHING`, [iso(FIXTURE_START + h * DAY).slice(0, 10)]);
  }
  return new Date(end);
}
