/**
 * The narrow I/O surface every other module uses to reach DuckDB. Only `duckdb-warehouse.ts`
 * knows about @duckdb/node-api; everything else takes a `Warehouse` as a parameter.
 */
export type SqlValue = string | number | bigint | boolean | null | Date;

/** A row as returned by the warehouse: BIGINTs that fit become numbers, timestamps become Dates. */
export type Row = Record<string, unknown>;

/**
 * One column of a columnar result. `valid` is null when the column has no NULLs, else `valid[i]`
 * is 0 for a NULL; numeric and timestamp values are NaN there, so either check works.
 */
export type Column =
  /** DOUBLE, FLOAT, DECIMAL and the integer types (BIGINT only within ±2^53, like row reads). */
  | { type: 'number'; values: Float64Array; valid: Uint8Array | null }
  /** TIMESTAMP and TIMESTAMPTZ as epoch milliseconds (truncated, as row reads' Dates are); DATE as its midnight UTC. */
  | { type: 'timestamp'; values: Float64Array; valid: Uint8Array | null }
  /** BOOLEAN as 0/1. */
  | { type: 'boolean'; values: Uint8Array; valid: Uint8Array | null }
  /** VARCHAR; null for NULL. */
  | { type: 'string'; values: (string | null)[] };

/** A query result as one array per column, without per-row objects. */
export interface ColumnarResult {
  rowCount: number;
  /** Column names in select order. */
  names: string[];
  columns: Record<string, Column>;
}

export interface SqlRunner {
  /** Executes a statement (or several, when `params` is omitted). */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
  /** Executes a query and returns every row as a plain object. */
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Executes a query and returns its first row, if any. */
  one<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /**
   * Executes a query and returns its result column by column, copied straight from DuckDB's typed
   * vectors: much cheaper than `all` for large results (no row objects, no Dates). Types other than
   * those of `Column` are refused with an error naming the column.
   */
  columns(sql: string, params?: readonly SqlValue[]): Promise<ColumnarResult>;
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
  /**
   * Forces a checkpoint so the WAL is folded into the main file. `whileFolded` runs right after,
   * before any other write may start: the file then holds every commit and nothing changes it
   * (publishing a snapshot copies it then).
   */
  checkpoint(whileFolded?: () => Promise<void>): Promise<void>;
  /**
   * How far the statement now running on the writer connection has got, in percent (DuckDB's own
   * estimate, from the rows its scans have read), or undefined when none is running, DuckDB
   * cannot tell, or the warehouse was opened without `trackProgress`. Safe to poll while a write is
   * in flight; for progress displays only.
   */
  progress(): number | undefined;
  close(): Promise<void>;
}
