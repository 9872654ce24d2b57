import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { loadOlist } from '../../src/load/olist/load-olist.js';
import { loadConfig } from '../../src/config.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/olist-mini/', import.meta.url));
const full = path.join(FIXTURE, 'full');
const partial = path.join(FIXTURE, 'partial');
const dimensions = path.join(FIXTURE, 'dimensions');
const id = (kind: string, n: number): string => `${kind}${String(n).padStart(31, '0')}`;

async function shipment(wh: Warehouse, order: number) {
  return wh.one<Record<string, unknown>>('SELECT * FROM shipments WHERE order_id = $1', [id('o', order)]);
}

describe('loadOlist on the olist-mini fixture', () => {
  it('maps orders, customers, items, one shipment per shipped order, milestones and reviews', async () => {
    const wh = await openWarehouse(':memory:');
    const s = await loadOlist(wh, full);
    expect({ orders: s.orders, delivered: s.deliveredShipments, csat: s.ordersWithCsat }).toEqual({ orders: 6, delivered: 3, csat: 3 });
    expect(s.missing).toEqual([]);
    expect(s.tables.shipments.loaded).toBe(5);
    expect(await shipment(wh, 4)).toBeUndefined(); // canceled before hand-off: nothing shipped

    const o1 = await shipment(wh, 1);
    expect(o1).toMatchObject({
      carrier: 'olist_logistics', service_level: 'standard', status: 'delivered', currency: 'BRL', freight_cost: 11.9, weight_g: 500,
      origin_postal_prefix: '13023', origin_city: 'campinas', origin_region: 'SP', origin_lat: -22.9,
      dest_postal_prefix: '01037', dest_region: 'SP', dest_country: 'BR',
    });
    expect(o1?.dest_lat as number).toBeCloseTo(-23.55, 6); // averaged over the prefix's points
    // Olist times are São Paulo wall-clock: UTC-2 in January 2018 (DST), UTC-3 in May.
    expect((o1?.shipped_at as Date).toISOString()).toBe('2018-01-11T17:00:00.000Z');
    expect((o1?.delivered_at as Date).toISOString()).toBe('2018-01-15T14:00:00.000Z');
    expect((o1?.promised_at as Date).toISOString()).toBe('2018-01-25T02:00:00.000Z');
    expect((await shipment(wh, 2))?.dest_lat).toBe(-22.96); // the point outside Brazil is not averaged in
    expect((await shipment(wh, 3))?.status).toBe('in_transit');
    expect((await shipment(wh, 5))?.status).toBe('info_received');
    expect((await shipment(wh, 6))?.dest_lat).toBeNull(); // prefix without geolocation

    const o2 = await wh.one<{ total: number; subtotal: number; shipping_charged: number; channel: string }>(
      'SELECT total, subtotal, shipping_charged, channel FROM orders WHERE order_id = $1', [id('o', 2)]);
    expect(o2).toEqual({ total: 292.4, subtotal: 258.9, shipping_charged: 33.5, channel: 'marketplace' });
    const item = await wh.one<Record<string, unknown>>('SELECT category, quantity, weight_g, seller_id FROM order_items WHERE order_id = $1 AND line_no = 2', [id('o', 2)]);
    expect(item).toEqual({ category: 'bed_bath_table', quantity: 1, weight_g: 500, seller_id: id('s', 1) });
    const cust = await wh.one<Record<string, unknown>>('SELECT external_id, postal_prefix, locale, time_zone FROM customers WHERE customer_id = $1', [id('c', 4)]);
    expect(cust).toEqual({ external_id: id('u', 1), postal_prefix: '01037', locale: 'pt-BR', time_zone: 'America/Sao_Paulo' });

    const csat = await wh.all<{ response_id: string; score: number; comment: string | null; shipment_id: string }>(
      'SELECT response_id, score, comment, shipment_id FROM csat_responses ORDER BY response_id');
    expect(csat).toHaveLength(4);
    // review r…2 is reused by two orders; each response stays distinct.
    expect(csat.filter((c) => c.response_id.startsWith(id('r', 2)))).toHaveLength(2);
    expect(csat[0].comment).toBe('Chegou antes do prazo.\nRecomendo, muito bom!');
    expect(csat.find((c) => c.score === 2)?.comment).toBe('Atrasou, "muito" ruim');

    const events = await wh.all<{ status: string }>("SELECT status FROM tracking_events WHERE source = 'olist' AND shipment_id = $1 ORDER BY occurred_at", [id('o', 1)]);
    expect(events.map((e) => e.status)).toEqual(['info_received', 'in_transit', 'delivered']);

    const rejects = await wh.all<{ entity: string; file: string; line: number; field: string; reason: string }>(
      'SELECT entity, file, line, field, reason FROM load_rejects ORDER BY entity');
    expect(rejects).toEqual([
      { entity: 'csat_responses', file: path.join(full, 'olist_order_reviews_dataset.csv'), line: 5, field: 'score', reason: 'must be <= 5' },
      { entity: 'postal_geo', file: path.join(full, 'olist_geolocation_dataset.csv'), line: 5, field: 'geolocation_lat', reason: expect.stringMatching(/outside Brazil/) },
    ]);

    // Brazil's national holidays for the years of the purchases and the next, once each.
    const years = await wh.one<{ lo: number; hi: number }>('SELECT min(year(purchased_at)) AS lo, max(year(purchased_at)) AS hi FROM orders');
    const holidays = await wh.all<{ y: number; n: number }>("SELECT year(day) AS y, count(*) AS n FROM delivery_calendar WHERE country = 'BR' AND source = 'olist' GROUP BY 1 ORDER BY 1");
    expect(holidays).toEqual(Array.from({ length: Number(years!.hi) - Number(years!.lo) + 2 }, (_, i) => ({ y: Number(years!.lo) + i, n: 11 })));

    // Loading the same extract again changes nothing and does not repeat rejects.
    const before = await wh.all('SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM shipments) s, (SELECT count(*) FROM csat_responses) c, (SELECT count(*) FROM tracking_events) t');
    const again = await loadOlist(wh, full);
    expect(again.tables.orders).toMatchObject({ inserted: 0, updated: 6 });
    expect(await wh.all('SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM shipments) s, (SELECT count(*) FROM csat_responses) c, (SELECT count(*) FROM tracking_events) t')).toEqual(before);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM load_rejects'))?.n).toBe(2);
    expect((await wh.one<{ n: number }>('SELECT count(*) AS n FROM delivery_calendar'))?.n).toBe(holidays.length * 11);
    await wh.close();
  });

  it('resolves an extract without geolocation, sellers or products from what the warehouse already knows', async () => {
    const wh = await openWarehouse(':memory:');
    await loadOlist(wh, full);
    const s = await loadOlist(wh, partial);
    expect(s.missing).toEqual(expect.arrayContaining(['sellers', 'products', 'geolocation', 'payments', 'categories']));
    expect({ orders: s.orders, delivered: s.deliveredShipments, csat: s.ordersWithCsat }).toEqual({ orders: 2, delivered: 2, csat: 1 });
    expect(await shipment(wh, 7)).toMatchObject({ origin_city: 'campinas', origin_lat: -22.9, dest_lat: -22.96, weight_g: 500 });
    // Seller s…3 is known nowhere yet: the shipment loads without an origin.
    expect(await shipment(wh, 8)).toMatchObject({ origin_postal_prefix: null, origin_lat: null, dest_postal_prefix: '99999', dest_lat: null, status: 'delivered' });
    // (orders' purchase time in May: UTC-3)
    const o7 = await wh.one<{ purchased_at: Date }>('SELECT purchased_at FROM orders WHERE order_id = $1', [id('o', 7)]);
    expect(o7?.purchased_at.toISOString()).toBe('2018-05-01T13:00:00.000Z');

    const withDims = await loadOlist(wh, partial, { dimensionsDir: dimensions });
    expect(withDims.files.sellers).toEqual([path.join(dimensions, 'olist_sellers_dataset.csv')]);
    expect(await shipment(wh, 8)).toMatchObject({ origin_postal_prefix: '30140', origin_region: 'MG', origin_lat: -19.93, weight_g: 225 });
    const item = await wh.one<{ category: string }>('SELECT category FROM order_items WHERE order_id = $1', [id('o', 8)]);
    expect(item?.category).toBe('perfumery');
    await wh.close();
  });

  it('loads a partial extract into an empty warehouse, leaving unknown places empty', async () => {
    const wh = await openWarehouse(':memory:');
    const s = await loadOlist(wh, partial);
    expect(s.orders).toBe(2);
    expect(await shipment(wh, 7)).toMatchObject({ origin_postal_prefix: null, dest_postal_prefix: '22010', dest_lat: null });
    await wh.close();
  });

  it('names the folder when it is not an Olist extract', async () => {
    const wh = await openWarehouse(':memory:');
    await expect(loadOlist(wh, dimensions)).rejects.toMatchObject({ code: 'BAD_INPUT', field: 'dir' });
    await wh.close();
  });
});

