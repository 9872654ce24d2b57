/**
 * The return-propensity feature query on a hand-built warehouse: values, the label and its
 * window, and point-in-time correctness (what happens after the prediction instant cannot enter).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { dataEnd, queryReturnsFeatures, RETURN_WINDOW_DAYS, RETURNS_CATEGORICAL_FEATURES, RETURNS_NUMERIC_FEATURES, type RawReturnsRow } from '../../src/features/returns/feature-sql.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T12:00:00Z');
const iso = (days: number) => new Date(T0 + days * DAY).toISOString();

let wh: Warehouse;
beforeEach(async () => {
  wh = await openWarehouse(':memory:');
  await wh.run(`INSERT INTO customers (customer_id) VALUES ('C1'), ('C2')`);
});
afterEach(() => wh.close());

/** One order with one shipment (purchase at `day`; promise and delivery `promise` / `delivered` days after it) and its items. */
async function order(id: string, customer: string, day: number, o: { promise?: number; delivered?: number | null; subtotal?: number; discount?: number; items?: [string, number][] } = {}) {
  const items = o.items ?? [['apparel', 1]];
  await wh.run(`INSERT INTO orders (order_id, customer_id, status, channel, subtotal, discount, purchased_at) VALUES ($1, $2, 'delivered', 'web', $3, $4, $5)`, [
    id, customer, o.subtotal ?? 100, o.discount ?? 0, iso(day),
  ]);
  for (const [k, [category, quantity]] of items.entries()) {
    await wh.run(`INSERT INTO order_items (order_id, line_no, category, quantity, unit_price) VALUES ($1, $2, $3, $4, 10)`, [id, k + 1, category, quantity]);
  }
  const delivered = o.delivered === undefined ? 3 : o.delivered;
  await wh.run(
    `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, promised_at, delivered_at, status) VALUES ($1, $2, $1, 'ups', 'ground', $3, $4, $5)`,
    [`S${id}`, id, iso(day + (o.promise ?? 4)), delivered === null ? null : iso(day + delivered), delivered === null ? 'in_transit' : 'delivered'],
  );
}

async function returnOf(id: string, customer: string, day: number) {
  await wh.run(`INSERT INTO returns (return_id, order_id, customer_id, status, requested_at) VALUES ($1, $2, $3, 'requested', $4)`, [`R${id}-${day}`, id, customer, iso(day)]);
}

const features = (r: RawReturnsRow) => Object.fromEntries([...RETURNS_NUMERIC_FEATURES, ...RETURNS_CATEGORICAL_FEATURES, 'instant'].map((k) => [k, r[k] instanceof Date ? (r[k] as Date).toISOString() : r[k]]));

async function labelled(knownBy: number) {
  return queryReturnsFeatures(wh, { kind: 'labelled', labelsKnownBy: new Date(T0 + knownBy * DAY) });
}

