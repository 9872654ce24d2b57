/**
 * `exportLake`: writes the warehouse's canonical tables as a Hive-partitioned Parquet lake
 * (`DIR/<table>/event_date=YYYY-MM-DD/*.parquet`) that DuckDB, Spark and Trino read as is.
 * docs/SCALE.md ("A Parquet lake for other engines") is the user-facing description.
 *
 * Each table is written by one DuckDB `COPY` into a staging directory inside DIR, its row count
 * checked against the files written, marked with `_SUCCESS` and renamed into place, so a reader
 * sees a table's previous export or its new one, and a re-export replaces rather than adds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ShipcastError } from '../errors.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { LAKE_TABLE_NAMES, PARTITION_COLUMN, lakeTable, type LakeTable } from './lake-tables.js';
import {
  NULL_PARTITION, checkRange, inRange, isIncremental, planCopy, planEmptyFile,
  type ColumnInfo, type Compression, type DateRange,
} from './export-plan.js';
import {
  createStaging, datedPartitions, linkPartition, parquetFiles, removeStaging, swapIntoPlace, writeSuccess,
} from './lake-files.js';

export interface LakeExportOptions {
  /** Tables to export (names from `LAKE_TABLE_NAMES`); default all. */
  tables?: readonly string[];
  /** Rewrite only the partitions dated inside this range (and the NULL partition); default all. */
  range?: DateRange;
  /** Parquet codec (default zstd). */
  compression?: Compression;
  /** Called as each table is published. */
  onTable?: (t: TableExportSummary) => void;
}

/** What one table's export did. */
export interface TableExportSummary {
  table: string;
  /** The event date's source, or null for an unpartitioned table. */
  partitionedBy: string | null;
  /** Rows written by this export. */
  rows: number;
  /** Parquet files written by this export. */
  files: number;
  /** Partitions written by this export (0 for an unpartitioned table). */
  partitions: number;
  /** Dated partitions outside an incremental range, carried over unchanged. */
  keptPartitions: number;
  /** Rows in the table's lake directory after the export (written + kept). */
  lakeRows: number;
  seconds: number;
}

export interface LakeExportSummary {
  dir: string;
  compression: Compression;
  from: string | null;
  until: string | null;
  tables: TableExportSummary[];
  rows: number;
  files: number;
  seconds: number;
}

async function describeColumns(wh: Warehouse, table: string): Promise<ColumnInfo[]> {
  return wh.all<ColumnInfo>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
}

async function countRows(wh: Warehouse, dir: string): Promise<number> {
  if (parquetFiles(dir).length === 0) return 0;
  // Row counts come from the files' footers; nothing is scanned.
  const r = await wh.one<{ n: number }>('SELECT count(*) AS n FROM read_parquet($1, hive_partitioning = false)', [path.join(dir, '**', '*.parquet')]);
  return Number(r?.n ?? 0);
}

function partitionsOf(files: readonly string[]): number {
  return new Set(files.map((f) => path.basename(path.dirname(f)))).size;
}

async function exportTable(wh: Warehouse, table: LakeTable, dir: string, staging: string, range: DateRange, compression: Compression): Promise<TableExportSummary> {
  const t0 = performance.now();
  const columns = await describeColumns(wh, table.name);
  const staged = path.join(staging, table.name);
  const published = path.join(dir, table.name);
  const plan = planCopy(table, columns, { range, compression });
  const target = table.eventDate ? staged : path.join(staged, 'data_0.parquet');
  if (!table.eventDate) fs.mkdirSync(staged, { recursive: true });
  const copied = await wh.one<{ Count: number | bigint; Files: string[] }>(plan.sql, [target, ...plan.params]);
  const rows = Number(copied?.Count ?? 0);
  const files = [...(copied?.Files ?? [])];
  const written = await countRows(wh, staged);
  if (written !== rows) throw new ShipcastError('INTERNAL', `${table.name}: the export selected ${rows} rows but its files hold ${written}; nothing was published`);

  let keptPartitions = 0;
  if (table.eventDate && isIncremental(range)) {
    for (const [date, name] of datedPartitions(published)) {
      if (inRange(date, range)) continue;
      linkPartition(path.join(published, name), path.join(staged, name));
      keptPartitions += 1;
    }
  }
  if (table.eventDate && parquetFiles(staged).length === 0) {
    const empty = planEmptyFile(table, columns, compression);
    fs.mkdirSync(path.join(staged, NULL_PARTITION), { recursive: true });
    const file = path.join(staged, NULL_PARTITION, 'data_0.parquet');
    await wh.one(empty.sql, [file, ...empty.params]);
    files.push(file);
  }
  const lakeRows = keptPartitions > 0 ? await countRows(wh, staged) : rows;
  const summary: TableExportSummary = {
    table: table.name,
    partitionedBy: table.eventDate?.source ?? null,
    rows,
    files: files.length,
    partitions: table.eventDate ? partitionsOf(files) : 0,
    keptPartitions,
    lakeRows,
    seconds: 0,
  };
  writeSuccess(staged, {
    table: table.name,
    partitionColumn: table.eventDate ? PARTITION_COLUMN : null,
    partitionedBy: summary.partitionedBy,
    from: range.from ?? null,
    until: range.until ?? null,
    rows: lakeRows,
    compression,
    exportedAt: new Date().toISOString(),
  });
  swapIntoPlace(staged, published, `${staged}.old`);
  // Publishing included: deleting the replaced files is part of a re-export's cost.
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/**
 * Exports tables to the lake at `dir`. Tables are written one after another, each a consistent
 * snapshot of itself. A failure leaves every table not yet published as it was, and the staging
 * area is always removed.
 */
export async function exportLake(wh: Warehouse, dir: string, opts: LakeExportOptions = {}): Promise<LakeExportSummary> {
  const t0 = performance.now();
  const range = checkRange(opts.range ?? {});
  const compression = opts.compression ?? 'zstd';
  const tables = (opts.tables ?? LAKE_TABLE_NAMES).map((n) => {
    const t = lakeTable(n);
    if (!t) throw new ShipcastError('BAD_INPUT', `tables: unknown table "${n}"`, { field: 'tables' });
    return t;
  });
  const root = path.resolve(dir);
  const staging = createStaging(root);
  const done: TableExportSummary[] = [];
  try {
    for (const t of tables) {
      const s = await exportTable(wh, t, root, staging, range, compression);
      done.push(s);
      opts.onTable?.(s);
    }
  } finally {
    removeStaging(staging);
  }
  return {
    dir: root,
    compression,
    from: range.from ?? null,
    until: range.until ?? null,
    tables: done,
    rows: done.reduce((a, s) => a + s.rows, 0),
    files: done.reduce((a, s) => a + s.files, 0),
    seconds: (performance.now() - t0) / 1000,
  };
}
