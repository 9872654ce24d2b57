import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../src/warehouse/duckdb-warehouse.js';
import type { Column, Warehouse } from '../src/warehouse/warehouse.js';

/** A column's value at row i as row reads give it (null, number, Date, boolean or string). */
function valueAt(c: Column, i: number): unknown {
  if (c.type === 'string') return c.values[i];
  if (c.valid && !c.valid[i]) return null;
  if (c.type === 'timestamp') return new Date(c.values[i]);
  if (c.type === 'boolean') return c.values[i] === 1;
  return c.values[i];
}

describe('warehouse columnar reads (real DuckDB)', () => {
  let wh: Warehouse;
  beforeAll(async () => {
    wh = await openWarehouse(':memory:', { migrate: false });
  });
  afterAll(async () => {
    await wh.close();
  });

  it('reads DOUBLE, BIGINT, INTEGER, VARCHAR, TIMESTAMPTZ, BOOLEAN, DECIMAL and DATE with NULLs, equal to row reads', async () => {
    // 5,000 rows span three DuckDB chunks; NULLs start in the second one, so chunks without a
    // validity mask and chunks with one are both exercised.
    const sql = `SELECT i::INTEGER AS i, CASE WHEN i % 7 = 3 AND i > 2100 THEN NULL ELSE i * 1.5 - 0.25 END::DOUBLE AS d,
        CASE WHEN i % 11 = 0 THEN NULL ELSE i::BIGINT * 1000003 END AS b,
        CASE WHEN i % 5 = 0 THEN NULL WHEN i % 3 = 0 THEN 'ação-' || i WHEN i % 2 = 0 THEN 'a string longer than twelve bytes ' || i ELSE 's' || i END AS s,
        CASE WHEN i % 13 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00.123456+00' + to_microseconds(i * 1234567) END AS t,
        CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 0 END AS f,
        CASE WHEN i % 6 = 0 THEN NULL ELSE i * 0.25 END AS m,
        CASE WHEN i % 9 = 0 THEN NULL ELSE (i - 2500)::DECIMAL(18, 4) * 1.5 END AS w,
        ((i % 1000) - 500)::DECIMAL(4, 1) AS ds, (i * 3)::DECIMAL(9, 3) AS di,
        DATE '2026-01-01' + (i % 400)::INTEGER AS day
      FROM range(5000) r(i) WHERE i >= $1 ORDER BY i`;
    const cols = await wh.columns(sql, [0]);
    const rows = await wh.all(sql, [0]);
    expect(cols.rowCount).toBe(5000);
    expect(cols.names).toEqual(['i', 'd', 'b', 's', 't', 'f', 'm', 'w', 'ds', 'di', 'day']);
    expect(Object.fromEntries(cols.names.map((n) => [n, cols.columns[n].type]))).toEqual({
      i: 'number', d: 'number', b: 'number', s: 'string', t: 'timestamp', f: 'boolean', m: 'number', w: 'number', ds: 'number', di: 'number', day: 'timestamp',
    });
    for (let r = 0; r < rows.length; r++) {
      for (const n of cols.names) expect([r, n, valueAt(cols.columns[n], r)]).toEqual([r, n, rows[r][n]]);
    }
    const d = cols.columns.d;
    expect(d.type === 'number' && Number.isNaN(d.values[2103]) && d.valid?.[2103] === 0).toBe(true);
    expect(cols.columns.i.type === 'number' && cols.columns.i.valid).toBeNull();
    // Timestamps keep milliseconds (the microseconds are truncated, as row reads' Dates are).
    expect(new Date((cols.columns.t.values as Float64Array)[1]).toISOString()).toBe('2026-01-01T00:00:01.358Z');
  });

  it('reads long strings, returns an empty result with its columns, and refuses unsupported types naming the column', async () => {
    const long = await wh.columns("SELECT repeat('ab', 100000) AS a, repeat('é', 70) AS b");
    expect(long.columns.a.values[0]).toBe('ab'.repeat(100000));
    expect(long.columns.b.values[0]).toBe('é'.repeat(70));
    const empty = await wh.columns('SELECT 1.5::DOUBLE AS x, \'a\' AS y WHERE false');
    expect(empty.rowCount).toBe(0);
    expect(empty.names).toEqual(['x', 'y']);
    await expect(wh.columns("SELECT INTERVAL 1 DAY AS gap")).rejects.toThrow(/column gap: type INTERVAL is not supported/);
    await expect(wh.columns('SELECT 9007199254740993::BIGINT AS big')).rejects.toThrow(/column big: BIGINT value 9007199254740993/);
  });
});