const REAL = loadConfig({ ...process.env, SHIPCAST_OLIST_DIR: process.env.SHIPCAST_OLIST_DIR ?? path.resolve(FIXTURE, '../../../../shared/data/real/olist-setA') }).olistDir;
const hasReal = fs.existsSync(path.join(REAL, 'olist_orders_dataset.csv'));
if (!hasReal) console.warn(`[olist] real Olist sample not found at ${REAL}: skipping the real-data test (set SHIPCAST_OLIST_DIR)`);

describe('loadOlist on the real olist-setA sample', () => {
  it.skipIf(!hasReal)(`gives 15,000 orders, 14,552 delivered shipments and CSAT for 14,872 orders (${REAL})`, async () => {
    const wh = await openWarehouse(':memory:');
    const s = await loadOlist(wh, REAL);
    expect({ orders: s.orders, delivered: s.deliveredShipments, csat: s.ordersWithCsat }).toEqual({ orders: 15_000, delivered: 14_552, csat: 14_872 });
    expect(s.tables.csat_responses.loaded).toBe(14_944);
    expect(s.tables.order_items.loaded).toBe(17_071);
    const geo = await wh.one<{ n: number; withDest: number }>('SELECT count(*) AS n, count(dest_lat) AS "withDest" FROM shipments');
    expect(geo!.withDest / geo!.n).toBeGreaterThan(0.85);
    await wh.close();
  }, 180_000);
});
