import type { SqlRunner } from '../warehouse/warehouse.js';
import { ShipcastError } from '../errors.js';
import { readIndexes } from '../warehouse/bulk-indexes.js';

/** One column of a warehouse table, as DuckDB's catalog describes it. */
export interface ColumnInfo {
  name: string;
  /** DuckDB type name, e.g. VARCHAR, DOUBLE, INTEGER, BOOLEAN, TIMESTAMP WITH TIME ZONE, DATE, JSON. */
  type: string;
  notNull: boolean;
  /** The column's DEFAULT expression as SQL text, if any. */
  defaultSql: string | null;
}

/** What the loader needs to know about a target table; read from the catalog so migrations stay the single source of truth. */
export interface TableSchema {
  table: string;
  columns: ColumnInfo[];
  /** Key columns: the PRIMARY KEY, or the unique index `<table>_pk` (empty when the table has neither). */
  key: string[];
  /** Other UNIQUE constraints and unique indexes, each a list of columns. */
  unique: string[][];
}

/**
 * Reads a table's columns, key and other unique column sets from DuckDB's catalog. Since migration
 * 007 the canonical tables enforce their keys with unique indexes (`<table>_pk`) rather than
 * constraints, so both are read.
 */
export async function readTableSchema(db: SqlRunner, table: string): Promise<TableSchema> {
  const cols = await db.all<{ column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
    `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
     WHERE table_schema = 'main' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  if (cols.length === 0) throw new ShipcastError('NOT_FOUND', `table ${table} does not exist`);
  const cons = await db.all<{ constraint_type: string; cols: string[] }>(
    `SELECT constraint_type, constraint_column_names AS cols FROM duckdb_constraints()
     WHERE schema_name = 'main' AND table_name = $1 AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')`,
    [table],
  );
  const pk = cons.find((c) => c.constraint_type === 'PRIMARY KEY');
  const uniqueIndexes = (await readIndexes(db, [table])).filter((i) => i.unique);
  const pkIndex = uniqueIndexes.find((i) => i.name === `${table}_pk`);
  return {
    table,
    columns: cols.map((c) => ({
      name: c.column_name,
      type: c.data_type,
      notNull: c.is_nullable === 'NO',
      defaultSql: c.column_default,
    })),
    key: pk ? [...pk.cols] : (pkIndex?.columns ?? []),
    unique: [
      ...cons.filter((c) => c.constraint_type === 'UNIQUE').map((c) => [...c.cols]),
      ...uniqueIndexes.filter((i) => i !== pkIndex).map((i) => i.columns),
    ],
  };
}
