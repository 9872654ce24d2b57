import { describe, expect, it } from 'vitest';
import { ENTITY_NAMES } from '../../src/load/entities.js';
import { ValidationError } from '../../src/errors.js';
import { checkRange, inRange, parseDate, parseTables, planCopy, planEmptyFile } from '../../src/lake/export-plan.js';
import { LAKE_TABLES, LAKE_TABLE_NAMES, lakeTable } from '../../src/lake/lake-tables.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).field;
  }
  return undefined;
}

const cols = [
  { name: 'decision_id', type: 'VARCHAR' },
  { name: 'decided_at', type: 'TIMESTAMP WITH TIME ZONE' },
  { name: 'context', type: 'JSON' },
  { name: 'propensity', type: 'DOUBLE' },
];

describe('lake export planning', () => {
  it('covers every canonical entity, each partitioned by an event date', () => {
    for (const e of ENTITY_NAMES) expect(lakeTable(e)?.eventDate, e).toBeDefined();
    expect(new Set(LAKE_TABLE_NAMES).size).toBe(LAKE_TABLES.length);
    // Dimension tables stay whole.
    for (const t of ['tracking_statuses', 'postal_geo', 'sellers', 'products', 'product_categories', 'delivery_calendar']) expect(lakeTable(t)?.eventDate, t).toBeUndefined();
  });

  it('validates --tables, naming the field and the unknown table', () => {
    expect(parseTables('shipments, tracking_events,shipments')).toEqual(['shipments', 'tracking_events']);
    expect(fieldOf(() => parseTables('shipments,truth_runs'))).toBe('--tables');
    expect(() => parseTables('shipments;DROP TABLE x')).toThrow(/--tables: unknown table "shipments;DROP TABLE x"/);
    expect(fieldOf(() => parseTables(' , '))).toBe('--tables');
  });

  it('accepts only real calendar dates and ordered ranges', () => {
    expect(parseDate('2026-01-31', '--from')).toBe('2026-01-31');
    expect(fieldOf(() => parseDate('2026-02-30', '--from'))).toBe('--from');
    expect(fieldOf(() => parseDate('2026-1-5', '--until'))).toBe('--until');
    expect(fieldOf(() => parseDate("2026-01-01' OR 1=1", '--from'))).toBe('--from');
    expect(fieldOf(() => checkRange({ from: '2026-02-01', until: '2026-01-31' }))).toBe('--until');
    expect(checkRange({ from: '2026-02-01' })).toEqual({ from: '2026-02-01' });
    expect(inRange('2026-02-01', { from: '2026-02-01', until: '2026-02-01' })).toBe(true);
    expect(inRange('2026-02-02', { until: '2026-02-01' })).toBe(false);
    expect(inRange('2020-01-01', {})).toBe(true);
  });

  it('plans a partitioned COPY with the dates as parameters and JSON as text', () => {
    const nba = lakeTable('nba_decisions')!;
    const full = planCopy(nba, cols, { compression: 'zstd' });
    expect(full.params).toEqual([]);
    expect(full.sql).toContain("PARTITION_BY (event_date)");
    expect(full.sql).toContain('COMPRESSION zstd');
    expect(full.sql).toContain('CAST(t.context AS VARCHAR) AS context');
    expect(full.sql).toContain("CAST(timezone('UTC', t.decided_at) AS DATE) AS event_date");
    expect(full.sql).not.toContain('WHERE');
    const part = planCopy(nba, cols, { compression: 'snappy', range: { from: '2026-01-01', until: '2026-01-31' } });
    expect(part.params).toEqual(['2026-01-01', '2026-01-31']);
    // Rows without a date belong to every incremental export; the dates are bound, not spliced.
    expect(part.sql).toMatch(/WHERE .* IS NULL OR \(.*>= CAST\(\$2 AS DATE\) AND .*<= CAST\(\$3 AS DATE\)\)/);
    expect(part.sql).not.toContain('2026-01');
    expect(planCopy(nba, cols, { compression: 'zstd', range: { until: '2026-01-31' } }).params).toEqual(['2026-01-31']);
  });

  it('plans child tables through their parent and reference tables as one file', () => {
    const items = planCopy(lakeTable('order_items')!, [{ name: 'order_id', type: 'VARCHAR' }], { compression: 'zstd' });
    expect(items.sql).toContain('LEFT JOIN orders parent ON parent.order_id = t.order_id');
    const ref = planCopy(lakeTable('tracking_statuses')!, [{ name: 'status', type: 'VARCHAR' }], { compression: 'zstd', range: { from: '2026-01-01' } });
    expect(ref.sql).not.toContain('PARTITION_BY');
    expect(ref.params).toEqual([]);
    expect(planEmptyFile(lakeTable('returns')!, [{ name: 'return_id', type: 'VARCHAR' }], 'zstd').sql).toContain('LIMIT 0');
  });

  it('refuses columns it has not checked other engines can read', () => {
    expect(() => planCopy(lakeTable('returns')!, [{ name: 'x', type: 'HUGEINT' }], { compression: 'zstd' })).toThrow(/returns\.x: type HUGEINT/);
    expect(() => planCopy(lakeTable('returns')!, [{ name: 'event_date', type: 'DATE' }], { compression: 'zstd' })).toThrow(/partition column/);
    expect(() => planCopy(lakeTable('returns')!, [{ name: 'a"b', type: 'VARCHAR' }], { compression: 'zstd' })).toThrow(/not a plain column name/);
    expect(() => planCopy(lakeTable('returns')!, [], { compression: 'zstd' })).toThrow(/no columns/);
  });
});
