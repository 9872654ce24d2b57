/**
 * Turns a data file into a `RelationSource` through DuckDB's own readers (read_csv, read_parquet,
 * read_json_objects), mapping its columns to a target table's columns case-insensitively.
 */
import path from 'node:path';
import type { SqlRunner } from '../warehouse/warehouse.js';
import type { TableSchema } from './table-schema.js';
import type { RelationSource } from './load-relation.js';
import type { SourceColumn } from './validation-sql.js';
import { ValidationError } from '../errors.js';
import { sqlIdent, sqlString } from './sql-text.js';
import { tempName } from './load-relation.js';

export type FileFormat = 'csv' | 'parquet' | 'json';

/** The reader for a file, from its extension (compressed `.gz`/`.zst` variants included). */
export function detectFormat(file: string): FileFormat {
  const base = path.basename(file).toLowerCase().replace(/\.(gz|zst)$/, '');
  if (/\.(csv|tsv|txt)$/.test(base)) return 'csv';
  if (/\.(parquet|pq)$/.test(base)) return 'parquet';
  if (/\.(json|ndjson|jsonl)$/.test(base)) return 'json';
  throw new ValidationError('file', `${file}: unknown format; use .csv, .tsv, .parquet, .json, .ndjson or .jsonl`);
}

/** A source opened on the loading connection; `close` drops its temp objects. */
export interface OpenedSource {
  source: RelationSource;
  /** Rows the reader itself could not parse (CSV only), already written to `load_rejects`. */
  unparsed: number;
  /** File columns that match no column of the target table (ignored). */
  ignoredColumns: string[];
  close(): Promise<void>;
}

/** Matches described file columns to target columns (case-insensitive); throws when a required column is absent. */
export function matchColumns(
  entity: string,
  file: string,
  schema: TableSchema,
  fileColumns: readonly { name: string; type: string }[],
  expr: (fileColumn: string) => string,
): { columns: Map<string, SourceColumn>; ignored: string[] } {
  const byLower = new Map(fileColumns.map((c) => [c.name.trim().toLowerCase(), c]));
  const columns = new Map<string, SourceColumn>();
  for (const col of schema.columns) {
    const fc = byLower.get(col.name.toLowerCase());
    if (fc) columns.set(col.name, { expr: expr(fc.name), type: fc.type });
    else if (col.notNull && col.defaultSql === null) {
      throw new ValidationError(`${entity}.${col.name}`, `${file} has no column ${col.name}, which is required`);
    }
  }
  const known = new Set(schema.columns.map((c) => c.name.toLowerCase()));
  return { columns, ignored: fileColumns.map((c) => c.name).filter((n) => !known.has(n.trim().toLowerCase())) };
}

export function structPack(cols: readonly { name: string }[], prefix = ''): string {
  return `to_json(struct_pack(${cols.map((c) => `${sqlIdent(c.name)} := ${prefix}${sqlIdent(c.name)}`).join(', ')}))`;
}

/**
 * SQL for the 1-based record number of a raw temp table's rows. DuckDB preserves insertion order
 * in a CTAS, so rowids follow the file; a table created inside a transaction numbers its rows from
 * a large transaction-local base, hence the offset.
 */
async function recordNumberSql(tx: SqlRunner, raw: string): Promise<(alias?: string) => string> {
  const r = await tx.one<{ m: string | null }>(`SELECT CAST(min(rowid) AS VARCHAR) AS m FROM ${raw}`);
  const base = r?.m ?? '0';
  return (alias) => `(${alias ? `${alias}.` : ''}rowid - ${base} + 1)`;
}

/** The temp tables where DuckDB's CSV reader keeps the lines it could not parse. */
export interface CsvRejectStore {
  table: string;
  scan: string;
  dropSql: string;
}

/** Names a fresh reject store (DuckDB creates its tables on the first read that uses it). */
export function csvRejectStore(): CsvRejectStore {
  const table = tempName('csv_rej');
  const scan = tempName('csv_scan');
  return { table, scan, dropSql: `DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${scan}` };
}

/**
 * `read_csv` of `file` as text columns (every value is cast and checked by the validator, so one
 * bad cell rejects one row, not the file), keeping unparsable lines in `rejects`.
 */
export function csvTextReader(file: string, rejects: CsvRejectStore): string {
  return `read_csv(${sqlString(file)}, all_varchar = true, header = true,
    store_rejects = true, rejects_table = ${sqlString(rejects.table)}, rejects_scan = ${sqlString(rejects.scan)})`;
}

/**
 * Writes the lines of a CSV read that DuckDB could not parse (wrong column count, unterminated
 * quote) to `load_rejects` with their physical line number, one reject per line naming its first
 * bad column; returns how many.
 */
export async function rejectUnparsedLines(tx: SqlRunner, entity: string, file: string, rejects: CsvRejectStore): Promise<number> {
  const r = await tx.all<{ Count: number }>(
    `INSERT INTO load_rejects (entity, file, line, field, reason, raw)
     SELECT $1, $2, line, arg_min(column_name, column_idx), arg_min(lower(error_type) || ': ' || error_message, column_idx),
            to_json(struct_pack(csv_line := any_value(csv_line)))
     FROM ${rejects.table} GROUP BY line`,
    [entity, file],
  );
  return Number(r[0]?.Count ?? 0);
}

