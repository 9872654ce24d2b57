import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { queryEtaFeatures, NUMERIC_FEATURES, CATEGORICAL_FEATURES, IN_FLIGHT_DEFAULT } from '../../src/features/eta/feature-sql.js';
import { encodeRows, fitFeatureSpec, numericWidth, fromResidual, toResidual } from '../../src/features/eta/feature-spec.js';
import { loadEtaFixture, FIXTURE_START } from './eta-fixture.js';

const DAY = 86_400_000;

/** Inserts a service alert; times are days from FIXTURE_START. */
async function addAlert(
  wh: Warehouse,
  a: { id: string; region: string | null; announced: number; starts: number; ends: number; delay: number | null; carrier?: string; country?: string },
): Promise<void> {
  const at = (d: number) => new Date(FIXTURE_START + d * DAY).toISOString();
  await wh.run(
    `INSERT INTO service_alerts VALUES ($1, $2, $3, $4, 'weather', $5::TIMESTAMPTZ, $6::TIMESTAMPTZ, $7::TIMESTAMPTZ, $8, 'test', NULL)`,
    [a.id, a.carrier ?? null, a.country ?? 'US', a.region, at(a.announced), at(a.starts), at(a.ends), a.delay],
  );
}

describe('ETA features (DuckDB, point in time)', () => {
  let wh: Warehouse;
  beforeEach(async () => {
    wh = await openWarehouse(':memory:');
  });
  afterEach(async () => {
    await wh.close();
  });

  it('a shipment’s features do not change when later rows are added', async () => {
    // Holidays make the calendar features vary; the later batch knows the same calendar.
    const holidays = [9, 10, 23, 41, 58, 61, 77, 92];
    await loadEtaFixture(wh, { shipments: 400, days: 60, seed: 3, holidays, delayScanEvery: 7 });
    // Alerts over the first batch's days, announced as their windows open.
    for (let d = 2; d < 60; d += 6) await addAlert(wh, { id: `a${d}`, region: ['X', 'Y', 'Z'][d % 3], announced: d, starts: d, ends: d + 2.5, delay: 1 + (d % 4) / 2 });
    await addAlert(wh, { id: 'country', region: null, announced: 30, starts: 30, ends: 34, delay: null });
    const before = await queryEtaFeatures(wh, { kind: 'purchase' });
    // Later history: more shipments on the same lanes, purchased and delivered afterwards.
    await loadEtaFixture(wh, { shipments: 400, days: 60, startDay: 60, seed: 4, idPrefix: 'later', holidays, delayScanEvery: 7 });
    // Alerts announced later: a new one, and one about the first batch's days (a revision is a new alert).
    await addAlert(wh, { id: 'late-retro', region: null, announced: 61, starts: 0, ends: 59, delay: 5 });
    await addAlert(wh, { id: 'late-new', region: 'X', announced: 70, starts: 70, ends: 73, delay: 2 });
    const after = new Map((await queryEtaFeatures(wh, { kind: 'purchase' })).map((r) => [r.shipment_id, r]));
    expect(after.size).toBe(800);
    // The new inputs vary here, so the comparison below exercises them.
    for (const f of ['holidays_ahead', 'dest_delay_scans', 'dest_recent_mean', 'global_recent_late', 'dest_alert_delay_days', 'dest_alert_ends_in_days', 'baseline_roll_days'] as const) {
      expect(new Set(before.map((r) => r[f])).size, f).toBeGreaterThan(1);
    }
    for (const r of before) {
      const a = after.get(r.shipment_id)!;
      // Window sums may add in another order, so compare numbers to 1e-9 relative.
      for (const f of [...NUMERIC_FEATURES, 'baseline_days']) {
        const [x, y] = [r[f] as number | null, a[f] as number | null];
        if (x === null || y === null) expect([r.shipment_id, f, y]).toEqual([r.shipment_id, f, x]);
        else expect(Math.abs(x - y), `${r.shipment_id} ${f}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
      }
      for (const f of CATEGORICAL_FEATURES) expect([r.shipment_id, f, a[f]]).toEqual([r.shipment_id, f, r[f]]);
    }
  });

  it('service alert features: alerts known by then, for the destination and carrier, covering the hand-off', async () => {
    await loadEtaFixture(wh, { shipments: 600, days: 20, seed: 8 });
    const alerts = [
      { id: 'x-all', region: 'X', announced: 5, starts: 5, ends: 8, delay: 2 },
      { id: 'y-acme', region: 'Y', announced: 5, starts: 5, ends: 8, delay: 3, carrier: 'acme' },
      // Published two days into its window: hand-offs before that only learn of it afterwards.
      { id: 'z-late', region: 'Z', announced: 12, starts: 10, ends: 14, delay: 4 },
      { id: 'us-wide', region: null, announced: 15, starts: 15, ends: 16, delay: 0.5 },
      { id: 'other-country', region: null, announced: 0, starts: 0, ends: 20, delay: 9, country: 'CA' },
    ];
    for (const a of alerts) await addAlert(wh, a);
    const carrierOf = new Map((await wh.all<{ shipment_id: string; carrier: string }>('SELECT shipment_id, carrier FROM shipments')).map((r) => [r.shipment_id, r.carrier]));
    let covered = 0;
    for (const kind of ['handoff', 'purchase', 'training'] as const) {
      const rows = await queryEtaFeatures(wh, kind === 'training' ? { kind, inFlightPerShipment: 2 } : { kind });
      for (const r of rows) {
        const asOf = (r.as_of.getTime() - FIXTURE_START) / DAY;
        const age = r.handoff_age_days as number | null;
        const ref = age === null ? asOf : asOf - age;
        const hits = alerts.filter((a) => a.country === undefined && (a.region === null || a.region === r.dest_region)
          && (a.carrier === undefined || a.carrier === carrierOf.get(r.shipment_id)) && a.announced <= asOf && a.starts <= ref && ref <= a.ends);
        const delay = Math.max(0, ...hits.map((a) => a.delay));
        const endsIn = Math.max(0, ...hits.map((a) => a.ends - asOf));
        expect([r.shipment_id, kind, r.dest_alert_delay_days]).toEqual([r.shipment_id, kind, delay]);
        expect(Math.abs((r.dest_alert_ends_in_days as number) - endsIn), `${r.shipment_id} ${kind}`).toBeLessThan(1e-6);
        if (hits.length > 0) covered++;
      }
      if (kind === 'handoff') {
        // At hand-off each alert reaches some parcels; the late one only those handed off after it was published.
        for (const d of [2, 3, 4, 0.5]) expect(rows.some((r) => r.dest_alert_delay_days === d), `delay ${d}`).toBe(true);
        expect(rows.some((r) => r.dest_region === 'Z' && r.dest_alert_delay_days === 0 && (r.as_of.getTime() - FIXTURE_START) / DAY > 10.5 && (r.as_of.getTime() - FIXTURE_START) / DAY < 12)).toBe(true);
      }
    }
    expect(covered).toBeGreaterThan(100);
  });

  it('in-flight examples per shipment default by the selection size: one on small sets, two on large ones', async () => {
    await loadEtaFixture(wh, { shipments: 300, days: 30, seed: 9 });
    const perShipment = async (k?: number) => {
      const rows = await queryEtaFeatures(wh, { kind: 'training', seed: 2, ...(k === undefined ? {} : { inFlightPerShipment: k }) });
      const counts = new Map<string, number>();
      for (const r of rows) if (r.stage !== 'none' && r.shipment_id.startsWith('s')) counts.set(r.shipment_id, (counts.get(r.shipment_id) ?? 0) + 1);
      return { rows: rows.filter((r) => r.shipment_id.startsWith('s')), max: Math.max(...counts.values()) };
    };
    const small = await perShipment();
    expect(small.max).toBe(IN_FLIGHT_DEFAULT.small);
    expect(small.rows).toEqual((await perShipment(IN_FLIGHT_DEFAULT.small)).rows);
    // Delivered shipments without events: they only make the selection large.
    await wh.run(`INSERT INTO orders (order_id, customer_id, status, purchased_at)
      SELECT 'bulk-' || i, 'bulk', 'delivered', $1::TIMESTAMPTZ + i * INTERVAL 1 SECOND FROM range($2) t(i)`,
    [new Date(FIXTURE_START).toISOString(), IN_FLIGHT_DEFAULT.largeFrom]);
    await wh.run(`INSERT INTO shipments (shipment_id, order_id, tracking_number, carrier, service_level, delivered_at)
      SELECT 'bulk-' || i, 'bulk-' || i, 'BULK' || i, 'acme', 'ground', $1::TIMESTAMPTZ + INTERVAL 3 DAY FROM range($2) t(i)`,
    [new Date(FIXTURE_START).toISOString(), IN_FLIGHT_DEFAULT.largeFrom]);
    const large = await perShipment();
    expect(large.max).toBe(IN_FLIGHT_DEFAULT.large);
    expect(large.rows.length).toBe((await perShipment(IN_FLIGHT_DEFAULT.large)).rows.length);
  });

  it('rolling lane statistics only count deliveries from earlier days', async () => {
    await loadEtaFixture(wh, { shipments: 300, days: 40, seed: 5 });
    const rows = await queryEtaFeatures(wh, { kind: 'purchase' });
    const target = rows[rows.length - 1];
    const pday = Math.floor(target.purchased_at.getTime() / DAY);
    const expected = await wh.one<{ n: number }>(
      `SELECT count(*) AS n FROM shipments s WHERE origin_region || '>' || dest_region = $1 AND delivered_at IS NOT NULL
         AND floor(epoch(delivered_at) / 86400) < $2 AND floor(epoch(delivered_at) / 86400) >= $2 - 60`,
      [`${target.origin_region}>${target.dest_region}`, pday],
    );
    expect(Math.round(Math.expm1(target.lane_log_n as number))).toBe(expected!.n);
    // The first shipments have no history at all.
    expect(rows[0].lane_log_n).toBe(0);
  });

  it('encodes with the fitted spec: shapes, unseen categories, residual transform round trip', async () => {
    await loadEtaFixture(wh, { shipments: 200, days: 30, seed: 6 });
    const rows = await queryEtaFeatures(wh, { kind: 'training', inFlightPerShipment: 1 });
    expect(rows.some((r) => r.stage !== 'none')).toBe(true);
    const spec = fitFeatureSpec(rows);
    const enc = encodeRows([...rows, { ...rows[0], lane: 'never-seen' }], spec);
    expect(enc.numeric.length).toBe((rows.length + 1) * numericWidth(spec));
    expect(enc.categorical).toHaveLength(CATEGORICAL_FEATURES.length);
    const laneIdx = spec.categorical.findIndex((c) => c.name === 'lane');
    expect(enc.categorical[laneIdx][rows.length]).toBe(0);
    expect(fromResidual(toResidual(7.5, 5, spec), 5, spec)).toBeCloseTo(7.5, 9);
  });

  it('current selection uses the latest event by occurred_at and leaves delivered shipments out', async () => {
    const end = await loadEtaFixture(wh, { shipments: 100, days: 20, openDays: 6, seed: 7 });
    const ids = (await wh.all<{ shipment_id: string }>('SELECT shipment_id FROM shipments ORDER BY shipment_id')).map((r) => r.shipment_id);
    const rows = await queryEtaFeatures(wh, { kind: 'current', shipmentIds: ids, now: end });
    const open = await wh.all<{ shipment_id: string }>('SELECT shipment_id FROM shipments WHERE delivered_at IS NULL');
    expect(rows.map((r) => r.shipment_id).sort()).toEqual(open.map((r) => r.shipment_id).sort());
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const latest = await wh.one<{ t: Date }>('SELECT max(occurred_at) AS t FROM tracking_events WHERE shipment_id = $1', [r.shipment_id]);
      if (latest?.t) expect(r.as_of.getTime()).toBe(new Date(latest.t).getTime());
      expect(r.as_of.getTime()).toBeGreaterThanOrEqual(FIXTURE_START);
    }
  });
});
