import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { queryEtaFeatures } from '../../src/features/eta/feature-sql.js';
import { trainEta } from '../../src/ml/eta/train.js';
import { createEtaPredictor } from '../../src/ml/eta/predictor.js';
import { brazilHolidays, easterSunday } from '../../src/load/olist/brazil-holidays.js';
import { loadEtaFixture, FIXTURE_START } from './eta-fixture.js';

const DAY = 86_400_000;

/** One open order and shipment from region A to Y, bought at `purchased`, for a customer in `tz`. */
async function insertOpenShipment(wh: Warehouse, id: string, purchased: Date, tz = 'UTC'): Promise<void> {
  const at = purchased.toISOString();
  await wh.run(`INSERT INTO customers (customer_id, time_zone, region, country) VALUES ($1, $2, 'Y', 'US')`, [`c-${id}`, tz]);
  await wh.run(`INSERT INTO orders (order_id, customer_id, status, purchased_at, approved_at) VALUES ($1, $2, 'approved', $3::TIMESTAMPTZ, $3::TIMESTAMPTZ)`, [`o-${id}`, `c-${id}`, at]);
  await wh.run(`INSERT INTO order_items (order_id, line_no, seller_id, unit_price, freight_value, weight_g, shipping_limit_at) VALUES ($1, 1, 'seller-A', 50, 5, 800, $2::TIMESTAMPTZ)`, [`o-${id}`, new Date(purchased.getTime() + 2 * DAY).toISOString()]);
  await wh.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, origin_region, origin_country, dest_region, dest_country,
       origin_lat, origin_lng, dest_lat, dest_lng, weight_g, promised_at, status)
     VALUES ($1, $2, $3, 'roadco', 'ground', 'A', 'US', 'Y', 'US', 40, -75, 30, -97, 1000, $4::TIMESTAMPTZ, 'pending')`,
    [id, `o-${id}`, `T-${id}`, new Date(purchased.getTime() + 8 * DAY).toISOString()],
  );
}

describe('delivery calendar features', () => {
  let wh: Warehouse;
  beforeEach(async () => {
    wh = await openWarehouse(':memory:');
  });
  afterEach(async () => {
    await wh.close();
  });

  it('count pick-up and delivery days from the local day of the moment of prediction', async () => {
    // Friday 2024-05-24 18:00 in Los Angeles is already Saturday in UTC; Monday 2024-05-27 is a holiday.
    await insertOpenShipment(wh, 'fri', new Date('2024-05-25T01:00:00Z'), 'America/Los_Angeles');
    await wh.run(`INSERT INTO delivery_calendar VALUES ('US', DATE '2024-05-27', 'Memorial Day', 'test')`);
    const [r] = await queryEtaFeatures(wh, { kind: 'current', shipmentIds: ['fri'], now: new Date('2024-05-25T02:00:00Z') });
    expect(r.as_of_weekday).toBe('5');
    expect(r.as_of_hour).toBeCloseTo(18, 6);
    expect({
      pickup: r.pickup_day, nextPickup: r.next_pickup_days, delivery: r.delivery_day, d1: r.delivery_day_1, d3: r.delivery_day_3,
      holidays: r.holidays_ahead, holidayIn: r.holiday_in_days,
    }).toEqual({ pickup: 1, nextPickup: 4, delivery: 1, d1: 1, d3: 5, holidays: 1, holidayIn: 3 });
    // Without the holiday: Monday is the next pick-up day and the 3rd delivery day.
    await wh.run('DELETE FROM delivery_calendar');
    const [plain] = await queryEtaFeatures(wh, { kind: 'current', shipmentIds: ['fri'], now: new Date('2024-05-25T02:00:00Z') });
    expect([plain.next_pickup_days, plain.delivery_day_3, plain.holidays_ahead, plain.holiday_in_days]).toEqual([3, 4, 0, 30]);
  });

  it('rolls the baseline’s arrival on a Sunday or holiday to the next delivery day, averaged over arrivals around it', async () => {
    const holidays = [20, 21, 33, 47];
    await loadEtaFixture(wh, { shipments: 600, days: 60, seed: 5, holidays });
    const holidayDays = new Set(holidays.map((h) => Math.floor(FIXTURE_START / DAY) + h));
    // The fixture's customers are in UTC, so local days are UTC days; day 0 was a Thursday.
    const delivers = (day: number) => (day + 4) % 7 !== 0 && !holidayDays.has(day);
    const roll = (t: number) => {
      let day = Math.floor(t / DAY);
      if (delivers(day)) return 0;
      while (!delivers(day)) day++;
      return (day * DAY - t) / DAY;
    };
    // The nine equally likely arrivals: remaining days × exp(0.4 z) at normal quantiles z.
    const zs = [-1.593, -0.967, -0.589, -0.282, 0, 0.282, 0.589, 0.967, 1.593];
    let rolled = 0;
    let full = 0;
    for (const kind of ['purchase', 'training'] as const) {
      const rows = await queryEtaFeatures(wh, kind === 'training' ? { kind, inFlightPerShipment: 2 } : { kind });
      for (const r of rows) {
        if (r.baseline_days === null) {
          expect([r.shipment_id, r.baseline_roll_days]).toEqual([r.shipment_id, 0]);
          continue;
        }
        const asOf = r.as_of.getTime();
        const remaining = Math.max(0, r.purchased_at.getTime() + (r.baseline_days as number) * DAY - asOf);
        const expected = zs.reduce((t, z) => t + roll(asOf + remaining * Math.exp(0.4 * z)), 0) / zs.length;
        expect(r.baseline_roll_days as number, `${kind} ${r.shipment_id}`).toBeCloseTo(expected, 6);
        if (expected > 0) rolled++;
        if (expected > 0.3) full++;
      }
    }
    expect(rolled).toBeGreaterThan(100);
    expect(full).toBeGreaterThan(10);
  });

  it('Brazil’s national holidays follow Easter', () => {
    expect(easterSunday(2018).toISOString().slice(0, 10)).toBe('2018-04-01');
    expect(easterSunday(2017).toISOString().slice(0, 10)).toBe('2017-04-16');
    const h2018 = new Map(brazilHolidays(2018).map((h) => [h.day, h.name]));
    expect(h2018.get('2018-03-30')).toBe('Sexta-feira da Paixão');
    expect(h2018.get('2018-02-13')).toBe('Carnaval (terça-feira)');
    expect(h2018.get('2018-11-15')).toBe('Proclamação da República');
    expect(h2018.size).toBe(11);
  });

  it('the model recovers a planted holiday: a parcel due over a holiday gets a later P50', async () => {
    // Irregular holidays (so no weekday or month pattern stands in for them) over the history;
    // deliveries that would fall on one wait for the next day.
    const holidays: number[] = [];
    for (let d = 6, k = 0; d < 130; d += 7 + ((k * 5) % 6), k++) holidays.push(d, d + 1);
    const end = await loadEtaFixture(wh, { shipments: 1600, days: 150, openDays: 12, seed: 31, holidays });
    const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-cal-'));
    try {
      const log = silentLogger();
      await trainEta({ warehouse: wh, modelsDir, log }, { seed: 3, epochs: 10, batchSize: 128, learningRate: 0.003 });
      const predictor = await createEtaPredictor({ warehouse: wh, modelsDir, log });
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const id = `hol-${i}`;
        await insertOpenShipment(wh, id, new Date(end.getTime() + (i / 8) * DAY));
        ids.push(id);
      }
      const now = new Date(end.getTime() + DAY);
      const before = await predictor.predict(ids, now);
      // A two-day holiday where these parcels are due (hand-off ≈ 1 day, then ≈ 4 days A → Y).
      const endDay = Math.floor((end.getTime() - FIXTURE_START) / DAY);
      for (const d of [endDay + 5, endDay + 6]) {
        await wh.run(`INSERT INTO delivery_calendar VALUES ('US', $1::DATE, 'planted', 'test')`, [new Date(FIXTURE_START + d * DAY).toISOString().slice(0, 10)]);
      }
      const after = await predictor.predict(ids, now);
      const shift = ids.map((id) => (after.get(id)!.p50.getTime() - before.get(id)!.p50.getTime()) / DAY);
      const mean = shift.reduce((a, b) => a + b, 0) / shift.length;
      expect(mean, `P50 shift ${mean.toFixed(2)} d`).toBeGreaterThan(0.3);
      expect(mean).toBeLessThan(2.5);
    } finally {
      fs.rmSync(modelsDir, { recursive: true, force: true });
    }
  }, 120_000);
});
