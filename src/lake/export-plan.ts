/**
 * Pure planning of a lake export: option parsing and validation, and the `COPY … TO` statement
 * per table. No I/O here; `export-lake.ts` runs the plans and moves the files.
 */
import { ShipcastError, ValidationError } from '../errors.js';
import type { SqlValue } from '../warehouse/warehouse.js';
import { LAKE_TABLE_NAMES, PARTITION_COLUMN, lakeTable, type LakeTable } from './lake-tables.js';

/** Parquet codecs Spark, Trino and DuckDB all read. */
export const COMPRESSIONS = ['zstd', 'snappy'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Inclusive bounds on the event date, as `YYYY-MM-DD`; either may be open. */
export interface DateRange {
  from?: string;
  until?: string;
}

/** One column as DuckDB's catalog describes it. */
export interface ColumnInfo {
  name: string;
  type: string;
}

/** Directory name of the partition holding rows without an event date (the Hive convention, read as NULL). */
export const NULL_PARTITION = `${PARTITION_COLUMN}=__HIVE_DEFAULT_PARTITION__`;

/**
 * Column types written as they are: each maps to a Parquet type Spark and Trino read (TIMESTAMPTZ
 * becomes INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true)). JSON is written as plain UTF-8 text.
 */
const PORTABLE_TYPES = new Set(['VARCHAR', 'BOOLEAN', 'INTEGER', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP WITH TIME ZONE']);
const AS_TEXT_TYPES = new Set(['JSON']);

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `--tables a,b`: each name must be a lake table; duplicates collapse, list order is kept. */
export function parseTables(value: string, field = '--tables'): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new ValidationError(field, 'must name at least one table');
  for (const n of names) {
    if (!lakeTable(n)) throw new ValidationError(field, `unknown table "${n}"; one of ${LAKE_TABLE_NAMES.join(', ')}`);
  }
  return [...new Set(names)];
}

/** Parses a calendar date `YYYY-MM-DD` (a real one: 2026-02-30 is refused). */
export function parseDate(value: string, field: string): string {
  const m = ISO_DATE.exec(value.trim());
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !d || d.toISOString().slice(0, 10) !== value.trim()) throw new ValidationError(field, `must be a date YYYY-MM-DD, got "${value}"`);
  return value.trim();
}

/** Checks that the range is not inverted (ISO dates order as strings). */
export function checkRange(range: DateRange): DateRange {
  if (range.from && range.until && range.until < range.from) throw new ValidationError('--until', `must not be before --from (${range.from}), got ${range.until}`);
  return range;
}

/** True when a range bound is set: the export is incremental. */
export function isIncremental(range: DateRange): boolean {
  return range.from !== undefined || range.until !== undefined;
}

/** Whether a partition date (`YYYY-MM-DD`) falls inside the range. */
export function inRange(date: string, range: DateRange): boolean {
  return (range.from === undefined || date >= range.from) && (range.until === undefined || date <= range.until);
}

/** The SELECT list item for one column, refusing types other engines might misread. */
function selectItem(table: string, c: ColumnInfo): string {
  if (!IDENTIFIER.test(c.name)) throw new ShipcastError('INTERNAL', `${table}.${c.name}: not a plain column name, cannot export it`);
  if (c.name === PARTITION_COLUMN) throw new ShipcastError('INTERNAL', `${table}.${c.name}: clashes with the partition column`);
  if (AS_TEXT_TYPES.has(c.type)) return `CAST(t.${c.name} AS VARCHAR) AS ${c.name}`;
  if (!PORTABLE_TYPES.has(c.type)) throw new ShipcastError('INTERNAL', `${table}.${c.name}: type ${c.type} has no mapping checked for Spark and Trino`);
  return `t.${c.name}`;
}

/** A statement and its parameters; `$1` is always the target path. */
export interface CopyPlan {
  sql: string;
  /** Parameters after the target path. */
  params: SqlValue[];
}

/**
 * The `COPY (SELECT …) TO $1` writing one table. A partitioned table gets its `event_date` column
 * and `PARTITION_BY`, so `$1` is a directory; with a range only the rows dated inside it, plus
 * those without a date, are selected (their partitions are rewritten whole). An unpartitioned table
 * is one file and ignores the range.
 */
export function planCopy(table: LakeTable, columns: readonly ColumnInfo[], opts: { range?: DateRange; compression: Compression }): CopyPlan {
  if (columns.length === 0) throw new ShipcastError('INTERNAL', `${table.name}: no columns in the warehouse (is the schema migrated?)`);
  const items = columns.map((c) => selectItem(table.name, c));
  const copyOptions = [`FORMAT parquet`, `COMPRESSION ${opts.compression}`];
  const ev = table.eventDate;
  if (!ev) {
    return { sql: `COPY (SELECT ${items.join(', ')} FROM ${table.name} t) TO $1 (${[...copyOptions, 'RETURN_FILES true'].join(', ')})`, params: [] };
  }
  const params: SqlValue[] = [];
  const bounds: string[] = [];
  const range = opts.range ?? {};
  if (range.from !== undefined) {
    params.push(range.from);
    bounds.push(`${ev.sql} >= CAST($${params.length + 1} AS DATE)`);
  }
  if (range.until !== undefined) {
    params.push(range.until);
    bounds.push(`${ev.sql} <= CAST($${params.length + 1} AS DATE)`);
  }
  const join = ev.join ? ` LEFT JOIN ${ev.join}` : '';
  const where = bounds.length > 0 ? ` WHERE ${ev.sql} IS NULL OR (${bounds.join(' AND ')})` : '';
  const select = `SELECT ${items.join(', ')}, ${ev.sql} AS ${PARTITION_COLUMN} FROM ${table.name} t${join}${where}`;
  return { sql: `COPY (${select}) TO $1 (${[...copyOptions, `PARTITION_BY (${PARTITION_COLUMN})`, 'RETURN_FILES true'].join(', ')})`, params };
}

/**
 * A zero-row file for a partitioned table that has no rows at all, so that readers still find its
 * schema (Spark and DuckDB refuse a directory without files). It goes to the NULL partition.
 */
export function planEmptyFile(table: LakeTable, columns: readonly ColumnInfo[], compression: Compression): CopyPlan {
  const items = columns.map((c) => selectItem(table.name, c));
  return { sql: `COPY (SELECT ${items.join(', ')} FROM ${table.name} t LIMIT 0) TO $1 (FORMAT parquet, COMPRESSION ${compression})`, params: [] };
}
