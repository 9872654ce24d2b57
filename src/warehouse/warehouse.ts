/**
 * The narrow I/O surface every other module uses to reach DuckDB. Only `duckdb-warehouse.ts`
 * knows about @duckdb/node-api; everything else takes a `Warehouse` as a parameter.
 */
export type SqlValue = string | number | bigint | boolean | null | Date;

/** A row as returned by the warehouse: BIGINTs that fit become numbers, timestamps become Dates. */
export type Row = Record<string, unknown>;

export interface SqlRunner {
  /** Executes a statement (or several, when `params` is omitted). */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
  /** Executes a query and returns every row as a plain object. */
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Executes a query and returns its first row, if any. */
  one<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
}

export interface Warehouse extends SqlRunner {
  /** The database file, or `:memory:`. */
  readonly path: string;
  /**
   * Runs `fn` inside one transaction on the single writer connection. Commits when it resolves,
   * rolls back when it throws. Writes outside a transaction are serialized with it.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Bulk-appends rows (in table column order) through DuckDB's appender; much faster than INSERT. */
  append(table: string, rows: readonly (readonly SqlValue[])[]): Promise<void>;
  /** Forces a checkpoint so the WAL is folded into the main file. */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}
