/**
 * Small dimension tables are shipped to DuckDB as VALUES literals built here; every value is
 * produced by the generator itself (numbers checked finite, strings quoted), never user input.
 */
export type Literal = string | number | boolean | null;

/** Renders one SQL literal. */
export function lit(v: Literal): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`non-finite number in a dimension table: ${v}`);
    return String(v);
  }
  return `'${v.replace(/'/g, "''")}'`;
}

/** `CREATE TEMP TABLE name (cols); INSERT … VALUES …` for a small table, inserted in chunks. */
export function tempTableSql(name: string, columns: readonly [string, string][], rows: readonly (readonly Literal[])[]): string {
  const parts = [`CREATE OR REPLACE TEMP TABLE ${name} (${columns.map(([c, t]) => `${c} ${t}`).join(', ')});`];
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000).map((r) => {
      if (r.length !== columns.length) throw new RangeError(`${name}: row has ${r.length} values, expected ${columns.length}`);
      return `(${r.map(lit).join(', ')})`;
    });
    parts.push(`INSERT INTO ${name} VALUES ${chunk.join(', ')};`);
  }
  return parts.join('\n');
}