/**
 * A CSV or JSON file read into temp tables before the loading transaction. DuckDB scans a table
 * on one thread inside the transaction that created it, so reading the file first (the temp
 * tables never reach the warehouse) lets the validating insert run on every core.
 */
export interface StagedFile {
  format: 'csv' | 'json';
  raw: string;
  /** CSV only: DuckDB's reject store of the read. */
  rejects?: CsvRejectStore;
  drop(): Promise<void>;
}

/** Reads `file` into temp tables (CSV, JSON); Parquet is read in place, so nothing is staged. */
export async function stageFile(db: SqlRunner, file: string): Promise<StagedFile | undefined> {
  const format = detectFormat(file);
  if (format === 'parquet') return undefined;
  const lit = sqlString(file);
  const raw = tempName('raw');
  if (format === 'json') {
    await db.run(`CREATE TEMP TABLE ${raw} AS SELECT json FROM read_json_objects(${lit}, format = 'auto')`);
    return { format, raw, drop: () => db.run(`DROP TABLE IF EXISTS ${raw}`) };
  }
  const rejects = csvRejectStore();
  const drop = () => db.run(`DROP TABLE IF EXISTS ${raw}; ${rejects.dropSql}`);
  try {
    await db.run(`CREATE TEMP TABLE ${raw} AS SELECT * FROM ${csvTextReader(file, rejects)}`);
  } catch (e) {
    await drop().catch(() => undefined);
    throw e;
  }
  return { format, raw, rejects, drop };
}

/**
 * Opens `file` for loading into `schema.table`. CSV is read as text (every value is then cast
 * and checked by the validator, so one bad cell rejects one row, not the file), with unparsable
 * lines captured through DuckDB's reject store; Parquet is read typed in place; JSON/NDJSON is read
 * as one object per record. Must run inside the loading transaction; `staged` is what
 * `stageFile` read before it (without it, the file is read here).
 */
export async function openSource(tx: SqlRunner, entity: string, file: string, schema: TableSchema, staged?: StagedFile): Promise<OpenedSource> {
  const format = detectFormat(file);
  const lit = sqlString(file);
  if (format === 'parquet') {
    const desc = await tx.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit})`);
    const fileCols = desc.map((d) => ({ name: d.column_name, type: d.column_type }));
    const { columns, ignored } = matchColumns(entity, file, schema, fileCols, sqlIdent);
    return {
      source: { from: `read_parquet(${lit}, file_row_number = true)`, line: 'file_row_number + 1', rawJson: structPack(fileCols), columns },
      unparsed: 0,
      ignoredColumns: ignored,
      close: async () => undefined,
    };
  }
  const stage = staged ?? (await stageFile(tx, file))!;
  if (stage.format === 'json') {
    const line = (await recordNumberSql(tx, stage.raw))();
    const columns = new Map<string, SourceColumn>();
    for (const c of schema.columns) {
      columns.set(c.name, c.type === 'JSON'
        ? { expr: `(json -> ${sqlString(c.name)})`, type: 'JSON' }
        : { expr: `(json ->> ${sqlString(c.name)})`, type: 'VARCHAR' });
    }
    return {
      source: { from: stage.raw, line, rawJson: 'json', columns },
      unparsed: 0,
      ignoredColumns: [],
      close: () => (staged ? Promise.resolve() : stage.drop()),
    };
  }
  const csv = await finishCsv(tx, entity, file, stage, staged ? async () => undefined : stage.drop);
  try {
    const { columns, ignored } = matchColumns(entity, file, schema, csv.columns, sqlIdent);
    return {
      source: { from: csv.table, line: csv.line(), rawJson: structPack(csv.columns), columns },
      unparsed: csv.unparsed,
      ignoredColumns: ignored,
      close: csv.close,
    };
  } catch (e) {
    await csv.close().catch(() => undefined);
    throw e;
  }
}

/** A CSV file read as text into a temp table. */
export interface RawCsv {
  table: string;
  columns: { name: string; type: string }[];
  /** SQL for the 1-based record number of a row of `table` (referenced as `alias` when given). */
  line(alias?: string): string;
  /** Lines the CSV reader could not parse, already written to `load_rejects` under `entity`. */
  unparsed: number;
  close(): Promise<void>;
}

/**
 * Reads a CSV (RFC-4180: quoted fields may hold delimiters and newlines) as all-text columns into a
 * temp table. Lines DuckDB cannot parse (wrong column count, unterminated quote) are written to
 * `load_rejects` with their physical line number (one reject per line, naming its first bad
 * column) instead of failing the file.
 */
export async function readCsvToTemp(tx: SqlRunner, entity: string, file: string): Promise<RawCsv> {
  const stage = (await stageFile(tx, file))!;
  return finishCsv(tx, entity, file, stage, stage.drop);
}

/** Writes a staged CSV's unparsable lines to `load_rejects` and describes its table; `close` drops what it owns. */
async function finishCsv(tx: SqlRunner, entity: string, file: string, stage: StagedFile, close: () => Promise<void>): Promise<RawCsv> {
  try {
    const unparsed = await rejectUnparsedLines(tx, entity, file, stage.rejects!);
    const desc = await tx.all<{ column_name: string; column_type: string }>(`DESCRIBE ${stage.raw}`);
    return {
      table: stage.raw,
      columns: desc.map((d) => ({ name: d.column_name, type: d.column_type })),
      line: await recordNumberSql(tx, stage.raw),
      unparsed,
      close,
    };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
