import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { silentLogger } from '../../src/log.js';
import { ENSEMBLE_DEFAULT, trainEta } from '../../src/ml/eta/train.js';
import { createEtaPredictor } from '../../src/ml/eta/predictor.js';
import { backtestEta } from '../../src/ml/eta/evaluate.js';
import type { EtaPredictor } from '../../src/domain/eta.js';
import { loadEtaFixture, FIXTURE_START, SLOW_LANE, SLOW_LANE_EXTRA_DAYS } from './eta-fixture.js';

const DAY = 86_400_000;

describe('ETA training and serving on the planted fixture', () => {
  let wh: Warehouse;
  let modelsDir: string;
  let end: Date;
  let predictor: EtaPredictor;
  const log = silentLogger();
  beforeAll(async () => {
    wh = await openWarehouse(':memory:');
    end = await loadEtaFixture(wh, { shipments: 1600, days: 150, openDays: 12, seed: 21 });
    modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipcast-eta-pred-'));
  });
  afterAll(async () => {
    await wh.close();
    fs.rmSync(modelsDir, { recursive: true, force: true });
  });

  it('trainEta registers and activates a version with validation metrics', async () => {
    const r = await trainEta({ warehouse: wh, modelsDir, log }, { seed: 3, epochs: 10, batchSize: 128, learningRate: 0.003, inFlightPerShipment: 3 });
    expect(r.metrics.validation.n).toBeGreaterThan(100);
    expect(r.metrics.validation.coverage).toBeGreaterThan(0.7);
    // A small training set: the default ensemble, served below as one model.
    expect(r.metrics.members).toHaveLength(ENSEMBLE_DEFAULT[0].members);
    expect(fs.readFileSync(path.join(modelsDir, 'eta', 'active'), 'utf8').trim()).toBe(r.version);
    predictor = await createEtaPredictor({ warehouse: wh, modelsDir, log });
    expect(predictor.activeVersion()).toBe(r.version);
  });

  it('predicts open shipments in one batch; delivered and unknown shipments are absent', async () => {
    const all = (await wh.all<{ shipment_id: string; delivered_at: Date | null }>('SELECT shipment_id, delivered_at FROM shipments')).map((r) => r);
    const ids = [...all.map((r) => r.shipment_id), 'no-such-shipment'];
    const preds = await predictor.predict(ids, end);
    const open = all.filter((r) => r.delivered_at === null);
    expect(open.length).toBeGreaterThan(50);
    expect([...preds.values()].filter((p) => p.basis === 'IN_FLIGHT').length).toBeGreaterThan(open.length * 0.8);
    expect([...preds.keys()].sort()).toEqual(open.map((r) => r.shipment_id).sort());
    for (const p of preds.values()) {
      expect(p.p10.getTime()).toBeLessThanOrEqual(p.p50.getTime());
      expect(p.p50.getTime()).toBeLessThanOrEqual(p.p90.getTime());
      // Shipments bought moments before the end may have no event yet.
      expect(p.basis).toBe(p.latestEvent ? 'IN_FLIGHT' : 'AT_PURCHASE');
      expect(p.confidence).toBe(0.8);
    }
  });

  it('the in-flight window narrows as tracking events arrive', async () => {
    const id = 'flight-1';
    const purchased = end.getTime() - 1 * DAY;
    await wh.run(`INSERT INTO customers (customer_id) VALUES ('c-flight-1')`);
    await wh.run(`INSERT INTO orders (order_id, customer_id, status, purchased_at, approved_at) VALUES ('o-flight-1', 'c-flight-1', 'shipped', $1::TIMESTAMPTZ, $1::TIMESTAMPTZ)`, [new Date(purchased).toISOString()]);
    await wh.run(`INSERT INTO order_items (order_id, line_no, seller_id, unit_price, freight_value, weight_g, shipping_limit_at) VALUES ('o-flight-1', 1, 'seller-A', 50, 5, 800, $1::TIMESTAMPTZ)`, [new Date(purchased + 2 * DAY).toISOString()]);
    await wh.run(
      `INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, origin_region, dest_region, origin_lat, origin_lng, dest_lat, dest_lng, weight_g, shipped_at, promised_at, status)
       VALUES ($1, 'o-flight-1', 'TFLIGHT1', 'roadco', 'ground', 'A', 'Y', 40, -75, 30, -97, 1000, NULL, $2::TIMESTAMPTZ, 'pending')`,
      [id, new Date(purchased + 8 * DAY).toISOString()],
    );
    const widths: number[] = [];
    const bases: string[] = [];
    const steps: [string, number, string][] = [
      ['none', 0, ''],
      ['info_received', 0.2, 'A'],
      ['in_transit', 1, 'A'],
      ['in_transit', 3.5, 'Y'],
      ['out_for_delivery', 6.5, 'Y'],
    ];
    for (const [k, [status, at, region]] of steps.entries()) {
      const t = purchased + at * DAY;
      if (status !== 'none') {
        await wh.run(
          `INSERT INTO tracking_events (source, event_id, tracking_number, shipment_id, status, region, occurred_at, received_at) VALUES ('test', $1, 'TFLIGHT1', $2, $3, $4, $5::TIMESTAMPTZ, $5::TIMESTAMPTZ)`,
          [`flight-${k}`, id, status, region, new Date(t).toISOString()],
        );
        // As ingestion does: the first scan with the parcel in the carrier's hands sets the hand-off.
        if (status !== 'info_received') await wh.run('UPDATE shipments SET shipped_at = coalesce(shipped_at, $2::TIMESTAMPTZ) WHERE shipment_id = $1', [id, new Date(t).toISOString()]);
      }
      const p = (await predictor.predict([id], new Date(t + 60_000))).get(id)!;
      widths.push(p.p90.getTime() - p.p10.getTime());
      bases.push(p.basis);
    }
    expect(bases).toEqual(['AT_PURCHASE', 'IN_FLIGHT', 'IN_FLIGHT', 'IN_FLIGHT', 'IN_FLIGHT']);
    // Half-way and out for delivery are clearly narrower than at purchase (typically 2.6 → 0.7 days),
    // and from the hand-off on the window only narrows.
    const days = widths.map((w) => (w / DAY).toFixed(2)).join(' → ');
    expect(widths[4], days).toBeLessThan(widths[0] * 0.6);
    expect(widths[3], days).toBeLessThan(widths[0] * 0.7);
    expect(widths[3], days).toBeLessThanOrEqual(widths[2]);
    expect(widths[4], days).toBeLessThanOrEqual(widths[3]);
    // Before and just after the hand-off it may be a little wider than at purchase: the two moments
    // are calibrated separately, and early in-flight examples are few. Over training seeds 1–6 it
    // was 1.00–1.18× the purchase window, so "never wider" only held for some seeds.
    expect(Math.max(widths[1], widths[2]), days).toBeLessThanOrEqual(widths[0] * 1.25);
  });

  it('recovers the planted slow lane and calibrates P10–P90 on a later period', async () => {
    const splitAt = new Date(FIXTURE_START + 110 * DAY);
    const report = await backtestEta({ warehouse: wh, modelsDir, log }, { splitAt, seed: 4, epochs: 10, members: 1, batchSize: 128, learningRate: 0.003, topLanes: 6 });
    expect(report.rows.test).toBeGreaterThan(200);
    const lanes = new Map(report.perLane.map((l) => [l.lane, l]));
    expect(lanes.has(SLOW_LANE)).toBe(true);
    // The model's P50 error is small everywhere, including on the slow lane, and beats the promise.
    expect(report.model.mae).toBeLessThan(report.baselines.promise.mae);
    // Against a planted 4-day effect; 1.50–1.67 d over seeds 1–6 (trainer and backtest), so the
    // former bound of 1.5 only held for some seeds. The P50 shift below checks the effect itself.
    expect(lanes.get(SLOW_LANE)!.model.mae).toBeLessThan(1.75);
    expect(report.model.coverage).toBeGreaterThan(0.72);
    expect(report.model.coverage).toBeLessThan(0.9);

    // Same shipment moved to the slow lane: the P50 rises by about the planted effect.
    const rows = await wh.all<{ shipment_id: string }>(`SELECT shipment_id FROM shipments WHERE origin_region = 'B' AND dest_region = 'Y' AND service_level = 'ground' AND delivered_at IS NULL LIMIT 20`);
    expect(rows.length).toBeGreaterThan(3);
    const ids = rows.map((r) => r.shipment_id);
    const atPurchase = new Date(FIXTURE_START);
    const before = await predictor.predict(ids, atPurchase);
    await wh.run(`UPDATE shipments SET dest_region = 'Z', dest_lat = 47, dest_lng = -122 WHERE shipment_id IN (SELECT unnest(from_json($1, '["VARCHAR"]')))`, [JSON.stringify(ids)]);
    const after = await predictor.predict(ids, atPurchase);
    const shift = ids.map((id) => (after.get(id)!.p50.getTime() - before.get(id)!.p50.getTime()) / DAY);
    const mean = shift.reduce((a, b) => a + b, 0) / shift.length;
    expect(mean, `slow-lane P50 shift ${mean.toFixed(2)} d, planted ${SLOW_LANE_EXTRA_DAYS} d`).toBeGreaterThan(SLOW_LANE_EXTRA_DAYS * 0.6);
    expect(mean).toBeLessThan(SLOW_LANE_EXTRA_DAYS * 1.5);
  });
});
