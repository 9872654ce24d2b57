import { describe, expect, it } from 'vitest';
import { detectFormat, matchColumns } from '../../src/load/sources.js';
import { rowErrorSql, typedValueSql, ERROR_SEPARATOR } from '../../src/load/validation-sql.js';
import { TRACKING_STATUS } from '../../src/load/entities.js';
import type { TableSchema } from '../../src/load/table-schema.js';
import { openWarehouse } from '../../src/warehouse/duckdb-warehouse.js';

const schema: TableSchema = {
  table: 't',
  columns: [
    { name: 'id', type: 'VARCHAR', notNull: true, defaultSql: null },
    { name: 'n', type: 'INTEGER', notNull: false, defaultSql: null },
    { name: 'status', type: 'VARCHAR', notNull: true, defaultSql: "'pending'" },
    { name: 'at', type: 'TIMESTAMP WITH TIME ZONE', notNull: true, defaultSql: null },
  ],
  key: ['id'],
  unique: [],
};
const text = (expr: string) => ({ expr, type: 'VARCHAR' });

describe('validation SQL', () => {
  it('detects formats from extensions, compressed ones included', () => {
    expect(detectFormat('/a/b.CSV')).toBe('csv');
    expect(detectFormat('x.csv.gz')).toBe('csv');
    expect(detectFormat('x.parquet')).toBe('parquet');
    expect(detectFormat('x.ndjson')).toBe('json');
    expect(() => detectFormat('x.xlsx')).toThrow(/unknown format/);
  });

  it('matches file columns case-insensitively, lists unknown ones, and requires columns without defaults', () => {
    const m = matchColumns('t', 'f.csv', schema, [{ name: 'ID', type: 'VARCHAR' }, { name: 'At', type: 'VARCHAR' }, { name: 'zzz', type: 'VARCHAR' }], (c) => `"${c}"`);
    expect([...m.columns.keys()]).toEqual(['id', 'at']);
    expect(m.columns.get('id')?.expr).toBe('"ID"');
    expect(m.ignored).toEqual(['zzz']);
    expect(() => matchColumns('t', 'f.csv', schema, [{ name: 'id', type: 'VARCHAR' }], (c) => c)).toThrow(/t\.at: f\.csv has no column at/);
  });

  it('compiles to SQL that reports the first failing check per row, and casts with defaults', async () => {
    const wh = await openWarehouse(':memory:', { migrate: false });
    const sources = new Map([['id', text('id')], ['n', text('n')], ['status', text('status')], ['at', text('"at"')]]);
    const rules = { n: { min: 0, max: 9 }, status: { oneOf: TRACKING_STATUS } };
    const err = rowErrorSql(schema, rules, sources, ['pending', 'delivered']);
    const cols = schema.columns.map((c) => `${typedValueSql(c, sources.get(c.name))} AS "${c.name}"`).join(', ');
    const rows = await wh.all<{ e: string | null; n: number | null; status: string; at: Date | null }>(
      `SELECT ${err} AS e, ${cols} FROM (VALUES
         ('a', '7.0', NULL, '2024-01-01 00:00:00'),
         (NULL, '1', 'delivered', '2024-01-01'),
         ('c', 'x', 'delivered', '2024-01-01'),
         ('d', '10', 'delivered', '2024-01-01'),
         ('e', '1', 'lost', '2024-01-01'),
         ('f', '1', 'pending', '2024-13-01'),
         ('g', '', 'pending', '')) v(id, n, status, "at")`,
    );
    const e = rows.map((r) => r.e?.replace(ERROR_SEPARATOR, ' | ') ?? null);
    expect(e).toEqual([
      null,
      'id | missing required value',
      'n | not a valid integer',
      'n | must be <= 9',
      'status | not a tracking status: pending, delivered',
      'at | not a valid timestamp',
      'at | missing required value',
    ]);
    expect(rows[0].status).toBe('pending'); // default applied to a missing value
    expect(rows[0].n).toBe(7); // pandas-style float accepted for an integer
    expect(rows[0].at?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    await wh.close();
  });
});