describe('returns features', () => {
  it('computes the order, delivery and history features at the delivery instant', async () => {
    await order('A', 'C1', 0, { delivered: 3, promise: 4 });
    await returnOf('A', 'C1', 5);
    await order('B', 'C1', 10, { delivered: 6.5, promise: 4, subtotal: 200, discount: 50, items: [['shoes', 2], ['apparel', 1]] });
    const rows = await labelled(100);
    expect(rows.map((r) => r.order_id)).toEqual(['A', 'B']);
    const b = rows[1];
    expect(b.instant).toEqual(new Date(iso(16.5)));
    expect(b.label).toBe(0);
    expect(b.log_subtotal).toBeCloseTo(Math.log(200), 10);
    expect(b.discount_share).toBeCloseTo(0.25, 10);
    expect([b.n_items, b.n_lines, b.category, b.carrier_service, b.channel]).toEqual([3, 2, 'shoes', 'ups/ground', 'web']);
    expect(b.lateness_days).toBeCloseTo(2.5, 6);
    expect(b.late_days).toBeCloseTo(2.5, 6);
    expect(b.is_late).toBe(1);
    expect(b.promise_days).toBeCloseTo(4, 6);
    expect(b.transit_days).toBeCloseTo(6.5, 6);
    // A was purchased, delivered and returned before B's delivery.
    expect([b.prior_orders, b.prior_delivered, b.prior_returns]).toEqual([1, 1, 1]);
    expect(b.prior_return_rate).toBeCloseTo(0.5, 10);
    expect(b.days_since_prior_order).toBeCloseTo(16.5, 6);
    // A had no history, and its own return is its label, never a feature.
    expect(rows[0]).toMatchObject({ label: 1, prior_orders: 0, prior_returns: 0, days_since_prior_order: null, is_late: 0 });
    expect(rows[0].lateness_days).toBeCloseTo(-1, 6);
  });

  it(`labels a return requested within ${RETURN_WINDOW_DAYS} days of delivery, and only orders whose window has closed`, async () => {
    await order('IN', 'C1', 0, { delivered: 2 });
    await returnOf('IN', 'C1', 2 + RETURN_WINDOW_DAYS - 0.01);
    await order('LATE', 'C2', 0, { delivered: 2 });
    await returnOf('LATE', 'C2', 2 + RETURN_WINDOW_DAYS + 0.01);
    await order('OPEN', 'C2', 1, { delivered: null });
    await order('YOUNG', 'C1', 40, { delivered: 2 });
    const rows = await labelled(2 + RETURN_WINDOW_DAYS + 1);
    expect(Object.fromEntries(rows.map((r) => [r.order_id, r.label]))).toEqual({ IN: 1, LATE: 0 });
    // Once YOUNG's window has closed too, it is labelled.
    expect((await labelled(42 + RETURN_WINDOW_DAYS)).map((r) => r.order_id)).toContain('YOUNG');
    expect(await dataEnd(wh)).toEqual(new Date(iso(42)));
  });

  it('leakage: later returns and later orders of the same customer do not change an order\'s features', async () => {
    await order('P', 'C1', 0, { delivered: 3 });
    await order('X', 'C1', 10, { delivered: 3 });
    const before = (await labelled(200)).find((r) => r.order_id === 'X')!;
    const scoredBefore = (await queryReturnsFeatures(wh, { kind: 'orders', orderIds: ['X'], now: new Date(iso(200)) }))[0];
    // After X's delivery: P is returned, X is returned, and the customer orders twice more.
    await returnOf('P', 'C1', 13.5);
    await returnOf('X', 'C1', 20);
    await order('L1', 'C1', 14, { delivered: 3 });
    await order('L2', 'C1', 13.2, { delivered: 2 });
    const after = (await labelled(200)).find((r) => r.order_id === 'X')!;
    expect(features(after)).toEqual(features(before));
    expect(after.label).toBe(1);
    const scoredAfter = (await queryReturnsFeatures(wh, { kind: 'orders', orderIds: ['X'], now: new Date(iso(200)) }))[0];
    expect(features(scoredAfter)).toEqual(features(scoredBefore));
    expect(features(scoredAfter)).toEqual(features(before));
    // The same history strictly before the instant does count.
    await returnOf('P', 'C1', 12.9);
    await order('E', 'C1', 12.5, { delivered: null });
    const withEarlier = (await labelled(200)).find((r) => r.order_id === 'X')!;
    expect(withEarlier.prior_returns).toBe(1);
    expect(withEarlier.prior_orders).toBe(2);
  });

  it('scores an order not yet delivered at the request time, with its lateness so far', async () => {
    await order('O', 'C1', 0, { delivered: null, promise: 4 });
    const [row] = await queryReturnsFeatures(wh, { kind: 'orders', orderIds: ['O', 'unknown'], now: new Date(iso(6)) });
    expect(row).toMatchObject({ order_id: 'O', delivered: false, label: null, is_late: 1 });
    expect(row.instant).toEqual(new Date(iso(6)));
    expect(row.late_days).toBeCloseTo(2, 6);
  });
});
