import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { queryEtaFeatures, NUMERIC_FEATURES, CATEGORICAL_FEATURES, type RawEtaRow } from '../../src/features/eta/feature-sql.js';
import { frameFromColumns, frameFromRows, queryEtaFeatureFrame, splitFrameByTime, takeFrame } from '../../src/features/eta/eta-frame.js';
import { concatEncoded, encodeFrame, fitFeatureSpecFrame } from '../../src/features/eta/encode-columns.js';
import { encodeRows, fitFeatureSpec, type EncodedEta } from '../../src/features/eta/feature-spec.js';
import { fingerprintExamples } from '../../src/ml/eta/train.js';
import { loadEtaFixture } from './eta-fixture.js';

/** The row-object time split the frame split must reproduce: the most recent `share` of purchases is validation. */
function timeSplit(rows: readonly RawEtaRow[], share: number): { train: RawEtaRow[]; val: RawEtaRow[]; cutoff: Date | undefined } {
  const times = rows.filter((r) => r.stage === 'none').map((r) => r.purchased_at.getTime()).sort((a, b) => a - b);
  if (times.length === 0 || share <= 0) return { train: [...rows], val: [], cutoff: undefined };
  const cutoff = times[Math.min(times.length - 1, Math.floor(times.length * (1 - share)))];
  return {
    train: rows.filter((r) => r.purchased_at.getTime() < cutoff),
    val: rows.filter((r) => r.purchased_at.getTime() >= cutoff),
    cutoff: new Date(cutoff),
  };
}

const plain = (e: EncodedEta) => ({
  n: e.n, numeric: Array.from(e.numeric), categorical: e.categorical.map((c) => Array.from(c)), baseline: Array.from(e.baseline), elapsed: Array.from(e.elapsed),
});

describe('ETA examples read column by column', () => {
  let wh: Warehouse;
  let rows: RawEtaRow[];
  beforeAll(async () => {
    // Default threads: the feature query sums whole cents and grams, so two runs agree bit for bit.
    wh = await openWarehouse(':memory:');
    await loadEtaFixture(wh, { shipments: 500, days: 70, openDays: 5, seed: 21 });
    rows = await queryEtaFeatures(wh, { kind: 'training', inFlightPerShipment: 2, seed: 3 });
  });
  afterAll(async () => {
    await wh.close();
  });

  it('gives the row path’s values, order, spec and encoding bit for bit', async () => {
    const frame = await queryEtaFeatureFrame(wh, { kind: 'training', inFlightPerShipment: 2, seed: 3 });
    expect(frame.n).toBe(rows.length);
    expect(frame.text('shipment_id')).toEqual(rows.map((r) => r.shipment_id));
    expect(Array.from(frame.number('as_of'))).toEqual(rows.map((r) => r.as_of.getTime()));
    for (const f of NUMERIC_FEATURES) expect([f, Array.from(frame.number(f))]).toEqual([f, Array.from(frameFromRows(rows).number(f))]);
    for (const f of CATEGORICAL_FEATURES) expect([f, frame.text(f)]).toEqual([f, rows.map((r) => (r[f] === null ? null : String(r[f])))]);
    const spec = fitFeatureSpec(rows);
    expect(fitFeatureSpecFrame(frame)).toEqual(spec);
    expect(plain(encodeFrame(frame, spec))).toEqual(plain(encodeRows(rows, spec)));
    expect(fingerprintExamples(frame)).toBe(fingerprintExamples(frameFromRows(rows)));
  });

  it('excluded columns are not fetched, and asking for a missing column names it', async () => {
    const frame = await queryEtaFeatureFrame(wh, { kind: 'purchase' }, ['event_id', 'order_id']);
    expect(frame.n).toBeGreaterThan(0);
    expect(() => frame.text('order_id')).toThrow(/order_id: no such column/);
  });

  it('splits by time like timeSplit, and concatenated encodings equal encoding everything at once', () => {
    const frame = frameFromRows(rows);
    const split = splitFrameByTime(frame, 0.2);
    const ref = timeSplit(rows, 0.2);
    expect(split.cutoff).toEqual(ref.cutoff);
    expect(split.train.text('shipment_id')).toEqual(ref.train.map((r) => r.shipment_id));
    expect(split.val.text('shipment_id')).toEqual(ref.val.map((r) => r.shipment_id));
    const spec = fitFeatureSpecFrame(split.train);
    const both = concatEncoded(encodeFrame(split.train, spec), encodeFrame(split.val, spec));
    expect(plain(both)).toEqual(plain(encodeRows([...ref.train, ...ref.val], spec)));
    const idx = Int32Array.from([5, 0, 3]);
    expect(takeFrame(frame, idx).number('total_days')).toEqual(Float64Array.from(idx, (i) => rows[i].total_days as number));
  });

  it('reads booleans, infinities, numeric text and NULLs from columns as the row encoder reads them', () => {
    const frame = frameFromColumns({
      rowCount: 3,
      names: ['flag', 'x', 'code'],
      columns: {
        flag: { type: 'boolean', values: Uint8Array.from([1, 0, 0]), valid: Uint8Array.from([1, 1, 0]) },
        x: { type: 'number', values: Float64Array.from([1.5, Infinity, NaN]), valid: Uint8Array.from([1, 1, 0]) },
        code: { type: 'string', values: ['12', 'abc', null] },
      },
    });
    const rows = [{ flag: true, x: 1.5, code: '12' }, { flag: false, x: Infinity, code: 'abc' }, { flag: null, x: null, code: null }] as unknown as RawEtaRow[];
    const fromRows = frameFromRows(rows);
    for (const name of ['flag', 'x', 'code']) {
      expect([name, Array.from(frame.number(name))]).toEqual([name, Array.from(fromRows.number(name))]);
      expect([name, frame.text(name)]).toEqual([name, fromRows.text(name)]);
    }
  });
});
