/**
 * Quoting for the few places SQL text cannot take a `$n` parameter: DuckDB table functions
 * (`read_csv('…')`) and identifiers that come from the catalog or a file header.
 */

/** A single-quoted SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A double-quoted SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
